# SPDX-License-Identifier: MIT
"""`make lab-bench` (lab/bench): the forwarding rate of the gateway VM
under the same QEMU emulation for three gateways, taking turns:

  nanos   uniguard on Nanos (the lab's Nanos image)
  linux   uniguard on the Linux microVM (the lab's Linux gateway image)
  kernel  the Linux kernel's WireGuard on the same Linux microVM, brought
          up by wg-quick from the same gateway configuration (the
          reference implementation on identical virtual hardware)

Each boots in turn on the lab's gateway tap and address (10.240.0.10,
behind 203.0.113.10), one VM at a time; a wg-quick client in a namespace
of the lab's (uglab-cb) sends to the private host 10.240.0.2 what
`make bench` measures, with the same iperf3 code (harness/ugtools/iperf):
TCP with 1 and 4 streams and the highest loss-free rate of 1400-byte UDP
packets.  Rounds of the three, each round in a rotated order, so that the
machine's changing load falls on all of them alike; medians with min and
max, and the ratio to the kernel gateway (bench_report.py).  No figure
fails the run; a gateway that does not boot or forward does."""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import time

from ugtools import keys
from ugtools.iperf import Iperf, tcp_run, udp_search

from . import bench_report, deps, images, nanos, nanosbuild
from .clients import UserspaceClient
from .lab import (BENCH_CLIENT_IFNAME, BOOT_TIMEOUT, CLIENT_UP_MARK,
                  EXEC_MARK, GATEWAY_MAC, IMAGE_DIR, RUN_DIR,
                  cleanup_leftovers, find_gateway_app, record_qemu_pid)
from .main import run_lab, take_lock
from .topology import (GATEWAY_IP, HOST_IP, NS_HOST, NS_VPC, VPC_ROUTER,
                       Topology)
from .util import (REPO_DIR, LabError, Steps, detail, end_group, now,
                   read_file, say, write_file)
from .vm import VM, qemu_binary

# The client: namespace uglab-cb, its internet address, interface and
# tunnel address (a peer the gateway configuration gets, as the lab's
# clients c2 and c3 are).
CLIENT = ("cb", "198.51.100.30", BENCH_CLIENT_IFNAME, "10.0.0.30")
RESULTS = os.path.join(REPO_DIR, "harness", "bench", "results")
# What iperf3 needs on the host, beside the lab's packages.
PACKAGES = [("iperf3", "iperf3")]


class Settings:
    """Rounds and lengths: about 40 s per gateway and round under TCG."""

    def __init__(self, quick, rounds=None):
        self.quick = quick
        self.rounds = rounds or (2 if quick else 3)
        self.tcp_secs = 3 if quick else 5
        self.udp_secs = 1 if quick else 2
        self.udp_steps = 4 if quick else 6


def parse(argv):
    ap = argparse.ArgumentParser(
        prog="lab/bench",
        description="Measures TCP and loss-free UDP through the lab's "
        "gateway VM for uniguard on Nanos, uniguard on the Linux guest and "
        "the Linux kernel's WireGuard on the Linux guest, taking turns, "
        "and prints each figure with its ratio to the kernel gateway.")
    ap.add_argument("--quick", action="store_true",
                    default=os.environ.get("BENCH_QUICK") == "1",
                    help="2 shorter rounds instead of 3 (BENCH_QUICK=1)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds of the three gateways (default 3, quick 2)")
    ap.add_argument("--gateway-app", metavar="PATH",
                    help="the uniguard binary (default: $UNIGUARD, else "
                    "build/uniguard)")
    ap.add_argument("--results", default=RESULTS,
                    help="where lab-latest.md and lab-latest.json go")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of installing missing packages")
    return ap.parse_args(argv)


