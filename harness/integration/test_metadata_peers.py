# SPDX-License-Identifier: MIT
"""Peers from Compute Engine metadata (--peers-from gce-metadata), against
the metadata server stand-in (harness/ugtools/gce_metadata.py) on
169.254.169.254 in the gateway's namespace.

The gateway (uniguard, namespace a) has one peer in its file, the seed
client (wireguard-go, namespace b), which pings through the gateway
throughout and must keep its session; a second client (wireguard-go,
namespace c) is known to the gateway only through the metadata attribute.
Each test says how long a change took to get through.
"""

import json
import os
import re
import signal
import sys
import time

import pytest

import uglab
from ugtools import gce_metadata, procstat

HERE = os.path.dirname(os.path.abspath(__file__))
STANDIN = os.path.join(os.path.dirname(HERE), "ugtools", "gce_metadata.py")
ATTR = "uniguard-peers"
GW4, SEED4, NEW4 = "10.9.0.1", "10.9.0.2", "10.9.0.3"
# The long poll's timeout_sec and the longest backoff, shortened so that
# a misbehaving server's effects show within seconds.
WAIT_SEC = 2
BACKOFF_MAX_SEC = 2


def rss_bound_kib():
    with open(uglab.uniguard_binary(), "rb") as f:
        asan = b"__asan_init" in f.read()
    # ASan keeps freed blocks in quarantine: the bound is the soak's.
    return 8192 if asan else 1024


class Pinger:
    def __init__(self, ns, addr):
        self.proc = ns.popen("ping", ["ping", "-n", "-O", "-i", "0.1",
                                      "-W", "1", addr])

    def replies(self):
        return len(re.findall(r"bytes from", self.proc.log()))

    def more(self, timeout=10):
        n = self.replies()
        uglab.wait_until(lambda: self.replies() > n + 2, timeout=timeout,
                         what="the seed client's ping replies")

    def stop(self):
        self.proc.stop(signal.SIGINT)


