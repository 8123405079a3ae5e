#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""uniguard's benchmark, run by `make bench`.

On this one machine it builds two network namespaces joined by veth, runs a
WireGuard tunnel between them with uniguard at both ends, with wireguard-go
at both ends (Debian's, and another build when --wireguard-go or
WIREGUARD_GO names one, such as the newest release), and with uniguard
against each wireguard-go, and measures through each (the tunnels taking
turns, one run of each per round): iperf3 TCP with 1 and 4 streams, the
highest loss-free UDP rate for 1400-byte and 64-byte inner packets, ping
latency (against plain veth; and with pings 0.5 ms and 100 ms apart), the
daemons' CPU seconds per GB moved, and what they cost with nothing to
carry (idle, and answering 100 pings a second). Beside the tunnels it
measures the crypto ceiling of libsodium and of libcrypto
(harness/bench/crypto_ceiling.c), what a system call and a hand-off
between processes cost on this machine (machine_costs.c), handshakes
per second, the allowed-IPs trie with a million prefixes
(harness/bench/core_bench.c), and uniguard's resident memory and load
time with 10,000 and 100,000 peers, both through `wg setconf` (UAPI) and
from a wg-quick file given with -c.

Every figure is the median of several runs, with the minimum and maximum.
It writes results/latest.{json,md,png} (and a dated copy of each), puts the
table into docs/benchmarks.md, and prints each target of the performance
issue as met or not met. Nothing here fails on a figure: only a broken
setup makes the run fail.

Usage: bench.py [--uniguard PATH] [--wireguard-go PATH] [--build DIR]
                [--quick] [--only LIST]
  BENCH_QUICK=1 (or --quick): fewer and shorter runs, for development.
  WIREGUARD_GO=PATH (or --wireguard-go): another wireguard-go beside
  Debian's, in its own column.
  --only: a comma-separated subset of veth,tunnels,crypto,handshakes,
  allowedips,peers (the others are skipped; docs are not updated).
Needs root (namespaces), iperf3, wireguard-go, wg, ping, gcc, libsodium,
libcrypto.
"""

import argparse
import base64
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# The helpers shared with the integration suite and the lab.
sys.path.insert(0, os.path.dirname(HERE))
from ugtools import netns, run as commands  # noqa: E402
from ugtools.iperf import (LOSS_FREE, Iperf, summary, tcp_run,  # noqa: E402
                           udp_search)
from ugtools.keys import pubkey  # noqa: E402
from ugtools.procstat import cpu_seconds, status  # noqa: E402
from ugtools.wait import wait_until  # noqa: E402
SOCK_DIR = "/var/run/wireguard"
NS_PREFIX = "ugb-"
IF_PREFIX = "ugb"

# Addresses live only inside the bench's namespaces.
OUTER = ("198.51.100.1", "198.51.100.2")
INNER = ("10.201.0.1", "10.201.0.2")
MTU = 1420
# Pings this far apart (seconds) find the machine warm: the gap is longer
# than the daemons poll after work (200 µs), far shorter than what lets
# the host's other work evict the path from the caches.
WARM_PING_INTERVAL = 0.0005

KINDS = {"ug": "uniguard", "go": "wireguard-go"}
PAIRS = [("ug", "ug"), ("go", "go"), ("ug", "go")]
# The wireguard-go binaries by kind: Debian's from PATH, and "gn", another
# build (--wireguard-go), once main() knows it.
GO_BINARIES = {"wireguard-go": "wireguard-go"}
# Column titles, with each wireguard-go's version (go_label).
LABELS = {"ug": "uniguard", "go": "Debian's wireguard-go"}


def go_version(binary):
    """"0.0.20250522" from `wireguard-go --version`, or None."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"wireguard-go v?(\S+)", out)
    return m.group(1) if m else None


class Settings:
    def __init__(self, quick):
        self.quick = quick
        self.reps = 1 if quick else 3
        self.tcp_secs = 3 if quick else 5
        self.udp_secs = 1 if quick else 2
        self.udp_steps = 4 if quick else 6
        self.ping_count = 50 if quick else 200
        self.slow_ping_count = 10 if quick else 30
        self.quiet_secs = 3 if quick else 10
        self.crypto_secs = 1 if quick else 2
        self.handshake_secs = 1 if quick else 3
        self.lookup_prefixes = 100000 if quick else 1000000
        self.peer_counts = (1000, 10000) if quick else (10000, 100000)


def log(msg):
    print("bench: " + msg, flush=True)


def run(args, timeout=120, **kw):
    """ugtools' run, with the bench's longer default timeout."""
    return commands.run(args, timeout=timeout, **kw)


def random_key():
    return base64.b64encode(os.urandom(32)).decode()


# The machine's load, so that a reader can judge the figures.

def cpu_busy(seconds=1.0):
    """Fraction of all CPUs busy over a short interval (anyone's work)."""
    def sample():
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def thread_cpu_seconds(pid):
    """CPU time of a process's threads to the nanosecond (the scheduler's
    own account), for the small figures of an idle daemon; the clock-tick
    figure where that is missing."""
    total, seen = 0, False
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return cpu_seconds(pid)
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
                seen = True
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9 if seen else cpu_seconds(pid)


def proc_rss_kib(pid):
    rss = status(pid).get("VmRSS")
    return int(rss[0]) if rss else None


# Namespaces, links and processes, all removed by close().

