# SPDX-License-Identifier: MIT
"""The Debian package, end to end: built with dpkg-buildpackage from a
clean copy of the checkout's HEAD (`git archive`), checked by lintian,
installed with dpkg, and then what it installed tried: the program's
version, the man page, the bash completion, the unit (`systemd-analyze
verify`), and the unit's own command line, run the way the unit runs it,
serving a WireGuard client in another namespace.

The package is installed in a mount namespace of this module's own
(`Root`), where /etc, /usr and /var are overlays whose changes go to a
tmpfs, and /run/wireguard is a tmpfs: dpkg, the maintainer scripts and
the system user they create meet a real system, while the host's files,
its dpkg database and users, and any uniguard package installed on it
stay untouched. When the namespace's one process ends (also when this
run is killed: it waits for its standard input to close), every trace of
the install is gone. While it lives the test holds the host's dpkg lock,
so that no package operation changes what the overlays lie on.
"""

import fcntl
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

import uglab
from ugtools.run import run

REPO = uglab.REPO
UNIT = "/lib/systemd/system/uniguard@.service"
MAN = "/usr/share/man/man8/uniguard.8.gz"
COMPLETION = "/usr/share/bash-completion/completions/uniguard"
# CAP_NET_ADMIN (12) and CAP_NET_BIND_SERVICE (10), as /proc shows sets.
NET_CAPS = (1 << 12) | (1 << 10)

pytestmark = pytest.mark.slow


class Root:
    """A mount namespace whose /etc, /usr and /var are overlays of the
    host's on a tmpfs, and whose /run/wireguard is a tmpfs of its own.
    run() executes a command in it. What it mounts stays in it; a
    network namespace made later is entered before it (`ip netns exec NS
    nsenter ...`), as its name under /run/netns need not appear in it."""

    SETUP = r"""
set -e
mount -t tmpfs -o mode=0700 uniguard-pkg-test "$1"
for d in etc usr var; do
	mkdir "$1/upper-$d" "$1/work-$d"
	mount -t overlay -o "lowerdir=/$d,upperdir=$1/upper-$d,workdir=$1/work-$d" \
		uniguard-pkg-test "/$d"
done
mkdir -p /run/wireguard
mount -t tmpfs -o mode=0700 uniguard-pkg-test /run/wireguard
echo ready
read -r _ || true
"""

    def __init__(self, workdir):
        os.makedirs(workdir)
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             self.SETUP, "sh", workdir],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise AssertionError("the install root: %s%s" % (
                line, self.holder.stdout.read()))

    @property
    def pid(self):
        return self.holder.pid

    def argv(self, *args):
        return ["nsenter", "-t", str(self.pid), "-m"] + [str(a) for a in args]

    def run(self, *args, check=True, timeout=120, input=None, env=None):
        return run(self.argv(*args), check=check, timeout=timeout,
                   input=input, env=env)

    def read(self, path):
        return self.run("cat", path).stdout

    def close(self):
        if self.holder.poll() is None:
            self.holder.stdin.close()
            try:
                self.holder.wait(10)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait(5)
        self.holder.stdout.close()


DPKG_FRONTEND_LOCK = "/var/lib/dpkg/lock-frontend"


def hold_dpkg_lock(timeout=600):
    """The host's dpkg frontend lock, taken as apt and dpkg take it (a
    POSIX record lock on the whole file), waiting for a package operation
    under way to end. While a Root lives the host's packages must not
    change: its overlays' lower layers are the host's /etc, /usr and
    /var, and overlayfs leaves changes to those undefined (a file dpkg
    replaces can vanish from under a command run in the Root). apt waits
    for the lock (DPkg::Lock::Timeout). Returns the descriptor to close."""
    fd = os.open(DPKG_FRONTEND_LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                 0o640)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise AssertionError("the dpkg lock stayed taken for %d s"
                                     % timeout)
            time.sleep(1)


