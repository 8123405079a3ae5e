# SPDX-License-Identifier: MIT
"""Faults while sessions run: a peer removed and added back, the private key
and the listen port changed, the TUN device deleted under the daemon, and a
SIGTERM in the middle of traffic. Each must end in one defined state, and
the daemon's log must say in words what happened: every test checks both.

The gateway is uniguard in namespace a; its client is wireguard-go in b,
pinging the gateway's inner address while the fault happens.
"""

import json
import os
import re
import signal
import time

import pytest

import uglab
from uglab import INNER4, INNER6, OUTER4, Pair
from ugtools.procstat import cpu_seconds

# Fault 4's defined state: deleting the link is how a userspace interface
# is taken down (wg-quick down does it), so the daemon stops as on SIGTERM:
# it says why, removes its socket and exits with status 0.
GONE_STATUS = 0


# Helpers


def wait_log(dev, pattern, timeout=10):
    """Waits for a line of dev's log matching the regex; returns the match."""
    rx = re.compile(pattern, re.M)
    return uglab.wait_until(lambda: rx.search(dev.process.log()),
                            timeout=timeout, interval=0.1,
                            what="a log line matching %r" % pattern)


def tun_rx_packets(ns, ifname):
    """Packets the daemon wrote into its interface (the kernel's rx)."""
    out = ns.ip("-s", "-j", "link", "show", ifname).stdout
    return json.loads(out)[0]["stats64"]["rx"]["packets"]


def udp_sockets(ns):
    """{port: process names} of the UDP sockets bound in ns."""
    out = {}
    res = ns.exec("ss", "-H", "-u", "-a", "-n", "-p")
    for line in res.stdout.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        port = int(fields[3].rsplit(":", 1)[1])
        names = set(re.findall(r'\("([^"]+)"', line))
        out.setdefault(port, set()).update(names)
    return out


def port_refuses(ns, addr, port):
    """True when a datagram to addr:port is answered with port
    unreachable: nothing listens there."""
    script = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "s.settimeout(0.5)\n"
        "s.connect((%r,%d))\n"
        "for _ in range(10):\n"
        "    try:\n"
        "        s.send(b'\\x01' * 148)\n"
        "        s.recv(2048)\n"
        "    except ConnectionRefusedError:\n"
        "        print('refused'); sys.exit(0)\n"
        "    except socket.timeout:\n"
        "        pass\n"
        "print('silent')\n") % (addr, port)
    res = ns.exec("python3", "-c", script)
    return res.stdout.strip() == "refused"


class Pinger:
    """ping running in the background, its replies counted from its
    output."""

    def __init__(self, ns, addr, interval="0.05", size=None):
        args = ["ping", "-n", "-O", "-i", interval, "-W", "1"]
        if size is not None:
            args += ["-s", str(size)]
        self.proc = ns.popen("ping", args + [addr])

    def replies(self):
        return len(re.findall(r"bytes from .*icmp_seq=(\d+)",
                              self.proc.log()))

    def wait_replies(self, more_than, timeout=15):
        uglab.wait_until(lambda: self.replies() > more_than,
                         timeout=timeout, what="ping replies")

    def stop(self):
        self.proc.stop(signal.SIGINT)


def gateway_pair(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    pair.nsb.ping_ok(INNER4[0])
    return pair, pair.a, pair.b


def assert_clean_log(text):
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer",
                "Segmentation", "Aborted"):
        assert bad not in text, text[-4000:]


def assert_stops_cleanly(dev):
    """Still running after the fault, and stops on SIGTERM with status 0
    (a sanitizer's report at exit, such as a leak, would change it)."""
    assert dev.process.alive(), dev.process.log()[-3000:]
    assert dev.stop() == 0, dev.process.log()[-3000:]
    assert_clean_log(dev.process.log())


def free_port(ns, start):
    used = udp_sockets(ns)
    port = start
    while port in used:
        port += 1
    return port


# 1. A peer removed and added back


