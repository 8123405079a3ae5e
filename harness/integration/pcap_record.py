# SPDX-License-Identifier: MIT
"""Records the replay suite's captures, and regenerates what replaying
them must give.

    sudo python3 harness/integration/pcap_record.py [NAME...]
        records each scenario (all by default) between a seeded uniguard
        and wireguard-go in network namespaces, into
        harness/data/pcap/NAME.pcap with uniguard's configuration
        NAME.conf, then replays it into NAME.expected.pcap

    python3 harness/integration/pcap_record.py --expect [NAME...]
        only replays the committed recordings again into
        NAME.expected.pcap (no root needed): run it when a change of
        behaviour is meant, and commit the new files with the change

UNIGUARD names the binary (default build/uniguard). Recording takes about
two and a half minutes, most of it the rekey scenario waiting for the
session to age. After recording, the script checks that the replay gives
every datagram and packet uniguard emitted in the recording, in order.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))    # ugtools, which uglab uses

import uglab  # noqa: E402
import ugpcap  # noqa: E402
from ugtools import wgquick  # noqa: E402

DATA = os.path.join(uglab.REPO, "harness", "data", "pcap")
SEED = "uniguard"           # the replay's default seed
GW4, CL4 = "203.0.113.1", "203.0.113.2"
GW6, CL6 = "2001:db8:1::1", "2001:db8:1::2"
PORT = 51820


def replay(name, out=None, binary=None):
    """Replays NAME.pcap with NAME.conf into out (NAME.expected.pcap);
    returns the CompletedProcess."""
    binary = binary or uglab.uniguard_binary()
    out = out or os.path.join(DATA, name + ".expected.pcap")
    return subprocess.run(
        [binary, "replay", "-c", os.path.join(DATA, name + ".conf"),
         "--seed", SEED, os.path.join(DATA, name + ".pcap"), out],
        capture_output=True, text=True, timeout=60)


def same_outputs(recorded, replayed):
    """Differences between what uniguard emitted while recording and what
    the replay emitted, times left aside (a live timer fires a little
    after its deadline, a replayed one exactly at it)."""
    a = ugpcap.outputs(ugpcap.read(recorded))
    b = ugpcap.outputs(ugpcap.read(replayed))
    for r in a + b:
        r.ts = 0
    return ugpcap.diff(a, b)


class Scenario:
    """A gateway namespace running uniguard (seeded, capturing, from a
    configuration file) and a client namespace running wireguard-go."""

    def __init__(self, lab, name, outer6=False, gw_knows_client=False,
                 keepalive=None):
        self.lab = lab
        self.name = name
        self.gw = lab.netns("gw")
        self.cl = lab.netns("cl")
        lab.veth(self.gw, self.cl, [GW4 + "/24", GW6 + "/64"],
                 [CL4 + "/24", CL6 + "/64"])
        self.client_key, self.client_pub = uglab.keypair()
        gw_key, self.gw_pub = uglab.keypair()
        client_port = 41000
        peer = [("PublicKey", self.client_pub),
                ("AllowedIPs", "10.0.0.2/32, fd00::2/128")]
        if gw_knows_client:
            peer.append(("Endpoint", uglab.endpoint(
                CL6 if outer6 else CL4, client_port)))
        if keepalive:
            peer.append(("PersistentKeepalive", keepalive))
        self.conf = os.path.join(DATA, name + ".conf")
        with open(self.conf, "w") as f:
            f.write("# Recorded by harness/integration/pcap_record.py: the\n"
                    "# gateway's side of scenario %s (test keys only).\n"
                    % name + wgquick.render(
                        [("PrivateKey", gw_key), ("ListenPort", PORT),
                         ("Address", "10.0.0.1/24"),
                         ("Address", "fd00::1/64")], [peer]))
        self.pcap = os.path.join(DATA, name + ".pcap")
        self.dev = lab.uniguard(self.gw, config=self.conf, args=[
            "--capture", self.pcap, "--insecure-seed", SEED])
        self.client = lab.wireguard_go(self.cl).configure(
            private_key=self.client_key, port=client_port)
        self.client.add_peer(self.gw_pub, ["10.0.0.1/32", "fd00::1/128"],
                             endpoint=uglab.endpoint(GW6 if outer6 else GW4,
                                                     PORT))
        self.client.up("10.0.0.2/24", "fd00::2/64")

    def finish(self):
        self.dev.stop()
        self.client.stop()


def record_responder(lab):
    """The client starts the handshake over IPv4; pings both ways, IPv4
    and IPv6 inside; then the client moves to another port (a roam) and
    uniguard follows it."""
    s = Scenario(lab, "responder")
    s.cl.ping_ok("10.0.0.1")
    s.cl.ping("10.0.0.1", count=2, interval=0.2, check=True)
    s.cl.ping("fd00::1", count=2, interval=0.2, check=True)
    s.gw.ping("10.0.0.2", count=2, interval=0.2, check=True)
    s.client.set("listen-port", 41001)
    s.cl.ping("10.0.0.1", count=2, interval=0.2, check=True)
    peer = s.dev.peer(s.client_pub)
    assert peer.endpoint.endswith(":41001"), peer.endpoint
    s.finish()


def record_initiator6(lab):
    """uniguard starts the handshake, over IPv6; pings both ways; then a
    quiet spell with persistent keepalives."""
    s = Scenario(lab, "initiator6", outer6=True, gw_knows_client=True,
                 keepalive=1)
    s.gw.ping_ok("10.0.0.2")
    s.gw.ping("fd00::2", count=2, interval=0.2, check=True)
    s.cl.ping("10.0.0.1", count=2, interval=0.2, check=True)
    time.sleep(2.5)
    s.finish()


def record_rekey(lab):
    """uniguard starts the handshake and sends a ping every seven seconds
    (under the ten of a keepalive); past REKEY_AFTER_TIME (120 s) its next
    packet starts a new handshake, and data flows on the new session."""
    s = Scenario(lab, "rekey", gw_knows_client=True)
    s.gw.ping_ok("10.0.0.2")
    s.gw.ping("10.0.0.2", count=19, interval=7, check=True, timeout=180)
    assert s.dev.stats()["handshakes_initiated"] >= 2
    s.finish()


FLOOD = """
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[3])):
    # An initiation's type and length, nothing valid inside.
    s.sendto(b"\\x01\\0\\0\\0" + os.urandom(144), (sys.argv[1], int(sys.argv[2])))