def host_state():
    """What installing the package on the host would change."""
    res = run(["dpkg-query", "-W", "-f", "${Status} ${Version}", "uniguard"],
              check=False)
    with open("/etc/passwd") as f:
        users = f.read()
    return (res.stdout if res.returncode == 0 else None,
            os.path.exists("/usr/sbin/uniguard"), "\nuniguard:" in users)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The .deb and .changes built from HEAD, and the build's time."""
    for tool in ("git", "dpkg-buildpackage", "lintian", "systemd-analyze",
                 "strace", "setpriv", "unshare", "nsenter"):
        if not uglab.which(tool):
            pytest.fail("missing tool: %s (make deps DEPS=test)" % tool)
    if run(["git", "-C", REPO, "rev-parse", "HEAD"], check=False).returncode:
        pytest.skip("not a git checkout: nothing to archive")
    top = tmp_path_factory.mktemp("package")
    src = top / "src"
    archive = subprocess.run(["git", "-C", REPO, "archive", "--format=tar",
                              "--prefix=src/", "HEAD"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(top)], input=archive, check=True)
    assert (src / "debian" / "control").exists(), "HEAD has no debian/"
    start = time.monotonic()
    res = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=str(src),
              check=False, timeout=900,
              env={"DEB_BUILD_OPTIONS": "parallel=2"})
    took = time.monotonic() - start
    assert res.returncode == 0, (res.stdout + res.stderr)[-6000:]
    debs = sorted(p for p in top.glob("uniguard_*.deb"))
    changes = sorted(top.glob("uniguard_*.changes"))
    assert len(debs) == 1 and len(changes) == 1, sorted(os.listdir(top))
    print("dpkg-buildpackage: %.0f s" % took)
    return {"deb": str(debs[0]), "changes": str(changes[0]), "top": top}


@pytest.fixture(scope="module")
def root(built, tmp_path_factory):
    """The package installed with dpkg in a Root, the host's packages
    held still meanwhile; the host untouched."""
    before = host_state()
    lock = hold_dpkg_lock()
    try:
        the_root = Root(str(tmp_path_factory.mktemp("root") / "mnt"))
        try:
            res = the_root.run("dpkg", "-i", built["deb"], check=False,
                               timeout=300)
            assert res.returncode == 0, res.stdout + res.stderr
            yield the_root
        finally:
            the_root.close()
    finally:
        os.close(lock)
    assert host_state() == before, "the host changed"


def test_lintian_is_clean(built):
    res = run(["lintian", "--fail-on", "error,warning", "--display-info",
               built["changes"]], check=False, timeout=600)
    tags = [ln for ln in res.stdout.splitlines() if ln[:2] in ("E:", "W:")]
    assert res.returncode == 0 and not tags, res.stdout + res.stderr


def test_version_is_the_packages(root, built):
    version = run(["dpkg-deb", "-f", built["deb"], "Version"]).stdout.strip()
    out = root.run("uniguard", "--version").stdout
    assert out == "uniguard %s\n" % version
    with open(os.path.join(REPO, "CMakeLists.txt")) as f:
        assert re.search(r"project\(uniguard VERSION %s " % re.escape(version),
                         f.read()), "CMakeLists.txt and debian/changelog differ"


def test_install_creates_the_system_user(root):
    entry = root.run("getent", "passwd", "uniguard").stdout.split(":")
    assert int(entry[2]) < 1000, entry
    assert entry[6].strip() == "/usr/sbin/nologin", entry
    assert root.run("getent", "group", "uniguard").stdout


def help_words(text):
    """The long options and the commands a --help text lists: an option
    line starts with spaces and a dash, its description follows after
    three spaces or more (as the bash completion reads it too)."""
    options = set()
    for line in text.splitlines():
        if re.match(r" +-", line):
            options |= set(re.findall(r"--[a-z][a-z0-9-]*",
                                      re.split(r" {3,}", line.strip())[0]))
    commands = set()
    for line in text.splitlines():
        m = re.match(r"\s*(?:usage: )?uniguard (.*)", line)
        if m:
            commands |= {w for w in re.split(r"[\s|]+", m.group(1))
                         if re.fullmatch(r"[a-z][a-z-]*", w)}
    return options, commands


