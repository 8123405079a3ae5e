# SPDX-License-Identifier: MIT
"""One lab run: prepares the guest images, builds the topology, boots the
VMs, brings the clients up, runs the scenarios and tears everything down."""

import concurrent.futures
import os
import shutil
import signal

from ugtools import keys, tcpxfer

from . import (deps, gce, gce_lab, ha_lab, images, metadata_lab, nanos,
               nanosbuild, ops_lab, topology)
from .clients import UserspaceClient, VMClient
from .topology import (GATEWAY_IP, HOST_IP, NS_HOST, NS_INET, NS_VPC,
                       PUB_ROUTER, VPC_ROUTER, Topology)
from .util import (REPO_DIR, WORK_DIR, LabError, Steps, detail,
                   now, run, say)
from .vm import VM

RUN_DIR = os.path.join(WORK_DIR, "run")
IMAGE_DIR = os.path.join(WORK_DIR, "images")

GATEWAY_MAC = "52:54:00:0a:f0:0a"
CLIENT_VM_MAC = "52:54:00:c6:33:14"
CLIENT_VM_ADDR = "198.51.100.20"
CLIENT_VM_VPN = "10.0.0.20"
BOOT_TIMEOUT = 120
# Kernel messages may share a console line, so markers are not anchored.
EXEC_MARK = r"uglab: \[[\d.]+\] exec "
CLIENT_UP_MARK = r"uglab: wg-quick up"
# The client of make lab-bench (bench_lab.py).
BENCH_CLIENT_IFNAME = "ugbench"
# Every interface name a lab client uses: the UAPI sockets of wireguard-go
# live in the machine's /var/run/wireguard, shared by all namespaces.
CLIENT_IFNAMES = ("utun2", "ugc2", "ugc3", "ugbad", BENCH_CLIENT_IFNAME) + \
    ha_lab.CLIENT_IFNAMES


class Result:
    def __init__(self, name, title):
        self.name = name
        self.title = title
        self.passed = None
        self.seconds = 0.0
        self.detail = ""


def find_gateway_app(choice):
    """The gateway application: --gateway-app, $UNIGUARD or build/uniguard
    (`make lab` builds it)."""
    path = choice or os.environ.get("UNIGUARD") or os.path.join(
        REPO_DIR, "build", "uniguard")
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return os.path.abspath(path)
    raise LabError("no uniguard binary at %s: run `make` first, or name one "
                   "with --gateway-app" % path)


def remove_stale_sockets():
    for name in CLIENT_IFNAMES:
        p = "/var/run/wireguard/%s.sock" % name
        if os.path.exists(p):
            os.unlink(p)


def record_qemu_pid(vm):
    """Notes a started VM's QEMU, which cleanup_leftovers ends if a
    crashed run left it."""
    with open(os.path.join(RUN_DIR, "qemu.pids"), "a") as f:
        f.write("%d %s\n" % (vm.proc.pid, vm.name))


def cleanup_leftovers(quiet=False):
    """Removes whatever a crashed run left: namespaces with their
    processes, QEMU processes it recorded, sockets, the run directory."""
    gone = topology.destroy_all()
    pidfile = os.path.join(RUN_DIR, "qemu.pids")
    killed = []
    if os.path.exists(pidfile):
        for line in open(pidfile):
            pid = int(line.split()[0])
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if b"qemu-system" not in f.read():
                        continue
            except OSError:
                continue
            topology.kill_pids([pid])
            killed.append(pid)
    remove_stale_sockets()
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    if not quiet:
        say("cleanup: removed %d namespaces%s, run directory %s" % (
            len(gone), (" (%s)" % " ".join(gone)) if gone else "",
            RUN_DIR))
        if killed:
            say("cleanup: ended QEMU processes %s" % killed)
    return gone


