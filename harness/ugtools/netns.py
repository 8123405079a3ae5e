# SPDX-License-Identifier: MIT
"""Network namespaces a test run made: ending what runs in one and
removing it, and removing what an interrupted run left behind."""

import os
import signal
import time

from .run import run


def pids(name):
    """The processes in namespace name."""
    out = run(["ip", "netns", "pids", name], check=False).stdout
    return [int(p) for p in out.split()]


def remove(name):
    """Ends every process in the namespace (SIGTERM, then SIGKILL for
    those still there after 5 s), then removes it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        found = pids(name)
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and pids(name):
            time.sleep(0.05)
    run(["ip", "netns", "del", name], check=False)


def remove_leftovers(prefix):
    """Removes the namespaces named PREFIX<pid>-... whose run (that pid)
    is over or is this one: another run may be going on."""
    for line in run(["ip", "netns", "list"], check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(prefix):
            continue
        owner = name[len(prefix):].split("-")[0]
        if owner.isdigit() and int(owner) != os.getpid() and \
                os.path.exists("/proc/%s" % owner):
            continue
        remove(name)
