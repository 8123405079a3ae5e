# SPDX-License-Identifier: MIT
"""The daemon around the core, attacked the way a local user or a careless
operator would (docs/security.md, "Attacks on the daemon").

Each test sets up the attack itself: the namespaces, the other user (a uid
no account on the machine has, so nothing it owns is shared with anyone),
the files that user plants, the limits the daemon starts under. Nothing
here depends on what ran on the machine before.
"""

import base64
import os
import re
import signal
import stat
import subprocess
import time

import pytest

import uglab
from ugtools.keys import pieces as key_pieces

NOBODY = 65534
# The attacker: a uid no account has; the test gives it its files.
OTHER_UID = 23456


def capabilities(pid):
    """(CapInh, CapPrm, CapEff) of pid, as integers."""
    caps = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("CapInh", "CapPrm", "CapEff"):
                caps[key] = int(value.strip(), 16)
    return caps["CapInh"], caps["CapPrm"], caps["CapEff"]


def ids(pid):
    """(euid, egid) of pid."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("Uid", "Gid"):
                out[key] = int(value.split()[1])
    return out["Uid"], out["Gid"]


def daemon_argv(ifname, *args, drop=False, foreground=True):
    argv = [uglab.uniguard_binary()]
    if foreground:
        argv.append("-f")
    argv += ["-v", "debug"]
    if not drop:
        argv += ["--disable-drop-privileges", "yes"]
    return argv + list(args) + [ifname]


def run_to_exit(lab, ns, name, argv, timeout=20):
    """Runs argv in ns until it exits; returns (status, output)."""
    proc = ns.popen(name, argv)
    try:
        proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.stop()
        raise AssertionError("%s still runs:\n%s" % (name, proc.log()))
    return proc.popen.returncode, proc.log()


CAP_NET_ADMIN = 12
CAP_NET_BIND_SERVICE = 10
KEPT = (1 << CAP_NET_ADMIN) | (1 << CAP_NET_BIND_SERVICE)


# 1. The privilege drop.

def test_privilege_drop_keeps_two_capabilities(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns, drop=True)
    pid = ug.process.pid
    uglab.wait_until(lambda: ids(pid)[0] == NOBODY or ids(pid)[0] != 0,
                     what="the drop")
    assert capabilities(pid) == (0, KEPT, KEPT)


def test_privilege_drop_fails_closed(lab):
    """Started without CAP_NET_BIND_SERVICE in its bounding set, the
    daemon cannot keep the two capabilities it asks for: it must stop,
    not run on as an unprivileged user holding the rest of root's."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    argv = ["setpriv", "--bounding-set=-net_bind_service"] + \
        daemon_argv(ifname, drop=True)
    proc = ns.popen("uniguard-" + ifname, argv)
    try:
        proc.popen.wait(15)
    except subprocess.TimeoutExpired:
        caps = capabilities(proc.pid)
        proc.stop()
        raise AssertionError("still running with %x: %s" % (
            caps[1], proc.log()))
    log = proc.log()
    assert proc.popen.returncode == 1, log
    assert "cannot limit the capabilities" in log, log
    assert "cannot drop privileges" in log, log
    # The helper removes the socket the daemon can no longer remove.
    uglab.wait_until(lambda: not os.path.exists(os.path.join(
        uglab.SOCK_DIR, ifname + ".sock")), timeout=5, what="the socket")


# 2 and 5. Files the daemon writes as root: the key log, the capture, the
# log. Each is planted by the other user, or made a link to a file of
# root's, before the daemon starts.

PRECIOUS = "a file of root's that nobody may change\n"


def plant(lab, kind, path):
    """Prepares path as the attacker would; returns the file that must stay
    as it is (the planted file itself, or the victim it leads to)."""
    victim = os.path.join(lab.tmpdir, "victim-%x" % lab.next_id())
    with open(victim, "w") as f:
        f.write(PRECIOUS)
    os.chmod(victim, 0o600)
    if kind == "other-owner":
        # Created first by the other user, readable by it whatever mode
        # the daemon later gives it.
        with open(path, "w") as f:
            f.write(PRECIOUS)
        os.chown(path, OTHER_UID, OTHER_UID)
        os.chmod(path, 0o666)
        return path
    if kind == "hardlink":
        os.link(victim, path)
    elif kind == "symlink":
        os.symlink(victim, path)
    elif kind == "fifo":
        os.mkfifo(path, 0o666)
        return None
    return victim


