# SPDX-License-Identifier: MIT
"""The lab's closing table and its markdown report."""

import datetime
import os
import platform

TOPOLOGY = r"""
  clients, outside the cloud (198.51.100.0/24)
  uglab-c1   .11  utun2  10.0.0.3   the seed's utun2.conf ---+
  uglab-c2   .12  ugc2   10.0.0.12                          |
  uglab-c3   .13  ugc3   10.0.0.13                          |
  uglab-c4   .14  ugbad  (a wrong key)                      |
  client VM  .20  wg0    10.0.0.20  kernel WireGuard, tap --+
                                                            |
  uglab-inet  "the internet": bridge pub0 198.51.100.1 -----+
              nftables: 203.0.113.10 udp 51820
                        -> DNAT 10.240.0.10:51820
              192.0.2.1
                  |
              192.0.2.2
  uglab-vpc   the VPC 10.240.0.0/16: router 10.240.0.1, bridge vpc0,
              route 10.0.0.0/24 via 10.240.0.10 (the cloud route)
                  |
                  +-- tap gw0: gateway VM 10.240.0.10 (QEMU, %(guest)s)
                  |     %(app)s
                  |     tun %(tun)s, IPv4 forwarding
                  +-- uglab-host 10.240.0.2, route 10.0.0.0/24 via .10
"""


def status(r):
    # None: the run stopped while this scenario ran.
    return "PASS" if r.passed else ("FAIL" if r.passed is False else "STOP")


def table(results):
    w = max([len(r.name) for r in results] + [8])
    lines = ["%-*s  %-6s %8s  %s" % (w, "scenario", "result", "time",
                                     "detail"),
             "%s  %s %s  %s" % ("-" * w, "-" * 6, "-" * 8, "-" * 40)]
    for r in results:
        lines.append("%-*s  %-6s %7.1fs  %s" % (w, r.name, status(r),
                                                 r.seconds, r.detail))
    return "\n".join(lines)


def fmt(v, unit="s"):
    return "-" if v is None else "%.1f%s" % (v, unit)


def markdown(lab, total):
    m = lab.metrics
    res = lab.results
    passed = sum(1 for r in res if r.passed)
    app = lab.app
    out = ["# uniguard lab report", ""]
    out.append("%s on %s, guest **%s**, gateway application: `%s`, "
               "kernel package %s. %d of %d scenarios passed; the run took "
               "%.0fs." % (
                   datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                   platform.node(), lab.guest_label(), app, lab.kernel_pkg,
                   passed, len(res), total))
    out += ["", lab.guest_note() + ".",
            "", "## Topology", "", "```",
            TOPOLOGY.strip("\n") % {
                "guest": lab.guest_label(),
                "app": lab.app_cmdline(),
                "tun": "wg 10.0.0.1/24 (manifest)" if lab.guest == "nanos"
                else "wg0 10.0.0.1/24"},
            "```", ""]
    if lab.gce_info:
        gi = lab.gce_info
        out += ["## Compute Engine archive", "",
                "`%s`: one member `disk.raw` in a gzip-compressed GNU tar, "
                "%d GiB, archive %d KiB, sha256 `%s`. Booted on i440FX with "
                "the disk on %s, a virtio-net NIC, no virtio-rng, console "
                "on ttyS0, address from a DHCP server in the VPC giving a "
                "/32 lease as Compute Engine does." % (
                    gi["path"], gi["disk_gib"], gi["archive_bytes"] // 1024,
                    gi["sha256"], "NVMe" if lab.args.gce_disk == "nvme"
                    else "virtio-scsi"), ""]
    out += ["## Scenarios", "", "| scenario | result | time | detail |",
            "|---|---|---|---|"]
    for r in res:
        out.append("| %s | %s | %.1fs | %s |" % (
            r.name, status(r), r.seconds, r.detail.replace("|", "\\|")))
    out += ["", "## Boot times", "",
            "QEMU under software emulation (TCG), 256 MiB, one vCPU; "
            "'to application' is from QEMU's start (firmware, boot loader, "
            "kernel, init) to the exec of the application; 'guest uptime' "
            "is the kernel's own clock at that moment.", "",
            "| boot | to application | guest uptime |", "|---|---|---|"]
    for k, (dt, up) in m["boot"].items():
        out.append("| %s | %s | %s |" % (k, fmt(dt), fmt(up)))
    out += ["", "## Round trips through the tunnel", "",
            "Ping from each client to the private host 10.240.0.2 "
            "through the gateway VM.", "",
            "| client | replies | min | avg | max |", "|---|---|---|---|---|"]
    for k, (sent, got, rtt) in m["rtt"].items():
        r = rtt or (None, None, None)
        out.append("| %s | %d/%d | %s | %s | %s |" % (
            k, got, sent, fmt(r[0], " ms"), fmt(r[1], " ms"),
            fmt(r[2], " ms")))
    if m["first_reply"]:
        out += ["", "First reply after the tunnel came up (handshake "
                "included): " + ", ".join(
                    "%s %.1fs" % (k, v) for k, v in m["first_reply"].items())
                + "."]
    if "tcp" in m:
        size, dt, mbit = m["tcp"]
        out += ["", "TCP transfer: %d MiB in %.1fs, %.1f Mbit/s." % (
            size >> 20, dt, mbit)]
    if m.get("roaming"):
        out += ["", "Roaming, replies again after the address change: "
                + ", ".join("%s %s" % (k, fmt(v))
                            for k, v in m["roaming"].items())
                + ". (wireguard-go as a client keeps sending from its "
                "vanished source address until its next handshake, about "
                "15s later; the kernel's WireGuard picks the new source at "
                "once.)"]
    if m["restart"]:
        out += ["", "Recovery after the gateway's restart (from the "
                "application's start): " + ", ".join(
                    "%s %s" % (k, fmt(v)) for k, v in m["restart"].items())
                + "."]
    if m.get("ha_restart"):
        h = m["ha_restart"]
        out += ["", "ha-restart, from the kill of gateway 1's QEMU: the "
                "controller saw it fail at %s, restarted it at %s, it was "
                "ready at %s and passed its probe at %s; its client replied "
                "again at %s." % tuple(fmt(h[k]) for k in (
                    "detect", "restart", "ready", "healthy", "client"))]
    out += ["", "## Steps", "", "| step | time | |", "|---|---|---|"]
    for name, dt, ok in lab.steps.records:
        out.append("| %s | %.1fs | %s |" % (name, dt, "" if ok else "FAILED"))
    out += ["", "Console logs of the VMs: " + ", ".join(
        "`%s`" % os.path.basename(c)
        for vm in [lab.gw, lab.cvm] + list(lab.shards.vms.values()) if vm
        for c in vm.consoles) + ".", ""]
    return "\n".join(out)
