# SPDX-License-Identifier: MIT
"""The stock tools against uniguard's UAPI socket: wg show / showconf / set /
setconf / syncconf, wg-quick up and down with uniguard as the userspace
implementation, and the daemon's own start-up, shutdown and privileges."""

import datetime
import os
import re
import signal
import socket
import time

import pytest

import uglab
from uglab import INNER4, INNER6, Pair


def ug_processes(ns):
    """(pid, comm) of the uniguard processes in ns."""
    out = []
    for pid in ns.pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("uniguard"):
            out.append((pid, comm))
    return out


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.split(":", 1) for line in f.read().splitlines()
                    if ":" in line)


def link_exists(ns, ifname):
    return ns.ip("link", "show", ifname, check=False).returncode == 0


def test_wg_show_reports_peers_handshake_and_transfer(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    text = pair.a.wg("show", pair.a.ifname).stdout
    assert "latest handshake" not in text
    pair.nsb.ping_ok(INNER4[0])
    res = pair.nsb.ping(INNER4[0], count=5, interval=0.05, size=1000)
    assert res.returncode == 0
    pa, pb = pair.settled_counters()
    # Six pings of up to 1000 bytes each way, and the handshake.
    assert pa.rx >= 5 * 1000 and pa.tx >= 5 * 1000
    assert abs(pa.latest_handshake - time.time()) < 30
    assert pa.endpoint == uglab.endpoint(uglab.OUTER4[1], pair.b.port)
    assert sorted(pa.allowed_ips) == sorted([INNER4[1] + "/32",
                                             INNER6[1] + "/128"])
    text = pair.a.wg("show", pair.a.ifname).stdout
    assert "peer: %s" % pair.b.public_key in text
    assert "latest handshake" in text and "transfer:" in text
    assert "listening port: %d" % pair.a.port in text
    # showconf round-trips through setconf unchanged.
    conf = pair.a.showconf()
    pair.a.setconf(conf)
    assert pair.a.showconf() == conf
    # wg show with no interface lists ours among the others.
    assert pair.a.ifname in pair.nsa.exec("wg", "show", "interfaces").stdout


def test_wg_set_while_traffic_runs(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    ug, other = pair.a, pair.b
    pair.nsb.ping_ok(INNER4[0])
    pinger = pair.nsb.popen("ping", ["ping", "-n", "-i", "0.02", "-W", "1",
                                     INNER4[0]])
    try:
        extra_priv, extra_pub = uglab.keypair()
        ug.set("peer", extra_pub, "allowed-ips", "10.9.0.50/32",
               "endpoint", "192.168.241.99:1234")
        assert ug.peer(extra_pub).allowed_ips == ["10.9.0.50/32"]
        # Update the working peer: one more allowed IP, a keepalive.
        ug.set("peer", other.public_key, "allowed-ips",
               "%s/32,%s/128,10.9.1.0/24" % (INNER4[1], INNER6[1]),
               "persistent-keepalive", "25")
        p = ug.peer(other.public_key)
        assert "10.9.1.0/24" in p.allowed_ips and p.keepalive == "25"
        # Move an allowed IP from one peer to another.
        ug.set("peer", extra_pub, "allowed-ips", "10.9.0.50/32,10.9.1.0/24")
        assert "10.9.1.0/24" not in ug.peer(other.public_key).allowed_ips
        assert "10.9.1.0/24" in ug.peer(extra_pub).allowed_ips
        # And remove it, then the extra peer.
        ug.set("peer", extra_pub, "allowed-ips", "10.9.0.50/32")
        ug.set("peer", extra_pub, "remove")
        assert extra_pub not in ug.dump().peers
        ug.set("peer", other.public_key, "persistent-keepalive", "off")
        time.sleep(0.5)
    finally:
        pinger.stop(signal.SIGINT)
    out = pinger.log()
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    sent, got = int(m.group(1)), int(m.group(2))
    assert sent >= 10 and got >= sent - 1, out

    # Removing the working peer stops the traffic; adding it back brings it
    # back with a new handshake, which uniguard starts at once.
    ug.set("peer", other.public_key, "remove")
    assert pair.nsb.ping(INNER4[0], count=2, wait=1).returncode != 0
    initiated = ug.stats()["handshakes_initiated"]
    ug.add_peer(other, [INNER4[1] + "/32"],
                endpoint=uglab.endpoint(uglab.OUTER4[1], other.port))
    pair.nsa.ping_ok(INNER4[1])
    assert ug.stats()["handshakes_initiated"] > initiated


def test_rejected_set_changes_nothing(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    ug = pair.a
    pair.nsb.ping_ok(INNER4[0])
    before = ug.showconf()

    # A port some other socket holds: wg set fails, nothing moves.
    holder = pair.nsa.python("udp-holder", ["-c", (
        "import socket,time\n"
        "s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\n"
        "s.bind(('::',40999))\n"
        "print('ready',flush=True)\n"
        "time.sleep(120)\n")])
    uglab.wait_until(lambda: "ready" in holder.log(), what="the port holder")
    new_priv = uglab.genkey()
    keyfile = lab.write_file("new.key", new_priv + "\n")
    res = ug.set("listen-port", "40999", "private-key", keyfile,
                 "peer", uglab.keypair()[1], "allowed-ips", "10.9.9.0/24",
                 check=False)
    assert res.returncode != 0
    assert ug.showconf() == before
    holder.stop()

    # Raw transactions, each with one bad line after good ones: errno is
    # not 0 and none of the good lines took effect.
    _, stranger = uglab.keypair()
    bad = [
        "allowed_ip=10.9.9.9/33",
        "allowed_ip=banana",
        "endpoint=300.1.1.1:5",
        "persistent_keepalive_interval=70000",
        "no_such_key=1",
    ]
    for line in bad:
        answer = ug.uapi("set=1\nprivate_key=%s\nlisten_port=41000\n"
                         "public_key=%s\nallowed_ip=10.9.8.0/24\n%s\n\n"
                         % (uglab.key_hex(new_priv), uglab.key_hex(stranger),
                            line))
        m = re.fullmatch(r"errno=(-?\d+)\n\n", answer)
        assert m and int(m.group(1)) != 0, (line, answer)
        assert ug.showconf() == before, line
    # The session survived all of it.
    pair.nsb.ping_ok(INNER4[0])


def test_several_requests_on_one_connection(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    ug = pair.a
    _, extra = uglab.keypair()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(ug.sock)
        f = s.makefile("rw")

        def answer():
            lines = []
            while True:
                line = f.readline()
                assert line, "connection closed"
                lines.append(line)
                if line == "\n" and lines[-2].startswith("errno="):
                    return "".join(lines)

        f.write("get=1\n\n")
        f.flush()
        first = answer()
        assert "listen_port=%d\n" % ug.port in first
        assert first.endswith("errno=0\n\n")
        f.write("set=1\npublic_key=%s\nallowed_ip=10.9.7.0/24\n\n"
                % uglab.key_hex(extra))
        f.flush()
        assert answer() == "errno=0\n\n"
        f.write("get=1\n\n")
        f.flush()
        assert "public_key=%s\n" % uglab.key_hex(extra) in answer()
        # Split across writes, byte by byte.
        for ch in "set=1\npublic_key=%s\nremove=true\n\n" % uglab.key_hex(extra):
            f.write(ch)
            f.flush()
        assert answer() == "errno=0\n\n"
    assert extra not in ug.dump().peers


def test_syncconf_and_listen_port_change(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    ug = pair.a
    pair.nsa.ping_ok(INNER4[1])
    # A new port: the socket is rebound and the peer follows us there.
    ug.set("listen-port", "41234")
    assert ug.dump().listen_port == 41234
    pair.nsa.ping_ok(INNER4[1])
    assert pair.b.peer(ug.public_key).endpoint == \
        uglab.endpoint(uglab.OUTER4[0], 41234)
    # Port 0 means "any": get=1 reports the one the kernel chose.
    ug.set("listen-port", "0")
    port = ug.dump().listen_port
    assert port not in (0, 41234)
    pair.nsa.ping_ok(INNER4[1])
    # syncconf drops a peer that the file does not name.
    _, extra = uglab.keypair()
    ug.set("peer", extra, "allowed-ips", "10.9.5.0/24")
    conf = ug.showconf()
    stripped = re.sub(r"\n\[Peer\]\nPublicKey = %s\n[^[]*" % re.escape(extra),
                      "\n", conf)
    assert extra not in stripped
    path = lab.write_file("sync.conf", stripped)
    ug.wg("syncconf", ug.ifname, path)
    assert extra not in ug.dump().peers
    pair.nsa.ping_ok(INNER4[1])


def write_quick_conf(lab, ifname, peer, allowed, address="10.9.0.1/24",
                     extra=""):
    return lab.write_file(ifname + ".conf", (
        "[Interface]\n"
        "PrivateKey = %s\n"
        "Address = %s\n"
        "ListenPort = 0\n"
        "%s\n"
        "[Peer]\n"
        "PublicKey = %s\n"
        "AllowedIPs = %s\n"
        "Endpoint = %s\n") % (uglab.genkey(), address, extra, peer.public_key,
                              allowed, uglab.endpoint(uglab.OUTER4[1],
                                                      peer.port)))


def wireguard_go_beside(lab):
    """A namespace for the interface under test, and a wireguard-go peer
    up at INNER4[1] across a veth in another."""
    nsa = lab.netns("a")
    nsb = lab.netns("b")
    lab.veth(nsa, nsb, [uglab.OUTER4[0] + "/24"], [uglab.OUTER4[1] + "/24"])
    peer = lab.wireguard_go(nsb).configure()
    peer.up(INNER4[1] + "/24")
    return nsa, peer


@pytest.mark.parametrize("allowed", ["10.9.0.2/32", "0.0.0.0/0"])
def test_wg_quick_up_and_down(lab, allowed):
    nsa, peer = wireguard_go_beside(lab)
    ifname = lab.ifname()
    conf = write_quick_conf(lab, ifname, peer, allowed)
    env = {"WG_QUICK_USERSPACE_IMPLEMENTATION": uglab.uniguard_binary(),
           "UNIGUARD_LOG_FILE": os.path.join(lab.tmpdir, ifname + ".log")}
    up = nsa.exec("wg-quick", "up", conf, env=env, timeout=60)
    assert "uniguard" in up.stderr
    dev = uglab.WgDevice(lab, nsa, ifname, "uniguard", None)
    dev.public_key = dev.dump().public_key
    peer.add_peer(dev, [INNER4[0] + "/32"])

    procs = ug_processes(nsa)
    daemon = [pid for pid, comm in procs if comm == "uniguard"]
    assert len(daemon) == 1, procs
    status = proc_status(daemon[0])
    assert status["Uid"].split()[0] == "65534", "privileges not dropped"
    if allowed == "0.0.0.0/0":
        # wg-quick set a fwmark through the socket, after the drop.
        assert dev.dump().fwmark not in ("off", "0")
    nsa.ping_ok(INNER4[1])

    nsa.exec("wg-quick", "down", conf, env=env)
    uglab.wait_until(lambda: not ug_processes(nsa), timeout=10,
                     what="uniguard to exit")
    assert not link_exists(nsa, ifname)
    uglab.wait_until(lambda: not os.path.exists(dev.sock), timeout=5,
                     what="the socket file to go")
    with open(env["UNIGUARD_LOG_FILE"]) as f:
        log = f.read()
    assert "handshake completed" in log
    assert "PrivateKey" not in log


def test_started_alone_then_wg_quick_down(lab):
    """Where wg-quick would take the kernel module (docs/daemon.md): the
    daemon started with the wg-quick file itself carries the tunnel, wg-quick
    up refuses the existing interface, and wg-quick down takes it down."""
    nsa, peer = wireguard_go_beside(lab)
    ifname = lab.ifname()
    conf = write_quick_conf(lab, ifname, peer, INNER4[1] + "/32",
                            address=INNER4[0] + "/24")
    log = os.path.join(lab.tmpdir, ifname + ".log")
    nsa.exec(uglab.uniguard_binary(), "-l", log, "-c", conf, ifname)
    dev = uglab.WgDevice(lab, nsa, ifname, "uniguard", None)
    dev.public_key = dev.dump().public_key
    peer.add_peer(dev, [INNER4[0] + "/32"])
    nsa.ping_ok(INNER4[1])

    # The file's Address set the interface up: nothing to say about it.
    with open(log) as f:
        assert "has no address" not in f.read()

    up = nsa.exec("wg-quick", "up", conf, check=False, timeout=60)
    assert up.returncode != 0 and "already exists" in up.stderr, up.stderr
    nsa.exec("wg-quick", "down", conf)
    uglab.wait_until(lambda: not ug_processes(nsa), timeout=10,
                     what="uniguard to exit")
    assert not link_exists(nsa, ifname)


def test_detaches_once_socket_listens(lab):
    ns = lab.netns("a")
    ifname = lab.ifname()
    logfile = os.path.join(lab.tmpdir, "detached.log")
    start = time.monotonic()
    res = ns.exec(uglab.uniguard_binary(), "-l", logfile,
                  "--disable-drop-privileges", "yes", ifname)
    assert res.returncode == 0
    assert time.monotonic() - start < 10
    # No polling: the socket must already be there when the parent exits.
    sock = os.path.join(uglab.SOCK_DIR, ifname + ".sock")
    assert os.path.exists(sock)
    assert oct(os.stat(sock).st_mode & 0o777) == oct(0o600)
    # The directory is shared with wg and wireguard-go, which makes it
    # 0755: whatever made it, only root may change what is in it
    # (test_hardening checks the 0700 of a directory uniguard makes).
    st = os.stat(uglab.SOCK_DIR)
    assert st.st_uid == 0 and not st.st_mode & 0o022, oct(st.st_mode)
    assert link_exists(ns, ifname)
    [(pid, _)] = ug_processes(ns)
    assert os.getsid(pid) == pid, "not in a session of its own"
    os.kill(pid, signal.SIGTERM)
    uglab.wait_until(lambda: not ug_processes(ns), what="uniguard to exit")
    assert not os.path.exists(sock)
    assert not link_exists(ns, ifname)
    with open(logfile) as f:
        log = f.read()
    assert "SIGTERM: stopping" in log and "stopped" in log


def syslog_listens():
    """Whether something takes lines at /dev/log, as glibc's syslog()
    tries it: a datagram socket, then a stream one."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_UNIX, kind) as s:
            try:
                s.connect("/dev/log")
                return True
            except OSError:
                pass
    return False


def test_detached_without_a_log_file_says_where_its_lines_go(lab):
    ns = lab.netns("a")
    ifname = lab.ifname()
    res = ns.exec(uglab.uniguard_binary(), "--disable-drop-privileges",
                  "yes", ifname, check=False, timeout=20)
    try:
        assert res.returncode == 0, res.stderr
        if syslog_listens():
            assert "no syslog" not in res.stderr, res.stderr
        else:
            # Said before detaching, while stderr reached the caller.
            assert ("uniguard: %s: no syslog on this system (nothing "
                    "listens on /dev/log): detached, this daemon logs "
                    "nowhere; give it a file with -l FILE" % ifname) \
                in res.stderr, res.stderr
    finally:
        for pid, _ in ug_processes(ns):
            os.kill(pid, signal.SIGTERM)
        uglab.wait_until(lambda: not ug_processes(ns),
                         what="uniguard to exit")


def test_log_lines_are_stamped_in_utc_with_milliseconds(lab):
    ns = lab.netns("a")
    ifname = lab.ifname()
    before = datetime.datetime.now(datetime.timezone.utc)
    # A zone 14 hours ahead: local time would be a day off.
    proc = ns.popen("uniguard-" + ifname, [
        uglab.uniguard_binary(), "-f", "--disable-drop-privileges", "yes",
        ifname], env={"TZ": "XYZ-14"})
    uglab.wait_until(lambda: " ready, UAPI socket " in proc.log(),
                     what="the ready line")
    after = datetime.datetime.now(datetime.timezone.utc)
    assert proc.stop() == 0
    lines = [line for line in proc.log().splitlines() if line]
    assert lines
    rx = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z "
                    r"uniguard\[%s\] (error|warn|info|debug|trace): \S"
                    % ifname)
    for line in lines:
        m = rx.match(line)
        assert m, line
        stamp = datetime.datetime.strptime(
            m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
                tzinfo=datetime.timezone.utc)
        slack = datetime.timedelta(seconds=1)
        assert before - slack <= stamp <= after + slack, (line, before,
                                                          after)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_shuts_down_cleanly(lab, sig):
    pair = Pair(lab, "uniguard", "wireguard-go")
    pair.nsb.ping_ok(INNER4[0])
    ug = pair.a
    ug.process.popen.send_signal(signal.SIGUSR1)
    uglab.wait_until(lambda: "counters:" in ug.process.log(),
                     what="the counters in the log")
    assert ug.stop(sig) == 0
    assert not os.path.exists(ug.sock)
    assert not link_exists(pair.nsa, ug.ifname)


def test_drops_privileges_keeps_what_it_needs(lab):
    pair_ns = lab.netns("a")
    ug = lab.uniguard(pair_ns, drop=True)
    pid = ug.process.pid
    uglab.wait_until(lambda: proc_status(pid)["Uid"].split()[0] == "65534",
                     what="the drop to nobody")
    status = proc_status(pid)
    assert status["Gid"].split()[0] != "0"
    caps = int(status["CapEff"], 16)
    assert caps == (1 << 12) | (1 << 10), hex(caps)  # NET_ADMIN, BIND_SERVICE
    ug.configure(port=80, fwmark="0x1234")
    dump = ug.dump()
    assert dump.listen_port == 80 and dump.fwmark == "0x1234"
    assert ug.stop() == 0
    uglab.wait_until(lambda: not os.path.exists(ug.sock), timeout=5,
                     what="the socket file to go")


def test_ini_config_brings_up_the_interface(lab):
    """-c with a wg-quick file alone: addresses and MTU applied."""
    nsa = lab.netns("a")
    nsb = lab.netns("b")
    lab.veth(nsa, nsb, [uglab.OUTER4[0] + "/24"], [uglab.OUTER4[1] + "/24"])
    peer = lab.wireguard_go(nsb).configure()
    peer.up(INNER4[1] + "/24", INNER6[1] + "/64")
    ifname = lab.ifname()
    priv, pub = uglab.keypair()
    conf = lab.write_file(ifname + ".conf", (
        "[Interface]\n"
        "PrivateKey = %s\n"
        "Address = %s/24, %s/64\n"
        "Address = 10.9.100.1/32\n"
        "MTU = 1380\n"
        "ListenPort = 41555\n"
        "DNS = 192.0.2.53\n"
        "[Peer]\n"
        "PublicKey = %s\n"
        "AllowedIPs = %s/32, %s/128\n"
        "Endpoint = %s\n") % (priv, INNER4[0], INNER6[0], peer.public_key,
                              INNER4[1], INNER6[1],
                              uglab.endpoint(uglab.OUTER4[1], peer.port)))
    ug = lab.uniguard(nsa, ifname, config=conf)
    peer.add_peer(pub, [INNER4[0] + "/32", INNER6[0] + "/128"],
                  endpoint=uglab.endpoint(uglab.OUTER4[0], 41555))
    link = nsa.ip("addr", "show", ifname).stdout
    assert "mtu 1380" in link and "UP" in link
    assert "inet %s/24" % INNER4[0] in link
    assert "inet 10.9.100.1/32" in link
    assert "inet6 %s/64" % INNER6[0] in link
    nsa.ping_ok(INNER4[1])
    nsa.ping_ok(INNER6[1])
    assert ug.dump().listen_port == 41555


BAD_CONFIGS = [
    ("ini", "[Interface]\nPrivateKey = %s\nListenPort = 99999\n", 3,
     "ListenPort"),
    ("ini", "[Interface]\nPrivateKey = %s\n\n[Peer]\nPublicKey = nope\n", 5,
     "PublicKey"),
    ("ini", "[Interface]\nPrivateKey = %s\nBogusKey = 1\n", 3, "BogusKey"),
    ("uapi", "set=1\nprivate_key=%s\nlisten_port=banana\n\n", 3,
     "listen_port"),
    ("uapi", "private_key=%s\npublic_key=00\n\n", 2, "public_key"),
]


@pytest.mark.parametrize("kind,text,line,key", BAD_CONFIGS)
def test_bad_config_stops_startup(lab, kind, text, line, key):
    ns = lab.netns("a")
    ifname = lab.ifname()
    priv = uglab.genkey()
    value = uglab.key_hex(priv) if kind == "uapi" else priv
    path = lab.write_file(ifname + ".conf", text % value)
    res = ns.exec(uglab.uniguard_binary(), "-f", "-c", path, ifname,
                  check=False, timeout=10)
    assert res.returncode == 1
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("%s:%d: %s: " % (path, line, key)), res.stderr
    assert priv not in res.stderr and value not in res.stderr
    # Nothing was opened.
    assert not link_exists(ns, ifname)
    assert not os.path.exists(os.path.join(uglab.SOCK_DIR, ifname + ".sock"))


def test_command_line(lab):
    binary = uglab.uniguard_binary()
    res = uglab.run([binary, "--help"])
    assert "usage: uniguard" in res.stdout and "--disable-drop-privileges" \
        in res.stdout
    res = uglab.run([binary, "--version"])
    assert re.fullmatch(r"uniguard \d+\.\d+\.\d+\n", res.stdout)
    assert uglab.run([binary], check=False).returncode == 2
    assert uglab.run([binary, "-v", "loud", "wg0"], check=False).returncode == 2
    assert uglab.run([binary, "-f", "a", "b"], check=False).returncode == 2
    missing = uglab.run([binary, "-f", "-c", "/nonexistent.conf", "wg0"],
                        check=False)
    assert missing.returncode == 1
    assert "/nonexistent.conf" in missing.stderr
    # An interface name a live daemon holds: refused, the daemon unharmed.
    ns = lab.netns("a")
    ug = lab.uniguard(ns)
    res = ns.exec(binary, "-f", "--disable-drop-privileges", "yes", ug.ifname,
                  check=False, timeout=10)
    assert res.returncode == 1
    assert ug.process.alive() and ug.dump().listen_port == ug.port


def test_removing_the_socket_file_stops_the_daemon(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns)
    os.unlink(ug.sock)
    uglab.wait_until(lambda: not ug.process.alive(), timeout=10,
                     what="uniguard to notice its socket went")
    assert ug.process.popen.returncode == 0
    assert not link_exists(ns, ug.ifname)
    assert "was removed" in ug.process.log()
