# SPDX-License-Identifier: MIT
"""The daemon around the core, attacked the way a local user or a careless
operator would (docs/security.md, "Attacks on the daemon").

Each test sets up the attack itself: the namespaces, the other user (a uid
no account on the machine has, so nothing it owns is shared with anyone),
the files that user plants, the limits the daemon starts under. Nothing
here depends on what ran on the machine before.
"""

import base64
import os
import re
import signal
import stat
import subprocess
import time

import pytest

import uglab

NOBODY = 65534
# The attacker: a uid no account has; the test gives it its files.
OTHER_UID = 23456


def capabilities(pid):
    """(CapInh, CapPrm, CapEff) of pid, as integers."""
    caps = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapInh", "CapPrm", "CapEff"):
                caps[key] = int(value.strip(), 16)
    return caps["CapInh"], caps["CapPrm"], caps["CapEff"]


def ids(pid):
    """(euid, egid) of pid."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                out[key] = int(value.split()[1])
    return out["Uid"], out["Gid"]


def daemon_argv(ifname, *args, drop=False, foreground=True):
    argv = [uglab.uniguard_binary()]
    if foreground:
        argv.append("-f")
    argv += ["-v", "debug"]
    if not drop:
        argv += ["--disable-drop-privileges", "yes"]
    return argv + list(args) + [ifname]


def run_to_exit(lab, ns, name, argv, timeout=20):
    """Runs argv in ns until it exits; returns (status, output)."""
    proc = ns.popen(name, argv)
    try:
        proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise AssertionError("%s still runs:\n%s" % (name, proc.log()))
    return proc.popen.returncode, proc.log()


CAP_NET_ADMIN = 12
CAP_NET_BIND_SERVICE = 10
KEPT = (1 << CAP_NET_ADMIN) | (1 << CAP_NET_BIND_SERVICE)


# 1. The privilege drop.

def test_privilege_drop_keeps_two_capabilities(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns, drop=True)
    pid = ug.process.pid
    uglab.wait_until(lambda: ids(pid)[0] == NOBODY or ids(pid)[0] != 0,
                     what="the drop")
    assert capabilities(pid) == (0, KEPT, KEPT)


def test_privilege_drop_fails_closed(lab):
    """Started without CAP_NET_BIND_SERVICE in its bounding set, the
    daemon cannot keep the two capabilities it asks for: it must stop,
    not run on as an unprivileged user holding the rest of root's."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    argv = ["setpriv", "--bounding-set=-net_bind_service"] + \
        daemon_argv(ifname, drop=True)
    proc = ns.popen("uniguard-" + ifname, argv)
    try:
        proc.popen.wait(15)
    except subprocess.TimeoutExpired:
        caps = capabilities(proc.pid)
        proc.stop()
        raise AssertionError("still running with %x: %s" % (
            caps[1], proc.log()))
    log = proc.log()
    assert proc.popen.returncode == 1, log
    assert "cannot limit the capabilities" in log, log
    assert "cannot drop privileges" in log, log
    # The helper removes the socket the daemon can no longer remove.
    uglab.wait_until(lambda: not os.path.exists(os.path.join(
        uglab.SOCK_DIR, ifname + ".sock")), timeout=5, what="the socket")


