# SPDX-License-Identifier: MIT
"""The seed's scenario: the gateway started exactly as the seed's launch
configuration starts it (-f -v debug -c FILE --disable-drop-privileges yes
IFNAME) with the seed's own files, the seed's client config pointed at the
lab's public address for the gateway, and a private host 10.240.0.2 behind
the gateway that routes 10.0.0.0/24 back through it, as the seed's cloud
route does. The client's ping reaches the host and the reply shows one
hop of forwarding."""

import os
import re

import pytest

import uglab

GW_PUBLIC = "203.0.113.1"
CLIENT_PUBLIC = "203.0.113.2"
SEED_CLIENT_KEY = "5DApKFqCrqDE2/PMR+3xIMHFwGBdguq2XK7KaK0zy1U="


def seed_client_conf(lab, ifname):
    with open(os.path.join(uglab.SEED_DIR, "utun2.conf")) as f:
        text = f.read()
    assert "34.35.212.58:51820" in text
    text = text.replace("34.35.212.58:51820", "%s:51820" % GW_PUBLIC)
    return lab.write_file(ifname + ".conf", text)


@pytest.mark.parametrize("config", ["nanoswg.conf", "boringtun.conf"])
def test_seed_client_pings_private_host(lab, config):
    client = lab.netns("client")
    gw = lab.netns("gw")
    host = lab.netns("host")
    lab.veth(gw, client, ["%s/24" % GW_PUBLIC], ["%s/24" % CLIENT_PUBLIC])
    lab.veth(gw, host, ["10.240.0.10/16"], ["10.240.0.2/16"])
    gw.sysctl("net.ipv4.ip_forward", 1)
    host.ip("route", "add", "10.0.0.0/24", "via", "10.240.0.10")

    # The seed's published keys: they must not show in the log either.
    uglab.SECRETS.update(["OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=",
                          "6G5U9fOiA5qVbWMlJ0wx05RiJhfvFj+b2Diit+EKW2o="])
    dev = lab.uniguard(gw, config=os.path.join(uglab.SEED_DIR, config))
    # What the seed's image manifest does for the tun interface.
    gw.ip("addr", "add", "10.0.0.1/24", "dev", dev.ifname)
    gw.ip("link", "set", dev.ifname, "up")

    cif = lab.ifname()
    conf = seed_client_conf(lab, cif)
    client.exec("wg-quick", "up", conf,
                env={"WG_QUICK_USERSPACE_IMPLEMENTATION": "wireguard-go"})

    out = client.ping_ok("10.240.0.2", timeout=20)
    ttl = int(re.search(r"ttl=(\d+)", out).group(1))
    assert ttl == 63, out  # 64 from the host, less the gateway's one hop

    peer = dev.peer(SEED_CLIENT_KEY)
    assert peer.endpoint.startswith(CLIENT_PUBLIC + ":")
    assert peer.latest_handshake > 0
    assert peer.rx > 0 and peer.tx > 0
    assert "handshake completed" in dev.process.log()
    client.exec("wg-quick", "down", conf)


def test_seed_command_on_linux_says_the_interface_needs_an_address(lab):
    """On Linux the seed's command leaves the interface down with no
    address (on Nanos the manifest sets them): the log says so once, with
    the remedy, and the packets the tunnel cannot hand over are logged
    with the reason, not per packet."""
    client = lab.netns("client")
    gw = lab.netns("gw")
    lab.veth(gw, client, ["%s/24" % GW_PUBLIC], ["%s/24" % CLIENT_PUBLIC])
    uglab.SECRETS.update(["OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=",
                          "6G5U9fOiA5qVbWMlJ0wx05RiJhfvFj+b2Diit+EKW2o="])
    dev = lab.uniguard(gw, config=os.path.join(uglab.SEED_DIR,
                                               "boringtun.conf"))
    log = dev.process.log()
    said = "info: %s has no address and is down: " % dev.ifname
    assert log.count(said) == 1, log
    assert "ip address add ADDRESS/PREFIX dev %s && ip link set %s up" % (
        dev.ifname, dev.ifname) in log, log
    assert "Address = in a wg-quick file" in log, log

    cif = lab.ifname()
    conf = seed_client_conf(lab, cif)
    client.exec("wg-quick", "up", conf,
                env={"WG_QUICK_USERSPACE_IMPLEMENTATION": "wireguard-go"})
    # Several pings, each decrypted and refused by the down interface.
    client.exec("ping", "-c", "5", "-i", "0.2", "-W", "1", "10.0.0.1",
                check=False)
    uglab.wait_until(lambda: dev.stats()["tun_write_errors"] >= 3,
                     what="the tun writes to fail")
    log = dev.process.log()
    failed = "warn: cannot hand a packet to %s: Input/output error: is %s " \
        "down?" % (dev.ifname, dev.ifname)
    assert log.count(failed) == 1, log
    assert log.count("cannot hand a packet") == 1, log
    assert log.count(said) == 1, log

    # Set up as the log says, the tunnel carries.
    gw.ip("addr", "add", "10.0.0.1/24", "dev", dev.ifname)
    gw.ip("link", "set", dev.ifname, "up")
    client.ping_ok("10.0.0.1", timeout=20)
    client.exec("wg-quick", "down", conf)