def test_peer_removed_and_readded_while_traffic_runs(lab):
    pair, gw, client = gateway_pair(lab)
    pinger = Pinger(pair.nsb, INNER4[0])
    try:
        pinger.wait_replies(3)
        gw.set("peer", client.public_key, "remove")
        assert client.public_key not in gw.dump().peers
        wait_log(gw, r"peer %s removed: its sessions and queued packets "
                 r"dropped$" % re.escape(client.public_key[:8]))

        # Whatever was in flight lands; from then on nothing passes in
        # either direction, although the client goes on sending.
        time.sleep(1)
        rx = tun_rx_packets(pair.nsa, gw.ifname)
        client_rx = client.peer(gw.public_key).rx
        unknown = gw.stats()["drop_unknown_index"]
        replies = pinger.replies()
        res = pair.nsa.ping(INNER4[1], count=3, wait=1, interval=0.3)
        assert res.returncode != 0, res.stdout
        time.sleep(1)
        assert tun_rx_packets(pair.nsa, gw.ifname) == rx, \
            "a removed peer's packets were delivered"
        assert client.peer(gw.public_key).rx == client_rx, \
            "a removed peer was sent something"
        assert pinger.replies() == replies
        # The client's packets did arrive, and were dropped as belonging
        # to no session.
        assert gw.stats()["drop_unknown_index"] > unknown

        # Added back: a new handshake, and traffic both ways.
        completed = gw.stats()["handshakes_completed"]
        gw.add_peer(client, [INNER4[1] + "/32", INNER6[1] + "/128"],
                    endpoint=uglab.endpoint(OUTER4[1], client.port))
        wait_log(gw, r"peer %s: added$" % re.escape(client.public_key[:8]))
        pair.nsa.ping_ok(INNER4[1], timeout=20)
        pinger.wait_replies(replies)
        assert gw.stats()["handshakes_completed"] > completed
        assert gw.peer(client.public_key).latest_handshake > 0
        assert tun_rx_packets(pair.nsa, gw.ifname) > rx
    finally:
        pinger.stop()
    assert_stops_cleanly(gw)


def test_setconf_replacing_peers_says_sessions_dropped(lab):
    """wg setconf replaces the whole peer list: every peer is made anew,
    the ones it names again included, so their sessions end too."""
    pair, gw, client = gateway_pair(lab)
    pinger = Pinger(pair.nsb, INNER4[0])
    try:
        pinger.wait_replies(3)
        completed = gw.stats()["handshakes_completed"]
        _, stranger = uglab.keypair()
        gw.set("peer", stranger, "allowed-ips", "10.9.0.70/32")
        # The same configuration without the stranger.
        gw.setconf(re.sub(r"\n\[Peer\]\nPublicKey = %s\n[^[]*"
                          % re.escape(stranger), "\n", gw.showconf()))
        assert list(gw.dump().peers) == [client.public_key]
        wait_log(gw, r"peer %s removed \(not in the new list of peers\): "
                 r"it had no session$" % re.escape(stranger[:8]))
        wait_log(gw, r"peers replaced: the sessions of 1 peer named again "
                 r"dropped; they handshake again$")
        pair.nsa.ping_ok(INNER4[1], timeout=20)
        pinger.wait_replies(pinger.replies())
        assert gw.stats()["handshakes_completed"] > completed
    finally:
        pinger.stop()
    assert_stops_cleanly(gw)


# 2. The private key changed


def test_private_key_changed_while_traffic_runs(lab):
    pair, gw, client = gateway_pair(lab)
    old_pub = gw.public_key
    pinger = Pinger(pair.nsb, INNER4[0])
    try:
        pinger.wait_replies(3)
        completed = gw.stats()["handshakes_completed"]
        new_priv, new_pub = uglab.keypair()
        gw.set("private-key", lab.write_file("new.key", new_priv + "\n"))
        assert gw.dump().public_key == new_pub
        wait_log(gw, r"private key changed: the sessions of 1 peer send "
                 r"no more \(what they receive is accepted until they "
                 r"expire\); each peer must handshake again, with the new "
                 r"public key %s\.\.\.$" % re.escape(new_pub[:8]))

        # The client still knows the old public key: nothing it sends is
        # answered, and the gateway's handshakes (under the new key) are
        # refused by it, so no session comes up.
        time.sleep(1)
        replies = pinger.replies()
        client_rx = client.peer(old_pub).rx
        res = pair.nsa.ping(INNER4[1], count=3, wait=1, interval=0.3)
        assert res.returncode != 0, res.stdout
        time.sleep(1)
        assert pinger.replies() == replies
        assert client.peer(old_pub).rx == client_rx
        assert gw.stats()["handshakes_completed"] == completed

        # Told the new public key, the client handshakes and talks again.
        client.set("peer", old_pub, "remove")
        client.add_peer(new_pub, [INNER4[0] + "/32", INNER6[0] + "/128"],
                        endpoint=uglab.endpoint(OUTER4[0], gw.port))
        pair.nsb.ping_ok(INNER4[0], timeout=20)
        pinger.wait_replies(replies)
        pair.nsa.ping_ok(INNER4[1])
        assert gw.stats()["handshakes_completed"] > completed
    finally:
        pinger.stop()
    assert_stops_cleanly(gw)