def spawn(ns, name, argv):
    """A process in namespace ns, its output in the run directory; the
    iperf3 server (ugtools.iperf) is started this way."""
    log = open(os.path.join(RUN_DIR, name + ".log"), "ab")
    try:
        return subprocess.Popen(["ip", "netns", "exec", ns] + argv,
                                stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
    finally:
        log.close()


class Processes:
    """What ugtools.iperf.Iperf starts its server with."""
    spawn = staticmethod(spawn)

    @staticmethod
    def stop(proc):
        end_group(proc, 5)


class BenchLab:
    def __init__(self, args):
        self.args = args
        self.cfg = Settings(args.quick, args.rounds)
        self.steps = Steps()
        self.topo = Topology()
        self.vms = {}
        self.client = None
        self.iperf = None
        self.runs = bench_report.new_runs()
        # Every UDP probe of every turn, for the results' JSON.
        self.probes = []
        # Figures left out, and why (BenchLab.measure).
        self.left_out = []
        self.notes = {}

    # ----------------------------------------------------------- setup

    def prepare(self):
        a = self.args
        # The Nanos gateway is the one the target is about: no fallback.
        choice = nanos.choose("nanos", may_build=True)
        print(choice.line(), flush=True)
        with self.steps.step("host packages"):
            installed = deps.install_missing(
                not a.no_install, deps.HOST_PACKAGES + PACKAGES + (
                    nanosbuild.BUILD_PACKAGES if choice.build else []))
            detail("installed: " + (" ".join(installed) or "none"))
        kernel = nanosbuild.build(self.steps) if choice.build \
            else choice.kernel
        detail("Nanos kernel: %s; %s" % (kernel["source"],
                                         nanos.describe(kernel)))
        app = find_gateway_app(a.gateway_app)
        detail("gateway application: %s" % app)
        with self.steps.step("kernel and busybox packages"):
            kdir, busybox, kpkg = deps.fetch_kernel()
            detail("kernel package %s" % kpkg)
        for d in (RUN_DIR, IMAGE_DIR):
            os.makedirs(d, exist_ok=True)

        name, addr, ifname, vpn = CLIENT
        priv, pub = keys.keypair()
        client_text = images.client_ini(priv, vpn + "/32",
                                        images.gateway_public_key())
        peers = [(pub, vpn + "/32")]
        # The gateway configuration the lab gives uniguard: the seed's
        # nanoswg.conf with the tunnel address and the client's peer
        # (boringtun.conf's UAPI form on Nanos).
        ini = images.gateway_ini(peers)
        disks = {}
        with self.steps.step("gateway image (nanos)"):
            ndir = os.path.join(IMAGE_DIR, "nanos-bench")
            os.makedirs(ndir, exist_ok=True)
            img = nanos.build(kernel, app, images.gateway_uapi(peers), ndir,
                              GATEWAY_IP, "255.255.0.0", VPC_ROUTER)
            # Nanos writes to its disk: boot a copy, keep the image.
            disks["nanos"] = os.path.join(RUN_DIR, "gateway-nanos.img")
            shutil.copy(img, disks["nanos"])
        with self.steps.step("gateway image (linux)"):
            disks["linux"] = os.path.join(IMAGE_DIR, "gateway-linux.img")
            detail(images.build_gateway(kdir, busybox, app, ini,
                                        disks["linux"], GATEWAY_IP + "/16",
                                        VPC_ROUTER))
        with self.steps.step("gateway image (kernel WireGuard)"):
            disks["kernel"] = os.path.join(IMAGE_DIR,
                                           "gateway-kernel-wg.img")
            detail(images.build_kernel_gateway(
                kdir, busybox, images.kernel_gateway_ini(ini),
                disks["kernel"], GATEWAY_IP + "/16", VPC_ROUTER))
        self.disks = disks
        self.client_spec = (name, addr, ifname, client_text, vpn)
        self.notes = {
            "nanos": "%s, the seed's Args" % nanos_note(kernel),
            "linux": "kernel package %s, `uniguard %s`" % (
                kpkg, images.GATEWAY_ARGS),
            "kernel": "the same kernel, wg-quick up of the same "
                      "configuration, IPv4 forwarding"}

    def setup(self):
        with self.steps.step("topology (namespaces, bridges, NAT) and "
                             "client"):
            self.topo.create()
            self.topo.add_tap(NS_VPC, "gw0", "vpc0")
            name, addr, ifname, text, vpn = self.client_spec
            self.client = UserspaceClient(self.topo, name, addr, ifname,
                                          text, vpn, RUN_DIR)
            self.client.create()
        ready = {"nanos": nanos.READY_MARK, "linux": EXEC_MARK,
                 "kernel": CLIENT_UP_MARK}
        for g, _ in bench_report.GATEWAYS:
            self.vms[g] = VM(
                "gateway-" + g, NS_VPC, self.disks[g], "gw0", GATEWAY_MAC,
                RUN_DIR, ctl=False,
                drive="blk" if g == "nanos" else "virtio",
                markers=[ready[g]])
        self.ready = ready

    # ----------------------------------------------------------- rounds

    def boot(self, g):
        vm = self.vms[g]
        vm.start()
        record_qemu_pid(vm)
        m, dt = vm.wait_console(self.ready[g], BOOT_TIMEOUT)
        if g == "kernel" and "failed" in m.group(0):
            raise LabError("wg-quick up failed in the kernel gateway (see %s)"
                           % vm.console)
        return dt

    def measure(self, g, rnd, what, fn):
        """fn()'s figure, or None when iperf3 failed or hung (a probe
        whose end was lost on a saturated path): the figure is left out,
        said and noted, and the next measure gets a fresh server."""
        try:
            return fn()
        except LabError as e:
            note = "round %d, %s, %s: %s" % (
                rnd + 1, dict(bench_report.GATEWAYS)[g], what, e)
            say("left out: " + note)
            self.left_out.append(note)
            self.iperf.close()
            self.iperf = Iperf(Processes, NS_HOST, HOST_IP)
            return None

    def turn(self, g, rnd):
        """One gateway's turn: boot it, bring the client's tunnel up to it,
        measure, stop it."""
        title = dict(bench_report.GATEWAYS)[g]
        vm = self.vms[g]
        ns, cfg, r = None, self.cfg, self.runs[g]
        try:
            dt = self.boot(g)
            # A fresh tunnel: the client's handshake is with this boot.
            self.client.down()
            self.client.up()
            ns = self.client.ns
            t = self.client.wait_reply(HOST_IP, 60)
            if t is None:
                raise LabError("no reply from %s through %s within 60s "
                               "(see %s)" % (HOST_IP, title, vm.console))
            # A server of this turn's own: one whose last test lost its
            # end with the previous gateway stays busy.
            self.iperf = Iperf(Processes, NS_HOST, HOST_IP)
            for streams in (1, 4):
                r["tcp%d" % streams].append(self.measure(
                    g, rnd, "TCP, %d streams" % streams,
                    lambda: tcp_run(self.iperf, ns, streams, cfg.tcp_secs,
                                    [])["gbps"] * 1000))
                time.sleep(0.3)
            udp = self.measure(g, rnd, "UDP 1400 B",
                               lambda: udp_search(self.iperf, ns, 1400, cfg))
            r["udp1400"].append(udp and udp["mbps"])
            r["udp1400_top"].append(udp and udp["probes"][0]["mbps"])
            if udp:
                self.probes.append({"gateway": g, "round": rnd + 1,
                                    "udp1400": udp["probes"]})
        finally:
            if self.iperf:
                self.iperf.close()
                self.iperf = None
            vm.stop()
        say("round %d, %s: ready after %.1fs; TCP %s / %s Mbit/s "
            "(1 / 4 streams), UDP 1400 B loss-free %s Mbit/s (at full "
            "speed %s Mbit/s delivered, %s lost)" % (
                rnd + 1, title, dt, mbit(r["tcp1"][-1]), mbit(r["tcp4"][-1]),
                mbit(r["udp1400"][-1]), mbit(r["udp1400_top"][-1]),
                "%.1f%%" % (100 * udp["probes"][0]["loss"]) if udp else "-"))

    def run_rounds(self):
        order = [g for g, _ in bench_report.GATEWAYS]
        for rnd in range(self.cfg.rounds):
            # Each round starts with the next gateway: none is always first
            # (after the machine was idle) or last.
            k = rnd % len(order)
            for g in order[k:] + order[:k]:
                self.turn(g, rnd)

    # -------------------------------------------------------- teardown

    def teardown(self):
        with self.steps.step("teardown"):
            for vm in self.vms.values():
                vm.stop()
            if self.iperf:
                self.iperf.close()
            if self.client:
                self.client.down()
            out = os.path.join(REPO_DIR, "lab", "out")
            os.makedirs(out, exist_ok=True)
            for vm in self.vms.values():
                for c in vm.consoles:
                    if os.path.exists(c):
                        shutil.copy(c, os.path.join(out, os.path.basename(c)))
            cleanup_leftovers(quiet=True)


def mbit(v):
    return "-" if v is None else "%.0f" % v


def nanos_note(kernel):
    """Which Nanos, in words that hold on any machine (no paths)."""
    if kernel.get("key"):
        pins, _ = nanosbuild.settings()
        return "Nanos %s with IP_FORWARD, built by the lab (cache key %s)" % (
            pins["nanos"]["commit"][:12], kernel["key"])
    return "a Nanos tree built elsewhere (NANOS_DIR)"


def loadavg():
    return [float(x) for x in read_file("/proc/loadavg").split()[:3]]


def cpu_model():
    for line in read_file("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def qemu_version():
    out = subprocess.run([qemu_binary(), "--version"], capture_output=True,
                         text=True).stdout.split()
    return out[3] if len(out) > 3 else "?"


def write_results(directory, summ, meta, probes):
    """lab-latest.md and .json, and a dated copy of each (the .md of the
    latest run is the one kept in the repository)."""
    os.makedirs(directory, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    text = bench_report.markdown(summ, meta)
    for name in ("lab-latest", "lab-" + stamp):
        write_file(os.path.join(directory, name + ".md"), text)
        write_file(os.path.join(directory, name + ".json"), json.dumps(
            {"meta": meta, "figures": summ, "udp_probes": probes},
            indent=1) + "\n")
    return os.path.join(directory, "lab-latest.md")


def main(argv=None):
    args = parse(argv)
    lock = take_lock("lab/bench")
    if not lock:
        return 2
    lab = BenchLab(args)
    t0 = now()
    meta = {"date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "cpu": cpu_model(), "cpus": os.cpu_count(),
            "load_start": loadavg(), "quick": lab.cfg.quick,
            "rounds": lab.cfg.rounds}
    failure = run_lab(lab, lab.run_rounds)
    meta["seconds"] = now() - t0
    meta["load_end"] = loadavg()
    meta["notes"] = ["%s: %s" % (dict(bench_report.GATEWAYS)[g], n)
                     for g, n in lab.notes.items()]
    meta["client"] = lab.client.kind if lab.client else "-"
    meta["left_out"] = lab.left_out
    meta["qemu"] = qemu_version()
    summ = bench_report.summarize(lab.runs)
    print()
    print(bench_report.table(summ))
    if failure:
        print("lab-bench: stopped early: " + failure)
        return 1
    path = write_results(args.results, summ, meta, lab.probes)
    print("lab-bench: %d rounds in %.0f s; results in %s" % (
        lab.cfg.rounds, meta["seconds"], path))
    print(bench_report.target_line(bench_report.target(summ)))
    return 0
