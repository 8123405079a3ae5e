# SPDX-License-Identifier: MIT
"""Several gateways in the lab's VPC, healed by a controller, as
`lab/deploy-gcp deploy --gateways 3` runs them on Compute Engine: the lab
plays the role of Compute Engine's engine (routes, external addresses,
autohealing), not of a product.

- Gateways 1 and 2 join the lab's gateway 0 in the VPC: the same image
  (the same key and peers; only the NIC's static address differs, where
  Compute Engine would give it by DHCP), each with its public address
  behind the lab's NAT (203.0.113.10, .11, .12 to 10.240.0.10, .11, .12)
  and the route of its slice of the VPN subnet (10.0.0.0/26, .64/26,
  .128/26; deploy_ha.slices cuts them) in the VPC router and the private
  host, more specific than the lab's 10.0.0.0/24 via gateway 0.
- The clients of the slices 1 and 2 (c5 10.0.0.70 on gateway 1, c6
  10.0.0.130 on gateway 2) have their gateway's public address as
  Endpoint; the lab's other clients are in slice 0.
- The controller does what autohealing does: a prober in the VPC
  namespace (wgprobe.py) checks every gateway once a second, and a
  gateway that fails three probes in a row is restarted (its QEMU
  killed if it still runs, started again on the same disk, tap and MAC),
  then left alone until it passes a probe or its initial delay ends.
  Gateways 1 and 2 run the operations listener (--http 0.0.0.0:9586)
  when the daemon has one and are probed with GET /healthz, as Compute
  Engine's health check does; gateway 0 keeps the seed's Args unchanged
  and is probed with a WireGuard handshake from the prober's own peer key
  (the daemon's UDP path, key and peer table), as are all three when the
  daemon has no listener."""

import concurrent.futures
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading

from ugtools import keys

from . import images, nanos
from .deploy_ha import slices
from .topology import (GATEWAY_IP, HOST_IP, LINK_VPC, NS_HOST, NS_INET,
                       NS_VPC, VPN_CIDR, WG_PORT)
from .util import detail, end_group, now, run, say
from .vm import VM

N_GATEWAYS = 3
# Gateway i: VPC address, public address, MAC, tap.  Gateway 0 is the
# lab's own (topology.py, lab.py).
GATEWAYS = [(GATEWAY_IP, "203.0.113.10", "52:54:00:0a:f0:0a", "gw0")] + [
    ("10.240.0.1%d" % i, "203.0.113.1%d" % i, "52:54:00:0a:f0:0%s"
     % "abc"[i], "gw%d" % i) for i in (1, 2)]
# The clients of the other slices: name, internet address, interface,
# tunnel address, gateway.
CLIENTS = [("c5", "198.51.100.15", "ugc5", "10.0.0.70", 1),
           ("c6", "198.51.100.16", "ugc6", "10.0.0.130", 2)]
CLIENT_IFNAMES = tuple(c[2] for c in CLIENTS)
# The prober's peer: an address in the spare slice, never routed.
PROBE_ADDR = "10.0.0.254/32"
HTTP_PORT = 9586
LISTEN = "0.0.0.0:%d" % HTTP_PORT
# Autohealing's knobs, as deploy_ha sets them on Compute Engine, scaled
# to the lab: a 1 s interval, unhealthy after 3 failures; a restarted
# gateway's failures count again once it passed a probe or after 30 s.
INTERVAL = 1.0
THRESHOLD = 3
INITIAL_DELAY = 30.0
WGPROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "wgprobe.py")


def probe_mode(app):
    """http when the daemon has the operations listener, else
    handshake."""
    cp = subprocess.run([app, "--help"], capture_output=True, text=True)
    return "http" if "--http" in (cp.stdout + cp.stderr) else "handshake"


