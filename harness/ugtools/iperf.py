# SPDX-License-Identifier: MIT
"""iperf3 measures through a path between two network namespaces, shared
by `make bench` (harness/bench/bench.py: tunnels on this machine) and
`make lab-bench` (lab/uglab/bench_lab.py: through the QEMU gateway):
TCP throughput with N streams, the highest loss-free UDP rate for
packets of a given size, and the median with min and max of runs."""

import json
import statistics
import time

from .run import Failure, run

# A UDP probe counts as loss-free when at most this fraction of its
# datagrams is lost: one in ten thousand forgives a stray drop at a
# probe's edges without hiding a rate the tunnel cannot carry.
LOSS_FREE = 1e-4



def summary(values):
    """Median, min, max and the runs of values, None ones left out;
    None when there is none."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "runs": values}


class Iperf:
    """An iperf3 server in ns_server at addr, for a series of tests.  lab
    starts and ends it: lab.spawn(ns, name, argv) returns its Popen,
    lab.stop(proc) ends it, so that the caller's cleanup knows it."""

    def __init__(self, lab, ns_server, addr):
        self.lab = lab
        self.addr = addr
        self.proc = lab.spawn(ns_server, "iperf3", ["iperf3", "-s", "-B",
                                                    addr])
        time.sleep(0.3)

    def client(self, ns, args, secs):
        for attempt in range(3):
            res = run(["ip", "netns", "exec", ns, "iperf3", "-c", self.addr,
                       "-J", "-t", secs] + list(args), check=False,
                      timeout=secs + 60)
            try:
                data = json.loads(res.stdout)
            except ValueError:
                data = {"error": res.stderr or res.stdout}
            if "error" not in data:
                return data
            # The server is still busy with the previous test, or it
            # was not listening yet.
            time.sleep(0.5)
        raise Failure("iperf3 failed: %s" % data.get("error"))

    def close(self):
        self.lab.stop(self.proc)


def tcp_run(iperf, ns, streams, secs, daemons):
    """One TCP run of `streams` streams from ns for secs seconds: Gbit/s
    received, bytes, retransmits, and the daemons' CPU seconds per GB
    (each of daemons has cpu(): its CPU seconds so far)."""
    cpu0 = [d.cpu() for d in daemons]
    data = iperf.client(ns, ["-P", streams], secs)
    cpu1 = [d.cpu() for d in daemons]
    end = data["end"]
    received = end["sum_received"]
    out = {"gbps": received["bits_per_second"] / 1e9,
           "bytes": received["bytes"],
           "retransmits": end["sum_sent"].get("retransmits", 0)}
    if daemons and None not in cpu0 + cpu1 and received["bytes"]:
        out["cpu_per_gb"] = (sum(cpu1) - sum(cpu0)) / (received["bytes"] / 1e9)
    return out


def udp_probe(iperf, ns, size, rate, secs):
    """One UDP run of inner packets of `size` bytes (IPv4 + UDP + payload)
    at rate bit/s of payload (0: as fast as iperf3 sends)."""
    payload = size - 28
    data = iperf.client(ns, ["-u", "-l", payload, "-b", int(rate), "-w",
                             "4M"], secs)
    s = data["end"]["sum"]
    packets = s.get("packets", 0)
    lost = max(0, s.get("lost_packets", 0))
    secs_run = s.get("seconds") or secs
    got = packets - lost
    return {"rate": rate, "packets": packets, "lost": lost,
            "loss": lost / packets if packets else 1.0,
            "pps": got / secs_run, "mbps": got * size * 8 / secs_run / 1e6,
            "sent_bps": packets * payload * 8 / secs_run}


def udp_search(iperf, ns, size, cfg):
    """The highest loss-free rate: a probe at full speed says what the
    sender manages, then bisection between nothing and that. When even
    that is loss-free, the sender (iperf3, one thread) is the limit.
    cfg gives udp_secs (each probe's length) and udp_steps (probes).
    The result is the best loss-free probe (mbps, pps; 0 when none was)
    with every probe made, in order, under "probes"."""
    top = udp_probe(iperf, ns, size, 0, cfg.udp_secs)
    probes = [top]
    if top["loss"] <= LOSS_FREE:
        top["sender_limited"] = True
        return dict(top, probes=probes)
    lo, hi, best = 0.0, top["sent_bps"], None
    rate = top["sent_bps"] * (1 - top["loss"])
    for _ in range(cfg.udp_steps):
        time.sleep(0.3)
        probe = udp_probe(iperf, ns, size, rate, cfg.udp_secs)
        probes.append(probe)
        if probe["loss"] <= LOSS_FREE:
            best, lo = probe, rate
        else:
            hi = rate
        rate = (lo + hi) / 2
    return dict(best or {"mbps": 0.0, "pps": 0.0}, probes=probes)
