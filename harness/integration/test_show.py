# SPDX-License-Identifier: MIT
"""`uniguard show` and `uniguard stats`: a running interface as `wg show`
prints it, with uniguard's counters, and the counters alone, readable or
as JSON, all asked over the interface's UAPI socket."""

import json
import re

import uglab
from uglab import INNER4, Pair

HANDSHAKE = re.compile(r"^  latest handshake: ((\d+ (year|day|hour|minute|"
                       r"second)s?(, )?)+ ago|Now)$")


def uniguard(ns, *args, check=True):
    return ns.exec(uglab.uniguard_binary(), *args, check=check, timeout=20)


def same_but_time(ours, theirs):
    """ours equals wg's text, but for the handshake's age, which may have
    moved on by a second between the two commands."""
    a, b = ours.splitlines(), theirs.splitlines()
    assert len(a) == len(b), (ours, theirs)
    for x, y in zip(a, b):
        if x.startswith("  latest handshake:"):
            assert HANDSHAKE.match(x), x
            assert HANDSHAKE.match(y), y
        else:
            assert x == y, (ours, theirs)


def test_show_is_wg_show_plus_counters(lab):
    pair = Pair(lab, "uniguard", "wireguard-go", keepalive=25)
    psk = lab.write_file("psk", uglab.genpsk() + "\n")
    pair.b.set("peer", pair.a.public_key, "preshared-key", psk)
    pair.a.set("peer", pair.b.public_key, "preshared-key", psk)
    pair.a.set("fwmark", "0x1234")
    pair.nsb.ping_ok(INNER4[0])
    ours = uniguard(pair.nsa, "show", pair.a.ifname).stdout
    wg = pair.a.wg("show", pair.a.ifname).stdout
    shown, counters = ours.split("\ncounters:\n")
    same_but_time(shown, wg)
    for word in ("public key:", "private key: (hidden)", "listening port:",
                 "fwmark: 0x1234", "preshared key: (hidden)", "endpoint:",
                 "allowed ips:", "latest handshake:", "transfer:",
                 "persistent keepalive: every 25 seconds"):
        assert word in shown, (word, shown)
    assert not uglab.leaked_secrets(ours)
    # uniguard's counters: the non-zero ones, as stats=1 has them.
    stats = pair.a.stats()
    listed = dict(line.strip().split(": ") for line in counters.splitlines())
    assert int(listed["ok"]) >= 2 and listed["handshakes_completed"] == "1"
    assert set(listed) == {k for k, v in stats.items() if v}
    # A daemon that is not uniguard shows as wg shows it, no counters.
    same_but_time(uniguard(pair.nsb, "show", pair.b.ifname).stdout,
                  pair.b.wg("show", pair.b.ifname).stdout)
    # Without a name: every interface, among them both of these.
    every = uniguard(pair.nsa, "show").stdout
    assert "interface: %s\n" % pair.a.ifname in every
    assert "interface: %s\n" % pair.b.ifname in every


def test_stats_readable_and_json(lab):
    ns = lab.netns("a")
    dev = lab.uniguard(ns).configure()
    stats = dev.stats()
    assert stats.pop("errno") == 0
    text = uniguard(ns, "stats", dev.ifname).stdout
    lines = text.splitlines()
    assert lines[0] == "interface: %s" % dev.ifname
    rows = {}
    for line in lines[1:]:
        m = re.match(r"^  (\w+) +(\d+)  (\S.*)$", line)
        assert m, line
        rows[m.group(1)] = int(m.group(2))
    assert rows == stats
    assert "Handshake initiations sent." in text
    assert "drop_replay" in text and "Dropped: counter seen before or too old." in text
    doc = json.loads(uniguard(ns, "stats", "--json", dev.ifname).stdout)
    assert doc == [{"interface": dev.ifname, "counters": stats}]
    # Without a name: every uniguard interface that answers.
    doc = json.loads(uniguard(ns, "stats", "--json").stdout)
    assert {"interface": dev.ifname, "counters": stats} in doc


def test_show_and_stats_errors(lab):
    ns = lab.netns("a")
    missing = lab.ifname()
    for argv in (["show", missing], ["stats", missing],
                 ["stats", "--json", missing]):
        res = uniguard(ns, *argv, check=False)
        assert res.returncode == 1, res
        assert res.stderr == ("uniguard: %s: no such interface (nothing "
                              "listens on %s/%s.sock)\n"
                              % (missing, uglab.SOCK_DIR, missing))
    for argv in (["stats", "--bogus"], ["show", "--bogus"]):
        res = uniguard(ns, *argv, check=False)
        assert res.returncode == 2, res
    assert "usage: uniguard stats" in uniguard(ns, "stats", "--help").stdout
    assert "usage: uniguard show" in uniguard(ns, "show", "--help").stdout
