# SPDX-License-Identifier: MIT
"""What the kernel tells of a process in /proc."""

import os


def cpu_seconds(pid):
    """User plus system time of a process, all its threads; None once it
    is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status(pid):
    """/proc/PID/status as {field: [its words]}: "VmRSS" ["4088", "kB"],
    "Threads" ["3"], "Uid" [real, effective, saved, file system]."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, rest = line.partition(":")
            out[name] = rest.split()
    return out
