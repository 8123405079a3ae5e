# SPDX-License-Identifier: MIT
"""The helpers the suite shares with the lab (harness/ugtools), on their
own: no root, no namespaces, no daemon."""

import base64
import os
import sys
import time

import pytest

from ugtools import keys, procstat, tcpxfer_peer, wgquick
from ugtools.run import Failure, run
from ugtools.wait import poll, wait_until

SEED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "data", "seed")


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    """Neither root nor the daemon: the suite's session fixture does not
    apply here."""
    yield


def test_run_returns_output_and_names_failures():
    assert run([sys.executable, "-c", "print(6 * 7)"]).stdout == "42\n"
    assert run("sh -c 'exit 3'", check=False).returncode == 3
    with pytest.raises(Failure, match=r"exit 3: one / two / three$"):
        run(["sh", "-c", "printf 'one\\ntwo\\nthree\\nfour\\n' >&2; exit 3"])
    with pytest.raises(Failure, match="timed out after 1s"):
        run(["sleep", "5"], timeout=1)
    with pytest.raises(Failure, match="cannot run /nonexistent"):
        run(["/nonexistent"])
    assert run(["sh", "-c", "echo $UGT_X"], env={"UGT_X": "y"}).stdout == \
        "y\n"
    seen = []
    run(["true", "a b"], echo=seen.append)
    assert seen == ["$ true 'a b'"]


def test_poll_and_wait_until():
    calls = []

    def third():
        calls.append(1)
        return len(calls) if len(calls) >= 3 else None
    assert poll(third, 5, 0.01) == 3
    t = time.monotonic()
    assert poll(lambda: None, 0.2, 0.05) is None
    assert time.monotonic() - t >= 0.2
    with pytest.raises(AssertionError, match="waiting for nothing"):
        wait_until(lambda: 0, timeout=0.1, what="nothing")


def test_keys_are_wireguard_keys_and_remembered():
    if not run(["sh", "-c", "command -v wg"], check=False).stdout:
        pytest.skip("wireguard-tools (wg) not installed")
    priv, pub = keys.keypair()
    psk = keys.genpsk()
    assert priv in keys.SECRETS and psk in keys.SECRETS
    assert pub not in keys.SECRETS
    for k in (priv, pub, psk):
        assert keys.check_key(k, "k") == k
        assert len(keys.key_hex(k)) == 64
    assert keys.key_hex(priv) == base64.b64decode(priv).hex()
    # The gateway's key in the seed, and its public half as the seed's
    # client file names it.
    with open(os.path.join(SEED, "nanoswg.conf")) as f:
        gw = wgquick.get(wgquick.interface(f.read()), "PrivateKey")
    with open(os.path.join(SEED, "utun2.conf")) as f:
        peer = [p for s, p in wgquick.sections(f.read()) if s == "peer"][0]
    assert keys.pubkey(gw) == wgquick.get(peer, "PublicKey")
    with pytest.raises(Failure, match="server key: not a WireGuard key"):
        keys.check_key("c2hvcnQ=", "server key")


def test_wgquick_reads_what_it_writes():
    iface = [("PrivateKey", "K"), ("Address", "10.0.0.1/24"),
             ("Address", "fd00::1/64")]
    peers = [[("PublicKey", "P1"), ("AllowedIPs", "10.0.0.2/32")],
             [("PublicKey", "P2"), ("Endpoint", "192.0.2.1:51820")]]
    text = wgquick.render(iface, peers)
    assert text == ("[Interface]\nPrivateKey = K\nAddress = 10.0.0.1/24\n"
                    "Address = fd00::1/64\n\n[Peer]\nPublicKey = P1\n"
                    "AllowedIPs = 10.0.0.2/32\n\n[Peer]\nPublicKey = P2\n"
                    "Endpoint = 192.0.2.1:51820\n")
    assert wgquick.sections(text) == [("interface", iface),
                                      ("peer", peers[0]),
                                      ("peer", peers[1])]
    assert wgquick.interface(text) == iface
    assert wgquick.get(iface, "address") == "10.0.0.1/24"
    assert wgquick.get(iface, "MTU") is None
    with pytest.raises(Failure, match="exactly one"):
        wgquick.interface(wgquick.render([]) * 2)
    with pytest.raises(Failure, match="not a wg-quick line: 'oops'"):
        wgquick.sections("[Interface]\noops\n")


def test_wgquick_adds_to_a_file_as_written():
    with open(os.path.join(SEED, "nanoswg.conf")) as f:
        seed = f.read()
    text = wgquick.add_peers(
        wgquick.add_to_interface(seed, [("Address", "10.0.0.1/24")]),
        [("P", "10.0.0.9/32")])
    assert text.startswith("[Interface]\nAddress = 10.0.0.1/24\n")
    assert text.endswith("\n\n[Peer]\nPublicKey = P\n"
                         "AllowedIPs = 10.0.0.9/32\n")
    # Everything the seed said is still there, in its order.
    body = text.replace("Address = 10.0.0.1/24\n", "", 1)
    assert body.startswith(seed.rstrip("\n"))
    assert wgquick.add_to_interface(seed, []) == seed.rstrip("\n") + "\n"


def test_transfer_pattern_is_deterministic():
    a = tcpxfer_peer.pattern(1000, b"up")
    assert a == tcpxfer_peer.pattern(1000, b"up")
    assert a != tcpxfer_peer.pattern(1000, b"down")
    assert tcpxfer_peer.pattern(40, b"up") == a[:40]
    assert len(tcpxfer_peer.pattern(0)) == 0


def test_procstat_reads_this_process():
    st = procstat.status(os.getpid())
    assert int(st["Uid"][1]) == os.geteuid()
    assert int(st["Threads"][0]) >= 1
    assert st["VmRSS"][1] == "kB" and int(st["VmRSS"][0]) > 0
    t0 = procstat.cpu_seconds(os.getpid())
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert procstat.cpu_seconds(os.getpid()) >= t0 + 0.2
    dead = run([sys.executable, "-c", "import os; print(os.getpid())"])
    assert procstat.cpu_seconds(int(dead.stdout)) is None