class Gateway:
    """The gateway with the stand-in, the seed client and the new one."""

    def __init__(self, lab, monkeypatch, via_file=False, instance="",
                 project=None):
        self.lab = lab
        self.nsa = lab.netns("gw")
        self.nsb = lab.netns("seed")
        self.nsc = lab.netns("new")
        lab.veth(self.nsa, self.nsb, ["192.168.241.1/24"],
                 ["192.168.241.2/24"])
        lab.veth(self.nsa, self.nsc, ["192.168.242.1/24"],
                 ["192.168.242.2/24"])
        self.nsa.ip("addr", "add", gce_metadata.ADDR + "/32", "dev", "lo")
        self.md = gce_metadata.MetadataDir(os.path.join(lab.tmpdir, "md"))
        if instance is not None:
            self.md.set(ATTR, instance)
        if project is not None:
            self.md.set(ATTR, project, scope="project")
        self.server = self.nsa.python("metadata", [STANDIN, "--dir",
                                                   self.md.path])
        uglab.wait_until(lambda: "metadata server on" in self.server.log()
                         or not self.server.alive(),
                         what="the metadata stand-in")
        assert self.server.alive(), self.server.log()

        self.seed = lab.wireguard_go(self.nsb).configure()
        self.new = lab.wireguard_go(self.nsc).configure()
        key = uglab.genkey()
        self.private_key = key
        self.public_key = uglab.pubkey(key)
        text = ("[Interface]\nPrivateKey = %s\nListenPort = 51820\n%s\n"
                "[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n"
                % (key, "PeersFrom = gce-metadata" if via_file else "",
                   self.seed.public_key, SEED4))
        conf = lab.write_file("gw.conf", text)
        monkeypatch.setenv("UNIGUARD_METADATA_WAIT", str(WAIT_SEC))
        monkeypatch.setenv("UNIGUARD_METADATA_BACKOFF_MAX",
                           str(BACKOFF_MAX_SEC))
        args = [] if via_file else ["--peers-from", "gce-metadata"]
        self.gw = lab.uniguard(self.nsa, config=conf, args=args)
        self.gw.up(GW4 + "/24")
        for dev, outer, inner in ((self.seed, "192.168.241.1", SEED4),
                                  (self.new, "192.168.242.1", NEW4)):
            dev.add_peer(self.public_key, [GW4 + "/32"],
                         endpoint="%s:51820" % outer)
            dev.up(inner + "/24")
        self.nsb.ping_ok(GW4)
        self.pinger = Pinger(self.nsb, GW4)
        self.seed_handshake = self.gw.peer(self.seed.public_key) \
            .latest_handshake

    def file_peers_text(self):
        """The file as the unit's reload gives it to `wg syncconf`: its
        keys and peers, without PeersFrom."""
        return ("[Interface]\nPrivateKey = %s\nListenPort = 51820\n\n"
                "[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n"
                % (self.private_key, self.seed.public_key, SEED4))

    def reconnect_seed(self):
        """After a change that made the seed's peer anew: the client
        starts afresh, and its new session is the one finish() holds."""
        self.seed.set("peer", self.public_key, "remove")
        self.seed.add_peer(self.public_key, [GW4 + "/32"],
                           endpoint="192.168.241.1:51820")
        self.nsb.ping_ok(GW4)
        self.seed_handshake = self.gw.peer(self.seed.public_key) \
            .latest_handshake

    def peer_text(self, dev=None, addr=NEW4, extra=""):
        dev = dev or self.new
        return "[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\n%s" % (
            dev.public_key, addr, extra)

    def log(self):
        return self.gw.process.log()

    def wait_log(self, pattern, after=0, timeout=15):
        rx = re.compile(pattern, re.M)
        return uglab.wait_until(lambda: rx.search(self.log(), after),
                                timeout=timeout, interval=0.05,
                                what="a log line matching %r" % pattern)

    def set_and_wait(self, value, pattern, scope="instance"):
        """Sets the attribute; returns (seconds until the gateway's log
        says pattern, the match)."""
        mark = len(self.log())
        t0 = time.monotonic()
        self.md.set(ATTR, value, scope=scope)
        m = self.wait_log(pattern, after=mark)
        return time.monotonic() - t0, m

    def rss_kib(self):
        return int(procstat.status(self.gw.process.pid)["VmRSS"][0])

    def new_pings(self):
        return self.nsc.ping(GW4, count=1, wait=1).returncode == 0

    def forwarding(self):
        """The seed client's session goes on, and the gateway lives."""
        assert self.gw.process.alive(), self.log()[-3000:]
        self.pinger.more()
        self.nsb.ping_ok(GW4, timeout=5)

    def finish(self):
        self.forwarding()
        assert self.gw.peer(self.seed.public_key).latest_handshake == \
            self.seed_handshake, "the seed client's session was replaced"
        self.pinger.stop()
        mine = [r for r in self.md.requests()
                if (r["agent"] or "").startswith("uniguard/")]
        assert mine
        for r in mine:
            assert r["flavor"] == "Google", r
        assert self.gw.stop() == 0, self.log()[-3000:]
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in self.log(), self.log()[-4000:]


ADDED = r"metadata instance attribute %s: 1 peer, 1 added or changed, " \
        r"0 removed" % ATTR


