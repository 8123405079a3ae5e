# SPDX-License-Identifier: MIT
"""Builds the Nanos kernel the gateway needs from Nanos's public sources:
nanovms/nanos and the three libraries its Makefile vendors (acpica,
nanovms/lwip, nanovms/mbedtls), each pinned to one commit, with exactly one
change: `#define IP_FORWARD 1` in src/net/lwipopts.h, without which lwIP
drops what the gateway forwards between its tun interface and its NIC.

Where the sources come from is NANOS_SRC: unset, the public repositories;
or a local directory holding `nanos`, `acpica`, `lwip` and `mbedtls`, each
a git repository (bare or not) or an unpacked tree.  Only the paths the
build reads are taken (`git archive COMMIT PATHS`), and every pin is
checked before anything is built: a git source must hold the pinned
commit, an unpacked tree must hash to the pinned commit's trees.

The result is cached in ${XDG_CACHE_HOME:-~/.cache}/uniguard/nanos/KEY,
KEY a hash of the pins and the change, so every checkout on the machine
reuses one build.  Its layout is a built Nanos tree, the one NANOS_DIR
names: output/platform/pc/boot/boot.img, output/platform/pc/bin/kernel.img
with the klibs beside it, output/tools/bin/mkfs.

NANOS_PINS may name a JSON file that replaces the pins and the change
below (the build step's own test points it at repositories it makes)."""

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

from .util import LabError, Steps, detail, now, say

# The commits the gateway's kernel is built from: nanos's default branch,
# and what its Makefile vendors (Makefile, "THIRD_PARTY"): acpica's tag
# R09_30_21, nanovms/lwip's branch STABLE-2_1_x, nanovms/mbedtls's default
# branch.  "trees" are the git trees of the paths the build reads, which is
# how an unpacked copy is checked; "patch" is the file of nanos's patches/
# its vendor rule applies (`patches/<name>.patch`, acpica's only).
PINS = {
    "nanos": {
        "url": "https://github.com/nanovms/nanos.git",
        "ref": "master",
        "commit": "b9c3671d9b95cdab590e223b3b01a8f18c09483c",
        "trees": {".": "bdf10d93e243a0359fe9e3fb15ea3d1b162f2c23"},
    },
    "acpica": {
        "url": "https://github.com/acpica/acpica.git",
        "ref": "R09_30_21",
        "commit": "e01cc6b3d12b5f73f44d46fa15a7f569c793b328",
        "trees": {"source": "5ad5d23d7a4d94a1c7e12cd84be01b1b0c904ce5"},
    },
    "lwip": {
        "url": "https://github.com/nanovms/lwip.git",
        "ref": "STABLE-2_1_x",
        "commit": "dc15bc187f6fabeb301e85b39f2715b3ff4923a6",
        "trees": {"src": "bd3c5d0f15bf0b6198d9f28a9f9ab8b72e85bdea"},
    },
    "mbedtls": {
        "url": "https://github.com/nanovms/mbedtls.git",
        "ref": "master",
        "commit": "729a04f67c64363ded0ed8fc3a408fdf5c40797c",
        "trees": {"include": "b7c974ceefbd35301845d6f242ff36c6db292ff1",
                  "library": "adc47f1322f68e689c3e33d60f0bd68c06fd7aaa"},
    },
}

# The one change to Nanos: a line added to one file, which must not
# define the name already.
CHANGE = {"file": "src/net/lwipopts.h", "add": "#define IP_FORWARD 1",
          "name": "IP_FORWARD"}

# How the tree is built; a new recipe is a new cache entry.
RECIPE = 1
LIBS = ("acpica", "lwip", "mbedtls")

# What a built tree holds (relative to it) and the klib the gateway loads.
OUTPUTS = {
    "boot": "output/platform/pc/boot/boot.img",
    "kernel": "output/platform/pc/bin/kernel.img",
    "klib_dir": "output/platform/pc/bin",
    "mkfs": "output/tools/bin/mkfs",
}
KLIB = "tun"

# Debian packages the build needs, by the command that proves each.
BUILD_PACKAGES = [("nasm", "nasm"), ("make", "make"), ("gcc", "gcc"),
                  ("git", "git"), ("patch", "patch"), ("tar", "tar")]


class Unavailable(LabError):
    """The sources cannot be had: no Nanos for the lab unless it is
    built elsewhere."""


def unavailable(why):
    return Unavailable(
        "no Nanos kernel: %s. Set NANOS_SRC to a directory holding the "
        "sources (nanos, acpica, lwip, mbedtls as git repositories or "
        "unpacked trees), or NANOS_DIR to a Nanos tree built elsewhere "
        "(docs/lab.md)" % why)