def test_private_key_of_a_peer_removes_that_peer(lab):
    """A private key whose public half is a peer's: that peer goes (a peer
    with our own key makes no sense), and the log says so."""
    pair, gw, client = gateway_pair(lab)
    _, bystander = uglab.keypair()
    gw.set("peer", bystander, "allowed-ips", "10.9.0.50/32")
    gw.set("private-key", lab.write_file("taken.key",
                                         client.private_key + "\n"))
    dump = gw.dump()
    assert dump.public_key == client.public_key
    assert client.public_key not in dump.peers
    assert list(dump.peers) == [bystander]
    wait_log(gw, r"peer %s removed \(its public key is the interface's own "
             r"under the new private key\): its sessions and queued packets "
             r"dropped$" % re.escape(client.public_key[:8]))
    wait_log(gw, r"private key changed: the sessions of 0 peers send no "
             r"more \(")
    # The bystander had no session: the log says that too when it goes.
    gw.set("peer", bystander, "remove")
    wait_log(gw, r"peer %s removed: it had no session$"
             % re.escape(bystander[:8]))
    assert not gw.dump().peers
    res = pair.nsb.ping(INNER4[0], count=2, wait=1)
    assert res.returncode != 0
    assert_stops_cleanly(gw)


# 3. The listen port changed


def test_listen_port_changed_while_traffic_runs(lab):
    pair, gw, client = gateway_pair(lab)
    old = gw.port
    new = free_port(pair.nsa, 42000 + os.getpid() % 1000)
    pinger = Pinger(pair.nsb, INNER4[0])
    try:
        pinger.wait_replies(3)
        # The client keeps sending to the old port: answer every datagram
        # there, not only the first each second, so that the probe below
        # hears its own refusal.
        pair.nsa.sysctl("net.ipv4.icmp_ratelimit", 0)
        gw.set("listen-port", new)
        assert gw.dump().listen_port == new
        wait_log(gw, r"listen port changed from %d to %d: nothing listens "
                 r"on %d any more$" % (old, new, old))
        socks = udp_sockets(pair.nsa)
        assert old not in socks, socks
        assert "uniguard" in socks.get(new, set()), socks
        assert port_refuses(pair.nsb, OUTER4[0], old)

        # The client, told the new port, goes on.
        client.set("peer", gw.public_key, "endpoint",
                   uglab.endpoint(OUTER4[0], new))
        replies = pinger.replies()
        pinger.wait_replies(replies)
        pair.nsa.ping_ok(INNER4[1])
        assert client.peer(gw.public_key).endpoint == \
            uglab.endpoint(OUTER4[0], new)

        # A port another socket holds (IPv4 only: the dual-stack socket
        # still clashes) is refused, and nothing of the change applies.
        taken = free_port(pair.nsa, new + 1)
        holder = pair.nsa.python("udp-holder", ["-c", (
            "import socket,time\n"
            "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "s.bind(('0.0.0.0',%d))\n"
            "print('ready',flush=True)\n"
            "time.sleep(120)\n") % taken])
        uglab.wait_until(lambda: "ready" in holder.log(),
                         what="the port holder")
        _, stranger = uglab.keypair()
        before = gw.showconf()
        res = gw.set("listen-port", taken, "peer", stranger, "allowed-ips",
                     "10.9.0.60/32", check=False)
        assert res.returncode != 0
        assert "in use" in res.stderr, res.stderr
        assert gw.dump().listen_port == new
        assert gw.showconf() == before
        wait_log(gw, r"configuration change rejected: .*cannot listen on "
                 r"UDP port %d: Address already in use; still on port %d$"
                 % (taken, new))
        socks = udp_sockets(pair.nsa)
        assert "uniguard" in socks.get(new, set()), socks
        assert "uniguard" not in socks.get(taken, set()), socks
        replies = pinger.replies()
        pinger.wait_replies(replies)
        holder.stop()
    finally:
        pinger.stop()
    assert_stops_cleanly(gw)


