# SPDX-License-Identifier: MIT
"""QEMU virtual machines of the lab: software emulation, one virtio NIC on a
tap inside a lab namespace, the boot disk read-only, the serial console
logged to a file and, on lab images, a virtio serial port carrying a control
shell over a unix socket.  No user-mode networking, ever."""

import os
import re
import shutil
import socket
import subprocess
import threading
import time

from ugtools.wait import poll

from .util import LabError, debug, now


def qemu_binary():
    q = shutil.which("qemu-system-x86_64")
    if not q:
        raise LabError("qemu-system-x86_64 not found")
    return q


class VM:
    def __init__(self, name, ns, disk, tap, mac, rundir, ctl=False,
                 memory=256, drive="virtio", markers=(), machine="q35",
                 rng=True):
        self.name = name
        # Console lines whose first appearance is timed while the VM runs.
        self.markers = [re.compile(m, re.M) for m in markers]
        self.seen = {}
        self.ns = ns
        self.disk = disk
        self.tap = tap
        self.mac = mac
        self.rundir = rundir
        self.ctl = ctl
        self.memory = memory
        self.drive = drive
        self.machine = machine
        self.rng = rng
        self.proc = None
        self.sock = None
        self.seq = 0
        self.boots = 0
        self.console = None
        self.consoles = []
        self.started = None
        self.buf = b""

    def argv(self):
        # One vCPU, but room for two: with a single possible vCPU, QEMU
        # before 8.1 leaves the guest's memory barriers out of the code it
        # translates, and the guest then races QEMU's device threads. The
        # Nanos gateway's virtio-net lost a receive notification that way
        # within seconds of heavy traffic (docs/lab.md, "The Nanos
        # receive stall"). A second possible vCPU puts the barriers back.
        a = [qemu_binary(), "-name", self.name,
             "-machine", self.machine + ",accel=tcg", "-cpu", "max",
             "-m", str(self.memory), "-smp", "1,maxcpus=2",
             "-nodefaults", "-display", "none", "-no-reboot",
             "-serial", "file:" + self.console]
        if self.ctl:
            a += ["-device", "virtio-serial-pci,id=vser0",
                  "-chardev", "socket,id=ctl,path=%s,server=on,wait=off"
                  % self.ctl_path,
                  "-device", "virtserialport,bus=vser0.0,chardev=ctl,"
                  "name=uglab.ctl"]
        if self.drive == "virtio":
            a += ["-drive", "file=%s,format=raw,if=virtio,readonly=on"
                  % self.disk]
        elif self.drive == "scsi":
            # Compute Engine's default: the boot disk on virtio-scsi.
            a += ["-device", "virtio-scsi-pci,id=scsi0",
                  "-drive", "if=none,id=hd0,format=raw,file=%s" % self.disk,
                  "-device", "scsi-hd,drive=hd0,bus=scsi0.0,bootindex=0"]
        elif self.drive == "nvme":
            # The NVMe disk of some Compute Engine machine types.
            a += ["-drive", "if=none,id=hd0,format=raw,file=%s" % self.disk,
                  "-device", "nvme,drive=hd0,serial=uniguard,bootindex=0"]
        else:
            # Nanos writes to its root filesystem: a private copy per run.
            a += ["-drive", "if=none,id=hd0,format=raw,file=%s" % self.disk,
                  "-device", "virtio-blk-pci,drive=hd0"]
        a += ["-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no"
              % self.tap,
              "-device", "virtio-net-pci,netdev=n0,mac=%s" % self.mac]
        if self.rng:
            a += ["-device", "virtio-rng-pci"]
        return a

    def start(self):
        self.boots += 1
        self.console = os.path.join(
            self.rundir, "console-%s-%d.log" % (self.name, self.boots))
        self.consoles.append(self.console)
        self.ctl_path = os.path.join(self.rundir, "ctl-%s.sock" % self.name)
        for p in (self.console, self.ctl_path):
            if os.path.exists(p):
                os.unlink(p)
        open(self.console, "w").close()
        argv = ["ip", "netns", "exec", self.ns] + self.argv()
        debug("$ " + " ".join(argv))
        self.qemu_log = open(os.path.join(
            self.rundir, "qemu-%s.log" % self.name), "a")
        self.started = now()
        # ip netns exec replaces itself with QEMU: the pid is QEMU's.
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.sock = None
        self.buf = b""
        self.seen = {}
        if self.markers:
            threading.Thread(target=self.time_markers, args=(self.proc,),
                             daemon=True).start()

    def time_markers(self, proc):
        left = list(self.markers)
        while left and proc.poll() is None:
            text = self.console_text()
            t = now() - self.started
            for rx in list(left):
                if rx.search(text):
                    self.seen[rx.pattern] = t
                    left.remove(rx)
            time.sleep(0.05)

    def marker_time(self, pattern):
        """Seconds from QEMU's start to the first sight of a marker."""
        return self.seen.get(pattern)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, hard=True):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        if self.alive():
            if hard:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def console_text(self):
        try:
            with open(self.console, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def wait_console(self, pattern, timeout):
        """Waits for pattern in this boot's console; returns the match and
        the seconds since QEMU started."""
        rx = re.compile(pattern, re.M)

        def seen():
            if not self.alive():
                raise LabError("%s: QEMU exited (see %s)"
                               % (self.name, self.console))
            return rx.search(self.console_text())
        m = poll(seen, timeout, 0.1)
        if not m:
            raise LabError("%s: no %r on the console after %ds (see %s)"
                           % (self.name, pattern, timeout, self.console))
        return m, now() - self.started

    def uptime_at(self, pattern):
        """The guest's uptime stamp on the init line matching pattern."""
        m = re.search(r"uglab: \[([\d.]+)\] " + pattern, self.console_text())
        return float(m.group(1)) if m else None

    def connect(self, timeout=30):
        """Connects to the control shell and waits until it answers.

        The guest's shell reads end-of-file while nobody is connected and
        is started anew (lab/guest/init); whatever arrives between that
        end-of-file and the port's close is thrown away by the guest's
        driver with the port.  So the first words may be lost: a short
        probe is repeated until the shell answers one, and the answer of
        the last one sent marks where the shell's output starts."""
        if self.sock:
            return
        end = now() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.ctl_path)
                break
            except OSError:
                s.close()
                if now() > end:
                    raise LabError("%s: no control socket" % self.name)
                time.sleep(0.1)
        self.sock = s
        self.buf = b""
        any_probe = re.compile(rb"@@uglabsync\d+@@")
        sent = 0
        m = None
        try:
            while not m and now() < end and self.alive():
                sent += 1
                # The newline first ends a line a lost probe may have
                # left half-read.
                self.sock.sendall(b"\necho @@uglabsync%d@@\n" % sent)
                m = self.read_until(any_probe, min(end, now() + 0.5))
            if m:
                # The shell is live now: the last probe's answer will come.
                m = self.read_until(
                    re.compile(b"@@uglabsync%d@@" % sent), end)
            if not m:
                raise LabError("%s: the control shell does not answer"
                               % self.name)
        except LabError:
            self.sock.close()
            self.sock = None
            raise
        self.take(m)
        debug("%s: control shell answers (probe %d)" % (self.name, sent))

    def read_until(self, rx, deadline):
        """Reads the control shell's output into buf until rx matches in
        it; the match, or None once deadline has passed or QEMU has
        exited."""
        while True:
            m = rx.search(self.buf)
            if m:
                return m
            left = deadline - now()
            if left <= 0 or not self.alive():
                return None
            self.sock.settimeout(min(left, 1.0))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise LabError("%s: control socket closed" % self.name)
            self.buf += chunk

    def take(self, m):
        """The output before match m, which is consumed with it (and the
        line ends after it)."""
        out = self.buf[:m.start()].decode(errors="replace")
        self.buf = self.buf[m.end():].lstrip(b"\r\n")
        return out

    def shell(self, cmd, timeout=30):
        """Runs cmd in the guest's control shell; returns (status, output)."""
        self.connect()
        self.seq += 1
        tag = "@@uglab%d" % self.seq
        payload = "{ %s\n} </dev/null 2>&1; echo \"%s:$?:\"\n" % (cmd, tag)
        debug("%s$ %s" % (self.name, cmd))
        self.sock.sendall(payload.encode())
        rx = re.compile(re.escape(tag).encode() + rb":(\d+):")
        m = self.read_until(rx, now() + timeout)
        if not m:
            raise LabError("%s: control shell gave no answer to %r"
                           % (self.name, cmd))
        out = self.take(m)
        for line in out.rstrip().splitlines():
            debug("  %s| %s" % (self.name, line))
        return int(m.group(1)), out