class Controller:
    """Autohealing for the lab: probes every gateway, restarts one that
    fails THRESHOLD probes in a row."""

    def __init__(self, lab, vms, mode, gateway_pub, probe_key):
        self.lab = lab
        self.vms = vms              # name -> VM
        self.mode = mode
        self.gateway_pub = gateway_pub
        self.probe_key = probe_key
        self.fails = {n: 0 for n in vms}
        self.grace = {}             # name -> end of the initial delay
        self.paused = set()
        self.events = []            # (monotonic time, name, what)
        self.last = {}
        self.proc = None
        self.lock = threading.Lock()

    def start(self):
        targets = []
        for i, (addr, _, _, tap) in enumerate(GATEWAYS):
            if self.mode == "http" and i > 0:
                targets.append("%s=http@%s:%d" % (tap, addr, HTTP_PORT))
            else:
                targets.append("%s=handshake@%s:%d" % (tap, addr, WG_PORT))
        argv = ["ip", "netns", "exec", NS_VPC, sys.executable, WGPROBE,
                "--mode", "handshake", "--interval", str(INTERVAL),
                "--pub", self.gateway_pub] + targets
        env = dict(os.environ, UGPROBE_KEY=self.probe_key)
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL,
                                     stdin=subprocess.DEVNULL, text=True,
                                     env=env, start_new_session=True)
        threading.Thread(target=self.loop, daemon=True).start()

    def stop(self):
        end_group(self.proc, 5)

    def note(self, name, what):
        with self.lock:
            self.events.append((now(), name, what))
        say("controller: %s %s" % (name, what))

    def loop(self):
        for line in self.proc.stdout:
            try:
                ups = json.loads(line)["up"]
            except (ValueError, KeyError):
                continue
            t = now()
            for name, up in ups.items():
                self.last[name] = (t, up)
                if name in self.paused:
                    continue
                if up:
                    if name in self.grace:
                        del self.grace[name]
                        self.note(name, "passes its health probe again")
                    self.fails[name] = 0
                    continue
                if name in self.grace and t < self.grace[name]:
                    continue
                self.fails[name] += 1
                if self.fails[name] >= THRESHOLD:
                    self.heal(name)

    def heal(self, name):
        vm = self.vms[name]
        self.note(name, "failed %d probes in a row: restarting it"
                  % self.fails[name])
        self.fails[name] = 0
        vm.stop(hard=True)
        vm.start()
        self.lab.record_pid(vm)
        self.grace[name] = now() + INITIAL_DELAY
        self.note(name, "QEMU started again on the same disk")

    def when(self, name, what, after):
        """The first event of name whose text starts with what, after a
        moment; None if none yet."""
        with self.lock:
            for t, n, w in self.events:
                if n == name and w.startswith(what) and t >= after:
                    return t
        return None

    def wait_healthy(self, name, after, timeout):
        """Waits until gateway name passes a probe made after a moment;
        returns the moment, or None."""
        end = now() + timeout
        while now() < end:
            t, up = self.last.get(name, (0, False))
            if up and t > after:
                return t
            threading.Event().wait(0.2)
        return None


