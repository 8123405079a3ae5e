# SPDX-License-Identifier: MIT
"""The Nanos build step (lab/build-nanos, lab/uglab/nanosbuild.py) on small
git repositories this test makes: a nanos whose Makefile writes the
outputs a real build does (boot.img, kernel.img, the tun klib, mkfs) out
of the files it was given, and acpica, lwip and mbedtls with a file the
build reads and one it must not take.  NANOS_PINS points the builder at
their commits and NANOS_SRC at the directory holding them, so the real
builder runs: pins checked before anything is built, the one change
applied and nothing else, the cache key, a second run that builds
nothing, and the message when the sources cannot be had.  No network,
no QEMU; a few seconds."""

import json
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD_NANOS = os.path.join(REPO, "lab", "build-nanos")
LAB_RUN = os.path.join(REPO, "lab", "run")

CHANGE = {"file": "src/net/lwipopts.h", "add": "#define IP_FORWARD 1",
          "name": "IP_FORWARD"}
LWIPOPTS = "#define NO_SYS 1\n#define LWIP_SOCKET 0\n"

# The fake nanos's Makefile: fails unless the three libraries are vendored,
# counts its runs in $BUILD_LOG, and makes each output from inputs a test
# can recognise.
NANOS_MAKEFILE = """\
kernel:
\ttest -f vendor/acpica/.vendored
\ttest -f vendor/lwip/.vendored
\ttest -f vendor/mbedtls/.vendored
\techo kernel >> $(BUILD_LOG)
\tmkdir -p output/platform/pc/boot output/platform/pc/bin
\tcat vendor/acpica/source/acpi.c > output/platform/pc/boot/boot.img
\tcat src/net/lwipopts.h vendor/lwip/src/ip4.c \\
\t    vendor/mbedtls/library/aes.c > output/platform/pc/bin/kernel.img
\tgit rev-parse HEAD > output/platform/pc/bin/version
\techo tun > output/platform/pc/bin/tun
\techo obj > output/platform/pc/bin/kernel.o

mkfs:
\techo mkfs >> $(BUILD_LOG)
\tmkdir -p output/tools/bin
\tprintf '#!/bin/sh\\n' > output/tools/bin/mkfs
\tchmod +x output/tools/bin/mkfs
"""

ACPI_C = "int acpi(void)\n{\n\treturn 0;\n}\n"
ACPICA_PATCH = """\
--- a/source/acpi.c
+++ b/source/acpi.c
@@ -1,4 +1,4 @@
 int acpi(void)
 {
-\treturn 0;
+\treturn 1;
 }
"""

# name: {path: text}; "taken" are the paths the build reads.
FILES = {
    "nanos": {"Makefile": NANOS_MAKEFILE,
              "src/net/lwipopts.h": LWIPOPTS,
              "src/kernel.c": "int main(void) { return 0; }\n",
              "patches/acpica.patch": ACPICA_PATCH},
    "acpica": {"source/acpi.c": ACPI_C,
               "documents/reference.txt": "not read by the build\n"},
    "lwip": {"src/ip4.c": "int ip4(void) { return 4; }\n",
             "test/unit/test.c": "not read by the build\n"},
    "mbedtls": {"include/aes.h": "int aes(void);\n",
                "library/aes.c": "int aes(void) { return 3; }\n",
                "programs/p.c": "not read by the build\n"},
}
TAKEN = {"nanos": ["."], "acpica": ["source"], "lwip": ["src"],
         "mbedtls": ["include", "library"]}


def git(cwd, *args):
    return subprocess.run(["git", "-C", cwd] + list(args), check=True,
                          capture_output=True, text=True).stdout.strip()