@pytest.mark.parametrize("option", ["--keylog", "--capture", "-l"])
@pytest.mark.parametrize("kind", ["other-owner", "hardlink", "symlink",
                                  "fifo"])
def test_files_written_as_root_are_not_taken_over(lab, option, kind):
    ns = lab.netns("a")
    ifname = lab.ifname()
    path = os.path.join(lab.tmpdir, "planted-%x" % lab.next_id())
    keep = plant(lab, kind, path)
    before = os.lstat(path)
    status, log = run_to_exit(lab, ns, "uniguard-" + ifname,
                              daemon_argv(ifname, option, path))
    assert status == 1, log
    assert path in log, log
    assert not os.path.exists(os.path.join(uglab.SOCK_DIR,
                                           ifname + ".sock"))
    after = os.lstat(path)
    assert (after.st_mode, after.st_uid, after.st_nlink) == (
        before.st_mode, before.st_uid, before.st_nlink)
    if keep is not None:
        with open(keep) as f:
            assert f.read() == PRECIOUS


@pytest.mark.parametrize("option", ["--keylog", "--capture", "-l"])
def test_files_written_as_root_are_roots_own(lab, option):
    """The same options with a fresh name, and with a file the daemon
    made on an earlier run: taken, root's, one link."""
    ns = lab.netns("a")
    path = os.path.join(lab.tmpdir, "own-%x" % lab.next_id())
    for _ in range(2):
        ug = lab.uniguard(ns, args=[option, path])
        assert ug.stop() == 0, ug.process.log()
        st = os.lstat(path)
        assert stat.S_ISREG(st.st_mode) and st.st_uid == 0
        assert st.st_nlink == 1
        if option != "-l":
            assert stat.S_IMODE(st.st_mode) == 0o600


# 4. Descriptors the caller leaves open.

