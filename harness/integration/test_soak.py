# SPDX-License-Identifier: MIT
"""The soak: two uniguard daemons, a gateway and a client, carry steady
traffic both ways for SOAK_SECONDS (default 600) across several rekeys.

Traffic (soaktraffic.py): a paced UDP stream each way over IPv4 inside the
tunnel, every datagram numbered and its body checkable, and a paced TCP
stream each way over IPv6 inside the tunnel, every byte checked.

What must hold at the end:
- rekeys: the client, which made the first handshake, rekeys every
  REKEY_AFTER_TIME (120 s) while it sends, so at least
  floor((T - REKEY_SLACK) / 120) handshakes complete during T seconds
  (REKEY_SLACK covers the handshakes' own delays, a retried one included)
  and no more than floor((T + 30) / 120) + 1 (a rekey storm fails);
- memory: each daemon's VmRSS is sampled every SAMPLE_EVERY seconds, and
  its resident memory grows by less than SOAK_RSS_GROWTH_KIB from the
  first sample after SOAK_WARMUP to the last, leaving out the pages that
  are first touched in the daemon's fixed preallocations (packet arenas,
  thread stacks: see fixed_regions); a full-speed transfer before the
  soak touches most of those anyway. Its count of open files must not
  grow at all;
- order: no datagram arrives further behind the highest number seen so
  far than the replay window (core/replay.h), none twice, none altered;
- loss: sent minus received is zero unless the kernel or the daemons
  counted drops on that path (socket buffers, queues, send errors), and
  then no more than they counted;
- counters: once the traffic has stopped, what each daemon says it sent to
  the other is what the other says it received, byte for byte, unless
  drops were counted on the way (then the difference is no larger than
  that many messages of the largest size); each side's received bytes
  cover at least what the receivers got, and not twice that;
- the data-path drop verdicts that only a fault explains (replay, bad
  key, malformed, wrong source, bad MAC, too big) stay at zero.

Environment: SOAK_SECONDS, SOAK_PPS (datagrams a second each way, default
2500), SOAK_TCP_RATE (bytes a second each way, default 256 KiB),
SOAK_WARMUP (seconds, default 30), SOAK_RSS_GROWTH_KIB (default 512, or
8192 for a binary built with AddressSanitizer, whose allocator keeps freed
memory in quarantine).
"""

import json
import math
import os
import re
import signal
import sys
import time

import pytest

import soaktraffic
import uglab
from ugtools import procstat

SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "600"))
PPS = float(os.environ.get("SOAK_PPS", "2500"))
TCP_RATE = float(os.environ.get("SOAK_TCP_RATE", str(256 * 1024)))
WARMUP = float(os.environ.get("SOAK_WARMUP", "30"))
SAMPLE_EVERY = 5.0
REKEY_AFTER_TIME = 120
REKEY_SLACK = 15
WARM_BYTES = 64 << 20
FIXED_MIN_KIB = 1024

GW_OUTER, CL_OUTER = "192.168.242.1", "192.168.242.2"
GW4, CL4 = "10.9.0.1", "10.9.0.2"
GW6, CL6 = "fd00:9::1", "fd00:9::2"
GW_PORT = 51820
SCRIPT = os.path.join(uglab.HERE, "soaktraffic.py")

# Verdicts that a clean point-to-point link with no attacker never
# produces: each one is a fault of the daemons.
FAULT_VERDICTS = ("drop_replay", "drop_key", "drop_malformed", "drop_source",
                  "drop_mac", "drop_too_big")
# Counted drops that lose a message on its way through a daemon.
DAEMON_TX_DROPS = ("udp_send_errors", "udp_too_big", "staged_dropped",
                   "tun_dropped")
DAEMON_RX_DROPS = ("udp_recv_errors", "tun_write_errors",
                   "drop_unknown_index", "drop_no_key")


def replay_window():
    """The replay window in messages, as core/replay.h defines it: the
    bitmap's bits less one word, the part that may hold older messages."""
    path = os.path.join(uglab.REPO, "core", "replay.h")
    with open(path) as f:
        text = f.read()
    bits = int(re.search(r"#define WG_REPLAY_BITS (\d+)", text).group(1))
    word = int(re.search(r"#define WG_REPLAY_WORD_BITS (\d+)",
                         text).group(1))
    return bits - word


