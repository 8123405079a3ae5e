# SPDX-License-Identifier: MIT
"""Captures, key logs and replay.

The replay regression suite: each recording under harness/data/pcap
(NAME.pcap, with uniguard's configuration NAME.conf) replayed gives
NAME.expected.pcap byte for byte, twice in a row, and reproduces every
datagram and packet uniguard emitted while it was recorded. A change of
behaviour shows as "record N: FIELD: expected X, got Y"; when it is meant,
`python3 harness/integration/pcap_record.py --expect` writes the new
expected files (see harness/data/pcap/README.md).

Live: uniguard's capture with its key log is decrypted by tshark (the
handshake's encrypted fields and the ICMP inside), and a fresh recording
replays to what uniguard did.
"""

import filecmp
import glob
import os
import re
import struct
import subprocess

import pytest

import pcap_record
import uglab
import ugpcap
from uglab import INNER4, INNER6
from ugtools import wgquick

DATA = pcap_record.DATA
NAMES = sorted(os.path.basename(p)[:-len(".conf")]
               for p in glob.glob(os.path.join(DATA, "*.conf")))
REGENERATE = "python3 harness/integration/pcap_record.py --expect"


def replay(args, **kw):
    return subprocess.run([uglab.uniguard_binary(), "replay"] + list(args),
                          capture_output=True, text=True, timeout=60, **kw)


def test_recordings_present():
    assert set(NAMES) >= {"responder", "initiator6", "rekey", "cookie"}
    for name in NAMES:
        for ext in (".pcap", ".expected.pcap"):
            assert os.path.exists(os.path.join(DATA, name + ext))


@pytest.mark.parametrize("name", NAMES)
def test_replay_matches_expected(tmp_path, name):
    out = str(tmp_path / "out.pcap")
    res = pcap_record.replay(name, out=out)
    assert res.returncode == 0, res.stderr
    expected = os.path.join(DATA, name + ".expected.pcap")
    if not filecmp.cmp(out, expected, shallow=False):
        lines = ugpcap.diff(ugpcap.read(expected), ugpcap.read(out))
        pytest.fail("replaying %s no longer gives %s.expected.pcap:\n  %s\n"
                    "(if the change is meant: %s %s)"
                    % (name, name, "\n  ".join(lines), REGENERATE, name))


@pytest.mark.parametrize("name", NAMES)
def test_replay_reproduces_the_recording(name):
    """Every datagram and packet uniguard emitted while recorded, in the
    same order, byte for byte (times aside)."""
    lines = pcap_record.same_outputs(os.path.join(DATA, name + ".pcap"),
                                     os.path.join(DATA, name + ".expected.pcap"))
    assert not lines, "\n".join(lines)


def test_replay_is_deterministic(tmp_path):
    for name in NAMES:
        a, b = str(tmp_path / "a.pcap"), str(tmp_path / "b.pcap")
        for out in (a, b):
            assert pcap_record.replay(name, out=out).returncode == 0
        assert filecmp.cmp(a, b, shallow=False), name


def test_replay_uses_the_seed(tmp_path):
    """Another seed, another ephemeral key in uniguard's response, and the
    session keys with it: the first output already differs."""
    name = "responder"
    out = str(tmp_path / "other.pcap")
    res = replay(["-c", os.path.join(DATA, name + ".conf"), "--seed",
                  "another", os.path.join(DATA, name + ".pcap"), out])
    assert res.returncode == 0, res.stderr
    want = ugpcap.outputs(ugpcap.read(os.path.join(DATA, name + ".expected.pcap")))
    got = ugpcap.outputs(ugpcap.read(out))
    assert want[0].payload[:1] == got[0].payload[:1] == b"\x02"
    assert want[0].payload[12:44] != got[0].payload[12:44]