class Lab:
    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.counter = 0
        self.namespaces = []
        self.procs = []
        self.ifnames = []

    def name(self, label):
        self.counter += 1
        return "%s%d-%d-%s" % (NS_PREFIX, os.getpid(), self.counter, label)

    def ifname(self, label):
        self.counter += 1
        name = "%s%x%s%d" % (IF_PREFIX, os.getpid() % 0x10000, label,
                             self.counter)
        assert len(name) <= 15
        self.ifnames.append(name)
        return name

    def netns(self, label):
        ns = self.name(label)
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        return ns

    def veth(self, ns_a, addr_a, ns_b, addr_b):
        self.counter += 1
        a = "ugbv%d%da" % (os.getpid() % 10000, self.counter)
        b = a[:-1] + "b"
        run(["ip", "link", "add", "name", a, "netns", ns_a, "type", "veth",
             "peer", "name", b, "netns", ns_b])
        for ns, dev, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            run(["ip", "-n", ns, "addr", "add", addr + "/24", "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        return a, b

    def write(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def spawn(self, ns, name, argv, env=None):
        self.counter += 1
        path = os.path.join(self.tmpdir, "%s-%d.log" % (name, self.counter))
        out = open(path, "wb")
        full = dict(os.environ)
        full.update(env or {})
        # `ip netns exec` execs the command itself: the pid is the daemon's.
        proc = subprocess.Popen(["ip", "netns", "exec", ns] +
                                [str(a) for a in argv], stdout=out,
                                stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=full)
        out.close()
        proc.log_path = path
        self.procs.append(proc)
        return proc

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def drop_netns(self, ns):
        netns.remove(ns)
        if ns in self.namespaces:
            self.namespaces.remove(ns)

    def close(self):
        for proc in reversed(self.procs):
            try:
                self.stop(proc)
            except Exception:
                pass
        for ns in reversed(list(self.namespaces)):
            netns.remove(ns)
        self.namespaces = []
        for name in self.ifnames:
            path = os.path.join(SOCK_DIR, name + ".sock")
            if os.path.exists(path):
                try:
                    os.unlink(path)
                except OSError:
                    pass


def clean_leftovers():
    """Namespaces of earlier bench runs that were killed."""
    netns.remove_leftovers(NS_PREFIX)


# WireGuard interfaces.

class Daemon:
    def __init__(self, lab, kind, ns, uniguard, label, knobs=None):
        self.lab = lab
        self.kind = kind
        self.ns = ns
        self.ifname = lab.ifname(label)
        if kind == "uniguard":
            # info: the start-up says which AEAD it chose; nothing on
            # the packet path logs at info.
            argv = [uniguard, "-f", "-v", "info",
                    "--disable-drop-privileges", "yes", self.ifname]
            # The packet path's switches (docs/benchmarks.md).
            env = {"UNIGUARD_DATAPATH": knobs} if knobs else None
        else:
            argv = [GO_BINARIES[kind], "-f", self.ifname]
            # Newer releases stop where the kernel has WireGuard unless
            # told; this machine's kernel has none, but say it anyway.
            env = {"LOG_LEVEL": "error",
                   "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
        self.proc = lab.spawn(ns, kind + "-" + self.ifname, argv, env)
        self.sock = os.path.join(SOCK_DIR, self.ifname + ".sock")

        def ready():
            if self.proc.poll() is not None:
                with open(self.proc.log_path, errors="replace") as f:
                    raise RuntimeError("%s exited: %s" % (kind, f.read()))
            return os.path.exists(self.sock) and self.wg(
                "show", self.ifname, check=False).returncode == 0
        wait_until(ready, timeout=15, what=kind + "'s UAPI socket")

    @property
    def pid(self):
        return self.proc.pid

    def wg(self, *args, check=True, timeout=120):
        return run(["ip", "netns", "exec", self.ns, "wg"] + list(args),
                   check=check, timeout=timeout)

    def cpu(self):
        return cpu_seconds(self.pid)

    def rss_kib(self):
        return proc_rss_kib(self.pid)

    def stop(self):
        self.lab.stop(self.proc)

    def log_text(self):
        with open(self.proc.log_path, errors="replace") as f:
            return f.read()


class Tunnel:
    """Namespaces a and b joined by veth, a WireGuard interface in each,
    each the other's peer, inner addresses INNER."""

    def __init__(self, lab, kind_a, kind_b, uniguard, knobs=None):
        self.lab = lab
        self.ns_a = lab.netns("a")
        self.ns_b = lab.netns("b")
        lab.veth(self.ns_a, OUTER[0], self.ns_b, OUTER[1])
        self.a = Daemon(lab, KINDS[kind_a], self.ns_a, uniguard, "a", knobs)
        self.b = Daemon(lab, KINDS[kind_b], self.ns_b, uniguard, "b", knobs)
        keys = [random_key(), random_key()]
        pubs = [pubkey(k) for k in keys]
        ports = [51820, 51821]
        for i, dev in enumerate((self.a, self.b)):
            other = 1 - i
            path = lab.write(dev.ifname + ".key", keys[i] + "\n")
            dev.wg("set", dev.ifname, "private-key", path, "listen-port",
                   ports[i], "peer", pubs[other], "allowed-ips",
                   INNER[other] + "/32", "endpoint",
                   "%s:%d" % (OUTER[other], ports[other]))
            run(["ip", "-n", dev.ns, "addr", "add", INNER[i] + "/24", "dev",
                 dev.ifname])
            run(["ip", "-n", dev.ns, "link", "set", dev.ifname, "mtu", MTU,
                 "up"])
        wait_until(lambda: ping(self.ns_a, INNER[1], count=1,
                                interval=None) is not None,
                   timeout=20, interval=0.1, what="the tunnel to carry a ping")

    def daemons(self):
        return (self.a, self.b)

    def close(self):
        for dev in self.daemons():
            dev.stop()
        self.lab.drop_netns(self.ns_a)
        self.lab.drop_netns(self.ns_b)


# Measurements through a path.

def ping(ns, addr, count, interval=0.01):
    """The average round trip in ms, or None if no reply came."""
    args = ["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", count,
            "-W", 1]
    if interval:
        args += ["-i", interval]
    res = run(args + [addr], check=False, timeout=60)
    m = re.search(r"= [\d.]+/([\d.]+)/", res.stdout)
    return float(m.group(1)) if m and res.returncode == 0 else None


def ping_tunnel(t, count, interval=0.01, chunks=4):
    """The tunnel's average round trip and what it adds to that of the veth
    link under it, in ms, measured in turns (a quarter of the pings on the
    link before each quarter through the tunnel): the machine's speed
    drifts over seconds, and an added latency is only meaningful against
    the link as it is at the same moment. (None, None) if either got no
    reply."""
    through, under = [], []
    for _ in range(chunks):
        under.append(ping(t.ns_a, OUTER[1], max(1, count // (2 * chunks)),
                          interval))
        through.append(ping(t.ns_a, INNER[1], max(1, count // chunks),
                            interval))
    if None in through or None in under:
        return None, None
    return sum(through) / chunks, (sum(through) - sum(under)) / chunks


def quiet_cpu(t, cfg):
    """What the two ends cost with (almost) nothing to carry, in CPU
    seconds per 10 s: left idle (the busier end), and the answering end
    while pinged 100 times a second."""
    ends = t.daemons()
    c0 = [thread_cpu_seconds(d.pid) for d in ends]
    time.sleep(cfg.quiet_secs)
    c1 = [thread_cpu_seconds(d.pid) for d in ends]
    start = time.monotonic()
    ping(t.ns_a, INNER[1], int(cfg.quiet_secs * 100))
    secs = time.monotonic() - start
    c2 = [thread_cpu_seconds(d.pid) for d in ends]
    if None in c0 + c1 + c2:
        return None, None
    idle = max(b - a for a, b in zip(c0, c1)) * 10 / cfg.quiet_secs
    return idle, (c2[1] - c1[1]) * 10 / secs


def measure_veth(lab, cfg):
    ns_a = lab.netns("a")
    ns_b = lab.netns("b")
    lab.veth(ns_a, OUTER[0], ns_b, OUTER[1])
    iperf = Iperf(lab, ns_b, OUTER[1])
    out = {"tcp1": [], "ping": [], "udp1400_mbps": []}
    try:
        for _ in range(cfg.reps):
            out["tcp1"].append(tcp_run(iperf, ns_a, 1, cfg.tcp_secs,
                                       [])["gbps"])
            out["ping"].append(ping(ns_a, OUTER[1], cfg.ping_count))
            # What iperf3 itself manages: the load generator's limit.
            out["udp1400_mbps"].append(udp_search(iperf, ns_a, 1400,
                                                  cfg)["mbps"])
    finally:
        iperf.close()
        lab.drop_netns(ns_a)
        lab.drop_netns(ns_b)
    return {k: summary(v) for k, v in out.items()}


TUNNEL_KEYS = ("tcp1", "tcp4", "tcp1_retrans", "cpu_per_gb", "udp1400_mbps",
               "udp1400_pps", "udp64_mbps", "udp64_pps", "ping",
               "ping_added", "udp1400_sender_limited",
               "udp64_sender_limited", "ping_slow", "ping_added_warm",
               "cpu_idle_10s",
               "cpu_pinged_10s")


def tunnel_round(lab, kind_a, kind_b, cfg, uniguard, runs, rep, quiet):
    """One run of every measure through a fresh tunnel, appended to runs;
    with quiet, also what the ends cost with nothing to carry. Returns
    what uniguard said about its AEAD at start, if it was at an end."""
    t = Tunnel(lab, kind_a, kind_b, uniguard)
    iperf = Iperf(lab, t.ns_b, INNER[1])
    aead = None
    try:
        r = tcp_run(iperf, t.ns_a, 1, cfg.tcp_secs, t.daemons())
        runs["tcp1"].append(r["gbps"])
        runs["tcp1_retrans"].append(r["retransmits"])
        runs["cpu_per_gb"].append(r.get("cpu_per_gb"))
        time.sleep(0.3)
        runs["tcp4"].append(tcp_run(iperf, t.ns_a, 4, cfg.tcp_secs,
                                    [])["gbps"])
        for size in (1400, 64):
            time.sleep(0.3)
            r = udp_search(iperf, t.ns_a, size, cfg)
            runs["udp%d_mbps" % size].append(r["mbps"])
            runs["udp%d_pps" % size].append(r["pps"])
            runs["udp%d_sender_limited" % size].append(
                1 if r.get("sender_limited") else 0)
        p, added = ping_tunnel(t, cfg.ping_count)
        runs["ping"].append(p)
        runs["ping_added"].append(added)
        # Close enough together that the machine stays warm between
        # them, though too far apart for the daemons' polling to bridge
        # (docs/benchmarks.md, "Issue 18's targets on two machines").
        runs["ping_added_warm"].append(
            ping_tunnel(t, cfg.ping_count, WARM_PING_INTERVAL)[1])
        # Far enough apart that nothing stays awake between them.
        runs["ping_slow"].append(ping(t.ns_a, INNER[1],
                                      cfg.slow_ping_count, 0.1))
        log("  %s-%s run %d: TCP %.2f / %.2f Gbit/s, UDP 1400 %.0f "
            "Mbit/s, UDP 64 %.0f kpps, ping %s ms" % (
                kind_a, kind_b, rep + 1, runs["tcp1"][-1],
                runs["tcp4"][-1], runs["udp1400_mbps"][-1],
                runs["udp64_pps"][-1] / 1e3,
                "%.3f" % p if p is not None else "-"))
        if quiet:
            idle, pinged = quiet_cpu(t, cfg)
            runs["cpu_idle_10s"].append(idle)
            runs["cpu_pinged_10s"].append(pinged)
            log("  %s-%s quiet: %s CPU s per 10 s idle, %s pinged 100/s" % (
                kind_a, kind_b, "%.4f" % idle if idle is not None else "-",
                "%.3f" % pinged if pinged is not None else "-"))
        if kind_a == "ug":
            m = re.search(r"AEAD: (.*)", t.a.log_text())
            aead = m.group(1).strip() if m else None
    finally:
        iperf.close()
        t.close()
    return aead


def measure_tunnels(lab, pairs, cfg, uniguard, meta):
    """Every pairing, taking turns: round after round, one run of each, so
    that the machine's changing load falls on all of them alike."""
    runs = {p: {k: [] for k in TUNNEL_KEYS} for p in pairs}
    for rep in range(cfg.reps):
        for a, b in pairs:
            log("tunnel %s -> %s, round %d" % (
                LABELS.get(a, a), LABELS.get(b, b), rep + 1))
            aead = tunnel_round(lab, a, b, cfg, uniguard, runs[(a, b)], rep,
                                rep == cfg.reps - 1)
            if aead:
                meta["uniguard_aead"] = aead
    return {"%s-%s" % p: {k: summary(v) for k, v in r.items()}
            for p, r in runs.items()}


# What each part of the packet path is worth: uniguard at both ends with
# one part switched off at a time (UNIGUARD_DATAPATH, docs/benchmarks.md).
ABLATIONS = [
    ("everything on", ""),
    ("no TCP coalescing for the tun device", "nocoalesce"),
    ("no tun offloads (no TSO, no coalescing)", "notso"),
    ("no UDP GSO and GRO", "nogso,nogro"),
    ("no batches (one packet per system call)", "batch=1"),
    ("the tun device's default queue (500 packets)", "queue=500"),
    ("no threads (one event loop)", "nothreads"),
    ("busy threads not kept to a CPU each", "nopin"),
    ("no replies sent by the receiving thread", "noanswer"),
    ("no polling after work", "nospin"),
    ("a thread per direction even when quiet", "noshare"),
    ("none of these", "notso,nogso,nogro,batch=1,nothreads,queue=500"),
]


def measure_ablation(lab, cfg, uniguard, others=()):
    """others: (label, binary) rows to measure the same way, such as an
    older build. The variants take turns, one run each per round, so that
    the machine's changing load falls on all of them alike."""
    rows = [(label, knobs, uniguard) for label, knobs in ABLATIONS] + \
        [(label, "", binary) for label, binary in others]
    runs = [{"tcp1": [], "cpu_per_gb": [], "udp1400_mbps": [],
             "ping_added": []} for _ in rows]
    for rep in range(cfg.reps):
        for (label, knobs, binary), r in zip(rows, runs):
            t = Tunnel(lab, "ug", "ug", binary, knobs)
            iperf = Iperf(lab, t.ns_b, INNER[1])
            try:
                tcp = tcp_run(iperf, t.ns_a, 1, cfg.tcp_secs, t.daemons())
                r["tcp1"].append(tcp["gbps"])
                r["cpu_per_gb"].append(tcp.get("cpu_per_gb"))
                time.sleep(0.3)
                r["udp1400_mbps"].append(
                    udp_search(iperf, t.ns_a, 1400, cfg)["mbps"])
                r["ping_added"].append(ping_tunnel(t, cfg.ping_count)[1])
            finally:
                iperf.close()
                t.close()
            log("  round %d, %s: TCP %.2f Gbit/s, UDP 1400 %.0f Mbit/s, "
                "ping +%s ms" % (rep + 1, label, r["tcp1"][-1],
                                 r["udp1400_mbps"][-1],
                                 "%.3f" % r["ping_added"][-1]
                                 if r["ping_added"][-1] is not None
                                 else "-"))
    out = []
    for (label, knobs, _), r in zip(rows, runs):
        row = {k: summary(v) for k, v in r.items()}
        row["label"] = label
        row["knobs"] = knobs
        out.append(row)
    return out


# The C programs.

def compile_program(build_dir, source, core=False, extra_flags=()):
    """build_dir/NAME from harness/bench/NAME.c, optimised as a release
    build is; with core, linked with the core's sources and the crypto
    libraries they call."""
    os.makedirs(build_dir, exist_ok=True)
    flags = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra",
             "-Wno-unused-parameter"] + list(extra_flags)
    out = os.path.join(build_dir, source[:-len(".c")])
    srcs = [os.path.join(HERE, source)]
    if core:
        core_dir = os.path.join(REPO, "core")
        flags += ["-I", core_dir]
        srcs += sorted(os.path.join(core_dir, f)
                       for f in os.listdir(core_dir) if f.endswith(".c"))
        srcs += run(["pkg-config", "--cflags", "--libs", "libsodium",
                     "libcrypto"]).stdout.split() + ["-lpthread"]
    run(["gcc"] + flags + ["-o", out] + srcs, timeout=300)
    return out


def build_programs(build_dir):
    """The crypto ceiling, the core benchmark (both with the core's
    sources) and the probe of the machine's own costs."""
    return (compile_program(build_dir, "crypto_ceiling.c", core=True),
            compile_program(build_dir, "core_bench.c", core=True),
            compile_program(build_dir, "machine_costs.c"))


def json_lines(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.update(json.loads(line))
    return out


def measure_program(argv, cfg, timeout=120):
    """Runs one of the C programs cfg.reps times; each run prints JSON
    lines of figures. Every figure's summary over the runs."""
    runs = {}
    for _ in range(cfg.reps):
        data = json_lines(run([str(x) for x in argv],
                              timeout=timeout).stdout)
        for k, v in data.items():
            runs.setdefault(k, []).append(v)
    return {k: summary(v) for k, v in runs.items()}


def peers_config(lab, n):
    """A gateway's configuration: n clients, each one /32, no endpoint."""
    lines = ["[Interface]", "PrivateKey = " + random_key(), ""]
    for i in range(n):
        lines += ["[Peer]",
                  "PublicKey = " + base64.b64encode(os.urandom(32)).decode(),
                  "AllowedIPs = 10.%d.%d.%d/32" % (
                      64 + (i >> 16), (i >> 8) & 255, i & 255), ""]
    return lab.write("peers-%d.conf" % n, "\n".join(lines))


# wireguard-go refuses a configuration of more peers than this.
GO_MAX_PEERS = 65536


def time_file_load(lab, ns, uniguard, conf):
    """Seconds from starting `uniguard -c conf` to its UAPI socket, which
    the daemon opens only once the file is parsed and applied; None if it
    did not start."""
    ifname = lab.ifname("c")
    sock = os.path.join(SOCK_DIR, ifname + ".sock")
    t0 = time.monotonic()
    proc = lab.spawn(ns, "uniguard-c-" + ifname,
                     [uniguard, "-f", "-v", "error", "-c", conf,
                      "--disable-drop-privileges", "yes", ifname])
    wait_until(lambda: os.path.exists(sock) or proc.poll() is not None,
               timeout=600, interval=0.005, what="uniguard -c's socket")
    took = time.monotonic() - t0
    started = proc.poll() is None
    lab.stop(proc)
    return took if started else None


def measure_peers(lab, cfg, uniguard, kinds=("uniguard",)):
    """Resident memory idle and with n peers, the time `wg setconf` takes
    to load them into a fresh daemon, and (uniguard) the time to start
    with the same peers in a wg-quick file (-c)."""
    ns = lab.netns("m")
    out = {}
    confs = {n: peers_config(lab, n) for n in cfg.peer_counts}
    try:
        for kind in kinds:
            counts = [n for n in cfg.peer_counts
                      if kind == "uniguard" or n <= GO_MAX_PEERS]
            res = {"idle_kib": [], }
            for n in counts:
                res["rss_kib_%d" % n] = []
                res["load_s_%d" % n] = []
                res["bytes_per_peer_%d" % n] = []
                if kind == "uniguard":
                    res["file_load_s_%d" % n] = []
            for _ in range(cfg.reps):
                for n in counts:
                    dev = Daemon(lab, kind, ns, uniguard, "m")
                    time.sleep(0.5)
                    idle = dev.rss_kib()
                    res["idle_kib"].append(idle)
                    t0 = time.monotonic()
                    done = dev.wg("setconf", dev.ifname, confs[n],
                                  timeout=600, check=False)
                    took = time.monotonic() - t0
                    time.sleep(0.5)
                    if done.returncode == 0:
                        rss = dev.rss_kib()
                        res["load_s_%d" % n].append(took)
                        res["rss_kib_%d" % n].append(rss)
                        res["bytes_per_peer_%d" % n].append(
                            (rss - idle) * 1024 / n)
                    else:
                        log("  %s refused %d peers" % (kind, n))
                    dev.stop()
                    if kind == "uniguard":
                        took = time_file_load(lab, ns, uniguard, confs[n])
                        if took is None:
                            log("  uniguard -c refused %d peers" % n)
                        else:
                            res["file_load_s_%d" % n].append(took)
            out[kind] = {k: summary(v) for k, v in res.items()}
    finally:
        lab.drop_netns(ns)
    return out


# Reporting.

def fmt(s, scale=1.0, digits=2):
    if not s:
        return "-"
    return "%.*f (%.*f–%.*f)" % (digits, s["median"] * scale, digits,
                                 s["min"] * scale, digits, s["max"] * scale)


def med(s):
    return s["median"] if s else None


def ratio(a, b):
    if not a or not b or not b["median"]:
        return "-"
    return "%.1f×" % (a["median"] / b["median"])


NET_ROWS = [
    ("TCP, 1 stream (Gbit/s)", "tcp1", 1.0, 2, True),
    ("TCP, 4 streams (Gbit/s)", "tcp4", 1.0, 2, True),
    ("UDP 1400 B loss-free (Mbit/s)", "udp1400_mbps", 1.0, 0, True),
    ("UDP 1400 B loss-free (kpackets/s)", "udp1400_pps", 1e-3, 1, True),
    ("UDP 64 B loss-free (Mbit/s)", "udp64_mbps", 1.0, 1, True),
    ("UDP 64 B loss-free (kpackets/s)", "udp64_pps", 1e-3, 1, True),
    ("ping through the tunnel (ms)", "ping", 1.0, 3, False),
    ("ping added to veth's (ms)", "ping_added", 1.0, 3, False),
    ("ping added to veth's, 0.5 ms apart (ms)", "ping_added_warm", 1.0, 3,
     False),
    ("ping through the tunnel, 100 ms apart (ms)", "ping_slow", 1.0, 3,
     False),
    ("CPU seconds per GB, both ends (TCP 1 stream)", "cpu_per_gb", 1.0, 2,
     False),
    ("CPU seconds per 10 s idle (the busier end)", "cpu_idle_10s", 1.0, 4,
     False),
    ("CPU seconds per 10 s answering 100 pings/s", "cpu_pinged_10s", 1.0,
     3, False),
]


def targets(res):
    net = res.get("net", {})
    ug = net.get("ug-ug", {})
    newest = net.get("gn-gn", {})
    out = []

    def add(issue, name, value, unit, goal, ok):
        """ok: True, False, or None for "not measured here"."""
        out.append({"issue": issue, "target": name, "value": value,
                    "unit": unit, "goal": goal, "met": ok})

    def at_least(v, goal):
        return None if v is None else v >= goal

    if ug:
        v = med(ug.get("tcp1"))
        add(8, "TCP throughput, 1 stream", v, "Gbit/s", ">= 2.5",
            at_least(v, 2.5))
        v = med(ug.get("udp1400_mbps"))
        add(8, "loss-free UDP, 1400 B", v, "Mbit/s", ">= 1000",
            at_least(v, 1000))
        v = med(ug.get("ping_added"))
        add(8, "added ping latency", v, "ms", "<= 0.15",
            None if v is None else v <= 0.15)
    hs = res.get("handshakes")
    if hs:
        v = med(hs.get("handshakes_per_sec"))
        add(8, "handshakes per second per core", v, "/s", ">= 3000",
            at_least(v, 3000))
    peers = res.get("peers", {}).get("uniguard")
    if peers:
        big = max(int(k.rsplit("_", 1)[1]) for k in peers
                  if k.startswith("load_s_"))
        v = med(peers.get("bytes_per_peer_%d" % big))
        add(8, "memory per idle peer (%d peers)" % big, v, "bytes", "< 2048",
            None if v is None else v < 2048)
        v = med(peers.get("load_s_%d" % big))
        add(8, "%d peers loaded" % big, v, "s", "< 2" if big >= 100000 else
            "< 2 (at 100,000)",
            None if v is None else v < 2 and big >= 100000)
        v = med(peers.get("file_load_s_%d" % big))
        add(16, "%d peers loaded from a wg-quick file (-c)" % big, v, "s",
            "< 1" if big >= 100000 else "< 1 (at 100,000)",
            None if v is None else v < 1 and big >= 100000)
    if ug:
        # Issue 18: against the newest wireguard-go, side by side.
        for key, name, goal in (("tcp1", "TCP, 1 stream", 2),
                                ("tcp4", "TCP, 4 streams", 2),
                                ("udp1400_mbps", "loss-free UDP, 1400 B",
                                 3)):
            a, b = med(ug.get(key)), med(newest.get(key))
            v = a / b if a is not None and b else None
            add(18, "%s, against the newest wireguard-go" % name, v, "×",
                ">= %d" % goal, at_least(v, goal))
        v = med(ug.get("cpu_per_gb"))
        # Seconds per GB over 8 Gbit per GB: core-seconds per Gbit.
        v = v / 8 if v is not None else None
        add(18, "daemons' CPU per Gbit/s, TCP 1 stream", v,
            "core-s per Gbit", "<= 0.25", None if v is None else v <= 0.25)
        v = med(ug.get("ping_added"))
        add(18, "added ping latency", v, "ms", "<= 0.05",
            None if v is None else v <= 0.05)
        add(18, "the Nanos gateway's forwarding rate against the kernel's "
            "WireGuard gateway (make lab-bench measures it)", None, "×",
            ">= 1", None)
    return out


def verdict(met, markdown=False):
    if met is None:
        return "not measured here"
    if met:
        return "met"
    return "**not met**" if markdown else "NOT MET"


def markdown(res):
    m = res["meta"]
    lines = ["Run of %s on %s (%s, %d CPUs, kernel %s)%s." % (
        m["date"], m["host"], m["cpu"], m["cpus"], m["kernel"],
        ", quick mode" if m["quick"] else ""),
        ""]
    versions = m.get("wireguard_go", {})
    if versions:
        said = ["Debian's %s" % (versions.get("Debian's") or "(version "
                                 "unknown)")]
        if "other" in versions:
            said.insert(0, "%s (WIREGUARD_GO)" % (versions["other"] or
                                                  "version unknown"))
        lines += ["wireguard-go versions measured: %s." % " and ".join(said),
                  ""]
    if m.get("uniguard_aead"):
        lines += ["uniguard's transport AEAD (chosen at start): %s." %
                  m["uniguard_aead"], ""]
    lines += [
        "Machine load: load average %s at the start and %s at the end; "
        "%.0f%% of all CPUs busy with other work just before the run." % (
            "/".join("%.2f" % x for x in m["load_start"]),
            "/".join("%.2f" % x for x in m.get("load_end", [0, 0, 0])),
            100 * m["busy_start"]),
        "",
        "Median (min–max) of %d runs each." % m["reps"], ""]
    net = res.get("net", {})
    if net:
        titles = res["meta"].get("labels", LABELS)
        # uniguard at both ends, then each wireguard-go at both ends with
        # uniguard's ratio to it, then uniguard against each.
        gos = [k for k in ("gn", "go") if "%s-%s" % (k, k) in net]
        mixes = [k for k in ("gn", "go") if "ug-%s" % k in net]
        head = ["measure", "uniguard ↔ uniguard"]
        for k in gos:
            head += ["%s ↔ itself" % titles[k], "ratio"]
        head += ["uniguard → %s" % titles[k] for k in mixes]
        lines += ["| " + " | ".join(head) + " |",
                  "|" + "---|" * len(head)]
        for label, key, scale, digits, higher in NET_ROWS:
            ug = net.get("ug-ug", {}).get(key)
            cells = [label, fmt(ug, scale, digits)]
            for k in gos:
                go = net.get("%s-%s" % (k, k), {}).get(key)
                if higher:
                    r = ratio(ug, go)
                else:
                    r = ratio(go, ug)
                    r = r if r == "-" else "1/" + r
                cells += [fmt(go, scale, digits), r]
            cells += [fmt(net.get("ug-%s" % k, {}).get(key), scale, digits)
                      for k in mixes]
            lines.append("| " + " | ".join(cells) + " |")
        veth = net.get("veth", {})
        lines += ["", "Plain veth, same machine: TCP 1 stream %s Gbit/s, "
                  "ping %s ms, UDP 1400 B loss-free %s Mbit/s (iperf3's own "
                  "limit as a sender here)." % (
                      fmt(veth.get("tcp1")), fmt(veth.get("ping"), digits=3),
                      fmt(veth.get("udp1400_mbps"), digits=0))]
        for key in sorted(k for k in net if k != "veth"):
            a, b = key.split("-")
            label = "%s %s %s" % (titles.get(a, a), "↔" if a == b else "→",
                                  titles.get(b, b))
            for size in (1400, 64):
                lim = net.get(key, {}).get("udp%d_sender_limited" % size)
                if lim and lim["max"]:
                    lines.append(
                        "%s, UDP %d B: in %d of %d runs nothing was lost "
                        "even at the fastest iperf3 sends, so the figure "
                        "is iperf3's limit, not the tunnel's." % (
                            label, size, sum(lim["runs"]), len(lim["runs"])))
        lines.append("")
    other = []
    c = res.get("crypto")
    if c:
        ceilings = []
        for prefix, lib in (("", "libsodium"), ("libcrypto_", "libcrypto")):
            seal, opn = c.get(prefix + "seal_gbps"), c.get(prefix + "open_gbps")
            if not seal:
                continue
            other.append(("crypto ceiling, %s: ChaCha20-Poly1305 seal, "
                          "1420 B, 1 core (Gbit/s)" % lib, fmt(seal)))
            other.append(("crypto ceiling, %s: open, 1420 B, 1 core "
                          "(Gbit/s)" % lib, fmt(opn)))
            other.append(("crypto ceiling, %s: seal, 1420 B, 1 core "
                          "(kpackets/s)" % lib,
                          fmt(c.get(prefix + "seal_pps"), 1e-3, 0)))
            other.append(("crypto ceiling, %s: seal on every core at once, "
                          "total (Gbit/s)" % lib,
                          fmt(c.get(prefix + "parallel_gbps"))))
            if opn:
                # Both ends on this machine: each packet is sealed once
                # and opened once, and all the cores share that work.
                ceilings.append((res["meta"]["cpus"] / (
                    1 / med(seal) + 1 / med(opn)), lib))
        tcp = med(net.get("ug-ug", {}).get("tcp1")) if net else None
        if tcp and ceilings:
            both, lib = max(ceilings)
            other.append(("uniguard TCP 1 stream as a fraction of the "
                          "ceiling for a tunnel with both ends here "
                          "(every core sealing and opening with %s: "
                          "%.2f Gbit/s)" % (lib, both),
                          "%.0f%%" % (100 * tcp / both)))
    mc = res.get("machine")
    if mc:
        other.append(("this machine: a system call, round trip (µs)",
                      fmt(mc.get("syscall_us"), digits=2)))
        for key, what in (("handoff_one_cpu_us", "both on one CPU"),
                          ("handoff_two_cpus_us", "one on each of two CPUs"),
                          ("handoff_after_quiet_us", "after 10 ms of quiet, "
                           "placed by the scheduler")):
            if mc.get(key):
                other.append(("this machine: work handed from one process "
                              "to another asleep, %s (µs)" % what,
                              fmt(mc[key], digits=1)))
    hs = res.get("handshakes")
    if hs:
        other.append(("handshakes completed per second, one core, flood "
                      "of valid initiations", fmt(hs.get(
                          "handshakes_per_sec"), 1, 0)))
    a = res.get("allowedips")
    if a:
        n = int(med(a["prefixes"]))
        other.append(("allowed-IPs lookups per second, %s prefixes "
                      "(millions)" % "{:,}".format(n),
                      fmt(a.get("lookups_per_sec"), 1e-6, 2)))
        other.append(("allowed-IPs: time to insert %s prefixes (s)" %
                      "{:,}".format(n), fmt(a.get("insert_s"))))
    for kind, p in sorted(res.get("peers", {}).items()):
        other.append(("%s resident memory, idle (MiB)" % kind,
                      fmt(p.get("idle_kib"), 1 / 1024)))
        for key in sorted(p, key=lambda k: (k.split("_")[-1], k)):
            if key.startswith("rss_kib_"):
                n = int(key.rsplit("_", 1)[1])
                other.append(("%s resident memory, %s peers (MiB)" % (
                    kind, "{:,}".format(n)), fmt(p[key], 1 / 1024)))
                other.append(("%s memory per idle peer, %s peers (bytes)"
                              % (kind, "{:,}".format(n)),
                              fmt(p["bytes_per_peer_%d" % n], 1, 0)))
                other.append(("%s time to load %s peers with wg setconf "
                              "(s)" % (kind, "{:,}".format(n)),
                              fmt(p["load_s_%d" % n], 1, 3)))
                if "file_load_s_%d" % n in p:
                    other.append((
                        "%s time to start with %s peers in a wg-quick "
                        "file, -c (s)" % (kind, "{:,}".format(n)),
                        fmt(p["file_load_s_%d" % n], 1, 3)))
    if "wireguard-go" in res.get("peers", {}):
        big = [n for n in res["meta"].get("peer_counts", []) if
               n > GO_MAX_PEERS]
        if big:
            other.append(("wireguard-go with %s peers" % "{:,}".format(
                big[0]), "refused (its limit is 65,536 peers)"))
    if other:
        lines += ["| measure | median (min–max) |", "|---|---|"]
        lines += ["| %s | %s |" % row for row in other]
        lines.append("")
    abl = res.get("ablation")
    if abl:
        lines += ["What each part of the packet path is worth (uniguard at "
                  "both ends, one part switched off at a time):", "",
                  "| packet path | TCP 1 stream (Gbit/s) | UDP 1400 B "
                  "loss-free (Mbit/s) | ping added (ms) | CPU s per GB |",
                  "|---|---|---|---|---|"]
        for row in abl:
            lines.append("| %s%s | %s | %s | %s | %s |" % (
                row["label"], " (`%s`)" % row["knobs"] if row["knobs"]
                else "", fmt(row.get("tcp1")),
                fmt(row.get("udp1400_mbps"), digits=0),
                fmt(row.get("ping_added"), digits=3),
                fmt(row.get("cpu_per_gb"))))
        lines.append("")
    t = res.get("targets", [])
    if t:
        lines += ["| target | issue | goal | measured | |",
                  "|---|---|---|---|---|"]
        for x in t:
            v = x["value"]
            lines.append("| %s | %d | %s %s | %s | %s |" % (
                x["target"], x.get("issue", 8), x["goal"], x["unit"],
                "-" if v is None else "%.3g %s" % (v, x["unit"]),
                verdict(x["met"], markdown=True)))
        lines.append("")
    return "\n".join(lines)


def plot(res, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return False
    net = res.get("net", {})
    if not net:
        return False
    titles = res["meta"].get("labels", LABELS)
    colors = {"ug-ug": "#1f77b4", "gn-gn": "#d62728", "go-go": "#ff7f0e",
              "ug-gn": "#9467bd", "ug-go": "#2ca02c"}
    pairs = []
    for key in ("ug-ug", "gn-gn", "go-go", "ug-gn", "ug-go"):
        if key in net:
            a, b = key.split("-")
            pairs.append((key, "%s ↔ %s" % (titles[a], titles[b])
                          if a == b else "%s → %s" % (titles[a], titles[b]),
                          colors[key]))
    tests = [("tcp1", "TCP 1 stream", 1.0), ("tcp4", "TCP 4 streams", 1.0),
             ("udp1400_mbps", "UDP 1400 B\nloss-free", 1e-3),
             ("udp64_mbps", "UDP 64 B\nloss-free", 1e-3)]
    def short_label(key):
        if key == "veth":
            return "veth alone"
        a, b = key.split("-")
        short = {k: v.replace("wireguard-go", "wg-go")
                 for k, v in titles.items()}
        return "%s ↔ itself" % short[a] if a == b else "%s → %s" % (
            short[a], short[b])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5),
                                   gridspec_kw={"width_ratios": [3, 1.4]})
    width = 0.8 / len(pairs)
    for i, (key, label, color) in enumerate(pairs):
        xs, ys, lo, hi = [], [], [], []
        for j, (t, _, scale) in enumerate(tests):
            s = net.get(key, {}).get(t)
            if not s:
                continue
            xs.append(j + (i - (len(pairs) - 1) / 2) * width)
            ys.append(s["median"] * scale)
            lo.append((s["median"] - s["min"]) * scale)
            hi.append((s["max"] - s["median"]) * scale)
        ax1.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=label,
                color=color)
    ax1.set_xticks(range(len(tests)))
    ax1.set_xticklabels([t[1] for t in tests])
    ax1.set_ylabel("Gbit/s (inner)")
    ax1.set_title("Throughput through the tunnel")
    ax1.legend(fontsize=8)
    names, ys, lo, hi, colors = [], [], [], [], []
    veth = net.get("veth", {}).get("ping")
    for key, label, color in [("veth", "veth alone", "#7f7f7f")] + pairs:
        s = veth if key == "veth" else net.get(key, {}).get("ping")
        if not s:
            continue
        names.append(short_label(key))
        ys.append(s["median"])
        lo.append(s["median"] - s["min"])
        hi.append(s["max"] - s["median"])
        colors.append(color)
    ax2.bar(range(len(ys)), ys, yerr=[lo, hi], capsize=3, color=colors)
    ax2.set_xticks(range(len(ys)))
    ax2.set_xticklabels(names, fontsize=7, rotation=35, ha="right")
    ax2.set_ylabel("ms")
    ax2.set_title("Ping round trip")
    fig.suptitle("uniguard against wireguard-go, both ends on one machine "
                 "(median, min–max)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


DOC_BEGIN = "<!-- latest run: begin (written by harness/bench/bench.py) -->"
DOC_END = "<!-- latest run: end -->"


def update_docs(table):
    path = os.path.join(REPO, "docs", "benchmarks.md")
    if not os.path.exists(path):
        return
    with open(path) as f:
        text = f.read()
    if DOC_BEGIN not in text or DOC_END not in text:
        return
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    body = table + "\n![uniguard against wireguard-go](../harness/bench/" \
        "results/latest.png)\n"
    with open(path, "w") as f:
        f.write(head + DOC_BEGIN + "\n\n" + body + "\n" + DOC_END + tail)


# The run.

SECTIONS = ["veth", "tunnels", "crypto", "handshakes", "allowedips", "peers",
            "ablation"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uniguard", default=os.path.join(REPO, "build",
                                                       "uniguard"))
    ap.add_argument("--build", default=os.path.join(REPO, "build", "bench"))
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--only", default="")
    ap.add_argument("--wireguard-go", default=os.environ.get("WIREGUARD_GO",
                                                            ""),
                    metavar="PATH", help="another wireguard-go (such as "
                    "the newest release) in a column beside Debian's "
                    "(WIREGUARD_GO)")
    ap.add_argument("--pairs", default="",
                    help="the tunnels, e.g. ug-ug,gn-gn,go-go,ug-gn,ug-go "
                    "(ug uniguard, go Debian's wireguard-go, gn the one of "
                    "--wireguard-go)")
    ap.add_argument("--compare", action="append", default=[],
                    metavar="LABEL=BINARY",
                    help="with the ablation, also another uniguard build")
    ap.add_argument("--ablation", action="store_true",
                    help="also measure each part of the packet path "
                    "switched off (BENCH_ABLATION=1; about 4 more minutes)")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    for s in only:
        if s not in SECTIONS:
            ap.error("unknown section " + s)
    sections = only or [s for s in SECTIONS if s != "ablation"]
    if (args.ablation or os.environ.get("BENCH_ABLATION") == "1") and \
            "ablation" not in sections:
        sections.append("ablation")
    versions = {"Debian's": go_version("wireguard-go")}
    LABELS["go"] = "Debian's wireguard-go %s" % (versions["Debian's"] or "")
    if args.wireguard_go:
        other = os.path.abspath(args.wireguard_go)
        if not os.access(other, os.X_OK):
            sys.exit("bench: no wireguard-go binary at %s" % other)
        KINDS["gn"] = "wireguard-go-other"
        GO_BINARIES["wireguard-go-other"] = other
        versions["other"] = go_version(other)
        LABELS["gn"] = "wireguard-go %s" % (versions["other"] or "(other)")
    default_pairs = "ug-ug,gn-gn,go-go,ug-gn" if args.wireguard_go else \
        "ug-ug,go-go,ug-go"
    pairs = [tuple(p.split("-")) for p in (args.pairs or
                                          default_pairs).split(",") if p]
    for p in pairs:
        if len(p) != 2 or p[0] not in KINDS or p[1] not in KINDS:
            ap.error("unknown pairing %s (gn needs --wireguard-go)" %
                     "-".join(p))
    if os.geteuid() != 0:
        sys.exit("bench: needs root (network namespaces)")
    uniguard = os.path.abspath(args.uniguard)
    if not os.access(uniguard, os.X_OK):
        sys.exit("bench: no uniguard binary at %s" % uniguard)
    for tool in ("ip", "wg", "wireguard-go", "iperf3", "ping", "gcc"):
        if not shutil.which(tool):
            sys.exit("bench: missing tool: " + tool)
    cfg = Settings(args.quick)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    res = {"meta": {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "host": platform.node(), "kernel": platform.release(),
        "cpu": cpu_model(), "cpus": os.cpu_count(), "quick": cfg.quick,
        "reps": cfg.reps, "load_start": loadavg(),
        "peer_counts": list(cfg.peer_counts),
        "busy_start": cpu_busy(2.0), "loss_free": LOSS_FREE,
        "wireguard_go": versions, "labels": dict(LABELS)}}
    log("%d CPUs, load average %s, %.0f%% busy before starting%s" % (
        os.cpu_count(), res["meta"]["load_start"],
        100 * res["meta"]["busy_start"], " (quick mode)" if cfg.quick else ""))
    started = time.monotonic()
    clean_leftovers()
    tmpdir = tempfile.mkdtemp(prefix="uniguard-bench-")
    lab = Lab(tmpdir)
    try:
        if "crypto" in sections or "handshakes" in sections or \
                "allowedips" in sections:
            log("building the C benchmarks")
            crypto_prog, core_prog, costs_prog = build_programs(args.build)
        if "crypto" in sections:
            log("crypto ceiling")
            res["crypto"] = measure_program([crypto_prog, cfg.crypto_secs],
                                            cfg)
            # What a system call and a hand-off between processes cost
            # here: the steps every userspace tunnel takes, whatever its
            # code.
            log("system calls and hand-offs between processes")
            res["machine"] = measure_program([costs_prog], cfg)
        net = {}
        if "veth" in sections or "tunnels" in sections or \
                "ablation" in sections:
            log("plain veth")
            net["veth"] = measure_veth(lab, cfg)
        if "tunnels" in sections:
            net.update(measure_tunnels(lab, pairs, cfg, uniguard,
                                       res["meta"]))
        if net:
            res["net"] = net
        res["meta"]["busy_middle"] = cpu_busy(1.0)
        if "handshakes" in sections:
            log("handshakes under a flood of initiations")
            res["handshakes"] = measure_program(
                [core_prog, "handshakes", cfg.handshake_secs], cfg,
                timeout=600)
        if "allowedips" in sections:
            log("allowed-IPs lookups")
            res["allowedips"] = measure_program(
                [core_prog, "allowedips", cfg.lookup_prefixes], cfg,
                timeout=600)
        if "peers" in sections:
            log("memory and load time with many peers")
            res["peers"] = measure_peers(lab, cfg, uniguard,
                                         ("uniguard", "wireguard-go"))
        if "ablation" in sections:
            log("the packet path with one part switched off at a time")
            others = [tuple(c.split("=", 1)) for c in args.compare]
            res["ablation"] = measure_ablation(lab, cfg, uniguard, others)
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
        lab.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        sys.exit(130)
    finally:
        lab.close()
    shutil.rmtree(tmpdir, ignore_errors=True)
    res["meta"]["load_end"] = loadavg()
    res["meta"]["seconds"] = time.monotonic() - started
    res["targets"] = targets(res)

    os.makedirs(args.results, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    table = markdown(res)
    for name in ("latest", stamp):
        with open(os.path.join(args.results, name + ".json"), "w") as f:
            json.dump(res, f, indent=1)
        with open(os.path.join(args.results, name + ".md"), "w") as f:
            f.write(table + "\n")
    if plot(res, os.path.join(args.results, "latest.png")):
        shutil.copy(os.path.join(args.results, "latest.png"),
                    os.path.join(args.results, stamp + ".png"))
    if not only and not cfg.quick:
        update_docs(table)
    print()
    print(table)
    print("Results in %s (latest.md, latest.json, latest.png); the run took "
          "%.0f s." % (args.results, res["meta"]["seconds"]))
    for t in res["targets"]:
        v = t["value"]
        print("target (issue %d): %-52s %-20s %s" % (
            t.get("issue", 8), t["target"],
            "-" if v is None else "%.3g %s" % (v, t["unit"]),
            verdict(t["met"]) + ("" if t["met"] or t["met"] is None else
                                 " (goal %s %s)" % (t["goal"], t["unit"]))))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


if __name__ == "__main__":
    main()