# 4. The TUN device taken away


@pytest.mark.parametrize("datapath", ["threads", "nothreads"])
def test_tun_device_deleted_while_traffic_runs(lab, monkeypatch, datapath):
    """`ip link del` under the daemon: it logs that the device went away,
    stops as on SIGTERM (UAPI socket and UDP socket gone), and exits with
    status 0, promptly and without spinning."""
    if datapath == "nothreads":
        monkeypatch.setenv("UNIGUARD_DATAPATH", "nothreads")
    pair, gw, client = gateway_pair(lab)
    monkeypatch.delenv("UNIGUARD_DATAPATH", raising=False)
    pid = gw.process.pid
    with open("/proc/%d/comm" % pid) as f:
        assert f.read().strip() == "uniguard"
    pinger = Pinger(pair.nsb, INNER4[0], interval="0.01", size=1000)
    back = Pinger(pair.nsa, INNER4[1], interval="0.01", size=1000)
    try:
        pinger.wait_replies(20)
        back.wait_replies(20)
        cpu = [cpu_seconds(pid)]
        start = time.monotonic()
        pair.nsa.ip("link", "del", gw.ifname)

        def ended():
            c = cpu_seconds(pid)
            if c is not None:
                cpu.append(c)
            return not gw.process.alive()
        uglab.wait_until(ended, timeout=15, interval=0.02,
                         what="uniguard to stop")
        elapsed = time.monotonic() - start
    finally:
        pinger.stop()
        back.stop()
    log = gw.process.log()
    assert gw.process.popen.returncode == GONE_STATUS, log[-3000:]
    lines = re.findall(r"info: the tun device %s went away \(.+\): "
                       r"stopping$" % re.escape(gw.ifname), log, re.M)
    assert len(lines) == 1, log[-3000:]
    assert log.rstrip().endswith("info: stopped"), log[-3000:]
    assert_clean_log(log)
    assert not os.path.exists(gw.sock)
    assert gw.port not in udp_sockets(pair.nsa)
    assert not [p for p in pair.nsa.pids()
                if os.path.exists("/proc/%d" % p)]
    # Not spinning on the dead descriptor: the CPU time used while it
    # stopped stays below the time it took (two threads at 100 % would
    # use twice that), with a floor for very quick stops.
    used = cpu[-1] - cpu[0]
    assert used <= max(0.5, 0.9 * elapsed), (used, elapsed)


# 5. SIGTERM in the middle of traffic


@pytest.mark.parametrize("datapath", ["threads", "nothreads"])
def test_sigterm_during_traffic_exits_cleanly(lab, monkeypatch, datapath):
    if datapath == "nothreads":
        monkeypatch.setenv("UNIGUARD_DATAPATH", "nothreads")
    pair, gw, client = gateway_pair(lab)
    monkeypatch.delenv("UNIGUARD_DATAPATH", raising=False)
    pinger = Pinger(pair.nsb, INNER4[0], interval="0.005", size=1200)
    back = Pinger(pair.nsa, INNER4[1], interval="0.005", size=1200)
    try:
        pinger.wait_replies(50)
        back.wait_replies(50)
        status = gw.stop(signal.SIGTERM)
    finally:
        pinger.stop()
        back.stop()
    log = gw.process.log()
    assert status == 0, log[-3000:]
    assert re.search(r"info: SIGTERM: stopping$", log, re.M), log[-3000:]
    assert log.rstrip().endswith("info: stopped"), log[-3000:]
    assert " error: " not in log, log[-3000:]
    assert_clean_log(log)
    assert not os.path.exists(gw.sock)
    assert pair.nsa.ip("link", "show", gw.ifname, check=False).returncode != 0
    assert gw.port not in udp_sockets(pair.nsa)
