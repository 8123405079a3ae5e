# SPDX-License-Identifier: MIT
"""Compute Engine's network in the lab (lab/run --gce): a DHCP server that
answers as Compute Engine's does, the VPC's MTU on the lab's links, and
the checks that the gateway took its lease and that nothing needed
fragmenting on the way."""

import os
import re
import subprocess

from .topology import NS_HOST, NS_INET, NS_VPC
from .util import LabError, run, write_file


def start_dhcp(ns, bridge, busybox, rundir, mac, ip, router, mtu=1460):
    """A DHCP server on the lab's VPC bridge that answers as Compute
    Engine's does: a /32 lease, the subnet's gateway as router, the VPC's
    MTU.  busybox udhcpd, run inside namespace ns; the namespace's removal
    ends it.  Returns the Popen."""
    conf = os.path.join(rundir, "udhcpd.conf")
    write_file(conf, "\n".join([
        "interface %s" % bridge,
        "start %s" % ip,
        "end %s" % ip,
        "max_leases 1",
        "lease_file %s" % os.path.join(rundir, "udhcpd.leases"),
        "pidfile %s" % os.path.join(rundir, "udhcpd.pid"),
        "static_lease %s %s" % (mac, ip),
        "option subnet 255.255.255.255",
        "option router %s" % router,
        "option mtu %d" % mtu,
        "option lease 86400",
        ""]))
    open(os.path.join(rundir, "udhcpd.leases"), "a").close()
    log = open(os.path.join(rundir, "udhcpd.log"), "a")
    return subprocess.Popen(
        ["ip", "netns", "exec", ns, busybox, "udhcpd", "-f", conf],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)


# The VPC's links, namespace by namespace (topology.py), and the MTU they
# get in Compute Engine mode: the VPC's 1460, on the path from the
# internet's edge to the gateway and the private host.
VPC_MTU = 1460
VPC_LINKS = ((NS_INET, "tovpc"), (NS_VPC, "edge0"), (NS_VPC, "host0"),
             (NS_VPC, "gw0"), (NS_VPC, "vpc0"), (NS_HOST, "eth0"))


def vpc_mtu(namespaces):
    """Gives the lab's VPC links Compute Engine's MTU: whatever needs more
    is fragmented or refused on the way, and fragment_counts sees it."""
    for ns, link in VPC_LINKS:
        if ns in namespaces:
            run(["ip", "link", "set", link, "mtu", str(VPC_MTU)], ns=ns)


# The kernel's counts of packets fragmented on the way (FragCreates),
# refused for size with DF set (FragFails) and fragments reassembled,
# also by the NAT's connection tracking (ReasmReqds).
FRAGMENT_COUNTERS = ("FragCreates", "FragFails", "ReasmReqds")


def fragment_counts(namespaces):
    """{"NS COUNTER": n} of FRAGMENT_COUNTERS in each namespace."""
    out = {}
    for ns in namespaces:
        text = run(["cat", "/proc/net/snmp"], ns=ns).stdout
        rows = [l.split()[1:] for l in text.splitlines()
                if l.startswith("Ip:")]
        if len(rows) != 2:
            raise LabError("%s: no Ip counters in /proc/net/snmp" % ns)
        ip = dict(zip(rows[0], rows[1]))
        for c in FRAGMENT_COUNTERS:
            out["%s %s" % (ns, c)] = int(ip[c])
    return out


def check_lease(guest, console, rundir, ip):
    """That the gateway took its address from the lab's DHCP server, the
    /32 lease Compute Engine gives, and not from its image; returns a line
    for the log or raises LabError."""
    try:
        with open(os.path.join(rundir, "udhcpd.log")) as f:
            log = f.read()
    except OSError:
        log = ""
    if not re.search(r"sending ACK to %s\b" % re.escape(ip), log):
        raise LabError("the gateway took no DHCP lease for %s (udhcpd: %s)"
                       % (ip, log.strip()[-200:] or "no log"))
    if guest == "linux":
        m = re.search(r"uglab: \[[\d.]+\] network (\S+) (\S+) via dhcp mtu "
                      r"(\d+)", console)
        if not m or m.group(2) != ip + "/32":
            raise LabError("the gateway did not get the DHCP lease %s/32 "
                           "(console: %s)" % (ip, m.group(0) if m else
                                              "no network line"))
        return "gateway NIC %s: %s from DHCP, mtu %s" % m.groups()
    m = re.search(r"^(?:\[[\d.]+\] )?(\w+): assigned %s\s*$"
                  % re.escape(ip), console, re.M)
    if not m:
        raise LabError("Nanos did not take the DHCP lease %s (no "
                       "'assigned %s' on its console)" % (ip, ip))
    return ("gateway NIC %s: %s from DHCP (udhcpd acked it; /32, router "
            "and MTU as Compute Engine's)" % (m.group(1), ip))
