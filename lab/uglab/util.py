# SPDX-License-Identifier: MIT
"""Shared helpers of the lab: running commands, timed steps, paths."""

import contextlib
import os
import shlex
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(LAB_DIR)
WORK_DIR = os.path.join(LAB_DIR, "work")
SEED_DIR = os.path.join(REPO_DIR, "harness", "data", "seed")

T0 = time.monotonic()
VERBOSE = os.environ.get("LAB_VERBOSE") == "1"


class LabError(Exception):
    """A failure the lab explains in one line and then cleans up after."""


def now():
    return time.monotonic()


def clock():
    """Seconds since the lab started, as the prefix of every line."""
    return "[%7.1fs]" % (now() - T0)


def say(msg):
    print("%s %s" % (clock(), msg), flush=True)


def detail(msg):
    print("%s     %s" % (" " * 10, msg), flush=True)


def debug(msg):
    if VERBOSE:
        print("%s   . %s" % (clock(), msg), flush=True)


def run(argv, ns=None, check=True, timeout=120, input=None, env=None,
        quiet=False, cwd=None):
    """Runs argv (in network namespace ns if given); returns CompletedProcess
    with text stdout and stderr."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    if ns:
        argv = ["ip", "netns", "exec", ns] + list(argv)
    debug("$ " + " ".join(shlex.quote(a) for a in argv))
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    try:
        cp = subprocess.run(argv, input=input, capture_output=True,
                            text=True, timeout=timeout, env=full_env,
                            cwd=cwd)
    except subprocess.TimeoutExpired:
        raise LabError("timed out after %ds: %s" % (timeout, " ".join(argv)))
    if check and cp.returncode != 0:
        msg = (cp.stderr or cp.stdout).strip().splitlines()
        raise LabError("%s: exit %d%s" % (
            " ".join(argv), cp.returncode,
            (": " + " / ".join(msg[:3])) if msg else ""))
    if VERBOSE and not quiet and (cp.stdout or cp.stderr):
        for line in (cp.stdout + cp.stderr).rstrip().splitlines():
            debug("  " + line)
    return cp


def sh(script, ns=None, **kw):
    """Runs a shell snippet."""
    return run(["sh", "-c", script], ns=ns, **kw)


class Steps:
    """Prints each step with its start and its duration as the lab goes."""

    def __init__(self):
        self.records = []

    @contextlib.contextmanager
    def step(self, name):
        t = now()
        say(name + " ...")
        try:
            yield
        except BaseException:
            dt = now() - t
            say("%s: FAILED after %.1fs" % (name, dt))
            self.records.append((name, dt, False))
            raise
        dt = now() - t
        say("%s: done in %.1fs" % (name, dt))
        self.records.append((name, dt, True))


def wait_until(pred, timeout, interval=0.2):
    """Polls pred() until it returns a true value or timeout passes;
    returns that value, or None."""
    end = now() + timeout
    while True:
        v = pred()
        if v:
            return v
        if now() >= end:
            return None
        time.sleep(interval)


def write_file(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def read_file(path):
    with open(path) as f:
        return f.read()


def die(msg):
    print("lab: " + msg, file=sys.stderr)
    sys.exit(2)
