# SPDX-License-Identifier: MIT
"""The integration suite's lab: network namespaces joined by veth links,
WireGuard interfaces run by uniguard or by wireguard-go in them, and the
helpers the tests share (wg output parsing, pcap reading; running
commands, polling, keys and the TCP transfer come from harness/ugtools,
which the QEMU lab uses too, and are offered here under the same names).

Everything a Lab creates is named with the prefix "ugt-" (namespaces) or
"ugt" (interfaces), so that a run that was killed can be cleaned up by the
next one; Lab.close() removes it all, in reverse order of creation.
Addresses live only inside the lab's namespaces: no traffic leaves them.
"""

import itertools
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys

from ugtools import keys, netns, tcpxfer
from ugtools.run import run
from ugtools.wait import wait_until

NS_PREFIX = "ugt-"
IF_PREFIX = "ugt"
SOCK_DIR = "/var/run/wireguard"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED_DIR = os.path.join(REPO, "harness", "data", "seed")


def uniguard_binary():
    path = os.environ.get("UNIGUARD") or os.path.join(REPO, "build", "uniguard")
    return os.path.abspath(path)


# Keys: made by wg, every secret remembered in SECRETS.
SECRETS = keys.SECRETS
genkey, genpsk, pubkey, keypair, key_hex = (
    keys.genkey, keys.genpsk, keys.pubkey, keys.keypair, keys.key_hex)


def leaked_secrets(text):
    """The secrets made so far (ugtools.keys.SECRETS) that text shows,
    base64 or hex."""
    return [k for k in SECRETS if k in text or key_hex(k) in text]


# `wg show IF dump` parsing.

class PeerDump:
    def __init__(self, fields):
        (self.public_key, self.preshared_key, self.endpoint, allowed,
         handshake, rx, tx, keepalive) = fields
        self.allowed_ips = [] if allowed == "(none)" else allowed.split(",")
        self.latest_handshake = int(handshake)
        self.rx = int(rx)
        self.tx = int(tx)
        self.keepalive = keepalive


class Dump:
    def __init__(self, text):
        lines = [line.split("\t") for line in text.strip().split("\n")]
        self.private_key, self.public_key, port, self.fwmark = lines[0]
        self.listen_port = int(port)
        self.peers = {}
        for fields in lines[1:]:
            peer = PeerDump(fields)
            self.peers[peer.public_key] = peer


class Process:
    """A process started in a namespace, its output in a log file."""

    def __init__(self, name, popen, log_path):
        self.name = name
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.popen.poll() is None:
            try:
                self.popen.send_signal(sig)
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


class Netns:
    def __init__(self, lab, name):
        self.lab = lab
        self.name = name

    def __repr__(self):
        return "Netns(%s)" % self.name

    def exec(self, *args, check=True, timeout=60, input=None, env=None):
        return run(args, ns=self.name, check=check, timeout=timeout,
                   input=input, env=env)

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name] + list(args), check=check)

    def sysctl(self, key, value):
        self.exec("sysctl", "-q", "-w", "%s=%s" % (key, value))

    def popen(self, name, args, env=None, stdin=subprocess.DEVNULL):
        return self.lab.spawn(self, name, args, env=env, stdin=stdin)

    def python(self, name, script_args, **kw):
        return self.popen(name, [sys.executable] + list(script_args), **kw)

    def ping(self, addr, count=1, wait=1, size=None, check=False,
             interval=None, timeout=60, extra=()):
        args = ["ping", "-n", "-c", count, "-W", wait]
        if size is not None:
            args += ["-s", size]
        if interval is not None:
            args += ["-i", interval]
        args += list(extra)
        args.append(addr)
        return self.exec(*args, check=check, timeout=timeout)

    def ping_ok(self, addr, timeout=15, **kw):
        """Pings until one reply comes back; returns ping's output."""
        def once():
            res = self.ping(addr, **kw)
            return res.stdout if res.returncode == 0 else None
        return wait_until(once, timeout=timeout, interval=0.01,
                          what="a reply from %s in %s" % (addr, self.name))

    def pids(self):
        return netns.pids(self.name)