def test_man_page_renders_and_names_every_option(root):
    res = root.run("man", "--warnings", "-l", MAN,
                   env={"MANWIDTH": "80", "LC_ALL": "C.UTF-8"})
    assert res.stderr == "", res.stderr
    page = res.stdout
    assert "uniguard - WireGuard gateway in userspace" in page, page[:800]
    # Lines joined again where groff broke or hyphenated a word.
    flat = re.sub("\u2010\n\\s*", "", page)
    flat = re.sub(r"-\n\s*", "-", flat).replace("\u2010", "-")
    options, commands = help_words(root.run("uniguard", "--help").stdout)
    replay_options, _ = help_words(
        root.run("uniguard", "replay", "--help").stdout)
    assert {"--config", "--help"} <= options and "convert" in commands
    missing = sorted(w for w in options | replay_options | commands
                     if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(w),
                                      flat))
    assert not missing, (
        "uniguard --help names %s, which uniguard(8) does not: describe "
        "them in docs/uniguard.8" % ", ".join(missing))


COMPLETE = r"""
source /usr/share/bash-completion/bash_completion
source "$1"
shift
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
_uniguard uniguard "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


def test_bash_completion(root):
    def complete(*words):
        return set(root.run("bash", "-c", COMPLETE, "bash", COMPLETION,
                            "uniguard", *words).stdout.split())
    options, commands = help_words(root.run("uniguard", "--help").stdout)
    # An option of a command ("stats --json") is offered after it.
    offered = complete("--")
    for command in ("show", "stats"):
        offered |= complete(command, "--")
    missing = options - offered
    assert not missing, (
        "the bash completion does not offer %s: add them to "
        "daemon/dist/uniguard.bash-completion" % ", ".join(sorted(missing)))
    assert commands <= complete(""), complete("")
    assert complete("-v", "") == {"error", "warn", "info", "debug", "trace"}
    assert complete("--verb") == {"--verbosity"}
    assert complete("stats", "--") == {"--json", "--help"}


def unit_settings(text):
    """key -> list of values of the unit file's [Service] section (and
    the others), in order."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_unit_verifies(root):
    res = root.run("systemd-analyze", "verify", UNIT, check=False)
    assert res.returncode == 0 and not (res.stdout + res.stderr).strip(), \
        res.stdout + res.stderr
    unit = unit_settings(root.read(UNIT))
    assert unit["User"] == ["uniguard"] and unit["Group"] == ["uniguard"]
    assert unit["CapabilityBoundingSet"] == ["CAP_NET_ADMIN CAP_NET_BIND_SERVICE"]
    assert unit["AmbientCapabilities"] == unit["CapabilityBoundingSet"]
    assert unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"]
    assert unit["StandardInput"] == ["file:/etc/wireguard/%i.conf"]
    res = root.run("systemd-analyze", "security", "--offline=yes", UNIT)
    exposure = re.search(r"Overall exposure level for \S+: ([\d.]+)",
                         res.stdout)
    assert exposure and float(exposure.group(1)) <= 2.5, res.stdout[-2000:]
    print("systemd-analyze security: %s" % exposure.group(1))


def syscall_filter(values):
    """The system calls a unit's SystemCallFilter= lines allow: an allow
    list, then deny lists (~), groups expanded by systemd-analyze."""
    groups, current = {}, None
    for line in run(["systemd-analyze", "syscall-filter"]).stdout.splitlines():
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        if not line.startswith(" ") and word.startswith("@"):
            current = groups.setdefault(word, [])
        elif current is not None:
            current.append(word)

    def expand(names):
        out = set()
        for name in names:
            out |= expand(groups[name]) if name.startswith("@") else {name}
        return out
    allowed = None
    for value in values:
        if value.startswith("~"):
            allowed -= expand(value[1:].split())
        else:
            allowed = (allowed or set()) | expand(value.split())
    return allowed


GATEWAY = r"""
set -e
# A booted system's udev makes /dev/net/tun 0666; this host's may be
# root's alone. The daemon, not root, opens it: give it the usual node.
mknod -m 0666 /run/wireguard/.tun c 10 200
mount --bind /run/wireguard/.tun /dev/net/tun
rm /run/wireguard/.tun
"""