class Lab:
    def __init__(self, args):
        self.args = args
        self.steps = Steps()
        self.results = []
        self.metrics = {"boot": {}, "first_reply": {}, "rtt": {},
                        "restart": {}}
        self.outdir = os.path.abspath(args.out)
        self.topo = Topology()
        self.gw = None
        self.cvm = None
        # Every VM booted in this run (record_pid), for console_tails.
        self.vms = []
        self.clients = {}
        self.vmclient = None
        self.guest = None
        self.choice = None
        self.nanos_kernel = None
        # Compute Engine mode (--gce, --gce-artifact): the gateway boots
        # from the GCE archive's disk.raw on GCE-like devices, with DHCP.
        self.gce = bool(args.gce or args.gce_artifact)
        self.gce_info = None
        self.dhcp = None
        self.app = None
        self.kernel_pkg = None
        self.installed = []
        self.started = now()
        # Gateways 1 and 2 and the controller (ha_lab): the scenarios
        # sharded and ha-restart.
        self.shards = ha_lab.Shards(self)
        # The metadata server stand-in and the client it lets in
        # (scenario peer-added-live).
        self.metadata = None

    def app_cmdline(self):
        name = "uniguard"
        if self.guest == "nanos":
            return "%s %s" % (name, " ".join(nanos.seed_args()))
        return "%s %s" % (name, images.GATEWAY_ARGS)

    # ----------------------------------------------------------- setup

    def choose_guest(self):
        """Decides the guest before anything else and says it on the
        lab's first line; raises LabError when --guest nanos cannot be
        had."""
        a = self.args
        if a.gce_artifact:
            # A given Compute Engine archive says its guest.
            tarball = os.path.abspath(a.gce_artifact)
            guest = gce.archive_guest(gce.read_manifest(tarball))
            self.choice = nanos.Choice(
                guest, source="the Compute Engine archive " + tarball,
                why="the Compute Engine archive %s holds the Linux microVM"
                % tarball)
        else:
            self.choice = nanos.choose(a.guest, may_build=not a.no_build)
        self.guest = self.choice.guest
        self.nanos_kernel = self.choice.kernel
        print(self.choice.line(), flush=True)

    def guest_note(self):
        """The guest and why, for the closing lines and the report."""
        c = self.choice
        if not c:
            return "guest: none chosen"
        if c.guest == "linux":
            return "guest: linux, because " + c.why
        return "guest: nanos (%s)" % (
            self.nanos_kernel["source"] if self.nanos_kernel else c.source)

    def prepare(self):
        a = self.args
        build_nanos = self.choice.build
        with self.steps.step("host packages"):
            self.installed = deps.install_missing(
                not a.no_install, deps.HOST_PACKAGES + (
                    nanosbuild.BUILD_PACKAGES if build_nanos else []))
            detail("installed: " + (" ".join(self.installed) or "none"))
        if build_nanos:
            # Sources that cannot be had were found out before the first
            # line; a build that fails now stops the run (GUEST=auto
            # too): a broken build is a bug to see, not a reason to boot
            # another guest.
            self.nanos_kernel = nanosbuild.build(self.steps)
        self.app = find_gateway_app(a.gateway_app)
        detail("gateway application: %s" % self.app)
        if self.guest == "nanos" and self.nanos_kernel:
            detail("Nanos kernel: %s; %s" % (
                self.nanos_kernel["source"],
                nanos.describe(self.nanos_kernel)))
        with self.steps.step("kernel and busybox packages"):
            self.kdir, self.busybox, self.kernel_pkg = deps.fetch_kernel()
            detail("kernel package %s" % self.kernel_pkg)
        os.makedirs(RUN_DIR, exist_ok=True)
        os.makedirs(IMAGE_DIR, exist_ok=True)
        os.makedirs(self.outdir, exist_ok=True)
        for f in os.listdir(self.outdir):
            if f.startswith("console-") or f == "report.md":
                os.unlink(os.path.join(self.outdir, f))

        with self.steps.step("keys and configuration files"):
            self.make_configs()
        with self.steps.step("gateway image (%s)" % self.guest_label()):
            if self.gce:
                self.prepare_gce()
            elif self.guest == "nanos":
                ndir = os.path.join(IMAGE_DIR, "nanos")
                os.makedirs(ndir, exist_ok=True)
                img = nanos.build(self.nanos_kernel, self.app,
                                  images.gateway_uapi(self.extra_peers),
                                  ndir, GATEWAY_IP, "255.255.0.0",
                                  VPC_ROUTER, extra_args=self.peers_from())
                # Nanos writes to its disk: boot a copy, keep the image.
                self.gw_disk = os.path.join(RUN_DIR, "gateway-nanos.img")
                shutil.copy(img, self.gw_disk)
                detail("%s (manifest and config.json beside it)" % img)
            else:
                from ugtools import wgquick
                self.gw_disk = os.path.join(IMAGE_DIR, "gateway-linux.img")
                ini = images.gateway_ini(self.extra_peers)
                if self.peers_from():
                    ini = wgquick.add_to_interface(
                        ini, [("PeersFrom", metadata_lab.SOURCE)])
                detail(images.build_gateway(
                    self.kdir, self.busybox, self.app, ini, self.gw_disk,
                    GATEWAY_IP + "/16", VPC_ROUTER))
        if self.shards.enabled:
            with self.steps.step("gateways 1 and 2 (%s)" % self.guest):
                self.shards.build_images(self.extra_nanos_disk,
                                         self.extra_linux_disk)
        if self.args.gce_artifact:
            # A given archive knows only the peers it was built with: the
            # seed's client, not the lab's client VM.
            self.cvm_disk = None
            return
        with self.steps.step("client VM image (kernel WireGuard)"):
            self.cvm_disk = os.path.join(IMAGE_DIR, "client-linux.img")
            detail(images.build_client(
                self.kdir, self.busybox, self.vm_conf, self.cvm_disk,
                CLIENT_VM_ADDR + "/24", PUB_ROUTER))

    def peers_from(self):
        """The main gateway follows the metadata stand-in's attribute
        (scenario peer-added-live), outside the smoke and Compute Engine
        runs."""
        if self.args.smoke or self.gce:
            return []
        return ["--peers-from", metadata_lab.SOURCE]

    def extra_nanos_disk(self, tap, addr, http):
        """Another gateway's Nanos disk: the same program, configuration
        and peers, only the NIC's static address differs, and the
        operations listener on http when given."""
        ndir = os.path.join(IMAGE_DIR, "nanos-" + tap)
        os.makedirs(ndir, exist_ok=True)
        img = nanos.build(self.nanos_kernel, self.app,
                          images.gateway_uapi(self.extra_peers), ndir, addr,
                          "255.255.0.0", VPC_ROUTER,
                          extra_args=["--http", http] if http else ())
        disk = os.path.join(RUN_DIR, "gateway-nanos-%s.img" % tap)
        shutil.copy(img, disk)
        return disk

    def extra_linux_disk(self, tap, addr, http):
        from ugtools import wgquick
        disk = os.path.join(IMAGE_DIR, "gateway-linux-%s.img" % tap)
        ini = images.gateway_ini(self.extra_peers)
        if http:
            ini = wgquick.add_to_interface(ini, [("HTTP", http)])
        images.build_gateway(self.kdir, self.busybox, self.app, ini, disk,
                             addr + "/16", VPC_ROUTER)
        return disk

    def guest_label(self):
        if not self.gce:
            return self.guest
        return "%s, Compute Engine archive on %s" % (
            self.guest,
            "NVMe" if self.args.gce_disk == "nvme" else "virtio-scsi")

    def prepare_gce(self):
        """The gateway's disk is disk.raw out of a Compute Engine archive:
        the one given (--gce-artifact), or one built here from the lab's
        configuration (--gce) by the same code that builds the archive
        lab/deploy-gcp uploads, for the lab's guest."""
        a = self.args
        if a.gce_artifact:
            tarball = os.path.abspath(a.gce_artifact)
        else:
            ini, desc = gce.gateway_ini(images.gateway_ini(self.extra_peers),
                                        None, gce.DEFAULT_MTU, [])
            tarball = os.path.join(IMAGE_DIR, "gce", "uniguard-lab.tar.gz")
            if self.guest == "nanos":
                _, note = gce.build_artifact(
                    self.app, ini, desc, tarball, kernel=self.nanos_kernel,
                    extra={"config": "the lab's"})
            else:
                _, note = gce.build_artifact(
                    self.app, ini, desc, tarball,
                    linux=(self.kdir, self.busybox),
                    extra={"kernel_package": self.kernel_pkg,
                           "config": "the lab's"})
            detail(note)
        info = gce.inspect(tarball)
        self.gce_info = info
        detail("%s: one member disk.raw, %d GiB (%s), archive %d KiB, "
               "sha256 %s" % (tarball, info["disk_gib"],
                              "sparse" if info["sparse"] else "dense",
                              info["archive_bytes"] // 1024,
                              info["sha256"][:16]))
        # The VM writes to its disk as Compute Engine's would: boot a
        # private copy, unpacked for this run.
        self.gw_disk = gce.unpack(tarball, os.path.join(RUN_DIR, "gce"))

    def make_configs(self):
        server_pub = images.gateway_public_key()
        specs = [("c1", "198.51.100.11", "utun2", "10.0.0.3")]
        # A given Compute Engine archive runs the seed scenario only.
        only_seed = self.args.smoke or self.args.gce_artifact
        if not only_seed:
            specs += [("c2", "198.51.100.12", "ugc2", "10.0.0.12"),
                      ("c3", "198.51.100.13", "ugc3", "10.0.0.13")]
        self.extra_peers = []
        self.client_specs = []
        for name, addr, ifname, vpn in specs:
            if name == "c1":
                text = images.seed_client_ini()
            else:
                priv, pub = keys.keypair()
                text = images.client_ini(priv, vpn + "/32", server_pub)
                self.extra_peers.append((pub, vpn + "/32"))
            self.client_specs.append((name, addr, ifname, text, vpn))
        if not only_seed:
            # The impostor: c2's file with a private key the gateway has
            # never heard of.
            priv, _ = keys.keypair()
            text = images.client_ini(priv, "10.0.0.12/32", server_pub)
            self.client_specs.append(("c4", "198.51.100.14", "ugbad", text,
                                      "10.0.0.12"))
        if self.peers_from():
            self.metadata = metadata_lab.MetadataLab(self, server_pub)
            self.client_specs.append(self.metadata.client_spec())
        if not only_seed and not self.gce:
            self.shards.add_clients(self.client_specs, self.extra_peers,
                                    server_pub)
        priv, pub = keys.keypair()
        self.vm_conf = images.client_ini(priv, CLIENT_VM_VPN + "/32",
                                         server_pub)
        self.extra_peers.append((pub, CLIENT_VM_VPN + "/32"))
        if self.gce:
            # The clients' tunnels fit the 1460-byte VPC, as the files
            # lab/deploy-gcp prints for them do.
            self.vm_conf = gce.with_mtu(self.vm_conf, gce.DEFAULT_MTU)
            self.client_specs = [
                (n, addr, ifn, gce.with_mtu(text, gce.DEFAULT_MTU), vpn)
                for n, addr, ifn, text, vpn in self.client_specs]
        if self.args.gce_artifact:
            detail("gateway public key %s; the archive's peers are its own "
                   "(the seed's client among them)" % server_pub)
            return
        detail("gateway public key %s; %d lab peers added to the seed's "
               "two" % (server_pub, len(self.extra_peers)))

    def record_pid(self, vm):
        record_qemu_pid(vm)
        if vm not in self.vms:
            self.vms.append(vm)

    def boot_gateway(self, label="gateway boot"):
        with self.steps.step(label):
            self.gw.start()
            self.record_pid(self.gw)
            if self.guest == "linux":
                self.gw.wait_console(EXEC_MARK, BOOT_TIMEOUT)
                dt = (self.gw.marker_time(EXEC_MARK)
                      or now() - self.gw.started)
                up = self.gw.uptime_at("exec ")
                detail("application started %.1fs after QEMU start "
                       "(guest uptime %.2fs)" % (dt, up))
                self.metrics["boot"][label] = (dt, up)
            else:
                # Nanos has no init: the daemon's own line says it is up,
                # and the kernel's line for the tun address carries the
                # guest's uptime when the daemon opened the interface.
                try:
                    self.gw.wait_console(nanos.READY_MARK, BOOT_TIMEOUT)
                except LabError as e:
                    raise LabError(str(e) + self.nanos_nvme_note())
                dt = (self.gw.marker_time(nanos.READY_MARK)
                      or now() - self.gw.started)
                up = nanos.uptime_at_tun(self.gw.console_text())
                detail("application ready %.1fs after QEMU start (guest "
                       "uptime at TUNSETIFF %s)" % (
                           dt, "%.2fs" % up if up is not None else "?"))
                self.metrics["boot"][label] = (dt, up)
        return dt

    def nanos_nvme_note(self):
        """Why a silent Nanos on NVMe is the known failure, not a new one:
        its NVMe driver enables MSI-X after the controller, and QEMU's NVMe
        model then never raises the admin queue's interrupt."""
        if not (self.gce and self.args.gce_disk == "nvme"
                and not self.gw.console_text().strip()):
            return ""
        return ("; Nanos wrote nothing on its console: the known failure "
                "on QEMU's NVMe (its NVMe driver enables MSI-X only after "
                "enabling the controller, QEMU's controller then never "
                "signals the admin queue, and the kernel waits for its "
                "root disk; docs/deploy-gcp.md, section 2)")

    def setup(self):
        with self.steps.step("topology (namespaces, bridges, NAT)"):
            self.topo.create()
            self.topo.add_tap(NS_VPC, "gw0", "vpc0")
            self.topo.add_tap(NS_INET, "kvm0", "pub0")
            for name, addr, ifname, text, vpn in self.client_specs:
                c = UserspaceClient(self.topo, name, addr, ifname, text,
                                    vpn, RUN_DIR)
                c.create()
                self.clients[name] = c
            detail("namespaces: " + " ".join(self.topo.namespaces))
        if self.gce:
            with self.steps.step("the VPC as Compute Engine's: MTU 1460, "
                                 "DHCP with a /32 lease"):
                gce_lab.vpc_mtu(self.topo.namespaces)
                self.dhcp = gce_lab.start_dhcp(
                    NS_VPC, "vpc0", self.busybox, RUN_DIR, GATEWAY_MAC,
                    GATEWAY_IP, VPC_ROUTER)
            self.gw = VM("gateway", NS_VPC, self.gw_disk, "gw0",
                         GATEWAY_MAC, RUN_DIR, ctl=False,
                         drive=self.args.gce_disk, machine="pc", rng=False,
                         markers=[EXEC_MARK] if self.guest == "linux"
                         else [nanos.READY_MARK])
        else:
            self.gw = VM("gateway", NS_VPC, self.gw_disk, "gw0", GATEWAY_MAC,
                         RUN_DIR, ctl=False,
                         drive="virtio" if self.guest == "linux" else "blk",
                         markers=[EXEC_MARK] if self.guest == "linux"
                         else [nanos.READY_MARK])
        if self.cvm_disk:
            self.cvm = VM("client", NS_INET, self.cvm_disk, "kvm0",
                          CLIENT_VM_MAC, RUN_DIR, ctl=True,
                          markers=[EXEC_MARK, CLIENT_UP_MARK])
            # Both VMs boot at once: the client VM's boot overlaps the
            # gateway's.
            self.cvm.start()
            self.record_pid(self.cvm)
        if self.metadata:
            with self.steps.step("metadata server stand-in on %s"
                                 % metadata_lab.ADDR):
                self.metadata.start()
        self.boot_gateway()
        if self.gce:
            detail(gce_lab.check_lease(self.guest, self.gw.console_text(),
                                   RUN_DIR, GATEWAY_IP))

    # ------------------------------------------------------ scenarios

    def scenario(self, name, title, fn):
        if self.args.only and name not in self.args.only:
            return None
        r = Result(name, title)
        self.results.append(r)
        t = now()
        say("scenario %s: %s" % (name, title))
        try:
            ok, text = fn()
            r.passed = bool(ok)
            r.detail = text
        except LabError as e:
            r.passed = False
            r.detail = str(e)
        r.seconds = now() - t
        say("scenario %s: %s (%.1fs) %s" % (
            name, "PASS" if r.passed else "FAIL", r.seconds, r.detail))
        if not r.passed:
            self.console_tails()
        return r.passed

    def console_tails(self, lines=15):
        """The end of the console of each VM booted so far (its latest
        boot's), so that a failure can be read from the lab's output alone
        (a CI log holds nothing else)."""
        for vm in self.vms:
            if vm.console:
                tail = vm.console_text().rstrip().splitlines()[-lines:]
                detail("%s, last %d lines:" % (vm.console, len(tail)))
                for line in tail:
                    detail("  | " + line)

    def rtt_note(self, who, sent, got, rtt):
        self.metrics["rtt"][who] = (sent, got, rtt)
        if rtt:
            return "%d/%d replies, rtt %.1f/%.1f/%.1f ms" % (
                got, sent, rtt[0], rtt[1], rtt[2])
        return "%d/%d replies" % (got, sent)

    def s_seed(self):
        c = self.clients["c1"]
        c.up()
        t = c.wait_reply(HOST_IP, 60)
        if t is None:
            why = "no reply from %s within 60s" % HOST_IP
            if c.wait_reply("10.0.0.1", 5) is not None:
                why += ("; the gateway's tunnel address 10.0.0.1 answers, "
                        "so the tunnel works and forwarding does not")
                if self.guest == "nanos" and self.nanos_kernel:
                    fwd = nanos.tree_notes(self.nanos_kernel)["forward"]
                    why += (" (a Nanos kernel needs lwIP's IP_FORWARD "
                            "enabled to forward%s)" % (
                                "; this kernel's src/net/lwipopts.h does "
                                "not enable it" if fwd is False else ""))
            elif c.handshake_age() is None:
                why += "; no handshake with the gateway"
                bad = (nanos.bad_checksums([NS_VPC, NS_HOST])
                       if self.guest == "nanos" else 0)
                if bad:
                    why += ("; the VPC dropped %d IPv4 packets with a bad "
                            "header checksum: Nanos's lwIP leaves the DF "
                            "flag out of the checksum, and uniguard must "
                            "keep DF off on Nanos (docs/lab.md, The Nanos "
                            "image)" % bad)
            return False, why
        self.metrics["first_reply"]["c1 (seed utun2)"] = t
        sent, got, rtt = c.ping(HOST_IP, 10)
        note = self.rtt_note("c1 (seed utun2, wireguard-go)", sent, got,
                             rtt)
        # The other direction: the private host reaches the client through
        # the cloud route.
        hs, hg, hr = self.host_ping(c.vpn_addr, 3)
        ok = got >= sent * 0.9 and hg >= 2
        return ok, ("first reply after %.1fs; %s; 10.240.0.2 -> %s: %d/%d"
                    % (t, note, c.vpn_addr, hg, hs))

    def host_ping(self, target, count):
        from .clients import parse_ping
        cp = run(["ping", "-n", "-q", "-c", str(count), "-i", "0.2", "-W",
                  "2", target], ns=NS_HOST, check=False, timeout=60)
        return parse_ping(cp.stdout)

    def s_kernel_client(self):
        vm = self.cvm
        m, _ = vm.wait_console(CLIENT_UP_MARK, BOOT_TIMEOUT)
        vm.wait_console(EXEC_MARK, 1)
        dt = vm.marker_time(EXEC_MARK)
        up = vm.uptime_at("exec ")
        self.metrics["boot"]["client VM boot"] = (dt, up)
        if "failed" in m.group(0):
            return False, "wg-quick up failed in the client VM"
        vm.wait_console(r"uglab: \[[\d.]+\] control shell", 10)
        self.vmclient = VMClient(vm, "vm", CLIENT_VM_ADDR, "wg0",
                                 CLIENT_VM_VPN)
        t = self.vmclient.wait_reply(HOST_IP, 60)
        if t is None:
            return False, "no reply from %s within 60s" % HOST_IP
        self.metrics["first_reply"]["client VM (kernel WG)"] = t
        sent, got, rtt = self.vmclient.ping(HOST_IP, 10)
        note = self.rtt_note("client VM (kernel WireGuard)", sent, got, rtt)
        return got >= sent * 0.9, "booted in %.1fs, wg-quick up after " \
            "%.1fs; first reply after %.1fs; %s" % (
                dt or 0, vm.marker_time(CLIENT_UP_MARK) or 0, t, note)

    def concurrent_pings(self, names, count=20):
        procs = {n: self.clients[n].ping_async(HOST_IP, count)
                 for n in names}
        res = {}
        if self.vmclient:
            res["vm"] = self.vmclient.ping(HOST_IP, count)
        from .clients import parse_ping
        for n, p in procs.items():
            out, _ = p.communicate(timeout=count * 3 + 30)
            res[n] = parse_ping(out)
        return res

    def s_both_kinds(self):
        if not self.vmclient:
            return False, "the kernel-WireGuard client is not up"
        res = self.concurrent_pings(["c1"])
        ok = all(got >= sent * 0.9 and sent for sent, got, _ in res.values())
        return ok, "; ".join("%s %d/%d" % (n, g, s)
                             for n, (s, g, _) in sorted(res.items()))

    def s_several(self):
        for n in ("c2", "c3"):
            self.clients[n].up()
        firsts = {}
        for n in ("c2", "c3"):
            t = self.clients[n].wait_reply(HOST_IP, 60)
            if t is None:
                return False, "%s got no reply within 60s" % n
            firsts[n] = t
            self.metrics["first_reply"][n] = t
        res = self.concurrent_pings(["c1", "c2", "c3"])
        for n in ("c2", "c3"):
            self.metrics["rtt"][n + " (wireguard-go)"] = res[n]
        ok = all(got >= sent * 0.9 and sent for sent, got, _ in res.values())
        return ok, "%d clients at once: %s" % (len(res), "; ".join(
            "%s %d/%d" % (n, g, s) for n, (s, g, _) in sorted(res.items())))

    def s_tcp(self):
        size = 4 << 20
        got, _, dt = tcpxfer.transfer(NS_HOST, self.clients["c1"].ns,
                                      HOST_IP, size, 0, 5001, timeout=300)
        want = tcpxfer.expected(size, b"up")
        if got != want:
            return False, "received %s, sent %d bytes sha256 %s" % (
                got, size, want["sha256"][:16])
        mbit = size * 8 / dt / 1e6
        self.metrics["tcp"] = (size, dt, mbit)
        return True, "%d MiB c1 -> 10.240.0.2 in %.1fs (%.1f Mbit/s), " \
            "sha256 matches" % (size >> 20, dt, mbit)

    def roam(self, c, new):
        """Moves client c to address new; returns (seconds until replies
        resume or None, packets the gateway sent to the new address)."""
        self.topo.watch(GATEWAY_IP, new)
        sent, got, _ = c.ping(HOST_IP, 3)
        if got == 0:
            raise LabError("%s had no tunnel before roaming" % c.name)
        c.move(new)
        t = c.wait_reply(HOST_IP, 40)
        return t, self.topo.counted(GATEWAY_IP, new)

    def s_roaming(self):
        notes = []
        ok = True
        movers = []
        if self.vmclient:
            movers.append((self.vmclient, "198.51.100.120"))
        movers.append((self.clients["c2"], "198.51.100.112"))
        for c, new in movers:
            old = c.addr
            t, n = self.roam(c, new)
            self.metrics.setdefault("roaming", {})[c.kind] = t
            ok = ok and t is not None and bool(n)
            notes.append("%s %s -> %s: %s, gateway sent %s packets to the "
                         "new address" % (
                             c.name, old, new,
                             "replies again after %.1fs" % t
                             if t is not None else "no reply", n))
        return ok, "; ".join(notes)

    def s_wrong_key(self):
        c = self.clients["c4"]
        self.topo.watch(GATEWAY_IP, c.addr)
        self.topo.watch(c.addr, GATEWAY_IP)
        c.up()
        sent, got, _ = c.ping(HOST_IP, 5, interval=1)
        hs = c.handshake_age()
        tried = self.topo.counted(c.addr, GATEWAY_IP)
        answered = self.topo.counted(GATEWAY_IP, c.addr)
        s1, g1, _ = self.clients["c1"].ping(HOST_IP, 3)
        c.down()
        # The attempts must have reached the gateway, or the test would
        # prove nothing.
        ok = (got == 0 and hs is None and tried and answered == 0
              and g1 > 0)
        return ok, ("%d/%d replies, handshake %s; %s packets reached the "
                    "gateway, it sent %s back; c1 meanwhile %d/%d" % (
                        got, sent, "none" if hs is None else "%ds ago" % hs,
                        tried, answered, g1, s1))

    def s_restart(self):
        self.gw.stop(hard=True)
        say("gateway VM killed; booting it again from the same disk")
        self.boot_gateway("gateway reboot")
        t0 = now()
        # The impostor has no tunnel, nor has the metadata client since it
        # was removed; the sharded scenario's clients are not up yet.
        who = {n: c for n, c in self.clients.items()
               if n not in ("c4", metadata_lab.CLIENT[0]) and
               c.ifname not in ha_lab.CLIENT_IFNAMES}
        if self.vmclient:
            who["vm"] = self.vmclient
        # The clients find out alone: their data goes unanswered, and
        # WireGuard's timers start a new handshake within about 15s.
        with concurrent.futures.ThreadPoolExecutor(len(who)) as ex:
            futs = {n: ex.submit(c.wait_reply, HOST_IP, 90)
                    for n, c in who.items()}
            res = {n: f.result() for n, f in futs.items()}
        lag = now() - t0
        for n, v in res.items():
            self.metrics["restart"][n] = v
        self.metrics["restart_lag"] = lag
        ok = all(v is not None for v in res.values())
        return ok, "recovered after the gateway's restart: " + "; ".join(
            "%s %s" % (n, "%.1fs" % v if v is not None else "never")
            for n, v in sorted(res.items()))

    def run_scenarios(self):
        self.scenario("seed", "the seed's files: nanoswg.conf on the gateway,"
                      " utun2.conf on a client, ping 10.240.0.2",
                      self.s_seed)
        if not self.args.gce_artifact:
            self.run_lab_scenarios()
        if self.gce:
            self.scenario("vpc-mtu", "nothing fragmented or refused for "
                          "size on the 1460-byte VPC", self.s_vpc_mtu)

    def s_vpc_mtu(self):
        """After every other scenario (the TCP transfer among them), and
        pings from the private host to the seed's client of the largest
        packet the tunnel carries and of one too large for it, with DF
        set: nothing in the lab was fragmented, refused for size or
        reassembled.  A gateway whose tunnel MTU were larger than the VPC
        allows would send the too-large one as fragments."""
        from .clients import parse_ping
        c = self.clients["c1"]
        sizes = {}
        for size in (gce.DEFAULT_MTU, gce.DEFAULT_MTU + 40):
            cp = run(["ping", "-n", "-q", "-M", "do", "-c", "3", "-i", "0.2",
                      "-W", "2", "-s", str(size - 28), c.vpn_addr],
                     ns=NS_HOST, check=False, timeout=60)
            sizes[size] = parse_ping(cp.stdout)[:2]
        counts = gce_lab.fragment_counts(self.topo.namespaces)
        bad = {k: v for k, v in counts.items() if v}
        fits = sizes[gce.DEFAULT_MTU]
        ok = not bad and fits[1] >= 2
        return ok, ("%d-byte pings 10.240.0.2 -> %s: %d/%d; %d-byte: %d/%d "
                    "(more than the tunnel carries); %s in the lab's "
                    "namespaces: %s" % (
                        gce.DEFAULT_MTU, c.vpn_addr, fits[1], fits[0],
                        gce.DEFAULT_MTU + 40, sizes[gce.DEFAULT_MTU + 40][1],
                        sizes[gce.DEFAULT_MTU + 40][0],
                        ", ".join(gce_lab.FRAGMENT_COUNTERS),
                        "all 0" if not bad else ", ".join(
                            "%s %d" % kv for kv in sorted(bad.items()))))

    def run_lab_scenarios(self):
        self.scenario("kernel-client", "a client VM with the Linux kernel's "
                      "WireGuard pings 10.240.0.2", self.s_kernel_client)
        if self.args.smoke:
            return
        self.scenario("both-kinds", "userspace and kernel clients at once",
                      self.s_both_kinds)
        self.scenario("several-clients", "several clients at once",
                      self.s_several)
        self.scenario("tcp-transfer", "a TCP transfer through the tunnel",
                      self.s_tcp)
        self.scenario("roaming", "a client moves to a new address",
                      self.s_roaming)
        self.scenario("wrong-key", "a client with a wrong key gets nothing "
                      "through", self.s_wrong_key)
        if self.metadata:
            self.scenario("peer-added-live", "a client not in the image is "
                          "added through the metadata and pings 10.240.0.2 "
                          "with no restart, then removed and cut off; the "
                          "seed's client keeps its session",
                          self.metadata.s_peer_added_live)
        self.scenario("gateway-restart", "the gateway VM restarts; clients "
                      "recover on their own", self.s_restart)
        if self.shards.enabled:
            self.scenario("sharded", "clients spread over %d gateways, "
                          "each with its slice's route, reach 10.240.0.2; "
                          "losing one touches only its clients"
                          % ha_lab.N_GATEWAYS, self.shards.s_sharded)
            self.scenario("operations", "from the VPC: gateway 1's /healthz "
                          "answers 200; a Prometheus server scrapes its "
                          "/metrics while c5 sends a known amount, and "
                          "scrapes exactly the bytes c5 sent; promtool "
                          "check metrics finds nothing",
                          lambda: ops_lab.s_operations(self.shards))
            self.scenario("ha-restart", "a gateway's QEMU is killed; the "
                          "controller restarts it; its client recovers "
                          "with no action", self.shards.s_ha_restart)
            self.scenario("lb-address", "what a gateway does with packets "
                          "addressed to a load balancer's address (a "
                          "measurement)",
                          lambda: ha_lab.s_lb_address(self.shards))

    # ------------------------------------------------------- teardown

    def collect(self):
        """Keeps the consoles in the output directory."""
        for vm in [self.gw, self.cvm] + list(self.shards.vms.values()):
            if not vm:
                continue
            for c in vm.consoles:
                if os.path.exists(c):
                    shutil.copy(c, os.path.join(self.outdir,
                                                os.path.basename(c)))

    def teardown(self):
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            with self.steps.step("teardown"):
                self.shards.stop()
                if self.metadata:
                    self.metadata.stop()
                for vm in (self.gw, self.cvm):
                    if vm:
                        vm.stop()
                try:
                    self.collect()
                except OSError as e:
                    detail("could not keep console logs: %s" % e)
                cleanup_leftovers(quiet=True)
        finally:
            signal.signal(signal.SIGINT, old)