def test_replay_key_log_decrypts(tmp_path):
    """The replay's own key log opens its output in tshark."""
    if not uglab.which("tshark"):
        pytest.fail("missing tool: tshark")
    name = "responder"
    out, keys = str(tmp_path / "out.pcap"), str(tmp_path / "keys")
    res = replay(["-c", os.path.join(DATA, name + ".conf"), "--keylog", keys,
                  os.path.join(DATA, name + ".pcap"), out])
    assert res.returncode == 0, res.stderr
    frames = tshark(out, keys, ["icmp.type"])
    assert any(f["icmp.type"] for f in frames if f["sll.ifindex"] == "1")


def pcap_with_linktype(path, linktype, records=()):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                            linktype))
        for data in records:
            f.write(struct.pack("<IIII", 1, 0, len(data), len(data)) + data)


def test_replay_refuses_other_captures(tmp_path):
    eth = str(tmp_path / "eth.pcap")
    pcap_with_linktype(eth, 1)
    res = replay([eth, str(tmp_path / "out.pcap")])
    assert res.returncode == 1
    assert "LINUX_SLL2" in res.stderr
    junk = str(tmp_path / "junk.pcap")
    with open(junk, "w") as f:
        f.write("not a capture\n")
    res = replay([junk, str(tmp_path / "out.pcap")])
    assert res.returncode == 1 and junk in res.stderr
    res = replay(["only-one-file"])
    assert res.returncode == 2


def test_replay_skips_foreign_records(tmp_path):
    """A record of another format is named and skipped; the rest goes on."""
    src = os.path.join(DATA, "responder.pcap")
    with open(src, "rb") as f:
        data = bytearray(f.read())
    # The second record's interface index (bytes 4..8 of its SLL2 header).
    off = 24
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    second = off + 16 + caplen
    data[second + 16 + 4:second + 16 + 8] = struct.pack(">I", 7)
    bad = str(tmp_path / "bad.pcap")
    with open(bad, "wb") as f:
        f.write(data)
    res = replay(["-c", os.path.join(DATA, "responder.conf"), bad,
                  str(tmp_path / "out.pcap")])
    assert res.returncode == 0, res.stderr
    assert "record 2: interface index" in res.stderr
    assert "1 skipped" in res.stderr


# Live captures.

def tshark(path, keylog, fields):
    """tshark's fields for every frame of a capture, as dicts."""
    names = ["frame.number", "sll.ifindex", "sll.pkttype"] + list(fields)
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=\t",
            "-E", "occurrence=a", "-E", "aggregator=,"]
    if keylog:
        args += ["-o", "wg.keylog_file:" + keylog]
    for n in names:
        args += ["-e", n]
    res = uglab.run(args)
    return [dict(zip(names, line.split("\t")))
            for line in res.stdout.splitlines()]


def gateway_pair(lab, args, psk=None):
    """uniguard (with args) and wireguard-go, each the other's peer."""
    nsa, nsb = lab.netns("ug"), lab.netns("wgo")
    lab.veth(nsa, nsb, [uglab.OUTER4[0] + "/24"], [uglab.OUTER4[1] + "/24"])
    ug = lab.uniguard(nsa, args=args)
    ug.configure()
    wgo = lab.wireguard_go(nsb).configure()
    ug.add_peer(wgo, [INNER4[1] + "/32", INNER6[1] + "/128"],
                endpoint=uglab.endpoint(uglab.OUTER4[1], wgo.port), psk=psk)
    wgo.add_peer(ug, [INNER4[0] + "/32", INNER6[0] + "/128"],
                 endpoint=uglab.endpoint(uglab.OUTER4[0], ug.port), psk=psk)
    ug.up(INNER4[0] + "/24", INNER6[0] + "/64")
    wgo.up(INNER4[1] + "/24", INNER6[1] + "/64")
    return nsa, nsb, ug, wgo


