# SPDX-License-Identifier: MIT
"""The figures of `make lab-bench` (bench_lab.py): each gateway's medians
with min and max over the rounds, their ratios to the kernel-WireGuard
gateway, the table printed and written to the results, and the verdict on
issue 18's lab target.  Pure functions of the runs: no QEMU here."""

from ugtools.iperf import summary

# The gateways, in the table's order; the last is the reference.
GATEWAYS = [
    ("nanos", "uniguard on Nanos"),
    ("linux", "uniguard on the Linux guest"),
    ("kernel", "kernel WireGuard on the Linux guest"),
]
REFERENCE = "kernel"
# What each round measures through a gateway, in Mbit/s: make bench's
# three, then what the UDP search's first probe (iperf3 sending as fast
# as it can) got through, lost packets and all.
MEASURES = [
    ("tcp1", "TCP, 1 stream (Mbit/s)"),
    ("tcp4", "TCP, 4 streams (Mbit/s)"),
    ("udp1400", "UDP 1400 B loss-free (Mbit/s)"),
    ("udp1400_top", "UDP 1400 B at full speed, delivered (Mbit/s)"),
]
# The target is judged on make bench's three.
TARGET_MEASURES = ("tcp1", "tcp4", "udp1400")
TARGET = ("the Nanos gateway's forwarding rate at least that of the kernel "
          "WireGuard gateway on the Linux guest")


def new_runs():
    """Where the rounds put their figures: runs[gateway][measure] is the
    list of one figure per round."""
    return {g: {m: [] for m, _ in MEASURES} for g, _ in GATEWAYS}


def summarize(runs):
    """{gateway: {measure: summary or None}}."""
    return {g: {m: summary(runs[g][m]) for m, _ in MEASURES}
            for g, _ in GATEWAYS}


def ratio(figure, reference):
    """figure's median over the reference's, or None without both (or
    with a reference of nothing)."""
    if not figure or not reference or reference["median"] <= 0:
        return None
    return figure["median"] / reference["median"]


def target(summ):
    """Issue 18's lab target: met when the Nanos gateway's median is at
    least the kernel gateway's on each TARGET_MEASURES; None when one is
    missing.  Returns {"met", "figures": [(label, nanos, kernel, ratio)]}
    with the medians."""
    figures, met = [], True
    for m, label in MEASURES:
        if m not in TARGET_MEASURES:
            continue
        nanos, ref = summ["nanos"][m], summ[REFERENCE][m]
        r = ratio(nanos, ref)
        figures.append((label, nanos and nanos["median"],
                        ref and ref["median"], r))
        if r is None:
            met = None
        elif met is not None and nanos["median"] < ref["median"]:
            met = False
    return {"met": met, "figures": figures}


def verdict(met):
    return {True: "met", False: "not met", None: "not measured"}[met]


def cell(s, r, digits=0):
    if not s:
        return "-"
    text = "%.*f (%.*f–%.*f)" % (digits, s["median"], digits, s["min"],
                                 digits, s["max"])
    return text + (", ×%.2f" % r if r is not None else "")


def table(summ):
    """The markdown table: one row per measure, one column per gateway,
    each figure with its ratio to the kernel gateway."""
    lines = ["| measure | %s |" % " | ".join(t for _, t in GATEWAYS),
             "|---|" + "---|" * len(GATEWAYS)]
    for m, label in MEASURES:
        ref = summ[REFERENCE][m]
        lines.append("| %s | %s |" % (label, " | ".join(
            cell(summ[g][m], ratio(summ[g][m], ref)) for g, _ in GATEWAYS)))
    return "\n".join(lines)


def target_line(t):
    """The closing line: the target, met or not, with the figures."""
    parts = []
    for label, nanos, ref, r in t["figures"]:
        name = label.split(" (")[0]
        if r is None:
            parts.append("%s: not measured" % name)
        else:
            parts.append("%s: Nanos %.0f, kernel %.0f Mbit/s (×%.2f)"
                         % (name, nanos, ref, r))
    return "target (issue 18, lab): %s: %s; %s" % (
        TARGET, verdict(t["met"]).upper(), "; ".join(parts))


def load(avg):
    """"1.00 2.00 3.00" from /proc/loadavg's three figures."""
    return " ".join("%.2f" % x for x in avg) if avg else "?"


def markdown(summ, meta):
    """The results file: how the run was made, the table, the target."""
    t = target(summ)
    lines = ["# make lab-bench, %s" % meta.get("date", ""), "",
             "Through the gateway VM (QEMU %s, TCG, one vCPU, 256 MiB, "
             "virtio-net on a tap) from a client (%s) in a namespace to "
             "the private host 10.240.0.2; %d rounds, the gateways taking "
             "turns; medians (min–max) and the ratio to the "
             "kernel-WireGuard gateway. Host: %s, %d CPUs, load average "
             "%s at the start and %s at the end; %.0f s in all%s." % (
                 meta.get("qemu", "?"), meta.get("client", "?"),
                 meta.get("rounds", 0), meta.get("cpu", "?"),
                 meta.get("cpus", 0), load(meta.get("load_start")),
                 load(meta.get("load_end")), meta.get("seconds", 0),
                 " (quick mode)" if meta.get("quick") else ""),
             "", table(summ), "",
             "Target: %s: **%s**." % (TARGET, verdict(t["met"])), ""]
    notes = meta.get("notes")
    if notes:
        lines += ["Gateways: " + "; ".join(notes) + ".", ""]
    left = meta.get("left_out")
    if left:
        lines += ["Left out (iperf3 failed or hung; the medians are of the "
                  "other rounds):", ""] + ["- " + n for n in left] + [""]
    return "\n".join(lines)