def commit_files(repo, files, message):
    for path, text in files.items():
        full = os.path.join(repo, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid",
        "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def pin_of(repo, commit, paths):
    trees = {p: git(repo, "rev-parse", commit + ("^{tree}" if p == "."
                                                 else ":" + p))
             for p in paths}
    return {"url": "https://example.invalid/%s.git"
            % os.path.basename(repo), "ref": "main", "commit": commit,
            "trees": trees}


class Sources:
    """NANOS_SRC with the four repositories (nanos and lwip with work
    trees, acpica bare, mbedtls a link to a bare one, as a machine's
    mirrors are), the pins of their commits and a cache of its own."""

    def __init__(self, tmp):
        self.tmp = str(tmp)
        self.src = os.path.join(self.tmp, "src")
        self.work = os.path.join(self.tmp, "work")
        self.cache = os.path.join(self.tmp, "cache")
        self.log = os.path.join(self.tmp, "builds.log")
        os.makedirs(self.src)
        self.pins = {}
        for name, files in FILES.items():
            repo = os.path.join(self.work, name)
            os.makedirs(repo)
            git(repo, "init", "-q", "-b", "main")
            commit = commit_files(repo, files, "the %s sources" % name)
            self.pins[name] = pin_of(repo, commit, TAKEN[name])
            if name in ("nanos", "lwip"):
                shutil.copytree(repo, os.path.join(self.src, name),
                                symlinks=True)
            elif name == "acpica":
                git(self.tmp, "clone", "-q", "--bare", repo,
                    os.path.join(self.src, name))
            else:
                bare = os.path.join(self.tmp, "mirror-" + name)
                git(self.tmp, "clone", "-q", "--bare", repo, bare)
                os.symlink(bare, os.path.join(self.src, name))
        self.change = dict(CHANGE)

    def write_pins(self):
        path = os.path.join(self.tmp, "pins.json")
        with open(path, "w") as f:
            json.dump({"pins": self.pins, "change": self.change}, f)
        return path

    def env(self, **extra):
        env = dict(os.environ, NANOS_SRC=self.src,
                   NANOS_PINS=self.write_pins(), XDG_CACHE_HOME=self.cache,
                   BUILD_LOG=self.log)
        env.pop("NANOS_DIR", None)
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def build(self, **extra):
        return subprocess.run([BUILD_NANOS, "--no-install"],
                              env=self.env(**extra), capture_output=True,
                              text=True, timeout=120)

    def builds(self):
        if not os.path.exists(self.log):
            return []
        return open(self.log).read().split()

    def entries(self):
        root = os.path.join(self.cache, "uniguard", "nanos")
        if not os.path.isdir(root):
            return []
        return sorted(e for e in os.listdir(root)
                      if not e.endswith((".lock", ".tmp")) and e != "git")


@pytest.fixture
def sources(tmp_path):
    return Sources(tmp_path)


def built_tree(out):
    for line in out.splitlines():
        if line.startswith("build-nanos: NANOS_DIR="):
            return line.split("=", 1)[1]
    raise AssertionError("no NANOS_DIR line in:\n" + out)


def tree_files(top, skip=()):
    """{relative path: bytes} of every file under top, skipping the
    top-level directories in skip."""
    out = {}
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        if rel == ".":
            dirs[:] = [x for x in dirs if x not in skip]
        for f in files:
            p = os.path.join(d, f)
            out[os.path.normpath(os.path.join(rel, f))] = open(p, "rb").read()
    return out


def expected(name, taken):
    return {p: t.encode() for p, t in FILES[name].items()
            if "." in taken or p.split("/")[0] in taken}


def test_builds_with_the_one_change_and_caches(sources):
    cp = sources.build()
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert sources.builds() == ["kernel", "mkfs"]
    # Progress lines with their times, one step after the other.
    for step in ("nanos: check the pinned commits: done in",
                 "nanos: make kernel (boot.img, kernel.img, klibs): done in",
                 "nanos: make mkfs: done in", "nanos: built in"):
        assert step in cp.stdout, cp.stdout
    tree = built_tree(cp.stdout)
    key = os.path.basename(os.path.dirname(tree))
    assert sources.entries() == [key]

    # nanos: exactly its commit's files, but for the one line added.
    want = expected("nanos", ["."])
    want["src/net/lwipopts.h"] = (LWIPOPTS + CHANGE["add"] + "\n").encode()
    assert tree_files(tree, skip=("vendor", "output", ".git")) == want
    # The libraries: only the paths the build reads, nanos's acpica patch
    # applied to acpica and nothing else changed, each marked vendored.
    for name in ("acpica", "lwip", "mbedtls"):
        want = expected(name, TAKEN[name])
        want[".vendored"] = b""
        if name == "acpica":
            want["source/acpi.c"] = ACPI_C.replace("0;", "1;").encode()
        assert tree_files(os.path.join(tree, "vendor", name)) == want, name
    # The outputs where a built Nanos tree has them, built from those
    # inputs; Nanos's version stamp reads the pinned commit.
    out = os.path.join(tree, "output")
    kernel = open(os.path.join(out, "platform/pc/bin/kernel.img")).read()
    assert kernel.startswith(LWIPOPTS + CHANGE["add"] + "\n")
    assert open(os.path.join(out, "platform/pc/bin/version")).read() \
        .strip() == sources.pins["nanos"]["commit"]
    assert os.access(os.path.join(out, "tools/bin/mkfs"), os.X_OK)
    assert os.path.exists(os.path.join(out, "platform/pc/bin/tun"))
    assert os.path.exists(os.path.join(out, "platform/pc/boot/boot.img"))
    # Object files are pruned from the cache.
    assert not os.path.exists(os.path.join(out, "platform/pc/bin/kernel.o"))
    record = json.load(open(os.path.join(os.path.dirname(tree),
                                         "build.json")))
    assert record["key"] == key and record["change"] == CHANGE
    assert record["pins"] == sources.pins

    # A second run builds nothing.
    again = sources.build()
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to build" in again.stdout
    assert built_tree(again.stdout) == tree
    assert sources.builds() == ["kernel", "mkfs"]


def test_a_wrong_commit_is_refused_before_building(sources):
    lwip = os.path.join(sources.src, "lwip")
    good = sources.pins["lwip"]["commit"]
    # A commit the repository holds but that is not the pinned one's
    # content, and a commit it does not hold at all.
    other = commit_files(lwip, {"src/ip4.c": "int ip4(void) { return 6; }\n"},
                         "another lwip")
    sources.pins["lwip"]["commit"] = other
    cp = sources.build()
    assert cp.returncode == 1
    assert "lwip" in cp.stderr and "pinned" in cp.stderr, cp.stderr
    sources.pins["lwip"]["commit"] = "0" * 40
    cp = sources.build()
    assert cp.returncode == 1
    assert "has no commit %s" % ("0" * 40) in cp.stderr, cp.stderr
    assert sources.builds() == [] and sources.entries() == []
    # The right pin builds.
    sources.pins["lwip"]["commit"] = good
    assert sources.build().returncode == 0
    assert sources.builds() == ["kernel", "mkfs"]


def test_unpacked_trees_are_checked_against_the_pins(sources):
    """NANOS_SRC may hold unpacked trees: checked by their git tree ids,
    the same build (the same cache key) as from the repositories."""
    first = sources.build()
    assert first.returncode == 0, first.stderr
    unpacked = os.path.join(sources.tmp, "unpacked")
    for name in FILES:
        dest = os.path.join(unpacked, name)
        os.makedirs(dest)
        arch = subprocess.run(
            ["git", "-C", os.path.join(sources.work, name), "archive",
             sources.pins[name]["commit"]], check=True,
            capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=arch, check=True)
    # A changed file in an unpacked tree is refused before building.
    with open(os.path.join(unpacked, "mbedtls", "library", "aes.c"),
              "a") as f:
        f.write("/* changed */\n")
    cache2 = os.path.join(sources.tmp, "cache2")
    cp = sources.build(NANOS_SRC=unpacked, XDG_CACHE_HOME=cache2)
    assert cp.returncode == 1
    assert "mbedtls" in cp.stderr and "is not commit" in cp.stderr, \
        cp.stderr
    assert sources.builds() == ["kernel", "mkfs"]
    # Restored, it builds, under the same key as from git.
    with open(os.path.join(unpacked, "mbedtls", "library", "aes.c"),
              "w") as f:
        f.write(FILES["mbedtls"]["library/aes.c"])
    cp = sources.build(NANOS_SRC=unpacked, XDG_CACHE_HOME=cache2)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert sources.builds() == ["kernel", "mkfs"] * 2
    assert os.path.basename(os.path.dirname(built_tree(cp.stdout))) == \
        os.path.basename(os.path.dirname(built_tree(first.stdout)))


def test_cache_key_follows_the_commits_and_the_change(sources):
    cp = sources.build()
    assert cp.returncode == 0, cp.stderr
    keys = set(sources.entries())
    assert len(keys) == 1
    # A new mbedtls commit: a new key, a new build.
    mirror = os.path.join(sources.work, "mbedtls")
    commit = commit_files(mirror, {"library/aes.c": "int aes(void) "
                                   "{ return 5; }\n"}, "mbedtls update")
    git(mirror, "push", "-q", os.path.realpath(
        os.path.join(sources.src, "mbedtls")), "main")
    sources.pins["mbedtls"] = pin_of(mirror, commit, TAKEN["mbedtls"])
    assert sources.build().returncode == 0
    keys2 = set(sources.entries())
    assert len(keys2) == 2 and keys < keys2
    assert sources.builds() == ["kernel", "mkfs"] * 2
    # Another change: another key.
    sources.change["add"] = "#define IP_FORWARD 1 /* forward */"
    cp = sources.build()
    assert cp.returncode == 0, cp.stderr
    assert len(sources.entries()) == 3
    kernel = open(os.path.join(built_tree(cp.stdout),
                               "output/platform/pc/bin/kernel.img")).read()
    assert "#define IP_FORWARD 1 /* forward */\n" in kernel
    assert sources.builds() == ["kernel", "mkfs"] * 3
    # Back to the change of before: its entry, nothing built.
    sources.change = dict(CHANGE)
    cp = sources.build()
    assert cp.returncode == 0 and "nothing to build" in cp.stdout, cp.stdout
    assert sources.builds() == ["kernel", "mkfs"] * 3


def test_a_change_already_made_is_refused(sources):
    nanos = os.path.join(sources.src, "nanos")
    commit = commit_files(nanos, {"src/net/lwipopts.h": LWIPOPTS
                                  + "#define IP_FORWARD 0\n"}, "forwarding")
    sources.pins["nanos"] = pin_of(nanos, commit, ["."])
    cp = sources.build()
    assert cp.returncode == 1
    assert "defines IP_FORWARD already" in cp.stderr, cp.stderr
    assert sources.builds() == []


@pytest.mark.parametrize("where", ["missing-dir", "missing-lib"])
def test_sources_that_cannot_be_had(sources, where):
    if where == "missing-dir":
        src = os.path.join(sources.tmp, "nowhere")
    else:
        src = sources.src
        shutil.rmtree(os.path.join(src, "lwip"))
    cp = sources.build(NANOS_SRC=src)
    assert cp.returncode == 2
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert "NANOS_SRC" in lines[0] and "NANOS_DIR" in lines[0]
    assert src in lines[0]
    assert sources.builds() == []


def test_lab_with_guest_nanos_fails_with_the_reason(sources):
    """GUEST=nanos without a Nanos: the lab's first line names the guest
    and why, and nothing is started."""
    env = sources.env(NANOS_SRC=os.path.join(sources.tmp, "nowhere"))
    cp = subprocess.run([LAB_RUN, "--guest", "nanos", "--no-install"],
                        env=env, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 1
    first = cp.stdout.splitlines()[0]
    assert first.startswith("guest: nanos, unavailable: "), cp.stdout
    assert "NANOS_SRC" in first and "NANOS_DIR" in first
    # --no-build with an empty cache names the command that builds one.
    env = sources.env()
    cp = subprocess.run([LAB_RUN, "--guest", "nanos", "--no-build"],
                        env=env, capture_output=True, text=True, timeout=60)
    assert cp.returncode == 1
    assert "make nanos" in cp.stdout.splitlines()[0], cp.stdout
    assert sources.builds() == []