# ProtectSystem=strict, ProtectKernelTunables, ProtectControlGroups:
# every file system read-only but /proc and /dev (and /proc/sys read-only
# too), except the paths given as arguments (the unit's ReadWritePaths,
# and where strace writes).
READ_ONLY = r"""
mount --bind /proc/sys /proc/sys
findmnt -rn -o TARGET | while read -r target; do
	case $target in
	/proc/sys) ;;
	/proc | /proc/* | /dev | /dev/*) continue ;;
	esac
	for keep in "$@"; do
		[ "$target" = "$keep" ] && continue 2
	done
	mount -o remount,bind,ro "$target" 2>/dev/null || true
done
for dir in / /etc /usr /var /run /tmp; do
	if touch "$dir/.uniguard-test" 2>/dev/null; then
		echo "$dir is still writable" >&2
		exit 1
	fi
done
# (This namespace's own setting, written back unchanged.)
if cat /proc/sys/net/ipv4/ip_forward 2>/dev/null |
	tee /proc/sys/net/ipv4/ip_forward >/dev/null 2>&1; then
	echo "/proc/sys is still writable" >&2
	exit 1
fi
"""


# GET /healthz of the operations listener at argv[1]:argv[2]; prints the
# answer.
HEALTHZ = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode())
"""


def test_unit_command_line_serves_a_client(root, lab, tmp_path):
    """The unit's ExecStartPre, then its ExecStart as its User with its
    capabilities (ambient and bounding) and no new privileges, the file
    on standard input, every file system read-only but its
    ReadWritePaths: a wireguard-go client in another namespace pings
    through the tunnel, root's wg reads the daemon's socket, the unit's
    ExecReload applies a changed file, and every system call the daemon
    made is one the unit's filter allows."""
    unit = unit_settings(root.read(UNIT))
    gw, cl = lab.netns("gw"), lab.netns("cl")
    lab.veth(gw, cl, ["192.168.87.1/24"], ["192.168.87.2/24"])
    ifname = lab.ifname()
    gw_key, gw_pub = uglab.keypair()
    cl_key, cl_pub = uglab.keypair()
    # With uniguard's own keys: the operations listener runs under the
    # unit's filters too, and its reload must leave the keys out.
    text = ("[Interface]\nPrivateKey = %s\nListenPort = 51820\n"
            "Address = 10.98.0.1/24\nHTTP = 192.168.87.1:9586\n"
            "LogCounters = 0\n\n[Peer]\nPublicKey = %s\n"
            "AllowedIPs = 10.98.0.2/32\n") % (gw_key, cl_pub)
    # The file where the unit reads it, root's and 0600, in the Root.
    (stdin,) = unit["StandardInput"]
    assert stdin.startswith("file:"), stdin
    conf = stdin[len("file:"):].replace("%i", ifname)
    write = 'umask 077 && mkdir -p "${1%/*}" && cat > "$1"'
    root.run("sh", "-c", write, "sh", conf, input=text)

    def command(key):
        (value,) = unit[key]
        return shlex.split(value.replace("%i", ifname))
    pre = command("ExecStartPre")
    assert pre[0].startswith("+"), pre   # run as root, unsandboxed
    pre[0] = pre[0][1:]
    caps = ",".join("+" + c.lower().replace("cap_", "")
                    for c in unit["AmbientCapabilities"][0].split())
    bounding = ",".join("+" + c.lower().replace("cap_", "")
                        for c in unit["CapabilityBoundingSet"][0].split())
    trace_dir = tmp_path / "trace"
    trace_dir.mkdir()
    trace = str(trace_dir / "strace.txt")
    assert unit["ProtectSystem"] == ["strict"]
    writable = unit["ReadWritePaths"][0].split() + [str(trace_dir)]
    start = command("ExecStart")
    argv = (["strace", "-f", "-qq", "-o", trace, "setpriv",
             "--reuid", unit["User"][0], "--regid", unit["Group"][0],
             "--init-groups", "--inh-caps", "-all," + caps,
             "--ambient-caps", caps, "--bounding-set", "-all," + bounding]
            + (["--no-new-privs"] if unit["NoNewPrivileges"] == ["yes"]
               else []) + start)
    script = (GATEWAY + " ".join(shlex.quote(a) for a in pre) + "\n"
              + "mount --bind %s %s\n" % ((shlex.quote(str(trace_dir)),) * 2)
              + "set -- " + " ".join(shlex.quote(w) for w in writable)
              + READ_ONLY + "exec "
              + " ".join(shlex.quote(a) for a in argv) + " < "
              + shlex.quote(conf) + "\n")
    log_path = str(tmp_path / "gateway.log")
    with open(log_path, "wb") as log:
        # In the gateway's namespace, then in a mount namespace of its
        # own within the Root, for the mounts below.
        popen = subprocess.Popen(
            ["ip", "netns", "exec", gw.name] + root.argv(
                "unshare", "--mount", "--propagation", "slave",
                "sh", "-c", script),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    proc = uglab.Process("uniguard-" + ifname, popen, log_path)
    lab.processes.append(proc)
    sock = "/run/wireguard/%s.sock" % ifname

    def daemon_pid():
        assert proc.alive(), proc.log()
        for pid in gw.pids():
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmdline = f.read().split(b"\0")[:-1]
            except OSError:
                continue
            if [a.decode() for a in cmdline] == start:
                return pid
        return None
    pid = uglab.wait_until(daemon_pid, timeout=30, what="the daemon")
    uglab.wait_until(lambda: root.run("test", "-S", sock,
                                      check=False).returncode == 0
                     or not proc.alive(), timeout=15, what="its socket")

    # The daemon is the unit's user with the two capabilities, no more.
    status = dict(line.split(":\t", 1) for line in
                  open("/proc/%d/status" % pid).read().splitlines()
                  if ":\t" in line)
    uid = root.run("id", "-u", "uniguard").stdout.strip()
    assert status["Uid"].split() == [uid] * 4, status["Uid"]
    for key in ("CapPrm", "CapEff", "CapAmb", "CapBnd"):
        assert int(status[key], 16) == NET_CAPS, (key, status[key])
    assert status["NoNewPrivs"].strip() == "1"
    owners = root.run("stat", "-c", "%n %U:%G %a", "/run/wireguard",
                      sock).stdout.splitlines()
    assert owners == ["/run/wireguard root:uniguard 1775",
                      "%s uniguard:uniguard 600" % sock], owners

    client = lab.wireguard_go(cl).configure(private_key=cl_key)
    client.add_peer(gw_pub, ["10.98.0.0/24"], endpoint="192.168.87.1:51820")
    client.up("10.98.0.2/24")
    cl.ping_ok("10.98.0.1", timeout=20)
    dump = uglab.Dump(root.run("wg", "show", ifname, "dump").stdout)
    assert dump.public_key == gw_pub
    assert dump.peers[cl_pub].latest_handshake > 0
    health = cl.exec(sys.executable, "-c", HEALTHZ, "192.168.87.1", "9586")
    assert health.stdout.startswith("HTTP/1.1 200 OK"), health.stdout

    # systemctl reload: a peer added to the file is added, the client's
    # session goes on.
    _, new_pub = uglab.keypair()
    root.run("sh", "-c", 'cat >> "$1"', "sh", conf, input=(
        "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.98.0.3/32\n" % new_pub))
    reload = command("ExecReload")
    assert reload[0].startswith("+"), reload   # root's, to read the file
    reload[0] = reload[0][1:]
    root.run(*reload)
    dump = uglab.Dump(root.run("wg", "show", ifname, "dump").stdout)
    assert set(dump.peers) == {cl_pub, new_pub}, dump.peers
    assert dump.peers[cl_pub].latest_handshake > 0
    cl.ping_ok("10.98.0.1", timeout=5)

    os.kill(pid, signal.SIGTERM)
    assert proc.popen.wait(15) == 0, proc.log()
    assert "stopped" in proc.log(), proc.log()
    assert root.run("test", "-e", sock, check=False).returncode != 0, \
        "the daemon left its socket"
    assert uglab.leaked_secrets(proc.log()) == []

    # What the daemon did (from its exec on), against the unit's filters.
    with open(trace) as f:
        lines = f.read().splitlines()
    first = max(i for i, ln in enumerate(lines)
                if re.search(r"execve\(\"%s\"" % re.escape(start[0]), ln))
    calls = {m.group(1) for m in (re.match(r"\d+\s+([a-z0-9_]+)\(", ln)
                                  for ln in lines[first + 1:]) if m}
    assert {"recvmmsg", "sendmmsg"} & calls and "ioctl" in calls, calls
    denied = calls - syscall_filter(unit["SystemCallFilter"])
    assert not denied, "system calls the unit's filter denies: %s" % denied
    families = set(re.findall(r"\bsocket\((AF_[A-Z0-9]+)",
                              "\n".join(lines[first + 1:])))
    allowed_families = set(unit["RestrictAddressFamilies"][0].split())
    assert families and families <= allowed_families, families