def open_fds(pid):
    """What pid's descriptors point at."""
    fd_dir = "/proc/%d/fd" % pid
    out = set()
    for fd in os.listdir(fd_dir):
        try:
            out.add(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            pass
    return out


@pytest.mark.parametrize("drop", [False, True])
def test_inherited_descriptors_are_closed(lab, drop):
    """A caller's file and its pipe, left open across exec (as a careless
    script or a service manager may), are not held by the daemon that
    detaches and stays."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    secret_path = lab.write_file("callers-file", "the caller's\n")
    held = open(secret_path)
    rd, wr = os.pipe()
    lab.cleanups.append(held.close)
    lab.cleanups.append(lambda: (os.close(rd), os.close(wr)))
    argv = ["ip", "netns", "exec", ns.name] + daemon_argv(
        ifname, drop=drop, foreground=False)
    res = subprocess.run(argv, pass_fds=(held.fileno(), rd, wr),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=20)
    assert res.returncode == 0, res.stdout
    sock = os.path.join(uglab.SOCK_DIR, ifname + ".sock")
    pids = [int(p) for p in uglab.run(["ip", "netns", "pids", ns.name]
                                      ).stdout.split()]
    assert pids, "the daemon is not running"
    lab.cleanups.append(lambda: [os.kill(p, signal.SIGTERM) for p in pids])
    assert os.path.exists(sock)
    pipe_name = os.readlink("/proc/self/fd/%d" % rd)
    for pid in pids:
        fds = open_fds(pid)
        assert secret_path not in fds, (pid, fds)
        assert pipe_name not in fds, (pid, fds)


# 7. Dumps and debuggers.

def readable_by_same_user_without_ptrace(pid):
    """Whether a root process without CAP_SYS_PTRACE (the same
    capabilities as the target otherwise) may open pid's memory
    (/proc/PID/mem, what a debugger or a dumper reads): only if pid is
    dumpable."""
    res = uglab.run(["setpriv", "--bounding-set=-sys_ptrace",
                     "/usr/bin/python3", "-c",
                     "import sys\ntry:\n open('/proc/%d/mem' % int("
                     "sys.argv[1]), 'rb').close()\n print('readable')\n"
                     "except PermissionError:\n print('refused')\n",
                     str(pid)])
    return res.stdout.strip() == "readable"


def test_daemon_is_not_dumpable(lab):
    """Kept as root (--disable-drop-privileges), the daemon holds its keys
    in a root process: no core file may be written and no process lacking
    CAP_SYS_PTRACE may read it. Checked by such a process."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    key = uglab.genkey()
    path = lab.write_file(ifname + ".conf",
                          "[Interface]\nPrivateKey = %s\n" % key)
    argv = ["setpriv", "--bounding-set=-sys_ptrace"] + daemon_argv(
        ifname, "-c", path)
    proc = ns.popen("uniguard-" + ifname, argv)
    sock = os.path.join(uglab.SOCK_DIR, ifname + ".sock")
    uglab.wait_until(lambda: os.path.exists(sock) or not proc.alive(),
                     what="the socket")
    assert proc.alive(), proc.log()
    with open("/proc/%d/limits" % proc.pid) as f:
        limits = f.read()
    assert re.search(r"Max core file size\s+0\s+0", limits), limits
    assert not readable_by_same_user_without_ptrace(proc.pid)
    # The checker can read a dumpable process under the same limits.
    probe = ns.popen("probe", ["setpriv", "--bounding-set=-sys_ptrace",
                               "sleep", "30"])
    def is_sleep():
        with open("/proc/%d/comm" % probe.pid) as f:
            return f.read().strip() == "sleep"
    uglab.wait_until(is_sleep, what="the probe")
    assert readable_by_same_user_without_ptrace(probe.pid)


def memory_hits(pid, needles):
    """Where pid's readable memory holds each of needles (bytes): a list
    of (needle, the mapping's line in /proc/PID/maps, its VmFlags)."""
    flags, order = {}, []
    with open("/proc/%d/smaps" % pid) as f:
        current = None
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                current = line.strip()
                order.append(current)
            elif line.startswith("VmFlags:") and current:
                flags[current] = line.split(":", 1)[1].split()
    hits = []
    overlap = max(len(n) for n in needles)
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for mapping in order:
            fields = mapping.split()
            if not fields[1].startswith("r"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if end - start > MAPPING_MAX or (
                    len(fields) > 5 and fields[5] in ("[vvar]",
                                                      "[vsyscall]")):
                continue
            tail = b""
            for at in range(start, end, CHUNK):
                try:
                    mem.seek(at)
                    data = tail + mem.read(min(CHUNK, end - at))
                except (OSError, ValueError, OverflowError):
                    break
                for n in needles:
                    if n in data:
                        hits.append((n, mapping, flags.get(mapping, [])))
                tail = data[-overlap:]
    return hits


def test_keys_lie_only_in_memory_left_out_of_dumps(lab):
    """A system that pipes core dumps to a handler dumps even a process
    that is not dumpable: the private key and the preshared key, where the
    daemon holds them while a session runs, are in mappings marked to be
    left out of any dump (VmFlags dd), and nowhere else."""
    ns_a, ns_b = lab.netns("a"), lab.netns("b")
    lab.veth(ns_a, ns_b, ["192.168.91.1/24"], ["192.168.91.2/24"])
    ifname = lab.ifname()
    key, psk = uglab.genkey(), uglab.genpsk()
    peer = lab.uniguard(ns_b)
    peer.configure(port=51820)
    path = lab.write_file(
        ifname + ".conf",
        "[Interface]\nPrivateKey = %s\nListenPort = 51821\n"
        "Address = 10.9.0.1/24\n\n"
        "[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
        "AllowedIPs = 10.9.0.2/32\nEndpoint = 192.168.91.2:51820\n" % (
            key, peer.public_key, psk))
    gw = lab.uniguard(ns_a, ifname=ifname, config=path)
    peer.add_peer(gw, ["10.9.0.1/32"], endpoint="192.168.91.1:51821",
                  psk=psk)
    peer.up("10.9.0.2/24")
    ns_a.ping_ok("10.9.0.2", timeout=20)
    needles = set()
    for k in (key, psk):
        raw = base64.b64decode(k)
        needles |= {raw, k.encode(), k.rstrip("=").encode(),
                    raw.hex().encode()}
    hits = memory_hits(gw.process.pid, needles)
    # The scan finds the keys where they are.
    assert base64.b64decode(key) in {h[0] for h in hits}, hits
    assert base64.b64decode(psk) in {h[0] for h in hits}, hits
    dumped = [(h[1], h[2]) for h in hits if "dd" not in h[2]]
    assert not dumped, "keys in memory a dump would hold: %s" % dumped


# 3, and the stale socket: the root helper that removes the socket.

def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read()


# Mappings larger than this are skipped: a sanitizer's shadow memory
# (terabytes, reserved, never written where keys are) is one.
MAPPING_MAX = 256 << 20
CHUNK = 1 << 20


def memory_holds(pid, needles):
    """Which of needles (bytes) pid's readable memory holds."""
    return {hit[0] for hit in memory_hits(pid, needles)}


def janitor_of(lab, ns, config):
    ug = lab.uniguard(ns, config=config, drop=True)
    pid = ug.process.pid
    uglab.wait_until(lambda: ids(pid)[0] != 0, what="the drop")
    helpers = uglab.wait_until(lambda: children(pid), what="the helper")
    assert len(helpers) == 1, helpers
    return ug, helpers[0]


def test_root_helper_holds_no_secret(lab):
    """The root process left behind to remove the socket holds none of
    the keys from the -c file, in any form, nor the file's text."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    key, psk, peer = uglab.genkey(), uglab.genpsk(), uglab.genkey()
    pub = uglab.run(["wg", "pubkey"], input=peer).stdout.strip()
    path = lab.write_file(ifname + ".conf",
                          "[Interface]\nPrivateKey = %s\n\n"
                          "[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
                          "AllowedIPs = 10.9.0.2/32\n" % (key, pub, psk))
    ug, helper = janitor_of(lab, ns, path)
    needles = set()
    for k in (key, psk):
        raw = base64.b64decode(k)
        needles |= {raw, k.encode(), k.rstrip("=").encode(),
                    raw.hex().encode()}
    # The scan finds the keys where they are: in the daemon.
    assert base64.b64decode(key) in memory_holds(ug.process.pid, needles)
    assert memory_holds(helper, needles) == set()
    # Nor is it the daemon's command line, for pkill and ps to mix up.
    assert cmdline(helper) != cmdline(ug.process.pid)
    with open("/proc/%d/comm" % helper) as f:
        assert "uniguard" not in f.read()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM],
                         ids=["SIGINT", "SIGTERM"])
def test_socket_removed_when_the_process_group_is_signalled(lab, sig):
    """Ctrl-C in a terminal, timeout(1) and a service manager signal the
    whole process group (or cgroup): the socket still goes."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    sock = os.path.join(uglab.SOCK_DIR, ifname + ".sock")
    log_path = os.path.join(lab.tmpdir, "group-%x.log" % lab.next_id())
    argv = ["ip", "netns", "exec", ns.name] + daemon_argv(ifname, drop=True)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL,
                                 start_new_session=True)
    lab.processes.append(uglab.Process("uniguard-" + ifname, popen,
                                       log_path))
    uglab.wait_until(lambda: ids(popen.pid)[0] != 0 and children(popen.pid),
                     what="the drop and the helper")
    helper = children(popen.pid)[0]
    os.killpg(popen.pid, sig)
    popen.wait(10)
    uglab.wait_until(lambda: not os.path.exists(sock), timeout=5,
                     what="the socket's removal")
    uglab.wait_until(lambda: not os.path.exists("/proc/%d" % helper),
                     timeout=5, what="the helper's end")


def test_socket_removed_when_the_daemon_is_killed(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns, drop=True)
    uglab.wait_until(lambda: children(ug.process.pid), what="the helper")
    ug.process.popen.send_signal(signal.SIGKILL)
    ug.process.popen.wait(10)
    uglab.wait_until(lambda: not os.path.exists(ug.sock), timeout=5,
                     what="the socket's removal")


# 8. The user the daemon becomes.

DEDICATED_UID = 23457


def account_files(lab, with_dedicated):
    """Copies of /etc/passwd and /etc/group, with or without a uniguard
    account, for the daemon's own mount namespace."""
    out = []
    for name, line in (("passwd", "uniguard:x:%d:%d::/nonexistent:"
                        "/usr/sbin/nologin\n" % (DEDICATED_UID,
                                                  DEDICATED_UID)),
                       ("group", "uniguard:x:%d:\n" % DEDICATED_UID)):
        with open("/etc/" + name) as f:
            lines = [ln for ln in f if not ln.startswith("uniguard:")]
        if with_dedicated:
            lines.append(line)
        path = os.path.join(lab.tmpdir, "%s-%x" % (name, lab.next_id()))
        with open(path, "w") as f:
            f.writelines(lines)
        os.chmod(path, 0o644)
        out.append(path)
    return out


@pytest.mark.parametrize("with_dedicated", [True, False],
                         ids=["uniguard-user", "nobody"])
def test_drops_to_the_dedicated_user_when_there_is_one(lab, with_dedicated):
    ns = lab.netns("a")
    ifname = lab.ifname()
    passwd, group = account_files(lab, with_dedicated)
    # ip netns exec gives the command a mount namespace of its own: the
    # bind mounts are seen by the daemon alone.
    script = ('mount --bind "$1" /etc/passwd && mount --bind "$2" '
              '/etc/group && shift 2 && exec "$@"')
    argv = ["sh", "-c", script, "sh", passwd, group] + daemon_argv(
        ifname, drop=True)
    proc = ns.popen("uniguard-" + ifname, argv)
    sock = os.path.join(uglab.SOCK_DIR, ifname + ".sock")
    uglab.wait_until(lambda: not proc.alive() or (
        os.path.exists(sock) and ids(proc.pid)[0] != 0), what="the drop")
    assert proc.alive(), proc.log()
    if with_dedicated:
        assert ids(proc.pid) == (DEDICATED_UID, DEDICATED_UID)
        assert "warn" not in proc.log(), proc.log()
    else:
        assert ids(proc.pid)[0] == NOBODY
        assert "] warn: no user uniguard on this system: running as " \
            "nobody" in proc.log(), proc.log()
    assert capabilities(proc.pid) == (0, KEPT, KEPT)


# 6. A key pasted as an Endpoint.

DNS_LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("listening", flush=True)
while True:
    data, _ = s.recvfrom(4096)
    print("query %s" % data.hex(), flush=True)
"""


def key_without_padding():
    """A private key whose base64 has no '+' or '/' (about one in four):
    without its '=', a valid host name."""
    while True:
        key = uglab.genkey()
        if "+" not in key and "/" not in key:
            return key


def namespace_with_watched_dns(lab):
    """A namespace whose resolver is a listener of the test's own, on its
    loopback, that records every query and answers none."""
    ns = lab.netns("dns")
    ns.ip("link", "set", "lo", "up")
    etc = os.path.join("/etc/netns", ns.name)
    os.makedirs(etc)
    lab.cleanups.append(lambda: __import__("shutil").rmtree(etc))
    with open(os.path.join(etc, "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    dns = ns.python("dns", ["-c", DNS_LISTENER])
    uglab.wait_until(lambda: "listening" in dns.log() or not dns.alive(),
                     what="the DNS listener")
    assert dns.alive(), dns.log()
    return ns, dns


@pytest.mark.parametrize("how", ["-c", "convert"])
def test_key_as_endpoint_is_refused_before_any_lookup(lab, how):
    ns, dns = namespace_with_watched_dns(lab)
    ifname = lab.ifname()
    pasted = key_without_padding()
    peer = uglab.run(["wg", "pubkey"], input=uglab.genkey()).stdout.strip()
    path = lab.write_file(ifname + ".conf",
                          "[Interface]\nPrivateKey = %s\n\n[Peer]\n"
                          "PublicKey = %s\nAllowedIPs = 10.9.0.2/32\n"
                          "Endpoint = %s:51820\n" % (uglab.genkey(), peer,
                                                     pasted.rstrip("=")))
    if how == "-c":
        argv = daemon_argv(ifname, "-c", path)
    else:
        argv = [uglab.uniguard_binary(), "convert", path]
    status, out = run_to_exit(lab, ns, "uniguard-" + ifname, argv)
    assert status == 1, out
    assert "%s:4: Endpoint: a key, not a host name" % path in out, out
    assert key_pieces(out, [pasted]) == [], out
    # Give a lookup that was sent its time to arrive.
    time.sleep(0.5)
    assert "query" not in dns.log(), dns.log()


def test_host_name_endpoint_is_still_looked_up(lab):
    """The check is no blanket refusal: a host name goes to the resolver
    (here the listener, which answers nothing: the lookup fails)."""
    ns, dns = namespace_with_watched_dns(lab)
    path = lab.write_file("host.conf",
                          "[Interface]\nPrivateKey = %s\n\n[Peer]\n"
                          "PublicKey = %s\nEndpoint = vpn.invalid:51820\n"
                          % (uglab.genkey(), uglab.run(
                              ["wg", "pubkey"], input=uglab.genkey()
                          ).stdout.strip()))
    status, out = run_to_exit(lab, ns, "convert",
                              [uglab.uniguard_binary(), "convert", path])
    assert status == 1, out
    assert "cannot resolve 'vpn.invalid:51820'" in out, out
    uglab.wait_until(lambda: "query" in dns.log(), what="the query")


# The socket's directory: what protects the socket is its own mode and
# the server's credential check, whatever made /var/run/wireguard. Each
# case gets a /run of its own (a tmpfs in the daemon's mount namespace),
# so the machine's own directory plays no part.

SOCK_CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
    s.sendall(b"get=1\n\n")
    print("answered:" + s.recv(65536).decode(errors="replace"))
except OSError as e:
    print("refused:" + type(e).__name__)
"""


@pytest.mark.parametrize("existing", [None, 0o755, 0o700],
                         ids=["fresh", "made-0755", "made-0700"])
def test_socket_protected_whatever_made_its_directory(lab, existing):
    ns = lab.netns("a")
    ifname = lab.ifname()
    prepare = "mount -t tmpfs -o mode=0755 none /run"
    if existing is not None:
        prepare += " && mkdir -m %o /run/wireguard" % existing
    key = uglab.genkey()
    path = lab.write_file(ifname + ".conf",
                          "[Interface]\nPrivateKey = %s\n" % key)
    argv = ["sh", "-c", prepare + ' && exec "$@"', "sh"] + daemon_argv(
        ifname, "-c", path)
    proc = ns.popen("uniguard-" + ifname, argv)
    root = "/proc/%d/root" % proc.pid
    sock = root + "/run/wireguard/%s.sock" % ifname
    uglab.wait_until(lambda: not proc.alive() or os.path.exists(sock),
                     what="the socket")
    assert proc.alive(), proc.log()
    st = os.lstat(sock)
    assert stat.S_ISSOCK(st.st_mode) and st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    st = os.stat(root + "/run/wireguard")
    assert st.st_uid == 0
    assert stat.S_IMODE(st.st_mode) == (existing or 0o700), oct(st.st_mode)
    # Another user, inside the daemon's mount namespace, cannot connect.
    res = uglab.run(["nsenter", "-t", str(proc.pid), "-m", "setpriv",
                     "--reuid=%d" % OTHER_UID, "--regid=%d" % OTHER_UID,
                     "--clear-groups", "/usr/bin/python3", "-c", SOCK_CLIENT,
                     "/run/wireguard/%s.sock" % ifname])
    assert res.stdout.strip() == "refused:PermissionError", res.stdout
    assert key_pieces(res.stdout, [key]) == []
