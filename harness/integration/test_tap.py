# SPDX-License-Identifier: MIT
"""The tap backend: uniguard on an Ethernet segment (a bridge in the
gateway's namespace joining its tap and a plain host's link), with no
kernel forwarding and no address of the gateway's kernel on the segment.

With proxy-arp the clients' addresses sit inside the segment's prefixes
(10.240.0.0/16, fd00:240::/64): the host has no route for them at all, and
reaches them because uniguard answers ARP and neighbour solicitations for
them. Routed, the clients have their own subnet, the host a route to it
through uniguard's address, and uniguard a gateway for the rest.

The client is wg-quick with wireguard-go, as a user would run it.
"""

import re

import pytest

import uglab
from ugtools import wgquick

GW_PUBLIC, CLIENT_PUBLIC = "203.0.113.1", "203.0.113.2"
UG4, UG6 = "10.240.0.5", "fd00:240::5"
HOST4, HOST6 = "10.240.0.2", "fd00:240::2"
CLIENT4, CLIENT6 = "10.240.100.2", "fd00:240::100"
ROUTED4 = "10.0.0.2"
FAR4 = "198.51.100.7"


class Segment:
    """gw runs uniguard on a tap bridged with host's link; client runs
    wg-quick (wireguard-go) towards gw's public address."""

    def __init__(self, lab, netdev, gw_allowed, client_addrs, client_allowed):
        self.lab = lab
        self.gw = lab.netns("gw")
        self.host = lab.netns("host")
        self.client = lab.netns("client")
        lab.veth(self.gw, self.client, [GW_PUBLIC + "/24"],
                 [CLIENT_PUBLIC + "/24"])
        seg, self.host_if = lab.veth(self.gw, self.host, [],
                                     [HOST4 + "/16", HOST6 + "/64"])
        # No snooping: the solicited-node groups of proxied addresses
        # reach uniguard without it joining them.
        self.gw.ip("link", "add", "ugbr", "type", "bridge",
                   "mcast_snooping", "0")
        self.gw.ip("link", "set", seg, "master", "ugbr")
        self.gw.ip("link", "set", "ugbr", "up")

        ckey, cpub = uglab.keypair()
        gkey, gpub = uglab.keypair()
        conf = lab.write_file("gw.conf", wgquick.render(
            [("PrivateKey", gkey), ("ListenPort", 51820),
             ("Address", "%s/16, %s/64" % (UG4, UG6))],
            [[("PublicKey", cpub), ("AllowedIPs", ", ".join(gw_allowed))]]))
        self.dev = lab.uniguard(self.gw, config=conf,
                                args=["--netdev", netdev])
        self.gw.ip("link", "set", self.dev.ifname, "master", "ugbr")

        self.cif = lab.ifname()
        self.cconf = lab.write_file(self.cif + ".conf", wgquick.render(
            [("PrivateKey", ckey), ("Address", ", ".join(client_addrs))],
            [[("PublicKey", gpub), ("Endpoint", "%s:51820" % GW_PUBLIC),
              ("AllowedIPs", ", ".join(client_allowed))]]))
        self.client.exec("wg-quick", "up", self.cconf, env={
            "WG_QUICK_USERSPACE_IMPLEMENTATION": "wireguard-go"})

    def tap_kernel_mac(self):
        out = self.gw.ip("link", "show", self.dev.ifname).stdout
        return re.search(r"link/ether (\S+)", out).group(1)

    def host_neighbour(self, addr):
        out = self.host.ip("neigh", "show", addr).stdout
        m = re.search(r"lladdr (\S+)", out)
        return m.group(1) if m else None

    def down(self):
        """wg-quick down, then uniguard's clean exit (status 0)."""
        self.client.exec("wg-quick", "down", self.cconf, check=False)
        assert self.dev.stop() == 0, self.dev.process.log()


def ttl(out):
    return int(re.search(r"(?:ttl|hlim)=(\d+)", out).group(1))


def test_proxy_arp_puts_clients_on_the_segment(lab):
    seg = Segment(lab, "tap:proxy-arp",
                  gw_allowed=[CLIENT4 + "/32", CLIENT6 + "/128"],
                  client_addrs=[CLIENT4 + "/32", CLIENT6 + "/128"],
                  client_allowed=["10.240.0.0/16", "fd00:240::/64"])
    # The gateway's kernel routes nothing and has no segment address.
    assert seg.gw.exec("sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() \
        == "0"
    assert "10.240." not in seg.gw.ip("-4", "addr").stdout
    # The host has nothing but its connected prefixes.
    routes = seg.host.ip("route").stdout + seg.host.ip("-6", "route").stdout
    assert "10.240.100" not in routes and "default" not in routes

    out = seg.client.ping_ok(HOST4, timeout=20)
    assert ttl(out) == 63, out          # the host's 64, less one hop
    out = seg.host.ping_ok(CLIENT4)
    assert ttl(out) == 63, out
    out = seg.client.ping_ok(HOST6)
    assert ttl(out) == 63, out
    seg.host.ping_ok(CLIENT6)
    # uniguard answers for itself too, on both families.
    assert ttl(seg.host.ping_ok(UG4)) == 64
    seg.host.ping_ok(UG6)

    # The host took uniguard's MAC for the client's addresses: not the
    # tap interface's own, which belongs to the bridge.
    mac = seg.host_neighbour(CLIENT4)
    assert mac and mac == seg.host_neighbour(UG4)
    assert mac == seg.host_neighbour(CLIENT6)
    assert mac != seg.tap_kernel_mac()
    stats = seg.dev.stats()
    assert stats["handshakes_completed"] >= 1
    assert stats["tun_write_errors"] == 0
    seg.down()


def test_routed_with_gateway(lab):
    seg = Segment(lab, "tap:gateway=%s" % HOST4,
                  gw_allowed=[ROUTED4 + "/32"],
                  client_addrs=[ROUTED4 + "/32"],
                  client_allowed=["10.240.0.0/16", FAR4 + "/32"])
    # The host routes the clients' subnet through uniguard's address (as
    # a cloud route table would) and holds an address off the segment,
    # which uniguard reaches through its gateway.
    seg.host.ip("route", "add", "10.0.0.0/24", "via", UG4)
    seg.host.ip("addr", "add", FAR4 + "/32", "dev", "lo")

    out = seg.client.ping_ok(HOST4, timeout=20)
    assert ttl(out) == 63, out
    out = seg.client.ping_ok(FAR4)
    assert ttl(out) == 63, out
    out = seg.host.ping_ok(ROUTED4)
    assert ttl(out) == 63, out
    # Without proxy-arp nobody answers for the clients on the segment.
    res = seg.host.ping("10.240.100.9", count=1, wait=1)
    assert res.returncode != 0
    seg.down()


@pytest.mark.parametrize("spec,message", [
    ("tap:bogus", "bad option 'bogus'"),
    ("tap:gateway=10.0.0.1,gateway=10.0.0.2", "bad option"),
    ("tap:address=10.0.0.1", "bad option"),
    ("tap:mac=01:00:5e:00:00:01", "bad option"),
    ("tun:proxy-arp", "takes no options"),
    ("nope", "no packet backend named nope"),
])
def test_bad_netdev_options_refused(lab, spec, message):
    ns = lab.netns("bad")
    res = ns.exec(uglab.uniguard_binary(), "-f", "--netdev", spec,
                  "--disable-drop-privileges", "yes", lab.ifname(),
                  check=False, timeout=20)
    assert res.returncode == 1
    assert message in res.stderr, res.stderr
    assert ns.ip("link").stdout.count("\n") <= 2     # lo alone