def built_with_asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def rss_growth_bound(asan):
    env = os.environ.get("SOAK_RSS_GROWTH_KIB")
    if env:
        return int(env)
    return 8192 if asan else 512


def daemon_pid(dev):
    """The daemon's pid: `ip netns exec` replaces itself with it."""
    pid = dev.process.pid
    with open("/proc/%d/comm" % pid) as f:
        comm = f.read().strip()
    assert comm.startswith("uniguard"), "pid %d is %s" % (pid, comm)
    return pid


def proc_sample(pid):
    """(VmRSS KiB, threads, open files) of a process."""
    st = procstat.status(pid)
    rss = int(st["VmRSS"][0]) if "VmRSS" in st else None
    threads = int(st["Threads"][0]) if "Threads" in st else None
    return rss, threads, len(os.listdir("/proc/%d/fd" % pid))


def smaps(pid):
    """Resident KiB per mapping: {"start-end name": KiB}."""
    out = {}
    key = None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                key = fields[0] + (" " + fields[5] if len(fields) > 5
                                   else " [anon]")
            elif fields[0] == "Rss:" and key is not None:
                out[key] = int(fields[1])
    return out


def vma_kib(key):
    start, end = key.split()[0].split("-")
    return (int(end, 16) - int(start, 16)) // 1024


def fixed_regions(before, after):
    """Anonymous mappings of FIXED_MIN_KIB or more with the same bounds at
    both times: the daemon's preallocated packet arenas and its threads'
    stacks. Their pages become resident as bursts and calls first reach
    them, up to a size fixed at start; a leak lands elsewhere, in the heap
    or an arena that grows or in new mappings, which all change bounds."""
    return {k for k in before if k in after and k.endswith(" [anon]")
            and vma_kib(k) >= FIXED_MIN_KIB}


def resident_outside(maps, fixed):
    return sum(v for k, v in maps.items() if k not in fixed)


def smaps_growth(before, after):
    """The mappings whose resident size changed, largest change first."""
    keys = set(before) | set(after)
    changes = [(after.get(k, 0) - before.get(k, 0), k) for k in keys]
    return ["%+d %s" % (d, k) for d, k in sorted(changes, reverse=True)
            if d][:8]


def udp_snmp(ns):
    """The namespace's IPv4 UDP counters (/proc/net/snmp)."""
    lines = [line.split() for line in
             ns.exec("cat", "/proc/net/snmp").stdout.splitlines()
             if line.startswith("Udp:")]
    return dict(zip(lines[0][1:], (int(v) for v in lines[1][1:])))


def link_drops(ns, dev):
    """Drops the kernel counted on a link: its own and its qdisc's."""
    info = json.loads(ns.exec("ip", "-s", "-j", "link", "show", "dev",
                              dev).stdout)[0]
    stats = info.get("stats64") or info.get("stats")
    out = {"rx_dropped": stats["rx"]["dropped"],
           "tx_dropped": stats["tx"]["dropped"], "qdisc_drops": 0}
    res = ns.exec("tc", "-s", "-j", "qdisc", "show", "dev", dev, check=False)
    if res.returncode == 0 and res.stdout.strip():
        for q in json.loads(res.stdout):
            out["qdisc_drops"] += q.get("drops", 0)
    return out


