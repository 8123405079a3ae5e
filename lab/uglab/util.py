# SPDX-License-Identifier: MIT
"""Shared helpers of the lab: its paths, its output, timed steps; running
commands through harness/ugtools, which the integration suite uses too."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from ugtools import run as commands

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_DIR = os.path.dirname(LAB_DIR)
WORK_DIR = os.path.join(LAB_DIR, "work")
SEED_DIR = os.path.join(REPO_DIR, "harness", "data", "seed")

T0 = time.monotonic()
VERBOSE = os.environ.get("LAB_VERBOSE") == "1"


# A failure the lab explains in one line and then cleans up after: the
# shared one, so that a command that fails is one too.
LabError = commands.Failure


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


def run(argv, ns=None, timeout=120, quiet=False, **kw):
    """ugtools.run.run, with LAB_VERBOSE=1 showing each command and
    (unless quiet) what it printed."""
    cp = commands.run(argv, ns=ns, timeout=timeout, echo=debug, **kw)
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


def end_group(proc, grace):
    """Ends a process started with start_new_session and what it started:
    SIGTERM to its group, SIGKILL after grace seconds."""
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


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
