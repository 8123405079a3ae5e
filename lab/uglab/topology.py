# SPDX-License-Identifier: MIT
"""The lab's network: every host is a network namespace named uglab-*, the
VMs' NICs are taps inside them, and nothing is created in the machine's own
namespace.  The layout is a small copy of a cloud VPC:

  uglab-vpc   the VPC router: bridge vpc0 10.240.0.1/16 holding the gateway
              VM's tap and the private host; route 10.0.0.0/24 via the
              gateway (the cloud route); default toward uglab-inet
  uglab-host  the private host 10.240.0.2, same cloud route
  uglab-inet  "the internet": bridge pub0 198.51.100.1/24 for the clients,
              203.0.113.10 udp 51820 mapped to 10.240.0.10:51820 by nftables
              (the VM's external address), and nothing else reaches the VPC
  uglab-cN    one namespace per userspace client, 198.51.100.x/24
"""

import os
import signal
import time

from .util import LabError, debug, run

PREFIX = "uglab-"
NS_VPC = PREFIX + "vpc"
NS_HOST = PREFIX + "host"
NS_INET = PREFIX + "inet"

VPC_CIDR = "10.240.0.0/16"
VPC_ROUTER = "10.240.0.1"
GATEWAY_IP = "10.240.0.10"
HOST_IP = "10.240.0.2"
VPN_CIDR = "10.0.0.0/24"
PUBLIC_IP = "203.0.113.10"
WG_PORT = 51820
PUB_ROUTER = "198.51.100.1"
LINK_INET = "192.0.2.1"
LINK_VPC = "192.0.2.2"

NFT_RULES = """
table ip uglab {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr %(pub)s udp dport %(port)d dnat to %(gw)s:%(port)d
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr %(gw)s oifname "pub0" snat to %(pub)s
	}
	chain guard {
		type filter hook forward priority filter; policy accept;
		ip daddr %(vpc)s ct status dnat accept
		ip daddr %(vpc)s drop
	}
	chain tally {
		type filter hook forward priority filter + 1; policy accept;
	}
}
"""


def ns_list():
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def ns_pids(ns):
    out = run(["ip", "netns", "pids", ns], check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def running(pid):
    """False once pid has exited, zombies included."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_pids(pids, grace=3.0):
    """Ends the given processes: SIGTERM, then SIGKILL after grace."""
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace
    while pids and time.monotonic() < end:
        pids = [p for p in pids if running(p)]
        if pids:
            time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def destroy_all():
    """Removes every uglab-* namespace with the processes inside it (VMs,
    wireguard-go, test servers); returns the namespaces removed."""
    gone = []
    for ns in ns_list():
        if not ns.startswith(PREFIX):
            continue
        t = time.monotonic()
        pids = ns_pids(ns)
        kill_pids(pids)
        debug("%s: ended %s in %.1fs" % (ns, pids, time.monotonic() - t))
        run(["ip", "netns", "del", ns], check=False)
        gone.append(ns)
    return gone


class Topology:
    def __init__(self):
        self.namespaces = []
        self.clients = {}

    def add_ns(self, ns):
        if ns in ns_list():
            raise LabError("namespace %s exists already (lab/run --cleanup "
                           "removes leftovers)" % ns)
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        run(["ip", "link", "set", "lo", "up"], ns=ns)
        # Nothing in the lab wants IPv6 autoconfiguration chatter.
        run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"], ns=ns)
        run(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)

    def veth(self, ns_a, name_a, ns_b, name_b):
        run(["ip", "link", "add", name_a, "type", "veth", "peer", "name",
             name_b, "netns", ns_b], ns=ns_a)
        run(["ip", "link", "set", name_a, "up"], ns=ns_a)
        run(["ip", "link", "set", name_b, "up"], ns=ns_b)

    def create(self):
        for ns in (NS_VPC, NS_HOST, NS_INET):
            self.add_ns(ns)
        # The VPC router and its bridge.
        run("ip link add vpc0 type bridge", ns=NS_VPC)
        run("ip addr add %s/16 dev vpc0" % VPC_ROUTER, ns=NS_VPC)
        run("ip link set vpc0 up", ns=NS_VPC)
        run("sysctl -qw net.ipv4.ip_forward=1", ns=NS_VPC)
        # The private host on the VPC bridge, with the cloud route.
        self.veth(NS_VPC, "host0", NS_HOST, "eth0")
        run("ip link set host0 master vpc0", ns=NS_VPC)
        run("ip addr add %s/16 dev eth0" % HOST_IP, ns=NS_HOST)
        run("ip route add default via %s" % VPC_ROUTER, ns=NS_HOST)
        run("ip route add %s via %s" % (VPN_CIDR, GATEWAY_IP), ns=NS_HOST)
        run("ip route add %s via %s" % (VPN_CIDR, GATEWAY_IP), ns=NS_VPC)
        # The internet, and the VPC's edge toward it.
        self.veth(NS_VPC, "edge0", NS_INET, "tovpc")
        run("ip addr add %s/30 dev edge0" % LINK_VPC, ns=NS_VPC)
        run("ip addr add %s/30 dev tovpc" % LINK_INET, ns=NS_INET)
        run("ip route add default via %s" % LINK_INET, ns=NS_VPC)
        run("ip route add %s/32 via %s" % (GATEWAY_IP, LINK_VPC), ns=NS_INET)
        run("ip link add pub0 type bridge", ns=NS_INET)
        run("ip addr add %s/24 dev pub0" % PUB_ROUTER, ns=NS_INET)
        run("ip link set pub0 up", ns=NS_INET)
        run("sysctl -qw net.ipv4.ip_forward=1", ns=NS_INET)
        run(["nft", "-f", "-"], ns=NS_INET, input=NFT_RULES % {
            "pub": PUBLIC_IP, "port": WG_PORT, "gw": GATEWAY_IP,
            "vpc": VPC_CIDR})

    def add_tap(self, ns, tap, bridge):
        """A tap for a VM's NIC, on a bridge of namespace ns; QEMU attaches
        to it by name from inside that namespace."""
        run(["ip", "tuntap", "add", "dev", tap, "mode", "tap"], ns=ns)
        run(["ip", "link", "set", tap, "master", bridge], ns=ns)
        run(["ip", "link", "set", tap, "up"], ns=ns)

    def add_client(self, name, addr):
        """A client namespace uglab-<name> on the internet bridge."""
        ns = PREFIX + name
        self.add_ns(ns)
        self.veth(NS_INET, name, ns, "eth0")
        run(["ip", "link", "set", name, "master", "pub0"], ns=NS_INET)
        run(["ip", "addr", "add", addr + "/24", "dev", "eth0"], ns=ns)
        run(["ip", "route", "add", "default", "via", PUB_ROUTER], ns=ns)
        # Keep the other addresses when the first one goes (roaming).
        run("sysctl -qw net.ipv4.conf.all.promote_secondaries=1", ns=ns)
        self.clients[name] = ns
        return ns

    def watch(self, src, dst):
        """Counts packets forwarded from src to dst through the internet
        namespace; read with counted()."""
        run(["nft", "add", "rule", "ip", "uglab", "tally", "ip", "saddr",
             src, "ip", "daddr", dst, "counter"], ns=NS_INET)

    def counted(self, src, dst):
        out = run(["nft", "list", "chain", "ip", "uglab", "tally"],
                  ns=NS_INET).stdout
        for line in out.splitlines():
            if ("saddr %s " % src) in line and ("daddr %s " % dst) in line:
                debug(line.strip())
                return int(line.split("packets")[1].split()[0])
        return None