class Shards:
    """The lab's part of --gateways 3: configuration, images, topology,
    VMs, the controller and the scenarios sharded and ha-restart."""

    def __init__(self, lab):
        self.lab = lab
        self.enabled = False
        self.vms = {}
        self.disks = {}
        self.controller = None
        self.mode = None
        self.slices = [str(s) for s in slices(
            ipaddress.ip_network(VPN_CIDR), N_GATEWAYS)]
        self.measured = {}

    # ------------------------------------------------ configuration

    def add_clients(self, specs, extra_peers, server_pub):
        """The sharded clients (their files name their gateway's public
        address) and the prober's peer, for the image every gateway
        runs."""
        self.enabled = True
        self.mode = probe_mode(self.lab.app) if self.lab.app else \
            "handshake"
        for name, addr, ifname, vpn, gi in CLIENTS:
            priv, pub = keys.keypair()
            text = images.client_ini(priv, vpn + "/32", server_pub,
                                     endpoint="%s:%d" % (GATEWAYS[gi][1],
                                                         WG_PORT))
            extra_peers.append((pub, vpn + "/32"))
            specs.append((name, addr, ifname, text, vpn))
        self.probe_priv, probe_pub = keys.keypair()
        extra_peers.append((probe_pub, PROBE_ADDR))
        self.gateway_pub = server_pub
        detail("%d gateways for the sharded scenarios, slices %s; health "
               "probe: %s" % (N_GATEWAYS, ", ".join(self.slices),
                              "GET /healthz on gateways 1 and 2, a "
                              "WireGuard handshake on gateway 0 (the seed's "
                              "Args)" if self.mode == "http" else
                              "a WireGuard handshake (this uniguard has no "
                              "--http listener)"))

    def build_images(self, build_nanos, build_linux):
        """A disk for each extra gateway: the same configuration, only
        the NIC's static address differs."""
        http = LISTEN if self.mode == "http" else None
        for addr, _, _, tap in GATEWAYS[1:]:
            if self.lab.guest == "nanos":
                self.disks[tap] = build_nanos(tap, addr, http)
            else:
                self.disks[tap] = build_linux(tap, addr, http)
        detail("gateways 1 and 2: %s" % ", ".join(
            os.path.basename(d) for d in self.disks.values()))

    # ------------------------------------------------------ network

    def network(self):
        """Taps, public addresses behind the NAT and the slices' routes."""
        for addr, pub, _, tap in GATEWAYS[1:]:
            self.lab.topo.add_tap(NS_VPC, tap, "vpc0")
            run(["nft", "add", "rule", "ip", "uglab", "pre", "ip", "daddr",
                 pub, "udp", "dport", str(WG_PORT), "dnat", "to",
                 "%s:%d" % (addr, WG_PORT)], ns=NS_INET)
            run(["nft", "add", "rule", "ip", "uglab", "post", "ip", "saddr",
                 addr, "oifname", "pub0", "snat", "to", pub], ns=NS_INET)
            run(["ip", "route", "add", addr + "/32", "via", LINK_VPC],
                ns=NS_INET)
        for (addr, _, _, _), s in zip(GATEWAYS, self.slices):
            for ns in (NS_VPC, NS_HOST):
                run(["ip", "route", "add", s, "via", addr], ns=ns)
        # Which gateway each reply to a client is bridged to: frames from
        # the private host, by the gateway's MAC and the client's address.
        run(["nft", "-f", "-"], ns=NS_VPC, input=(
            "table bridge uglab_ha {\n\tchain replies {\n\t\ttype filter hook "
            "forward priority 0; policy accept;\n\t}\n}\n"))
        for gi, (_, _, mac, _) in enumerate(GATEWAYS):
            for name, _, _, vpn in self.clients_by_gateway():
                run(["nft", "add", "rule", "bridge", "uglab_ha", "replies",
                     "ether", "daddr", mac, "ip", "daddr", vpn, "counter"],
                    ns=NS_VPC)

    def clients_by_gateway(self):
        """(name, gateway index, client, tunnel address) of every client
        the sharded scenario pings with."""
        out = []
        for n in ("c1", "c2", "c3"):
            c = self.lab.clients.get(n)
            # Up since the earlier scenarios (not when only these run).
            if c and run(["ip", "link", "show", c.ifname], ns=c.ns,
                         check=False).returncode == 0:
                out.append((n, 0, c, c.vpn_addr))
        for name, _, _, vpn, gi in CLIENTS:
            out.append((name, gi, self.lab.clients[name], vpn))
        return [(n, gi, c, v) for n, gi, c, v in out]

    def bridged(self):
        """{(gateway MAC, client address): frames}."""
        out = run(["nft", "list", "chain", "bridge", "uglab_ha", "replies"],
                  ns=NS_VPC).stdout
        counts = {}
        for line in out.splitlines():
            f = line.split()
            if "ether" in f and "counter" in f:
                mac = f[f.index("daddr") + 1]
                ip = f[f.index("daddr", f.index("daddr") + 1) + 1]
                counts[(mac, ip)] = int(f[f.index("packets") + 1])
        return counts

    def boot(self):
        lab = self.lab
        linux = lab.guest == "linux"
        from .lab import EXEC_MARK, RUN_DIR
        mark = EXEC_MARK if linux else nanos.READY_MARK
        for addr, _, mac, tap in GATEWAYS[1:]:
            vm = VM("gateway-%s" % tap, NS_VPC, self.disks[tap], tap, mac,
                    RUN_DIR, ctl=False,
                    drive="virtio" if linux else "blk", markers=[mark])
            vm.start()
            lab.record_pid(vm)
            self.vms[tap] = vm
        for tap, vm in self.vms.items():
            vm.wait_console(mark, 120)
            detail("gateway %s ready %.1fs after QEMU start"
                   % (tap, vm.marker_time(mark) or now() - vm.started))
        vms = dict(self.vms, gw0=lab.gw)
        self.controller = Controller(lab, vms, self.mode, self.gateway_pub,
                                     self.probe_priv)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
        for vm in self.vms.values():
            vm.stop()

    def consoles(self):
        return [c for vm in self.vms.values() for c in vm.consoles]

    # ---------------------------------------------------- scenarios

    def pings(self, who, count=20):
        procs = {n: c.ping_async(HOST_IP, count) for n, _, c, _ in who}
        from .clients import parse_ping
        res = {}
        for n, p in procs.items():
            out, _ = p.communicate(timeout=count * 3 + 30)
            res[n] = parse_ping(out)[:2]
        return res

    def bring_up(self):
        """Gateways 1 and 2, the controller and the clients c5 and c6,
        once: the sharded scenario starts them, and a scenario that needs
        them when sharded did not run (--only) does."""
        if self.controller:
            return
        self.network()
        self.boot()
        for name, _, _, _, _ in CLIENTS:
            self.lab.clients[name].up()

    def s_sharded(self):
        lab = self.lab
        self.bring_up()
        who = self.clients_by_gateway()
        firsts = {}
        with concurrent.futures.ThreadPoolExecutor(len(who)) as ex:
            futs = {n: ex.submit(c.wait_reply, HOST_IP, 60)
                    for n, _, c, _ in who}
            firsts = {n: f.result() for n, f in futs.items()}
        missing = [n for n, t in firsts.items() if t is None]
        if missing:
            return False, "no reply to %s within 60s" % ", ".join(missing)
        before = self.bridged()
        res = self.pings(who, 10)
        after = self.bridged()
        notes, ok = [], True
        for n, gi, c, vpn in who:
            sent, got = res[n]
            frames = [after.get((GATEWAYS[g][2], vpn), 0) -
                      before.get((GATEWAYS[g][2], vpn), 0)
                      for g in range(N_GATEWAYS)]
            right = frames[gi] >= got > 0 and sum(frames) == frames[gi]
            ok = ok and got >= sent * 0.9 and right
            notes.append("%s (%s, gw%d) %d/%d, replies bridged to gw0/1/2: "
                         "%s" % (n, vpn, gi, got, sent,
                                 "/".join(str(f) for f in frames)))
        # One gateway lost: only its own clients notice.  The controller
        # leaves it down meanwhile, then heals it.
        ctl = self.controller
        ctl.paused.add("gw2")
        self.vms["gw2"].stop(hard=True)
        t_kill = now()
        lost = self.pings(who, 15)
        for n, gi, _, _ in who:
            sent, got = lost[n]
            mine = gi == 2
            ok = ok and ((got == 0) if mine else (got >= sent * 0.9))
        notes.append("gw2 down: " + ", ".join(
            "%s %d/%d" % (n, lost[n][1], lost[n][0]) for n, _, _, _ in who))
        ctl.paused.discard("gw2")
        c6 = lab.clients["c6"]
        back = c6.wait_reply(HOST_IP, 120)
        ok = ok and back is not None
        notes.append("the controller healed gw2; c6 replies again %s after "
                     "the kill" % ("%.1fs" % (now() - t_kill) if back
                                   is not None else "never"))
        return ok, "; ".join(notes)

    def s_ha_restart(self):
        """Kills gateway 1's QEMU as a crash would; the controller finds
        it failing its probes and restarts it; its client recovers with
        no action."""
        lab = self.lab
        ctl = self.controller
        if not ctl:
            return False, "the sharded scenario did not start the gateways"
        c5 = lab.clients["c5"]
        sent, got, _ = c5.ping(HOST_IP, 3)
        if got == 0:
            return False, "c5 had no tunnel before the kill"
        vm = self.vms["gw1"]
        t0 = now()
        os.kill(vm.proc.pid, signal.SIGKILL)
        back = c5.wait_reply(HOST_IP, 150)
        t_back = now()
        detected = ctl.when("gw1", "failed", t0)
        started = ctl.when("gw1", "QEMU started", t0)
        from .lab import EXEC_MARK
        mark = EXEC_MARK if lab.guest == "linux" else nanos.READY_MARK
        ready = vm.marker_time(mark) if started else None
        healthy = ctl.when("gw1", "passes", t0)
        m = {"detect": detected and detected - t0,
             "restart": started and started - t0,
             "ready": (started - t0 + ready) if started and ready else None,
             "healthy": healthy and healthy - t0,
             "client": (t_back - t0) if back is not None else None}
        self.measured = m
        lab.metrics["ha_restart"] = m
        fmt = lambda v: "%.1fs" % v if v else "never"  # noqa: E731
        ok = back is not None and started is not None
        return ok, ("gw1's QEMU killed; the controller saw 3 failed probes "
                    "after %s and restarted it at %s, ready at %s, passing "
                    "its probe at %s; c5 replies again after %s, with no "
                    "action on its side" % (
                        fmt(m["detect"]), fmt(m["restart"]),
                        fmt(m["ready"]), fmt(m["healthy"]),
                        fmt(m["client"])))


