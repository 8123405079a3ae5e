# SPDX-License-Identifier: MIT
"""The transport AEAD's two implementations on the wire: a tunnel whose
one end seals and opens data with OpenSSL's libcrypto and the other with
libsodium carries pings, TCP both ways and UDP over IPv4 and IPv6, which
it can only do if both give the same bytes. The choice comes from --aead
or UNIGUARD_AEAD and is logged; left to itself the daemon times both and
says what it measured."""

import re

import uglab
from test_netns import flood, udp_blast

AUTO_LINE = re.compile(r"AEAD: (libcrypto|libsodium), (\d+\.\d+) GB/s vs "
                       r"(libsodium|libcrypto) (\d+\.\d+) GB/s")


def mixed_pair(lab, a_args=(), a_env=None, b_args=(), b_env=None):
    nsa, nsb = lab.netns("a"), lab.netns("b")
    lab.veth(nsa, nsb, [uglab.OUTER4[0] + "/24", uglab.OUTER6[0] + "/64"],
             [uglab.OUTER4[1] + "/24", uglab.OUTER6[1] + "/64"])
    a = lab.uniguard(nsa, args=a_args, env=a_env).configure()
    b = lab.uniguard(nsb, args=b_args, env=b_env).configure()
    a.add_peer(b, [uglab.INNER4[1] + "/32", uglab.INNER6[1] + "/128"],
               endpoint=uglab.endpoint(uglab.OUTER4[1], b.port))
    b.add_peer(a, [uglab.INNER4[0] + "/32", uglab.INNER6[0] + "/128"],
               endpoint=uglab.endpoint(uglab.OUTER4[0], a.port))
    a.up(uglab.INNER4[0] + "/24", uglab.INNER6[0] + "/64")
    b.up(uglab.INNER4[1] + "/24", uglab.INNER6[1] + "/64")
    return nsa, nsb, a, b


def test_libcrypto_end_and_libsodium_end_talk(lab):
    nsa, nsb, a, b = mixed_pair(lab, a_args=["--aead", "libcrypto"],
                                b_env={"UNIGUARD_AEAD": "libsodium"})
    flood(nsa, uglab.INNER4[1], count=50)
    flood(nsb, uglab.INNER6[0], count=50)
    # Full-sized packets and TCP's super-packets, both ways.
    uglab.tcp_transfer(nsb, nsa, uglab.INNER4[1], up=4 << 20, down=1 << 20)
    uglab.tcp_transfer(nsa, nsb, uglab.INNER6[0], up=4 << 20, down=1 << 20)
    assert udp_blast(nsb, nsa, uglab.INNER4[1], count=500, size=1372) > 0
    assert udp_blast(nsa, nsb, uglab.INNER6[0], count=500, size=1) > 0
    assert "AEAD: libcrypto, as asked" in a.process.log()
    assert "AEAD: libsodium, as asked" in b.process.log()
    for dev in (a, b):
        assert dev.process.alive(), dev.process.log()[-3000:]


def test_the_option_wins_over_the_environment(lab):
    nsa, nsb, a, b = mixed_pair(
        lab, a_args=["--aead", "libsodium"],
        a_env={"UNIGUARD_AEAD": "libcrypto"},
        b_args=["--aead", "libcrypto"], b_env={"UNIGUARD_AEAD": "libsodium"})
    flood(nsa, uglab.INNER4[1], count=20)
    assert "AEAD: libsodium, as asked" in a.process.log()
    assert "AEAD: libcrypto, as asked" in b.process.log()


def test_auto_times_both_and_says_so(lab):
    nsa, nsb, a, b = mixed_pair(lab, b_args=["--aead", "auto"])
    flood(nsa, uglab.INNER4[1], count=20)
    for dev in (a, b):
        m = AUTO_LINE.search(dev.process.log())
        assert m, dev.process.log()[-3000:]
        chosen, chosen_rate, other, other_rate = m.groups()
        assert chosen != other
        assert float(chosen_rate) > 0 and float(other_rate) > 0
        # A tie goes to libsodium: libcrypto only when clearly faster.
        if chosen == "libcrypto":
            assert float(chosen_rate) > float(other_rate)
