# SPDX-License-Identifier: MIT
# The front door: thin wrappers around CMake, ctest and pytest.
#   make        build (release, plus the static binary)
#   make test   install missing dependencies, then run every test suite
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build test unit unit-asan integration lab lab-smoke clean

all: build

build:
	./ci/install-deps build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

test:
	./ci/install-deps test
	$(MAKE) unit unit-asan integration lab-smoke

unit:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit-asan:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DUNIGUARD_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

integration: build
	@if ls harness/integration/test_*.py >/dev/null 2>&1; then \
		UNIGUARD=$(CURDIR)/$(BUILD)/uniguard /usr/bin/python3 -m pytest -v harness/integration; \
	else echo "no integration suites yet"; fi

# The QEMU lab (root; installs its own packages). GUEST=auto|linux|nanos.
GUEST ?= auto
lab: build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/run --guest $(GUEST)

lab-smoke: build
	UNIGUARD=$(CURDIR)/$(BUILD)/uniguard ./lab/run --smoke --guest linux

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