def settings():
    """The pins and the change: the ones above, or NANOS_PINS's."""
    path = os.environ.get("NANOS_PINS")
    if not path:
        return PINS, CHANGE
    try:
        with open(path) as f:
            data = json.load(f)
        return data["pins"], data["change"]
    except (OSError, ValueError, KeyError) as e:
        raise LabError("NANOS_PINS=%s: %s" % (path, e))


def cache_root():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser(
        "~/.cache")
    return os.path.join(base, "uniguard", "nanos")


def cache_key(pins, change):
    """A hash of what decides the build: every commit, the paths taken,
    the change and the recipe (not where the sources came from)."""
    what = {"recipe": RECIPE, "change": change,
            "pins": {n: {"commit": p["commit"], "paths": sorted(p["trees"])}
                     for n, p in sorted(pins.items())}}
    text = json.dumps(what, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def tree_kernel(tree, source):
    """The kernel dict of a built tree (nanos.find_kernel's answer), or
    the list of files it lacks."""
    k = {n: os.path.join(tree, p) for n, p in OUTPUTS.items()}
    missing = [v for v in k.values() if not os.path.exists(v)]
    klib = os.path.join(k["klib_dir"], KLIB)
    if not os.path.exists(klib):
        missing.append(klib)
    k["tree"] = tree
    k["source"] = source
    return k, missing


def cached():
    """The kernel dict of the cached build for the current pins, or None
    (no sources needed: the key is the pins')."""
    pins, change = settings()
    key = cache_key(pins, change)
    d = os.path.join(cache_root(), key)
    if not os.path.exists(os.path.join(d, "build.json")):
        return None
    k, missing = tree_kernel(os.path.join(d, "nanos"),
                             "built from pinned sources, cache %s" % d)
    if missing:
        return None
    k["key"] = key
    return k


# ------------------------------------------------------------ sources

def git(args, git_dir=None, check=True, timeout=600, **kw):
    argv = ["git"] + (["--git-dir", git_dir] if git_dir else []) + args
    cp = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    if check and cp.returncode != 0:
        raise LabError("%s: %s" % (" ".join(argv), cp.stderr.decode(
            errors="replace").strip()[:300]))
    return cp


def git_dir_of(path):
    """The git directory of path when path is a repository (bare, or a
    work tree with .git), else None: an unpacked tree."""
    if os.path.exists(os.path.join(path, ".git")):
        path = os.path.join(path, ".git")
    cp = subprocess.run(["git", "--git-dir", path, "rev-parse",
                         "--git-dir"], capture_output=True)
    return path if cp.returncode == 0 else None


def has_commit(git_dir, commit):
    return git(["cat-file", "-e", commit + "^{commit}"], git_dir,
               check=False).returncode == 0


class Source:
    """One of the four: where it is (a git directory or an unpacked tree)
    and its pin."""

    def __init__(self, name, pin, git_dir=None, tree=None):
        self.name = name
        self.pin = pin
        self.git_dir = git_dir
        self.tree = tree

    def where(self):
        return self.git_dir or self.tree

    def verify(self):
        """Raises LabError unless this source is the pinned one."""
        p = self.pin
        if self.git_dir:
            if not has_commit(self.git_dir, p["commit"]):
                raise LabError("%s: %s has no commit %s (the pinned one)" % (
                    self.name, self.git_dir, p["commit"]))
            for path, want in p["trees"].items():
                spec = p["commit"] + ("^{tree}" if path == "." else
                                      ":" + path)
                got = git(["rev-parse", spec], self.git_dir,
                          check=False).stdout.decode().strip()
                if got != want:
                    raise LabError("%s: %s of commit %s is %s, pinned %s" % (
                        self.name, path, p["commit"][:12], got or "missing",
                        want))
            return
        for path, want in p["trees"].items():
            got = tree_hash(self.tree, path)
            if got != want:
                raise LabError(
                    "%s: the unpacked tree %s is not commit %s: its %s "
                    "hashes to %s, pinned %s" % (
                        self.name, self.tree, p["commit"][:12], path, got,
                        want))

    def export(self, dest):
        """Writes the paths the build reads into dest."""
        os.makedirs(dest, exist_ok=True)
        paths = sorted(self.pin["trees"])
        if self.git_dir:
            arch = git(["archive", "--format=tar", self.pin["commit"]]
                       + ([] if paths == ["."] else paths), self.git_dir)
            subprocess.run(["tar", "-x", "-C", dest], input=arch.stdout,
                           check=True)
            return
        for path in paths:
            src = os.path.join(self.tree, path)
            if path == ".":
                shutil.copytree(src, dest, symlinks=True,
                                dirs_exist_ok=True)
            else:
                shutil.copytree(src, os.path.join(dest, path),
                                symlinks=True)


def tree_hash(tree, path):
    """The git tree id of tree/path as git would store it, computed in a
    scratch repository (nothing is written into tree)."""
    with tempfile.TemporaryDirectory(prefix="uniguard-nanos-hash-") as tmp:
        gd = os.path.join(tmp, "git")
        git(["init", "-q", "--bare", gd])
        env = dict(os.environ, GIT_INDEX_FILE=os.path.join(tmp, "index"),
                   GIT_WORK_TREE=os.path.abspath(tree))
        for key in ("GIT_DIR", "GIT_OBJECT_DIRECTORY"):
            env.pop(key, None)
        if not os.path.exists(os.path.join(tree, path)):
            return "missing"
        git(["-c", "core.autocrlf=false", "-c", "core.filemode=true",
             "add", "-A", "-f", "--", path], gd, env=env,
            cwd=os.path.abspath(tree))
        prefix = [] if path == "." else ["--prefix=%s/" % path]
        return git(["write-tree"] + prefix, gd, env=env).stdout.decode(
        ).strip()


def local_sources(root, pins):
    if not os.path.isdir(root):
        raise unavailable("NANOS_SRC=%s is not a directory" % root)
    out = []
    for name, pin in pins.items():
        path = os.path.join(root, name)
        if not os.path.exists(path):
            raise unavailable("NANOS_SRC=%s has no %s" % (root, name))
        gd = git_dir_of(path)
        out.append(Source(name, pin, git_dir=gd, tree=None if gd else path))
    return out


def fetch_sources(pins, timeout=600):
    """The public repositories: each pinned commit fetched (shallow) into
    a git directory in the cache, then used like a local repository."""
    out = []
    for name, pin in pins.items():
        gd = os.path.join(cache_root(), "git", name + ".git")
        if not os.path.isdir(gd):
            git(["init", "-q", "--bare", gd])
        if not has_commit(gd, pin["commit"]):
            t = now()
            ok = False
            # By commit first; a server that refuses that gets the ref.
            for want in (pin["commit"], pin["ref"]):
                cp = git(["fetch", "-q", "--depth", "1", pin["url"], want],
                         gd, check=False, timeout=timeout)
                if cp.returncode == 0 and has_commit(gd, pin["commit"]):
                    ok = True
                    break
            if not ok:
                why = cp.stderr.decode(errors="replace").strip()
                raise unavailable("cannot fetch %s %s from %s (%s)" % (
                    name, pin["commit"][:12], pin["url"],
                    why.splitlines()[-1] if why else "exit %d"
                    % cp.returncode))
            detail("fetched %s %s in %.1fs" % (name, pin["commit"][:12],
                                               now() - t))
        out.append(Source(name, pin, git_dir=gd))
    return out


def origin():
    root = os.environ.get("NANOS_SRC")
    return "NANOS_SRC=" + root if root else "the public repositories"


def sources(pins):
    root = os.environ.get("NANOS_SRC")
    if root:
        return local_sources(root, pins), origin()
    return fetch_sources(pins), origin()


def sources_reachable(pins):
    """Whether sources can be had, without fetching or building: a
    NANOS_SRC directory holding the four, or the public repositories
    answering.  Returns None or the reason why not."""
    root = os.environ.get("NANOS_SRC")
    try:
        if root:
            local_sources(root, pins)
            return None
        for name, pin in pins.items():
            cp = git(["ls-remote", "--exit-code", pin["url"], pin["ref"]],
                     check=False, timeout=30,
                     env=dict(os.environ, GIT_TERMINAL_PROMPT="0"))
            if cp.returncode != 0:
                err = cp.stderr.decode(errors="replace").strip()
                return str(unavailable(
                    "the public repositories cannot be reached (%s%s)" % (
                        pin["url"], ": " + err.splitlines()[-1] if err
                        else "")))
    except subprocess.TimeoutExpired:
        return str(unavailable("the public repositories cannot be reached"
                               " (no answer in 30s)"))
    except Unavailable as e:
        return str(e)
    return None


# -------------------------------------------------------------- build

def apply_change(tree, change):
    """The one change: its line added to its file, which must exist and
    must not define the name already."""
    path = os.path.join(tree, change["file"])
    if not os.path.isfile(path):
        raise LabError("nanos: no %s to change" % change["file"])
    with open(path) as f:
        text = f.read()
    for line in text.splitlines():
        words = line.split()
        if words[:2] == ["#define", change["name"]]:
            raise LabError("nanos: %s defines %s already (%s)" % (
                change["file"], change["name"], line.strip()))
    if text and not text.endswith("\n"):
        text += "\n"
    with open(path, "w") as f:
        f.write(text + change["add"] + "\n")


def stamp_version(tree, commit):
    """Nanos's kernel names its version with `git rev-parse HEAD` in its
    own tree (kernel.mk, gitversion.c): a git directory whose detached
    HEAD is the pinned commit, and an empty index, answers that without
    holding any of the sources."""
    git(["init", "-q", tree])
    gd = os.path.join(tree, ".git")
    with open(os.path.join(gd, "HEAD"), "w") as f:
        f.write(commit + "\n")
    git(["read-tree", "--empty"], gd)


def vendor(tree, src):
    """Nanos's vendor rule by hand: the library into vendor/NAME, nanos's
    patches/NAME.patch applied when there is one, .vendored marking it
    done so that Nanos's Makefile never clones."""
    dest = os.path.join(tree, "vendor", src.name)
    src.export(dest)
    patch = os.path.join(tree, "patches", src.name + ".patch")
    if os.path.exists(patch):
        with open(patch, "rb") as f:
            cp = subprocess.run(["patch", "-s", "-p1", "-d", dest], stdin=f,
                                capture_output=True)
        if cp.returncode != 0:
            raise LabError("nanos: patches/%s.patch does not apply: %s" % (
                src.name, (cp.stdout + cp.stderr).decode(
                    errors="replace").strip()[:300]))
        detail("applied nanos's patches/%s.patch" % src.name)
    open(os.path.join(dest, ".vendored"), "w").close()


def make(tree, target, log, jobs):
    with open(log, "ab") as f:
        f.write(("\n$ make -j%d %s\n" % (jobs, target)).encode())
        f.flush()
        cp = subprocess.run(["make", "-C", tree, "-j%d" % jobs, target],
                            stdout=f, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    if cp.returncode != 0:
        with open(log, errors="replace") as f:
            tail = f.read().splitlines()[-15:]
        raise LabError("nanos: make %s failed (exit %d; %s):\n%s" % (
            target, cp.returncode, log, "\n".join(tail)))


def prune(tree):
    """Object files go once the build is done: the tree keeps sources and
    outputs (hundreds of MB less per cache entry)."""
    for top, _, files in os.walk(os.path.join(tree, "output")):
        for f in files:
            if f.endswith((".o", ".d")):
                os.unlink(os.path.join(top, f))


@contextlib.contextmanager
def locked(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            say("nanos: another build holds %s; waiting" % path)
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def build(steps=None):
    """The kernel dict of the cached build for the pins, building it first
    when the cache has none.  Raises Unavailable when the sources cannot
    be had, LabError when they are not the pinned ones or the build
    fails."""
    steps = steps or Steps()
    pins, change = settings()
    key = cache_key(pins, change)
    root = cache_root()
    final = os.path.join(root, key)
    with locked(os.path.join(root, key + ".lock")):
        k = cached()
        if k:
            say("nanos: cached build %s, nothing to build" % final)
            return k
        t0 = now()
        with steps.step("nanos: sources"):
            srcs, origin = sources(pins)
            detail("from %s" % origin)
        with steps.step("nanos: check the pinned commits"):
            for s in srcs:
                s.verify()
                detail("%-8s %s  %s" % (s.name, s.pin["commit"], s.where()))
        work = final + ".tmp"
        shutil.rmtree(work, ignore_errors=True)
        tree = os.path.join(work, "nanos")
        with steps.step("nanos: unpack, vendor, the one change"):
            by_name = {s.name: s for s in srcs}
            by_name["nanos"].export(tree)
            stamp_version(tree, by_name["nanos"].pin["commit"])
            for name in pins:
                if name != "nanos":
                    vendor(tree, by_name[name])
            apply_change(tree, change)
            detail("%s: added %r" % (change["file"], change["add"]))
        jobs = os.cpu_count() or 1
        log = os.path.join(work, "build.log")
        # One after the other: `make kernel mkfs` races on a tool both
        # build.
        with steps.step("nanos: make kernel (boot.img, kernel.img, klibs)"):
            make(tree, "kernel", log, jobs)
        with steps.step("nanos: make mkfs"):
            make(tree, "mkfs", log, jobs)
        k, missing = tree_kernel(tree, "")
        if missing:
            raise LabError("nanos: the build left no " + ", ".join(missing))
        prune(tree)
        record = {"key": key, "recipe": RECIPE, "change": change,
                  "pins": pins, "from": origin,
                  "built": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                         time.gmtime()),
                  "seconds": round(now() - t0, 1)}
        with open(os.path.join(work, "build.json"), "w") as f:
            json.dump(record, f, indent=2, sort_keys=True)
            f.write("\n")
        shutil.rmtree(final, ignore_errors=True)
        os.rename(work, final)
        say("nanos: built in %.1fs, cached in %s" % (now() - t0, final))
        return cached()
