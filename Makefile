# SPDX-License-Identifier: MIT
# The front door: thin wrappers around CMake, ctest and pytest.
#   make        build (release, plus the static binary); installs nothing
#   make deps   install the Debian packages building needs (DEPS=test for
#               the test suites' too)
#   make install  the program, man page, systemd unit and bash completion
#               under PREFIX (/usr/local), into DESTDIR if set
#   make test   install missing dependencies, then run every test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps install test unit unit-asan integration integration-asan lab \
	lab-smoke lab-bench nanos clean

all: build

# Never apt-get here: a missing package is named, with `make deps`.
build:
	./ci/install-deps --check build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

DEPS ?= build
deps:
	./ci/install-deps $(DEPS)

# The unit names the program by its installed path, so PREFIX is given
# when configuring, DESTDIR only when installing (the Debian package's
# debian/rules installs the same files through CMake).
PREFIX ?= /usr/local
install: build
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

test:
	./ci/install-deps test
	$(MAKE) unit unit-asan integration integration-asan valgrind ctgrind \
		fuzz-smoke lab-smoke

unit:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUNIGUARD_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# The soak test (test_soak.py) runs for SOAK_SECONDS: six minutes here,
# with three rekeys, so that the whole of `make test` stays within CI's
# 40 minutes on two cores (`make soak SOAK_SECONDS=600` for the longer
# run); the ASan pass runs it for 150 s (one rekey).
SOAK_SECONDS ?= 360

integration: build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard SOAK_SECONDS=$(SOAK_SECONDS) \
		/usr/bin/python3 -m pytest -v --durations=20 harness/integration

# The soak test alone.
.PHONY: soak
soak: build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard SOAK_SECONDS=$(SOAK_SECONDS) \
		/usr/bin/python3 -m pytest -v -s harness/integration/test_soak.py

# The integration suite again with the daemon built under ASan+UBSan; any
# sanitizer report fails it (ci/integration-asan).
integration-asan:
	./ci/integration-asan $(ASAN_BUILD)

# The Nanos kernel the gateway needs (IP_FORWARD on), built from Nanos's
# pinned public sources into ~/.cache/uniguard/nanos; a second run builds
# nothing. NANOS_SRC names a directory of local copies (nanos, acpica,
# lwip, mbedtls), NANOS_DIR a Nanos tree built elsewhere (docs/lab.md).
export NANOS_SRC NANOS_DIR

nanos:
	./ci/install-deps nanos
	./lab/build-nanos

# The QEMU lab (root; installs its own packages). GUEST=auto|linux|nanos:
# auto boots Nanos (built or reused as `make nanos` does) and the Linux
# microVM only when no Nanos can be had. The smoke run (CI) never builds
# Nanos: it boots Nanos when a build is in the cache, Linux otherwise.
GUEST ?= auto
lab:
	./ci/install-deps lab
	$(MAKE) build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/run --guest $(GUEST)

lab-smoke: build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/run --smoke --no-build \
		--guest auto

# The gateway's forwarding rate in the lab (not part of CI): TCP and
# loss-free UDP from a client to the private host through uniguard on
# Nanos (built or reused as make lab does), uniguard on the Linux guest
# and the kernel's WireGuard on the Linux guest, taking turns; ratios to
# the kernel gateway. BENCH_QUICK=1 for a short run (docs/lab.md).
lab-bench:
	./ci/install-deps lab
	$(MAKE) build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/bench

# Compute Engine (docs/deploy-gcp.md). CONFIG names the deployment's file
# (lab/gcp.example.conf shows one); DRY_RUN=1 prints the commands only.
# GCE_GUEST=nanos (the Nanos gateway, with the forwarding kernel of
# make nanos or NANOS_DIR) or linux (the Linux microVM).
.PHONY: gce-image deploy-gcp teardown-gcp gce-lab
GCE_GUEST ?= nanos
GCE_DISK  ?= scsi
GCP_CMD = ./lab/deploy-gcp $(1) --config $(CONFIG) $(if $(DRY_RUN),--dry-run)
# The Nanos image needs the forwarding kernel: make nanos, unless NANOS_DIR
# names one (or it is a dry run).
GCE_KERNEL = $(if $(filter nanos,$(GCE_GUEST)),$(if $(NANOS_DIR)$(DRY_RUN),,nanos))

gce-image: build $(GCE_KERNEL)
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/deploy-gcp image \
		--guest $(GCE_GUEST) --config $(or $(CONFIG),lab/gcp.example.conf)

deploy-gcp: build $(GCE_KERNEL)
	@test -n "$(CONFIG)" || { echo "usage: make $@ CONFIG=FILE"; exit 2; }
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard $(call GCP_CMD,deploy) \
		--guest $(GCE_GUEST)

# The lab on the Compute Engine archive: GCE_DISK=scsi or nvme.
gce-lab: build $(GCE_KERNEL)
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/run --gce \
		--guest $(GCE_GUEST) --gce-disk $(GCE_DISK)

teardown-gcp:
	@test -n "$(CONFIG)" || { echo "usage: make $@ CONFIG=FILE"; exit 2; }
	$(call GCP_CMD,teardown)

# Fuzzing with libFuzzer (clang): each target for FUZZ_SECONDS, growing
# its corpus in build-fuzz/; fuzz-smoke runs each for 12 s from its seeds
# (about 100 s for eight targets).
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 12

.PHONY: fuzz fuzz-smoke valgrind ctgrind

fuzz:
	./ci/fuzz $(FUZZ_SECONDS)

fuzz-smoke:
	./ci/fuzz --fresh $(FUZZ_SMOKE_SECONDS)

# The unit suites under valgrind memcheck; the constant-time check.
valgrind:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	./ci/valgrind-unit $(BUILD)

ctgrind:
	./ci/ctgrind

# Throughput, latency and scale against wireguard-go on this machine
# (harness/bench; not part of CI). BENCH_QUICK=1 for a short run;
# WIREGUARD_GO=PATH adds another wireguard-go (the newest release, built
# by whoever runs the bench: docs/benchmarks.md) beside Debian's.
.PHONY: bench
WIREGUARD_GO ?=

bench:
	./ci/install-deps bench
	$(MAKE) build
	/usr/bin/python3 harness/bench/bench.py --uniguard $(BUILD)/uniguard \
		--build $(BUILD)/bench \
		$(if $(WIREGUARD_GO),--wireguard-go $(WIREGUARD_GO))

# The architecture picture from its Graphviz source (Debian's graphviz).
.PHONY: docs
docs: docs/architecture.svg

docs/architecture.svg: docs/architecture.dot
	@command -v dot >/dev/null || { echo "make docs: needs dot (apt-get install graphviz)"; exit 2; }
	dot -Tsvg $< -o $@

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz build-ctgrind