class WgDevice:
    """A WireGuard interface run by uniguard or wireguard-go."""

    def __init__(self, lab, ns, ifname, kind, process):
        self.lab = lab
        self.ns = ns            # where the process and its UDP socket are
        self.link_ns = ns       # where the interface is
        self.ifname = ifname
        self.kind = kind
        self.process = process
        self.private_key = None
        self.public_key = None
        self.port = None

    def __repr__(self):
        return "%s(%s in %s)" % (self.kind, self.ifname, self.ns.name)

    @property
    def sock(self):
        return os.path.join(SOCK_DIR, self.ifname + ".sock")

    def wg(self, *args, check=True, input=None):
        return self.ns.exec("wg", *args, check=check, input=input)

    def set(self, *args, check=True):
        return self.wg("set", self.ifname, *args, check=check)

    def setconf(self, text, check=True):
        path = self.lab.write_file(self.ifname + ".setconf", text)
        return self.wg("setconf", self.ifname, path, check=check)

    def dump(self):
        return Dump(self.wg("show", self.ifname, "dump").stdout)

    def showconf(self):
        return self.wg("showconf", self.ifname).stdout

    def peer(self, public_key):
        return self.dump().peers[public_key]

    def configure(self, private_key=None, port=None, fwmark=None):
        """Sets the interface's own key and port."""
        if private_key is None:
            private_key = genkey()
        self.private_key = private_key
        self.public_key = pubkey(private_key)
        path = self.lab.write_file(self.ifname + ".key", private_key + "\n")
        args = ["private-key", path]
        if port is not None:
            args += ["listen-port", port]
        if fwmark is not None:
            args += ["fwmark", fwmark]
        self.set(*args)
        self.port = self.dump().listen_port
        return self

    def add_peer(self, other, allowed_ips, endpoint=None, keepalive=None,
                 psk=None):
        args = ["peer", other.public_key if isinstance(other, WgDevice)
                else other, "allowed-ips", ",".join(allowed_ips)]
        if endpoint is not None:
            args += ["endpoint", endpoint]
        if keepalive is not None:
            args += ["persistent-keepalive", keepalive]
        if psk is not None:
            path = self.lab.write_file(self.ifname + ".psk", psk + "\n")
            args += ["preshared-key", path]
        self.set(*args)

    def up(self, *addresses, mtu=None, routes=()):
        """Addresses (with prefix), the link up, routes through it."""
        for addr in addresses:
            extra = ["nodad"] if ":" in addr else []
            self.link_ns.ip("addr", "add", addr, "dev", self.ifname, *extra)
        if mtu is not None:
            self.link_ns.ip("link", "set", self.ifname, "mtu", mtu)
        self.link_ns.ip("link", "set", self.ifname, "up")
        for route in routes:
            self.link_ns.ip("-6" if ":" in route else "-4", "route", "add",
                            route, "dev", self.ifname)
        return self

    def move(self, target):
        """Moves the interface to another namespace; the process and its
        UDP socket stay where they are, as a kernel device's socket stays
        in the namespace that created it."""
        self.link_ns.ip("link", "set", self.ifname, "netns", target.name)
        self.link_ns = target
        return self

    def transfer(self):
        """(rx, tx) per peer, from `wg show IF transfer`."""
        out = {}
        for line in self.wg("show", self.ifname, "transfer").stdout.splitlines():
            pub, rx, tx = line.split("\t")
            out[pub] = (int(rx), int(tx))
        return out

    def uapi(self, request, timeout=10):
        """Sends raw UAPI text on the socket, returns the answer text (up
        to the blank line after errno=)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.sock)
            s.sendall(request.encode())
            data = b""
            while not re.search(rb"errno=-?\d+\n\n", data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        return data.decode()

    def stats(self):
        """uniguard's counters (its stats=1 extension)."""
        text = self.uapi("stats=1\n\n")
        out = {}
        for line in text.splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                out[key] = int(value)
        return out

    def stop(self, sig=signal.SIGTERM, timeout=10):
        return self.process.stop(sig, timeout) if self.process else None