"""


def record_cookie(lab):
    """A burst of bogus initiations (the load that the core counts: 512
    handshake messages in a second) puts uniguard under load; the client's
    initiation, valid but without a cookie, gets a cookie reply; five
    seconds later the client tries again with the cookie (mac2), after the
    load, and the handshake completes."""
    s = Scenario(lab, "cookie")
    script = lab.write_file("flood.py", FLOOD)
    s.cl.exec(sys.executable, script, GW4, PORT, 520)
    s.cl.ping_ok("10.0.0.1", timeout=20)
    s.cl.ping("10.0.0.1", count=1, check=True)
    stats = s.dev.stats()
    assert stats["cookies_sent"] >= 1, stats
    assert stats["handshakes_completed"] >= 1, stats
    s.finish()


SCENARIOS = {
    "responder": record_responder,
    "initiator6": record_initiator6,
    "rekey": record_rekey,
    "cookie": record_cookie,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--expect", action="store_true",
                    help="only replay the committed recordings again")
    ap.add_argument("names", nargs="*", help="scenarios (default: all)")
    args = ap.parse_args()
    names = args.names or list(SCENARIOS)
    for name in names:
        if name not in SCENARIOS:
            ap.error("unknown scenario %s (%s)" % (name, ", ".join(SCENARIOS)))
    status = 0
    for name in names:
        if not args.expect:
            if os.geteuid() != 0:
                ap.error("recording needs root (or use --expect)")
            uglab.clean_leftovers()
            tmp = tempfile.mkdtemp(prefix="ug-record-")
            lab = uglab.Lab(tmp)
            try:
                SCENARIOS[name](lab)
            finally:
                lab.close()
                shutil.rmtree(tmp, ignore_errors=True)
        res = replay(name)
        for ext in (".pcap", ".expected.pcap"):
            path = os.path.join(DATA, name + ext)
            if os.path.exists(path):
                os.chmod(path, 0o644)   # test data, not a user's capture
        if res.returncode != 0:
            print("%s: replay failed:\n%s" % (name, res.stderr))
            status = 1
            continue
        expected = os.path.join(DATA, name + ".expected.pcap")
        lines = same_outputs(os.path.join(DATA, name + ".pcap"), expected)
        size = os.path.getsize(os.path.join(DATA, name + ".pcap"))
        print("%s: %d bytes recorded; %s" % (name, size, res.stderr.strip()))
        if lines:
            print("%s: the replay differs from the recording:\n  %s"
                  % (name, "\n  ".join(lines)))
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