@pytest.mark.parametrize("psk", [False, True], ids=["plain", "psk"])
def test_tshark_decrypts_capture_with_key_log(lab, psk):
    if not uglab.which("tshark"):
        pytest.fail("missing tool: tshark")
    cap = os.path.join(lab.tmpdir, "cap.pcap")
    keys = os.path.join(lab.tmpdir, "keys.log")
    nsa, nsb, ug, wgo = gateway_pair(
        lab, ["--capture", cap, "--keylog", keys],
        psk=uglab.genpsk() if psk else None)
    nsa.ping_ok(INNER4[1])                  # uniguard initiates
    nsb.ping(INNER6[0], count=2, interval=0.2, check=True)
    assert ug.stop() == 0

    assert os.stat(keys).st_mode & 0o777 == 0o600
    assert os.stat(cap).st_mode & 0o777 == 0o600
    assert re.search(r"key log .* whoever reads it can decrypt",
                     ug.process.log())
    with open(keys) as f:
        kinds = [line.split(" = ")[0] for line in f.read().splitlines()]
    assert kinds[:2] == ["LOCAL_STATIC_PRIVATE_KEY", "REMOTE_STATIC_PUBLIC_KEY"]
    assert "LOCAL_EPHEMERAL_PRIVATE_KEY" in kinds
    assert ("PRESHARED_KEY" in kinds) == psk

    frames = tshark(cap, keys, ["wg.type", "wg.static", "wg.timestamp.value",
                                "wg.handshake_ok", "icmp.type",
                                "icmpv6.type"])
    outer = [f for f in frames if f["sll.ifindex"] == "1"]
    init = [f for f in outer if f["wg.type"] == "1"]
    assert init and init[0]["wg.static"] == ug.public_key, init
    assert init[0]["wg.timestamp.value"], init
    resp = [f for f in outer if f["wg.type"] == "2"]
    assert resp and resp[0]["wg.handshake_ok"] == "1", resp
    # The ICMP inside the encrypted data, both ways, both families.
    types = {(f["sll.pkttype"], f["icmp.type"] + f["icmpv6.type"])
             for f in outer if f["wg.type"] == "4"}
    assert ("4", "8") in types and ("0", "0") in types, types
    assert ("0", "128") in types and ("4", "129") in types, types
    # Without the key log nothing inside shows.
    blind = tshark(cap, None, ["wg.static", "icmp.type"])
    assert not any(f["wg.static"] or f["icmp.type"] for f in blind
                   if f["sll.ifindex"] == "1")


def test_fresh_recording_replays_to_what_uniguard_did(lab):
    """Recorded with --insecure-seed and a configuration file, replayed
    with the same: the same datagrams and packets, in the same order."""
    gw, cl = lab.netns("gw"), lab.netns("cl")
    lab.veth(gw, cl, ["203.0.113.1/24"], ["203.0.113.2/24"])
    ckey, cpub = uglab.keypair()
    gkey, gpub = uglab.keypair()
    conf = lab.write_file("gw.conf", wgquick.render(
        [("PrivateKey", gkey), ("ListenPort", 51820),
         ("Address", "10.0.0.1/24")],
        [[("PublicKey", cpub), ("AllowedIPs", "10.0.0.2/32"),
          ("Endpoint", "203.0.113.2:41000")]]))
    cap = os.path.join(lab.tmpdir, "rec.pcap")
    dev = lab.uniguard(gw, config=conf, args=["--capture", cap,
                                              "--insecure-seed", "fresh"])
    client = lab.wireguard_go(cl).configure(private_key=ckey, port=41000)
    client.add_peer(gpub, ["10.0.0.1/32"], endpoint="203.0.113.1:51820")
    client.up("10.0.0.2/24")
    gw.ping_ok("10.0.0.2")
    cl.ping("10.0.0.1", count=3, interval=0.2, check=True)
    assert dev.stop() == 0
    out = os.path.join(lab.tmpdir, "out.pcap")
    res = replay(["-c", conf, "--seed", "fresh", cap, out])
    assert res.returncode == 0, res.stderr
    assert "handshakes 1/1" in res.stderr, res.stderr
    lines = pcap_record.same_outputs(cap, out)
    assert not lines, "\n".join(lines)
    recorded = ugpcap.read(cap)
    assert [r.label for r in ugpcap.inputs(recorded)] == \
        [r.label for r in ugpcap.inputs(ugpcap.read(out))]