class Lab:
    """Creates and tracks namespaces, links, processes and files; close()
    removes all of them, also after a failure."""

    _counter = itertools.count()

    def __init__(self, tmpdir):
        self.tmpdir = str(tmpdir)
        self.tag = "%x" % (os.getpid() % 0x1000)
        self.namespaces = []
        self.processes = []
        self.ifnames = []
        self.cleanups = []

    # Names

    def next_id(self):
        return next(Lab._counter)

    def ifname(self):
        name = "%s%s%x" % (IF_PREFIX, self.tag, self.next_id())
        assert len(name) <= 15
        self.ifnames.append(name)
        return name

    def write_file(self, name, text, mode=0o600):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    # Topology

    def netns(self, label="ns"):
        name = "%s%d-%x-%s" % (NS_PREFIX, os.getpid(), self.next_id(), label)
        run(["ip", "netns", "add", name])
        ns = Netns(self, name)
        self.namespaces.append(ns)
        ns.ip("link", "set", "lo", "up")
        return ns

    def veth(self, ns1, ns2, addrs1=(), addrs2=(), mtu=None):
        """A veth pair between two namespaces; returns the two names."""
        n = self.next_id()
        a, b = "ugv%s%xa" % (self.tag, n), "ugv%s%xb" % (self.tag, n)
        run(["ip", "link", "add", "name", a, "netns", ns1.name, "type", "veth",
             "peer", "name", b, "netns", ns2.name])
        for ns, dev, addrs in ((ns1, a, addrs1), (ns2, b, addrs2)):
            for addr in addrs:
                extra = ["nodad"] if ":" in addr else []
                ns.ip("addr", "add", addr, "dev", dev, *extra)
            if mtu:
                ns.ip("link", "set", dev, "mtu", mtu)
            ns.ip("link", "set", dev, "up")
        return a, b

    # Processes

    def spawn(self, ns, name, args, env=None, stdin=subprocess.DEVNULL):
        log_path = os.path.join(self.tmpdir, "%s-%x.log" % (name, self.next_id()))
        log = open(log_path, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        popen = subprocess.Popen(
            ["ip", "netns", "exec", ns.name] + [str(a) for a in args],
            stdout=log, stderr=subprocess.STDOUT, stdin=stdin, env=full_env)
        log.close()
        proc = Process(name, popen, log_path)
        self.processes.append(proc)
        return proc

    def _wait_socket(self, dev, proc):
        def ready():
            if not proc.alive():
                raise AssertionError("%s exited (%s):\n%s" % (
                    dev, proc.popen.returncode, proc.log()))
            if not os.path.exists(dev.sock):
                return False
            res = dev.wg("show", dev.ifname, "dump", check=False)
            return res.returncode == 0
        wait_until(ready, timeout=15, what="%s's UAPI socket" % dev)

    def uniguard(self, ns, ifname=None, config=None, args=(), drop=False,
                 verbosity="debug", env=None):
        """uniguard in the foreground in ns (env: more of its environment);
        returns its WgDevice."""
        ifname = ifname or self.ifname()
        argv = [uniguard_binary(), "-f", "-v", verbosity]
        if config is not None:
            argv += ["-c", config]
        if not drop:
            argv += ["--disable-drop-privileges", "yes"]
        argv += list(args) + [ifname]
        proc = ns.popen("uniguard-" + ifname, argv, env=env)
        dev = WgDevice(self, ns, ifname, "uniguard", proc)
        self._wait_socket(dev, proc)
        dump = dev.dump()
        dev.public_key = dump.public_key if dump.public_key != "(none)" else None
        dev.port = dump.listen_port
        return dev

    def wireguard_go(self, ns, ifname=None):
        """Debian's wireguard-go in the foreground in ns."""
        ifname = ifname or self.ifname()
        proc = ns.popen("wireguard-go-" + ifname, ["wireguard-go", "-f", ifname],
                        env={"LOG_LEVEL": "debug"})
        dev = WgDevice(self, ns, ifname, "wireguard-go", proc)
        self._wait_socket(dev, proc)
        return dev

    def device(self, kind, ns, args=()):
        if kind == "uniguard":
            return self.uniguard(ns, args=args)
        if kind == "wireguard-go":
            return self.wireguard_go(ns)
        raise ValueError(kind)

    def tcpdump(self, ns, dev, bpf="udp"):
        """Captures on dev until stopped; returns (process, pcap path)."""
        path = os.path.join(self.tmpdir, "cap-%x.pcap" % self.next_id())
        proc = ns.popen("tcpdump", ["tcpdump", "-i", dev, "-n", "-U", "-s", "0",
                                    "--immediate-mode", "-w", path, bpf])
        wait_until(lambda: "listening on" in proc.log() or not proc.alive(),
                   timeout=10, what="tcpdump to start")
        assert proc.alive(), proc.log()
        return proc, path

    # Teardown

    def close(self):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception:
                pass
        for proc in reversed(self.processes):
            proc.stop(timeout=5)
        for ns in reversed(self.namespaces):
            netns.remove(ns.name)
        for name in self.ifnames:
            remove_stale_socket(os.path.join(SOCK_DIR, name + ".sock"))


def remove_stale_socket(path):
    if not os.path.exists(path):
        return
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
            return
        except OSError:
            pass
    try:
        os.unlink(path)
    except OSError:
        pass


def clean_leftovers():
    """Removes what an interrupted earlier run left behind."""
    netns.remove_leftovers(NS_PREFIX)
    if os.path.isdir(SOCK_DIR):
        for entry in os.listdir(SOCK_DIR):
            if entry.startswith(IF_PREFIX) and entry.endswith(".sock"):
                remove_stale_socket(os.path.join(SOCK_DIR, entry))


# Reading captures: classic pcap, Ethernet or Linux cooked framing.

def read_pcap(path):
    """UDP datagrams in a capture: (src, sport, dst, dport, payload)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return out
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if linktype == 1:
            if len(frame) < 14:
                continue
            ethertype = struct.unpack(">H", frame[12:14])[0]
            pkt = frame[14:]
        elif linktype == 113:
            if len(frame) < 16:
                continue
            ethertype = struct.unpack(">H", frame[14:16])[0]
            pkt = frame[16:]
        elif linktype == 101:
            pkt = frame
            ethertype = 0x0800 if pkt and pkt[0] >> 4 == 4 else 0x86dd
        else:
            continue
        if ethertype == 0x0800 and len(pkt) >= 20 and pkt[9] == 17:
            ihl = (pkt[0] & 0x0f) * 4
            src = socket.inet_ntop(socket.AF_INET, pkt[12:16])
            dst = socket.inet_ntop(socket.AF_INET, pkt[16:20])
            udp = pkt[ihl:]
        elif ethertype == 0x86dd and len(pkt) >= 40 and pkt[6] == 17:
            src = socket.inet_ntop(socket.AF_INET6, pkt[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, pkt[24:40])
            udp = pkt[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        out.append((src, sport, dst, dport, udp[8:ulen]))
    return out


def wait_captured(path, pred, timeout=10, what="captured packets"):
    """Polls a capture being written until pred(datagrams) holds."""
    return wait_until(lambda: pred(read_pcap(path)), timeout=timeout,
                      interval=0.1, what=what)


def wg_type(payload):
    return payload[0] if payload else None


def which(name):
    return shutil.which(name) is not None


def tcp_transfer(server_ns, client_ns, addr, up=1 << 20, down=1 << 20,
                 port=5201):
    """up bytes from client to server and down bytes back over TCP; checks
    both arrive intact."""
    got_up, got_down, _ = tcpxfer.transfer(server_ns.name, client_ns.name,
                                           addr, up, down, port)
    assert got_up == tcpxfer.expected(up, b"up"), "upstream data differs"
    assert got_down == tcpxfer.expected(down, b"down"), \
        "downstream data differs"


# Two interfaces on two namespaces, joined by one veth link.

OUTER4 = ("192.168.241.1", "192.168.241.2")
OUTER6 = ("fd00:241::1", "fd00:241::2")
INNER4 = ("10.9.0.1", "10.9.0.2")
INNER6 = ("fd00:9::1", "fd00:9::2")


def endpoint(addr, port):
    return "[%s]:%d" % (addr, port) if ":" in addr else "%s:%d" % (addr, port)


class Pair:
    """a and b, each with the other as its peer (and its endpoint unless
    told otherwise), inner addresses INNER4/INNER6 up."""

    def __init__(self, lab, kind_a, kind_b, outer=4, a_knows_b=True,
                 b_knows_a=True, keepalive=None, outer_mtu=None, args_a=()):
        self.lab = lab
        self.nsa = lab.netns("a")
        self.nsb = lab.netns("b")
        self.link = lab.veth(self.nsa, self.nsb,
                             [OUTER4[0] + "/24", OUTER6[0] + "/64"],
                             [OUTER4[1] + "/24", OUTER6[1] + "/64"],
                             mtu=outer_mtu)
        self.outer = OUTER4 if outer == 4 else OUTER6
        self.a = lab.device(kind_a, self.nsa, args=args_a).configure()
        self.b = lab.device(kind_b, self.nsb).configure()
        self.a.add_peer(self.b, [INNER4[1] + "/32", INNER6[1] + "/128"],
                        endpoint=endpoint(self.outer[1], self.b.port)
                        if a_knows_b else None, keepalive=keepalive)
        self.b.add_peer(self.a, [INNER4[0] + "/32", INNER6[0] + "/128"],
                        endpoint=endpoint(self.outer[0], self.a.port)
                        if b_knows_a else None, keepalive=keepalive)
        self.a.up(INNER4[0] + "/24", INNER6[0] + "/64")
        self.b.up(INNER4[1] + "/24", INNER6[1] + "/64")

    def counters(self):
        """(a's view of b, b's view of a)."""
        return (self.a.peer(self.b.public_key),
                self.b.peer(self.a.public_key))

    def settled_counters(self, timeout=10):
        """Waits until each side's rx equals the other's tx (nothing in
        flight) and returns (a's view of b, b's view of a)."""
        seen = []

        def same():
            pa = self.a.peer(self.b.public_key)
            pb = self.b.peer(self.a.public_key)
            seen[:] = [(pa.rx, pb.tx), (pa.tx, pb.rx)]
            if pa.rx == pb.tx and pa.tx == pb.rx:
                return pa, pb
            return None
        try:
            return wait_until(same, timeout=timeout, interval=0.2,
                              what="matching transfer counters")
        except AssertionError as e:
            raise AssertionError("%s: (a rx, b tx), (a tx, b rx) = %s"
                                 % (e, seen)) from None