def test_peer_added_through_metadata_gets_through_live(lab, monkeypatch):
    g = Gateway(lab, monkeypatch, via_file=True)
    # Not pinged before: a refused handshake would make wireguard-go wait
    # its 5 s retry timer, which the figure would then measure.
    assert g.new.public_key not in g.gw.dump().peers
    t0 = time.monotonic()
    took, _ = g.set_and_wait(g.peer_text(), ADDED)
    g.nsc.ping_ok(GW4, timeout=15)
    through = time.monotonic() - t0
    print("\nmetadata peer: applied %.2f s after the attribute changed, "
          "first ping reply after %.2f s" % (took, through))
    assert through < 10, "%.1f s for an added peer to get through" % through
    assert g.new.public_key in g.gw.dump().peers
    # The client asked the way the real server wants: the flavor header,
    # then long polls from the last ETag.
    reqs = g.md.requests()
    assert any("wait_for_change=true" in r["path"] and "last_etag=" in
               r["path"] and "timeout_sec=%d" % WAIT_SEC in r["path"]
               for r in reqs), reqs[-5:]

    # The same peers in another text: a new ETag, nothing changes, the
    # new client's session goes on.
    handshake = g.gw.peer(g.new.public_key).latest_handshake
    mark = len(g.log())
    g.md.set(ATTR, "# reordered\n" + g.peer_text())
    g.wait_log(r"metadata instance attribute %s: 1 peer, 0 added or "
               r"changed, 0 removed" % ATTR, after=mark)
    assert g.gw.peer(g.new.public_key).latest_handshake == handshake
    assert g.new_pings()

    # Removed: cut off at once.
    took, _ = g.set_and_wait("", r"peer %s removed: its sessions and "
                             r"queued packets dropped" %
                             re.escape(g.new.public_key[:8]))
    print("metadata peer: removed %.2f s after the attribute changed"
          % took)
    assert g.new.public_key not in g.gw.dump().peers
    assert not g.new_pings()
    g.finish()


def test_bad_attributes_are_refused_whole(lab, monkeypatch):
    """Each bad value is refused with its line and key; the running peers
    (the metadata client's too) stay, and memory stays flat."""
    g = Gateway(lab, monkeypatch)
    g.set_and_wait(g.peer_text(), ADDED)
    g.nsc.ping_ok(GW4, timeout=15)
    rss = g.rss_kib()
    bad = [
        ("<html>not a peers list</html>\n", 1, "-"),
        (g.peer_text() + "Colour = blue\n", 4, "Colour"),
        ("[Interface]\nPrivateKey = %s\n" % uglab.genkey(), 1,
         r"\[Interface\]"),
        (g.peer_text() + "PrivateKey = %s\n" % uglab.genkey(), 4,
         "PrivateKey"),
        (g.peer_text() + g.peer_text(g.seed, SEED4), 4, "PublicKey"),
        (g.peer_text(extra="Endpoint = client.example:51820\n"), 1,
         "Endpoint"),
        ("\x00\xff binary \x01\n" * 100, 1, "-"),
    ]
    for rounds in range(2):
        for text, line, key in bad:
            g.set_and_wait(text, r"metadata instance attribute %s:%d: %s: "
                           r".*; refused whole, the running peers stay"
                           % (ATTR, line, key))
            assert g.new.public_key in g.gw.dump().peers
        assert g.new_pings()
        g.forwarding()
    grown = g.rss_kib() - rss
    print("\nRSS after %d refused attributes: %+d KiB" % (2 * len(bad),
                                                          grown))
    assert grown < rss_bound_kib(), "RSS grew by %d KiB" % grown
    # A good value after the bad ones is taken.
    g.set_and_wait("", r"metadata instance attribute %s: 0 peers, 0 added "
                   r"or changed, 1 removed" % ATTR)
    g.finish()