def diff(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def wait_line(proc, key, timeout=20):
    uglab.wait_until(lambda: key in proc.log() or not proc.alive(),
                     timeout=timeout, what="%s to say %s" % (proc.name, key))
    assert proc.alive(), "%s exited:\n%s" % (proc.name, proc.log()[-3000:])


def final(proc):
    obj = soaktraffic.final(proc.log())
    assert obj is not None, "%s gave no summary:\n%s" % (
        proc.name, proc.log()[-3000:])
    return obj


class Side:
    """One daemon and the counters the checks read around it."""

    def __init__(self, name, ns, dev, veth):
        self.name = name
        self.ns = ns
        self.dev = dev
        self.veth = veth
        self.pid = daemon_pid(dev)
        self.other = None
        self.rss = []           # (t, KiB)
        self.files = []         # (t, open files)
        self.threads = []
        self.maps_steady = None
        self.maps_last = None

    def counters(self):
        peer = self.dev.peer(self.other.dev.public_key)
        return {"stats": self.dev.stats(), "snmp": udp_snmp(self.ns),
                "peer": (peer.rx, peer.tx),
                "tun": link_drops(self.ns, self.dev.ifname),
                "veth": link_drops(self.ns, self.veth)}

    def sample(self, t, last=False):
        maps = smaps(self.pid)
        rss, threads, files = proc_sample(self.pid)
        if self.maps_steady is None and t >= WARMUP:
            self.maps_steady = maps
        if last:
            self.maps_last = maps
        self.rss.append((t, rss))
        self.files.append((t, files))
        self.threads.append(threads)


def settle_files(s, start, timeout=5):
    """Waits, up to timeout, for the daemon's open files to come back to
    what they were after the warm-up: the UAPI connections the checks
    just made are closed by the daemon a moment after the client closes
    them (longer on a busy machine), a leaked descriptor never."""
    steady = [v for t, v in s.files if t >= WARMUP]
    if not steady:
        return
    deadline = time.monotonic() + timeout
    while proc_sample(s.pid)[2] > steady[0] and time.monotonic() < deadline:
        time.sleep(0.1)


def path_drops(src, dst, before, after):
    """Drops counted anywhere from src's tun device to dst's sockets: the
    most datagrams of the src-to-dst stream that may have gone missing."""
    s = {k: diff(after[src.name][k], before[src.name][k])
         for k in ("stats", "tun", "veth")}
    d = {k: diff(after[dst.name][k], before[dst.name][k])
         for k in ("stats", "tun", "veth", "snmp")}
    parts = {
        "%s tun queue" % src.name: s["tun"]["tx_dropped"] +
        s["tun"]["qdisc_drops"],
        "%s daemon" % src.name: sum(s["stats"][k] for k in DAEMON_TX_DROPS),
        "%s veth" % src.name: s["veth"]["tx_dropped"] +
        s["veth"]["qdisc_drops"],
        "%s veth" % dst.name: d["veth"]["rx_dropped"],
        "%s UDP sockets" % dst.name: d["snmp"]["InErrors"],
        "%s daemon" % dst.name: sum(d["stats"][k] for k in DAEMON_RX_DROPS),
        "%s tun" % dst.name: d["tun"]["rx_dropped"],
    }
    return sum(parts.values()), {k: v for k, v in parts.items() if v}


def settle(gw, cl, timeout=15):
    """Polls until each side's rx equals the other's tx; returns the last
    reading ((gw view of cl), (cl view of gw)) and whether they matched."""
    last = []

    def same():
        a = gw.dev.peer(cl.dev.public_key)
        b = cl.dev.peer(gw.dev.public_key)
        last[:] = [a, b]
        return a.rx == b.tx and a.tx == b.rx
    try:
        uglab.wait_until(same, timeout=timeout, interval=0.25,
                         what="matching transfer counters")
        return last[0], last[1], True
    except AssertionError:
        return last[0], last[1], False


def report(capsys, text):
    """Shown on the terminal even when pytest captures output, and kept in
    the captured output of a failure."""
    with capsys.disabled():
        print("\n" + text, flush=True)
    print(text)


@pytest.mark.slow
def test_soak_traffic_across_rekeys(lab, capsys):
    T = SOAK_SECONDS
    window = replay_window()
    asan = built_with_asan(uglab.uniguard_binary())
    rss_bound = rss_growth_bound(asan)
    # AddressSanitizer's allocator keeps its heap in large reservations of
    # fixed bounds, which fixed_regions() would leave out: there the whole
    # RSS counts, with room for its quarantine.
    rss_measure = "growth" if asan else "growth_outside_fixed"
    wall_start = time.monotonic()

    gw_ns = lab.netns("gw")
    cl_ns = lab.netns("cl")
    gw_veth, cl_veth = lab.veth(gw_ns, cl_ns, [GW_OUTER + "/24"],
                                [CL_OUTER + "/24"])
    gw_dev = lab.uniguard(gw_ns, verbosity="info").configure(port=GW_PORT)
    cl_dev = lab.uniguard(cl_ns, verbosity="info").configure()
    # A gateway as deployed: it learns the client's endpoint from the
    # client's handshake, so the client initiates and does the rekeys.
    gw_dev.add_peer(cl_dev, [CL4 + "/32", CL6 + "/128"])
    cl_dev.add_peer(gw_dev, [GW4 + "/32", GW6 + "/128"],
                    endpoint=uglab.endpoint(GW_OUTER, GW_PORT))
    gw_dev.up(GW4 + "/24", GW6 + "/64")
    cl_dev.up(CL4 + "/24", CL6 + "/64")
    gw = Side("gw", gw_ns, gw_dev, gw_veth)
    cl = Side("cl", cl_ns, cl_dev, cl_veth)
    gw.other, cl.other = cl, gw
    mtu = min(json.loads(s.ns.exec("ip", "-j", "link", "show", "dev",
                                   s.dev.ifname).stdout)[0]["mtu"]
              for s in (gw, cl))
    cl_ns.ping_ok(GW4)
    gw_ns.ping_ok(CL4)
    cl_ns.ping_ok(GW6)
    # The daemons preallocate their packet arenas, whose pages become
    # resident only as bursts first reach them, which a paced stream may
    # do late and rarely. A transfer at full speed both ways touches most
    # of them first, so that the RSS series shows the soak's own doing.
    rss_cold = {s.name: proc_sample(s.pid)[0] for s in (gw, cl)}
    uglab.tcp_transfer(gw_ns, cl_ns, GW6, up=WARM_BYTES, down=WARM_BYTES,
                       port=5310)
    rss_warm = {s.name: proc_sample(s.pid)[0] for s in (gw, cl)}

    env = {"SOAK_MTU": str(mtu)}
    py = sys.executable
    rx = {"gw": gw_ns.popen("soak-udp-rx-gw", [py, SCRIPT, "udp-recv", GW4,
                                                5301], env=env),
          "cl": cl_ns.popen("soak-udp-rx-cl", [py, SCRIPT, "udp-recv", CL4,
                                                5302], env=env)}
    tcp_rx = {"gw": gw_ns.popen("soak-tcp-rx-gw", [py, SCRIPT, "tcp-recv",
                                                    GW6, 5303]),
              "cl": cl_ns.popen("soak-tcp-rx-cl", [py, SCRIPT, "tcp-recv",
                                                    CL6, 5304])}
    for proc in list(rx.values()) + list(tcp_rx.values()):
        wait_line(proc, "ready")

    before = {s.name: s.counters() for s in (gw, cl)}
    hs_before = {s.name: before[s.name]["stats"]["handshakes_completed"]
                 for s in (gw, cl)}
    start = time.monotonic()
    # tx["cl"] is the stream the client sends, to the gateway.
    tx = {"cl": cl_ns.popen("soak-udp-tx-cl", [py, SCRIPT, "udp-send", GW4,
                                                5301, PPS, T], env=env),
          "gw": gw_ns.popen("soak-udp-tx-gw", [py, SCRIPT, "udp-send", CL4,
                                                5302, PPS, T], env=env)}
    tcp_tx = {"cl": cl_ns.popen("soak-tcp-tx-cl", [py, SCRIPT, "tcp-send",
                                                    GW6, 5303, TCP_RATE, T]),
              "gw": gw_ns.popen("soak-tcp-tx-gw", [py, SCRIPT, "tcp-send",
                                                    CL6, 5304, TCP_RATE, T])}

    # The soak proper: sample, watch the daemons and note each rekey.
    rekey_times = []
    last_hs = hs_before["cl"]
    next_sample = start
    senders = list(tx.values()) + list(tcp_tx.values())
    while True:
        t = time.monotonic() - start
        for s in (gw, cl):
            assert s.dev.process.alive(), "%s daemon exited:\n%s" % (
                s.name, s.dev.process.log()[-3000:])
            s.sample(t)
        hs = cl.dev.stats()["handshakes_completed"]
        if hs != last_hs:
            rekey_times.append(round(t, 1))
            last_hs = hs
        if not any(p.alive() for p in senders):
            break
        assert t < T + 120, "senders still running %.0f s after %.0f s" % (
            t - T, T)
        next_sample += SAMPLE_EVERY
        time.sleep(max(0.0, next_sample - time.monotonic()))
    loop_seconds = time.monotonic() - start

    for proc in tcp_rx.values():
        proc.popen.wait(60)
    # Quiet time: what is in flight lands before the receivers stop.
    time.sleep(3)
    for proc in rx.values():
        proc.popen.send_signal(signal.SIGUSR1)
    for proc in rx.values():
        proc.popen.wait(30)
    gw_view, cl_view, settled = settle(gw, cl)
    for s in (gw, cl):
        settle_files(s, start)
        s.sample(time.monotonic() - start, last=True)
    after = {s.name: s.counters() for s in (gw, cl)}
    sent = {k: final(p) for k, p in tx.items()}
    got = {"cl": final(rx["gw"]), "gw": final(rx["cl"])}   # by sender
    tcp_sent = {k: final(p) for k, p in tcp_tx.items()}
    tcp_got = {"cl": final(tcp_rx["gw"]), "gw": final(tcp_rx["cl"])}

    # Figures first, so that a failure below still shows them.
    traffic_seconds = max(sent[k]["seconds"] for k in sent)
    rekeys = {s.name: after[s.name]["stats"]["handshakes_completed"] -
              hs_before[s.name] for s in (gw, cl)}
    loss = {k: sent[k]["sent"] - got[k]["received"] for k in sent}
    explained = {}
    for src, dst in ((cl, gw), (gw, cl)):
        explained[src.name] = path_drops(src, dst, before, after)
    rss_summary = {}
    for s in (gw, cl):
        series = [v for _, v in s.rss]
        steady = [v for t, v in s.rss if t >= WARMUP] or series[-1:]
        maps_steady = s.maps_steady or s.maps_last
        fixed = fixed_regions(maps_steady, s.maps_last)
        rss_summary[s.name] = {
            "min": min(series), "max": max(series), "first": series[0],
            "steady_first": steady[0], "last": series[-1],
            "samples": len(series), "threads": max(s.threads),
            "growth": series[-1] - steady[0],
            "growth_outside_fixed": resident_outside(s.maps_last, fixed) -
            resident_outside(maps_steady, fixed),
            "fixed_kib": sum(vma_kib(k) for k in fixed),
            "by_mapping": smaps_growth(maps_steady, s.maps_last)}
    max_reorder = max(g["max_reorder"] for g in got.values())
    # A clean exit after all that, and nothing a sanitizer would say.
    exits = {}
    for s in (gw, cl):
        code = s.dev.stop()
        log = s.dev.process.log()
        exits[s.name] = {"code": code, "sanitizer": [
            line for line in log.splitlines()
            if "Sanitizer" in line or "runtime error" in line][:5]}
    details = {
        "traffic_s": round(traffic_seconds, 1),
        "loop_s": round(loop_seconds, 1),
        "wall_s": round(time.monotonic() - wall_start, 1),
        "sent": sent, "received": got, "tcp_sent": tcp_sent,
        "tcp_received": tcp_got, "rekeys": rekeys,
        "rekey_times_s": rekey_times, "loss": loss,
        "explained_drops": explained, "rss_kib": rss_summary,
        "rss_cold_warm_kib": (rss_cold, rss_warm), "asan": asan,
        "exits": exits,
        "rss_series_kib": {s.name: [v for _, v in s.rss] for s in (gw, cl)},
        "files": {s.name: (s.files[0][1], s.files[-1][1]) for s in (gw, cl)},
        "transfer": {"gw rx/tx": (gw_view.rx, gw_view.tx),
                     "cl rx/tx": (cl_view.rx, cl_view.tx),
                     "settled": settled},
        "stats_delta": {s.name: {k: v for k, v in diff(
            after[s.name]["stats"], before[s.name]["stats"]).items() if v}
            for s in (gw, cl)},
    }
    report(capsys, "soak details: " + json.dumps(details, sort_keys=True))
    report(capsys, (
        "SOAK: %.0f s, %d/%d packets each way (cl->gw/gw->cl), %d rekeys, "
        "RSS gw %d->%d KiB cl %d->%d KiB (after %.0f s warm-up; min/max gw "
        "%d/%d cl %d/%d), max reorder %d, loss %d/%d") % (
        traffic_seconds, sent["cl"]["sent"], sent["gw"]["sent"],
        rekeys["cl"], rss_summary["gw"]["steady_first"],
        rss_summary["gw"]["last"], rss_summary["cl"]["steady_first"],
        rss_summary["cl"]["last"], WARMUP, rss_summary["gw"]["min"],
        rss_summary["gw"]["max"], rss_summary["cl"]["min"],
        rss_summary["cl"]["max"], max_reorder, loss["cl"], loss["gw"]))

    # The traffic ran for the whole time, at about its rate.
    for k in ("cl", "gw"):
        assert sent[k]["seconds"] >= T - 1, sent[k]
        # Generous, for a busy machine; it keeps a soak that hardly sent
        # anything from passing.
        assert sent[k]["sent"] > 0.25 * PPS * T, (
            "the %s sender managed %d of %d datagrams" % (
                k, sent[k]["sent"], PPS * T))

    # Rekeys.
    least = max(0, math.floor((T - REKEY_SLACK) / REKEY_AFTER_TIME))
    most = math.floor((T + 30) / REKEY_AFTER_TIME) + 1
    for name, n in rekeys.items():
        assert least <= n <= most, (
            "%s completed %d handshakes in %.0f s, expected %d..%d (times "
            "%s)" % (name, n, T, least, most, rekey_times))
    assert abs(rekeys["gw"] - rekeys["cl"]) <= 1, rekeys

    # Memory and files.
    for s in (gw, cl):
        r = rss_summary[s.name]
        assert r[rss_measure] < rss_bound, (
            "%s daemon's RSS grew %d KiB after the warm-up (%s, bound %d): "
            "%s" % (s.name, r[rss_measure], rss_measure, rss_bound, r))
        steady_files = [v for t, v in s.files if t >= WARMUP] or \
            [s.files[-1][1]]
        assert steady_files[-1] <= steady_files[0], (
            "%s daemon's open files went from %d to %d" % (
                s.name, steady_files[0], steady_files[-1]))

    # Order and integrity of the datagrams.
    for k in ("cl", "gw"):
        g = got[k]
        assert g["max_reorder"] < window, (
            "%s's datagrams arrived up to %d behind (window %d)" % (
                k, g["max_reorder"], window))
        assert g["duplicates"] == 0, g
        assert g["corrupted"] == 0, g
        assert g["highest"] < sent[k]["sent"], (g, sent[k])

    # Loss only where drops were counted.
    for k in ("cl", "gw"):
        total, parts = explained[k]
        assert 0 <= loss[k] <= total, (
            "%s->: %d datagrams sent, %d received: %d lost, but only %d "
            "drops counted on the path (%s)" % (
                k, sent[k]["sent"], got[k]["received"], loss[k], total,
                parts))

    # TCP both ways, every byte.
    for k in ("cl", "gw"):
        assert tcp_got[k]["mismatch_at"] is None, tcp_got[k]
        assert tcp_got[k]["received"] == tcp_sent[k]["sent"] > 0, (
            tcp_sent[k], tcp_got[k])

    # No fault verdicts.
    for s in (gw, cl):
        delta = diff(after[s.name]["stats"], before[s.name]["stats"])
        faults = {v: delta[v] for v in FAULT_VERDICTS if delta.get(v)}
        assert not faults, "%s daemon: %s" % (s.name, faults)

    # The transfer counters: tx on one side is rx on the other, but for
    # messages counted as dropped on the way.
    largest = mtu + 32
    for src, dst, src_view, dst_view in ((cl, gw, cl_view, gw_view),
                                         (gw, cl, gw_view, cl_view)):
        missing = src_view.tx - dst_view.rx
        drops, parts = explained[src.name]
        assert 0 <= missing <= drops * largest, (
            "%s sent %d bytes to %s, which received %d (%d drops counted: "
            "%s)" % (src.name, src_view.tx, dst.name, dst_view.rx, drops,
                     parts))
    assert settled or any(explained[k][0] for k in explained), details

    for name, e in exits.items():
        assert e["code"] == 0 and not e["sanitizer"], (name, e)

    # What the receivers got crossed the tunnel: each datagram as a
    # message of at least its inner packet and 32 bytes, each TCP byte at
    # least once; all of it together is less than twice that.
    for src, dst in ((cl, gw), (gw, cl)):
        k = src.name
        carried = after[dst.name]["peer"][0] - before[dst.name]["peer"][0]
        floor_bytes = got[k]["received"] * (32 + 28) + \
            got[k]["received_bytes"] + tcp_got[k]["received"]
        assert floor_bytes <= carried < 2 * floor_bytes + (1 << 20), (
            "%s received %d bytes from %s; the traffic accounts for %d" % (
                dst.name, carried, k, floor_bytes))