# A passthrough network load balancer's address: Compute Engine delivers
# its packets to a backend unchanged, addressed to the load balancer.
LB_ADDR = "203.0.113.100"


def lb_outcome(answered, to_gw, from_gw):
    """What the gateway did with packets addressed to another address."""
    if answered:
        return "delivered to its socket (answered)"
    if from_gw:
        return "forwarded (sent out again toward the VPC's router)"
    if to_gw:
        return "dropped (neither answered nor sent out)"
    return None


def s_lb_address(shards):
    """Sends WireGuard handshake initiations to gateway 1's MAC addressed
    to a load balancer's address, as a passthrough load balancer would
    deliver them, and watches what the gateway does with them: answers
    (delivered to its socket), sends them out again (forwarded) or
    neither (dropped).  The same probe to the gateway's own address is
    the control."""
    if not shards.controller:
        return False, "the sharded scenario did not start the gateways"
    addr, _, mac, _ = GATEWAYS[1]
    # From the private host, as an internal passthrough load balancer
    # would deliver a client's packets: to the gateway's MAC, addressed
    # to the load balancer.  Frames are counted as they enter the VPC
    # bridge: toward the gateway from the host's port, and from the
    # gateway's port if it sends them on.
    run(["ip", "route", "add", LB_ADDR + "/32", "via", addr], ns=NS_HOST)
    run(["nft", "-f", "-"], ns=NS_VPC, input=(
        "table bridge uglab_lb {\n\tchain in {\n\t\ttype filter hook "
        "prerouting priority 0; policy accept;\n\t}\n}\n"))
    for way in ("daddr", "saddr"):
        run(["nft", "add", "rule", "bridge", "uglab_lb", "in", "ether",
             way, mac, "ip", "daddr", LB_ADDR, "counter"], ns=NS_VPC)

    def probe(target):
        cp = run(["ip", "netns", "exec", NS_HOST, sys.executable, WGPROBE,
                  "--mode", "handshake", "--interval", "0.5", "--count", "6",
                  "--pub", shards.gateway_pub, "t=" + target],
                 env={"UGPROBE_KEY": shards.probe_priv}, timeout=60)
        ups = [json.loads(l)["up"]["t"] for l in cp.stdout.splitlines()
               if l.startswith("{")]
        return sum(ups), len(ups)
    own = probe("%s:%d" % (addr, WG_PORT))
    lb = probe("%s:%d" % (LB_ADDR, WG_PORT))
    counts = {}
    out = run(["nft", "list", "chain", "bridge", "uglab_lb", "in"],
              ns=NS_VPC).stdout
    for line in out.splitlines():
        f = line.split()
        if LB_ADDR in f and "ether" in f:
            counts[f[f.index("ether") + 1]] = int(f[f.index("packets") + 1])
    to_gw, from_gw = counts.get("daddr", 0), counts.get("saddr", 0)
    what = lb_outcome(lb[0] > 0, to_gw, from_gw)
    shards.lab.metrics["lb_address"] = {
        "own": own, "lb": lb, "to_gw": to_gw, "from_gw": from_gw,
        "outcome": what}
    ok = own[0] > 0 and what is not None
    return ok, ("control, to %s itself: %d/%d handshakes answered; to the "
                "load balancer's %s via its MAC: %d/%d answered, %d frames "
                "to the gateway, %d sent out by it for %s: %s" % (
                    addr, own[0], own[1], LB_ADDR, lb[0], lb[1], to_gw,
                    from_gw, LB_ADDR, what or "nothing reached it"))