def test_misbehaving_server_leaves_forwarding_alone(lab, monkeypatch):
    """A body over 256 KiB, garbage, a connection dropped half-way, a
    server that hangs: each is logged and retried with backoff while both
    clients go on; then the server behaves and the next change is
    taken."""
    g = Gateway(lab, monkeypatch)
    g.set_and_wait(g.peer_text(), ADDED)
    g.nsc.ping_ok(GW4, timeout=15)
    rss = g.rss_kib()

    big = "# padding\n" * (300 * 1024 // 10)
    mark = len(g.log())
    g.md.set(ATTR, g.peer_text() + big)
    g.wait_log(r"the body is over the size limit; again in \d+ s",
               after=mark)
    g.forwarding()
    assert g.new_pings()
    g.md.set(ATTR, g.peer_text())

    for mode, said in (("garbage", r"not an HTTP/1\.x status line"),
                       ("drop", r"the connection closed in the middle of "
                        r"the response"),
                       ("hang", r"no whole answer in time")):
        mark = len(g.log())
        t0 = time.monotonic()
        g.md.mode(mode)
        g.wait_log(r"metadata server 169\.254\.169\.254:80, instance "
                   r"attribute %s: %s; again in \d+ s" % (ATTR, said),
                   after=mark, timeout=WAIT_SEC + 15)
        # Retried, not given up: a second failure follows the first.
        g.wait_log(r"(%s; again in \d+ s[\s\S]*){2}" % said, after=mark,
                   timeout=WAIT_SEC + 15)
        print("\n%s: noticed and retried within %.1f s"
              % (mode, time.monotonic() - t0))
        g.forwarding()
        assert g.new_pings()
        g.md.mode("normal")
    grown = g.rss_kib() - rss
    print("RSS after the misbehaving server: %+d KiB" % grown)
    assert grown < rss_bound_kib(), "RSS grew by %d KiB" % grown

    took, _ = g.set_and_wait("", r"peer %s removed" %
                             re.escape(g.new.public_key[:8]))
    print("recovered: the next change taken after %.2f s" % took)
    assert not g.new_pings()
    g.finish()


def test_project_attribute_when_the_instance_has_none(lab, monkeypatch):
    """The project's attribute counts until the instance has its own; the
    stand-in refuses a request without the flavor header, as the real
    server does."""
    g = Gateway(lab, monkeypatch, instance=None, project="")
    res = g.nsa.exec(sys.executable, "-c", (
        "import urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen('http://169.254.169.254/computeMetadata"
        "/v1/project/attributes/%s', timeout=5)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n") % ATTR)
    assert res.stdout.strip() == "403"
    took, _ = g.set_and_wait(g.peer_text(), r"metadata project attribute "
                             r"%s: 1 peer, 1 added" % ATTR, scope="project")
    print("\nproject attribute: applied after %.2f s" % took)
    g.nsc.ping_ok(GW4, timeout=15)
    # The instance's own (empty) attribute wins.
    took, _ = g.set_and_wait("", r"metadata instance attribute %s: 0 peers, "
                             r"0 added or changed, 1 removed" % ATTR)
    print("instance attribute over the project's: after %.2f s" % took)
    assert not g.new_pings()
    g.finish()


def test_reload_keeps_the_metadata_peers(lab, monkeypatch):
    """`systemctl reload` runs `wg syncconf` with the file's peers only:
    the peers metadata added stay, sessions and all; so through
    `wg set ... remove` and a replace_peers set (`wg setconf`). The
    attribute alone removes them."""
    g = Gateway(lab, monkeypatch)
    g.set_and_wait(g.peer_text(), ADDED)
    g.nsc.ping_ok(GW4, timeout=15)
    handshake = g.gw.peer(g.new.public_key).latest_handshake
    label = re.escape(g.new.public_key[:8])
    kept = r"metadata attribute %s: peer %s kept: " % (ATTR, label)

    # The unit's reload.
    mark = len(g.log())
    conf = lab.write_file("reload.conf", g.file_peers_text())
    g.gw.wg("syncconf", g.gw.ifname, conf)
    peers = g.gw.dump().peers
    assert g.new.public_key in peers and g.seed.public_key in peers
    g.wait_log(kept, after=mark)
    assert g.gw.peer(g.new.public_key).latest_handshake == handshake, \
        "the metadata client's session was replaced by the reload"
    assert g.new_pings()
    assert not re.search(r"peer %s removed" % label, g.log()[mark:])

    # By hand.
    mark = len(g.log())
    g.gw.set("peer", g.new.public_key, "remove")
    g.wait_log(kept, after=mark)
    assert g.gw.peer(g.new.public_key).latest_handshake == handshake
    assert g.new_pings()

    # replace_peers with the file's peers only: every peer named is made
    # anew, the metadata's too, as it was.
    mark = len(g.log())
    answer = g.gw.uapi("set=1\nreplace_peers=true\npublic_key=%s\n"
                       "allowed_ip=%s/32\n\n"
                       % (uglab.key_hex(g.seed.public_key), SEED4))
    assert "errno=0\n" in answer, answer
    g.wait_log(kept, after=mark)
    assert g.gw.dump().peers[g.new.public_key].allowed_ips == \
        [NEW4 + "/32"]
    g.reconnect_seed()

    # The attribute removes it (made anew, it has no session yet).
    g.set_and_wait("", r"peer %s removed: the attribute no longer names "
                   r"it" % label)
    assert g.new.public_key not in g.gw.dump().peers
    g.finish()


def test_a_peer_added_by_hand_stays_the_operators(lab, monkeypatch):
    """A peer added over the UAPI socket that the attribute then names is
    updated as the attribute says, but the attribute dropping it leaves
    it: metadata removes only the peers it added."""
    g = Gateway(lab, monkeypatch)
    label = re.escape(g.new.public_key[:8])
    g.gw.set("peer", g.new.public_key, "allowed-ips", NEW4 + "/32")
    g.nsc.ping_ok(GW4, timeout=15)
    handshake = g.gw.peer(g.new.public_key).latest_handshake

    mark = len(g.log())
    g.set_and_wait(g.peer_text(addr=NEW4 + "/32, 10.9.0.33"), ADDED)
    assert sorted(g.gw.dump().peers[g.new.public_key].allowed_ips) == \
        sorted([NEW4 + "/32", "10.9.0.33/32"])
    assert g.gw.peer(g.new.public_key).latest_handshake == handshake
    changed_at = mark

    mark = len(g.log())
    g.set_and_wait("", r"metadata instance attribute %s: 0 peers" % ATTR)
    assert g.new.public_key in g.gw.dump().peers, \
        "the attribute took away a peer added by hand"
    assert g.gw.peer(g.new.public_key).latest_handshake == handshake
    assert g.new_pings()
    g.wait_log(r"peer %s left in place: the attribute no longer names it, "
               r"but metadata did not add it" % label, after=mark)
    g.wait_log(r"metadata instance attribute %s: 0 peers, 0 added or "
               r"changed, 0 removed" % ATTR, after=mark)
    g.wait_log(r"peer %s changed as the attribute says; metadata did not "
               r"add it" % label, after=changed_at)

    # Not metadata's: a removal by hand removes it.
    g.set_and_wait(g.peer_text(), r"metadata instance attribute %s: 1 "
                   r"peer, 1 added or changed" % ATTR)
    g.gw.set("peer", g.new.public_key, "remove")
    assert g.new.public_key not in g.gw.dump().peers
    g.finish()


def test_bad_source_spellings_are_refused_before_start(lab):
    """A source that is not gce-metadata[:ATTRIBUTE], on the command line
    or in the file, stops the daemon before it opens anything."""
    import subprocess
    res = subprocess.run([uglab.uniguard_binary(), "-f", "--peers-from",
                          "gce-metadata:a/b", "ugtbad0"],
                         capture_output=True, text=True, timeout=10)
    assert res.returncode == 2
    assert "--peers-from: 'gce-metadata:a/b' is not " \
        "gce-metadata[:ATTRIBUTE]" in res.stderr
    conf = lab.write_file("bad.conf", "[Interface]\nPeersFrom = "
                          "http://example/peers\n")
    res = subprocess.run([uglab.uniguard_binary(), "-f", "-c", conf,
                          "ugtbad0"], capture_output=True, text=True,
                         timeout=10)
    assert res.returncode == 1
    assert "PeersFrom: not gce-metadata[:ATTRIBUTE]" in res.stderr
