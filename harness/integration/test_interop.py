# SPDX-License-Identifier: MIT
"""uniguard against Debian's wireguard-go, and against itself: handshakes
started from either side, ping and TCP both ways, IPv6 inside the tunnel
and as the outer transport, and transfer counters that agree."""

import pytest

import uglab
from uglab import INNER4, INNER6, Pair


@pytest.mark.parametrize("initiator", ["uniguard", "wireguard-go"])
def test_handshake_either_side(lab, initiator):
    other = "wireguard-go" if initiator == "uniguard" else "uniguard"
    pair = Pair(lab, initiator, other)
    pair.nsa.ping_ok(INNER4[1])
    pair.nsa.ping_ok(INNER6[1])
    pair.nsb.ping_ok(INNER4[0])
    ug = pair.a if initiator == "uniguard" else pair.b
    stats = ug.stats()
    assert stats["handshakes_completed"] >= 1
    if initiator == "uniguard":
        assert stats["handshakes_initiated"] >= 1
    else:
        assert stats["handshakes_initiated"] == 0
    assert ug.peer((pair.b if ug is pair.a else pair.a).public_key) \
        .latest_handshake > 0


@pytest.mark.parametrize("outer", [4, 6])
def test_tcp_both_ways(lab, outer):
    pair = Pair(lab, "uniguard", "wireguard-go", outer=outer)
    inner = INNER4 if outer == 4 else INNER6
    pair.nsb.ping_ok(inner[0])
    # Server on uniguard's side, then on wireguard-go's.
    uglab.tcp_transfer(pair.nsa, pair.nsb, inner[0], up=4 << 20, down=1 << 20)
    uglab.tcp_transfer(pair.nsb, pair.nsa, inner[1], up=4 << 20, down=1 << 20)
    # 5 MiB each way, plus headers. Under a bulk load a receiver may drop
    # datagrams its socket buffer has no room for, so received <= sent.
    pa, pb = pair.counters()
    assert pa.rx > 5 << 20 and pa.tx > 5 << 20
    assert pa.rx <= pb.tx and pb.rx <= pa.tx
    ep = pair.b.peer(pair.a.public_key).endpoint
    assert ep == uglab.endpoint(uglab.OUTER6[0] if outer == 6
                                else uglab.OUTER4[0], pair.a.port)


def test_uniguard_both_ends(lab):
    pair = Pair(lab, "uniguard", "uniguard")
    pair.nsa.ping_ok(INNER4[1])
    pair.nsb.ping_ok(INNER6[0])
    uglab.tcp_transfer(pair.nsa, pair.nsb, INNER6[0], up=2 << 20, down=2 << 20)
    uglab.tcp_transfer(pair.nsb, pair.nsa, INNER4[1], up=2 << 20, down=2 << 20)
    pa, pb = pair.counters()
    assert pa.rx > 4 << 20 and pb.rx > 4 << 20
    assert pa.rx <= pb.tx and pb.rx <= pa.tx


def test_ping_sizes_and_counters(lab):
    """Pings of many sizes up to the tunnel MTU arrive, and each side's
    received bytes equal the other's sent bytes."""
    pair = Pair(lab, "wireguard-go", "uniguard")
    pair.nsa.ping_ok(INNER4[1])
    for size in (0, 1, 15, 16, 17, 100, 1000, 1392):
        res = pair.nsa.ping(INNER4[1], count=2, size=size, interval=0.05)
        assert res.returncode == 0, res.stdout + res.stderr
        res = pair.nsb.ping(INNER6[0], count=1, size=max(size - 20, 0))
        assert res.returncode == 0, res.stdout + res.stderr
    pa, pb = pair.settled_counters()
    assert pb.rx > 0 and pb.tx > 0
