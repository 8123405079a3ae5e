# SPDX-License-Identifier: MIT
"""The lab's WireGuard clients: wg-quick in a namespace of its own with
wireguard-go as the userspace implementation, and the client VM running the
Linux kernel's WireGuard through wg-quick, driven over its control shell.
Both answer the same small interface: ping, wait_reply, handshake_age."""

import os
import re
import subprocess
import time

from .util import LabError, debug, now, run, write_file

PING_RX = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
RTT_RX = re.compile(r"(?:rtt|round-trip) min/avg/max(?:/mdev)? = "
                    r"([\d.]+)/([\d.]+)/([\d.]+)")


def parse_ping(out):
    """Returns (sent, received, (min, avg, max) or None)."""
    m = PING_RX.search(out)
    sent, got = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    r = RTT_RX.search(out)
    rtt = tuple(float(x) for x in r.groups()) if r else None
    return sent, got, rtt


class UserspaceClient:
    kind = "wg-quick + wireguard-go"

    def __init__(self, topo, name, addr, ifname, conf_text, vpn_addr,
                 rundir):
        self.topo = topo
        self.name = name
        self.addr = addr
        self.ifname = ifname
        self.vpn_addr = vpn_addr
        self.conf = os.path.join(rundir, ifname + ".conf")
        self.ns = None
        write_file(self.conf, conf_text, 0o600)

    def create(self):
        self.ns = self.topo.add_client(self.name, self.addr)

    def up(self):
        cp = run(["wg-quick", "up", self.conf], ns=self.ns,
                 env={"WG_QUICK_USERSPACE_IMPLEMENTATION": "wireguard-go"},
                 timeout=60)
        if os.path.exists("/sys/module/wireguard") and not os.path.exists(
                "/var/run/wireguard/%s.sock" % self.ifname):
            # wg-quick prefers the kernel's WireGuard when the host has it.
            self.kind = "wg-quick (host kernel WireGuard)"
        debug(cp.stderr.strip())

    def down(self):
        run(["wg-quick", "down", self.conf], ns=self.ns, check=False,
            timeout=30)

    def ping(self, target, count=10, interval=0.2, deadline=None):
        argv = ["ping", "-n", "-q", "-c", str(count), "-i", str(interval),
                "-W", "2", target]
        if deadline:
            argv[1:1] = ["-w", str(deadline)]
        cp = run(argv, ns=self.ns, check=False, timeout=count * 3 + 30)
        return parse_ping(cp.stdout)

    def ping_async(self, target, count=10, interval=0.2):
        argv = ["ip", "netns", "exec", self.ns, "ping", "-n", "-q", "-c",
                str(count), "-i", str(interval), "-W", "2", target]
        return subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def wait_reply(self, target, timeout):
        """Seconds until target first answers a ping, or None."""
        t = now()
        while now() - t < timeout:
            cp = run(["ping", "-n", "-c", "1", "-W", "1", target],
                     ns=self.ns, check=False, timeout=10, quiet=True)
            if cp.returncode == 0:
                return now() - t
        return None

    def handshake_age(self):
        """Seconds since the last handshake, or None if there was none."""
        out = run(["wg", "show", self.ifname, "latest-handshakes"],
                  ns=self.ns, check=False).stdout.split()
        if len(out) < 2 or out[1] == "0":
            return None
        return max(0, int(time.time()) - int(out[1]))

    def transfer_rx(self):
        return self.transfer()[0]

    def transfer(self):
        """(bytes received, bytes sent) of the client's one peer, as its
        WireGuard counts them (`wg show IF transfer`)."""
        out = run(["wg", "show", self.ifname, "transfer"], ns=self.ns,
                  check=False).stdout.split()
        return (int(out[1]), int(out[2])) if len(out) >= 3 else (0, 0)

    def public_key(self):
        return run(["wg", "show", self.ifname, "public-key"],
                   ns=self.ns).stdout.strip()

    def move(self, new_addr):
        """Roams: the client's only address becomes new_addr."""
        old = self.addr
        run(["ip", "addr", "add", new_addr + "/24", "dev", "eth0"],
            ns=self.ns)
        run(["ip", "addr", "del", old + "/24", "dev", "eth0"], ns=self.ns)
        run(["ip", "route", "replace", "default", "via", "198.51.100.1"],
            ns=self.ns)
        self.addr = new_addr


class VMClient:
    kind = "wg-quick + Linux kernel WireGuard (VM)"

    def __init__(self, vm, name, addr, ifname, vpn_addr):
        self.vm = vm
        self.name = name
        self.addr = addr
        self.ifname = ifname
        self.vpn_addr = vpn_addr

    def ping(self, target, count=10, interval=0.2, deadline=None):
        rc, out = self.vm.shell("ping -q -c %d -i %s -W 2 %s"
                                % (count, interval, target),
                                timeout=count * 3 + 30)
        return parse_ping(out)

    def wait_reply(self, target, timeout):
        t = now()
        # A subshell, so that its exit ends only the loop.
        rc, out = self.vm.shell(
            "(n=0; while [ $n -lt %d ]; do ping -c 1 -W 1 %s >/dev/null && "
            "exit 0; n=$((n + 1)); done; exit 1)" % (int(timeout), target),
            timeout=timeout * 1.5 + 30)
        return (now() - t) if rc == 0 else None

    def move(self, new_addr):
        """Roams: the VM's only address becomes new_addr."""
        rc, out = self.vm.shell(
            "sysctl -qw net.ipv4.conf.all.promote_secondaries=1; "
            "ip addr add %s/24 dev eth0 && ip addr del %s/24 dev eth0 && "
            "ip route replace default via 198.51.100.1"
            % (new_addr, self.addr))
        if rc != 0:
            raise LabError("client VM could not move to %s: %s"
                           % (new_addr, out.strip()))
        self.addr = new_addr

    def handshake_age(self):
        rc, out = self.vm.shell("wg show %s latest-handshakes" % self.ifname)
        f = out.split()
        if rc != 0 or len(f) < 2 or f[1] == "0":
            return None
        rc, out2 = self.vm.shell("date +%s")
        try:
            return max(0, int(out2.strip()) - int(f[1]))
        except ValueError:
            return None
