# SPDX-License-Identifier: MIT
"""Secrets at the daemon's edges, and bad input on its UAPI socket.

- No private or preshared key, nor any 20-character piece of one (base64
  with or without padding, hex in either case), shows in the daemon's
  output at the most verbose level (trace): across handshakes, keys set over
  the UAPI socket and by -c FILE in both formats, rejected sets and files
  that hold a key in the wrong place, and shutdown.
- The UAPI socket (which answers the private key to get=1) is 0600 and
  root's, in a directory only root may write, and the server checks each client's
  credentials itself: another user is refused even when the file system
  would let it through (a process with CAP_DAC_OVERRIDE, or a hard link
  made world-writable), with a log line naming the uid, also after the
  daemon has dropped to that very user.
- A -c file that others may access draws a warning naming it and its mode.
- Bad input on the socket (an over-long line, a set without its blank line,
  clients that say nothing, a line that is no request) is refused clearly,
  applies nothing, and the daemon keeps serving everyone else.
"""

import base64
import json
import os
import re
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import uglab
from uglab import INNER4, INNER6, OUTER4, Pair
from ugtools import procstat
from ugtools.keys import pieces as key_pieces

NOBODY = 65534
# The longest line the server takes, newline excluded.
LINE_MAX = 1023
EMSGSIZE = 90
EINVAL = 22
EPERM = 1


def test_key_pieces_finds_what_it_should():
    """The checker itself: finds a key in each form, also cut or inside
    other text, and nothing in text without one."""
    key = base64.b64encode(bytes(range(32))).decode()
    hexkey = bytes(range(32)).hex()
    assert key_pieces("x %s y" % key, [key])
    assert key_pieces("`%s'" % key.rstrip("="), [key])
    assert key_pieces("...%s" % hexkey[10:40], [key])
    assert key_pieces(hexkey.upper(), [key])
    assert key_pieces(key[3:25], [key])
    assert not key_pieces(key[:19] + " " + key[19:38], [key])
    assert not key_pieces("peer %s: handshake completed" % key[:8], [key])


def secret(psk=False):
    return uglab.genpsk() if psk else uglab.genkey()


def answer_of(sock, timeout=10):
    """Reads a UAPI answer up to its blank line after errno=, or to the
    end of the connection; returns (text, closed)."""
    sock.settimeout(timeout)
    data = b""
    while not re.search(rb"errno=-?\d+\n\n", data):
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data.decode(), True
        if not chunk:
            return data.decode(), True
        data += chunk
    return data.decode(), False


def is_closed(sock, timeout=10):
    """True once the server has closed the connection."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def still_open(sock):
    try:
        data = sock.recv(1, socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return bool(data)


def stop_and_log(dev):
    """Stops the daemon cleanly (its shutdown is part of what is checked)
    and returns its whole output."""
    assert dev.stop() == 0, dev.process.log()
    return dev.process.log()


def gw_and_peer(lab):
    """Two namespaces on one link; a wireguard-go peer in the second,
    configured and up. Returns (nsa, nsb, peer)."""
    nsa = lab.netns("a")
    nsb = lab.netns("b")
    lab.veth(nsa, nsb, [OUTER4[0] + "/24"], [OUTER4[1] + "/24"])
    peer = lab.wireguard_go(nsb).configure()
    peer.up(INNER4[1] + "/24", INNER6[1] + "/64")
    return nsa, nsb, peer


# Rejected sets, each with a key where it does not belong. %(k)s is a
# private key unpadded base64, %(kh)s the same in hex, %(p)s a preshared key
# unpadded, %(ph)s in hex, %(pub)s a public key in hex (not secret).
WRONG_PLACE_SETS = [
    "listen_port=%(k)s\n",
    "fwmark=%(k)s\n",
    "%(k)s=\n",
    "%(kh)s=1\n",
    "%(kh)s\n",
    "private_key=%(k)s=\n",
    "preshared_key=%(ph)s\n",
    "public_key=%(pub)s\nendpoint=%(p)s\n",
    "public_key=%(pub)s\npersistent_keepalive_interval=%(p)s\n",
    "public_key=%(pub)s\nallowed_ip=%(ph)s\n",
    "public_key=%(pub)s\nallowed_ip=%(p)s/32\n",
    "public_key=%(k)s\n",
    "public_key=%(pub)s\npreshared_key=%(p)s\n",
]


def test_no_key_in_trace_log_handshake_uapi_rejects_shutdown(lab):
    nsa, nsb, peer = gw_and_peer(lab)
    ug = lab.uniguard(nsa, verbosity="trace").configure()
    psk = secret(psk=True)
    ug.add_peer(peer, [INNER4[1] + "/32", INNER6[1] + "/128"],
                endpoint=uglab.endpoint(OUTER4[1], peer.port), psk=psk)
    peer.add_peer(ug, [INNER4[0] + "/32", INNER6[0] + "/128"],
                  endpoint=uglab.endpoint(OUTER4[0], ug.port), psk=psk)
    ug.up(INNER4[0] + "/24", INNER6[0] + "/64")
    nsa.ping_ok(INNER4[1])
    # The keys do go out on the socket, to its owner.
    conf = ug.showconf()
    assert ug.private_key in conf and psk in conf

    # A whole set over the socket: a new preshared key for the peer and a
    # fresh key for the interface, then the old one back.
    psk2 = secret(psk=True)
    other = secret()
    for priv in (other, ug.private_key):
        answer = ug.uapi("set=1\nprivate_key=%s\npublic_key=%s\n"
                         "preshared_key=%s\n\n" % (
                             uglab.key_hex(priv), uglab.key_hex(
                                 peer.public_key), uglab.key_hex(psk2)))
        assert answer == "errno=0\n\n"
    ug.set("peer", peer.public_key, "preshared-key",
           lab.write_file("psk", psk + "\n"))
    nsa.ping_ok(INNER4[1])

    # Rejected sets holding keys where they do not belong: each refused
    # whole, each logged, none quoting the key.
    before = ug.showconf()
    for n, template in enumerate(WRONG_PLACE_SETS):
        k, p = secret(), secret(psk=True)
        text = template % {
            "k": k.rstrip("="), "kh": uglab.key_hex(k),
            "p": p.rstrip("="), "ph": uglab.key_hex(p),
            "pub": uglab.key_hex(peer.public_key)}
        answer = ug.uapi("set=1\n" + text + "\n")
        m = re.fullmatch(r"errno=(-?\d+)\n\n", answer)
        assert m and int(m.group(1)) != 0, (template, answer)
        uglab.wait_until(
            lambda: ug.process.log().count("configuration change "
                                           "rejected") > n,
            what="the rejection of %r in the log" % template)
    assert ug.showconf() == before
    nsa.ping_ok(INNER4[1])

    ug.process.popen.send_signal(signal.SIGUSR1)
    uglab.wait_until(lambda: "counters:" in ug.process.log(),
                     what="the counters in the log")
    log = stop_and_log(ug)
    # The run did go through the paths in question, verbosely.
    assert " debug: " in log
    assert "handshake completed" in log
    assert "stopped" in log
    assert key_pieces(log, uglab.SECRETS) == []


@pytest.mark.parametrize("kind", ["ini", "uapi"])
def test_no_key_in_trace_log_config_file(lab, kind):
    nsa, nsb, peer = gw_and_peer(lab)
    ifname = lab.ifname()
    priv, pub = uglab.keypair()
    psk = secret(psk=True)
    if kind == "ini":
        text = ("[Interface]\nPrivateKey = %s\nListenPort = 41601\n"
                "Address = %s/24\n"
                "[Peer]\nPublicKey = %s\nPresharedKey = %s\n"
                "AllowedIPs = %s/32\nEndpoint = %s\n") % (
                    priv, INNER4[0], peer.public_key, psk, INNER4[1],
                    uglab.endpoint(OUTER4[1], peer.port))
    else:
        text = ("set=1\nprivate_key=%s\nlisten_port=41601\n"
                "public_key=%s\npreshared_key=%s\nallowed_ip=%s/32\n"
                "endpoint=%s\n\n") % (
                    uglab.key_hex(priv), uglab.key_hex(peer.public_key),
                    uglab.key_hex(psk), INNER4[1],
                    uglab.endpoint(OUTER4[1], peer.port))
    conf = lab.write_file(ifname + ".conf", text)
    ug = lab.uniguard(nsa, ifname, config=conf, verbosity="trace")
    if kind == "uapi":
        ug.up(INNER4[0] + "/24")
    assert ug.public_key == pub
    peer.add_peer(pub, [INNER4[0] + "/32"],
                  endpoint=uglab.endpoint(OUTER4[0], 41601), psk=psk)
    nsa.ping_ok(INNER4[1])
    log = stop_and_log(ug)
    assert " debug: " in log and "handshake completed" in log
    assert key_pieces(log, uglab.SECRETS) == []


# -c files with a key in the wrong place: (text, line, key). %(k)s is a
# private key in base64 without padding, %(K)s with it, %(kh)s hex.
WRONG_PLACE_FILES = [
    ("[Interface]\nPrivateKey = %(K)s\nListenPort = %(k)s\n", 3,
     "ListenPort"),
    ("[Interface]\nPrivateKey = %(kh)s\n", 2, "PrivateKey"),
    ("[Interface]\nPrivateKey = %(K)s\nMTU = %(k)s\n", 3, "MTU"),
    ("[Interface]\nPrivateKey = %(K)s\n[Peer]\nPublicKey = %(k)s\n", 4,
     "PublicKey"),
    ("[Interface]\nPrivateKey = %(K)s\n[Peer]\nPublicKey = %(pub)s\n"
     "Endpoint = %(k)s\n", 5, "Endpoint"),
    ("[Interface]\nPrivateKey = %(K)s\n[Peer]\nPublicKey = %(pub)s\n"
     "AllowedIPs = %(k)s\n", 5, "AllowedIPs"),
    ("set=1\nprivate_key=%(kh)s\nlisten_port=%(k)s\n\n", 3, "listen_port"),
    ("set=1\nfwmark=%(k)s\n\n", 2, "fwmark"),
]


@pytest.mark.parametrize("text,line,key", WRONG_PLACE_FILES)
def test_no_key_in_config_file_errors(lab, text, line, key):
    ns = lab.netns("a")
    ifname = lab.ifname()
    k = secret()
    path = lab.write_file(ifname + ".conf", text % {
        "k": k.rstrip("="), "K": k, "kh": uglab.key_hex(k),
        "pub": uglab.keypair()[1]})
    res = ns.exec(uglab.uniguard_binary(), "-f", "-v", "trace", "-c", path,
                  ifname, check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("%s:%d: %s: " % (path, line, key)), res.stderr
    assert key_pieces(res.stdout + res.stderr, [k]) == []
    assert not os.path.exists(os.path.join(uglab.SOCK_DIR, ifname + ".sock"))


# The socket: its file, and the server's own check of who connects.

def test_socket_file_is_roots_alone(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns)
    st = os.lstat(ug.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == 0
    # Shared with wg and wireguard-go (which makes it 0755): what matters
    # is that only root may change its entries.
    st = os.stat(uglab.SOCK_DIR)
    assert st.st_uid == 0 and not st.st_mode & 0o022, oct(st.st_mode)


# Run as another user: connects to PATH, waits for what the server says
# unasked, then asks get=1; prints what happened as JSON.
CLIENT = r"""
import json, os, socket, sys
out = {"uid": os.getuid(), "connected": False, "data": "", "error": None}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
    out["connected"] = True
    data = b""
    try:
        data = s.recv(4096)
        if not data:
            out["error"] = "closed"
    except socket.timeout:
        s.sendall(b"get=1\n\n")
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    out["data"] = data.decode(errors="replace")
except OSError as e:
    out["error"] = type(e).__name__
print(json.dumps(out))
"""


def connect_as(uid, path, dac_override=False):
    """Runs CLIENT as uid (its group too, no others); with dac_override
    it keeps CAP_DAC_OVERRIDE, so that file modes do not stop it."""
    args = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
            "--clear-groups"]
    if dac_override:
        args += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    args += ["/usr/bin/python3", "-c", CLIENT, path]
    res = uglab.run(args, timeout=30)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["uid"] == uid
    return out


def effective_uid(pid):
    return int(procstat.status(pid)["Uid"][1])


def assert_refused(out, dev):
    # The file system let it through: it is the server that said no.
    assert out["connected"], out
    assert "private_key" not in out["data"], out
    assert out["data"] in ("", "errno=-%d\n\n" % EPERM), out
    uglab.wait_until(lambda: re.search(
        r"uapi: refused a connection from uid %d \(pid \d+\)" % NOBODY,
        dev.process.log()), what="the refusal in the log")


def linked_socket(lab, dev):
    """A hard link to dev's socket in a directory anyone may enter, the
    socket made world-writable: the file system no longer stops anyone.
    Undone when the test ends."""
    tmp = tempfile.mkdtemp(prefix="ugt-secrets-",
                           dir=os.path.dirname(os.path.realpath(
                               uglab.SOCK_DIR)))
    os.chmod(tmp, 0o755)
    path = os.path.join(tmp, "link.sock")
    os.link(dev.sock, path)

    def undo():
        try:
            os.chmod(path, 0o600)
            os.unlink(path)
        finally:
            os.rmdir(tmp)
    lab.cleanups.append(undo)
    os.chmod(path, 0o666)
    return path


def test_other_user_cannot_open_the_socket(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns).configure()
    out = connect_as(NOBODY, ug.sock)
    assert not out["connected"] and out["error"] == "PermissionError", out
    assert ug.private_key in ug.showconf()


@pytest.mark.parametrize("bypass", ["dac_override", "chmod"])
@pytest.mark.parametrize("drop", [False, True])
def test_peer_credentials_refuse_other_users(lab, bypass, drop):
    ns = lab.netns("a")
    ug = lab.uniguard(ns, drop=drop).configure()
    if drop:
        pid = ug.process.pid
        # The daemon itself now runs as the very user it must refuse.
        uglab.wait_until(lambda: effective_uid(pid) == NOBODY,
                         what="the drop to nobody")
    if bypass == "chmod":
        path = linked_socket(lab, ug)
        out = connect_as(NOBODY, path)
        # The same path serves root, private key included.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(path)
            s.sendall(b"get=1\n\n")
            text, _ = answer_of(s)
        assert "private_key=%s\n" % uglab.key_hex(ug.private_key) in text
    else:
        out = connect_as(NOBODY, ug.sock, dac_override=True)
    assert_refused(out, ug)
    assert ug.process.alive()
    assert ug.private_key in ug.showconf()
    assert key_pieces(ug.process.log(), uglab.SECRETS) == []


@pytest.mark.parametrize("mode,warned", [(0o644, "others"),
                                         (0o640, "its group"),
                                         (0o604, "others"),
                                         (0o600, None)],
                         ids=["0644", "0640", "0604", "0600"])
def test_exposed_config_file_draws_a_warning(lab, mode, warned):
    ns = lab.netns("a")
    ifname = lab.ifname()
    priv = secret()
    path = lab.write_file(ifname + ".conf", "[Interface]\nPrivateKey = %s\n"
                          % priv, mode=mode)
    ug = lab.uniguard(ns, ifname, config=path)
    assert ug.dump().private_key == priv
    log = stop_and_log(ug)
    if warned:
        # At the warn level, neither an error nor information.
        assert "] warn: %s is accessible to %s (mode %04o)" % (
            path, warned, mode) in log, log
    else:
        assert "warn" not in log, log


# Bad input on the socket.

def test_line_longer_than_the_server_takes(lab):
    pair = Pair(lab, "uniguard", "wireguard-go")
    ug = pair.a
    pair.nsb.ping_ok(INNER4[0])
    before = ug.showconf()
    k = secret()

    # The longest line taken: an unknown key, refused, the connection kept.
    longest = "no_such_key=" + "a" * (LINE_MAX - len("no_such_key="))
    assert len(longest) == LINE_MAX
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(ug.sock)
        s.sendall(("set=1\nlisten_port=41999\n%s\n\n" % longest).encode())
        text, closed = answer_of(s)
        assert text == "errno=-%d\n\n" % EINVAL and not closed
        s.sendall(b"get=1\n\n")
        text, closed = answer_of(s)
        assert text.endswith("errno=0\n\n") and not closed

    # One byte more, with a key in it: errno=-EMSGSIZE, closed, nothing
    # applied of the set it was part of.
    over = "private_key=" + uglab.key_hex(k) * 16
    over = over[:LINE_MAX + 1]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(ug.sock)
        try:
            s.sendall(("set=1\nlisten_port=41999\n%s\n\n" % over).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass
        text, closed = answer_of(s)
        assert text in ("", "errno=-%d\n\n" % EMSGSIZE), text
        assert closed or is_closed(s)
    uglab.wait_until(lambda: "uapi: a line longer than %d bytes" % LINE_MAX
                     in ug.process.log(), what="the long line in the log")
    assert ug.showconf() == before
    pair.nsb.ping_ok(INNER4[0])
    assert key_pieces(ug.process.log(), [k]) == []


def test_set_without_its_blank_line_applies_nothing(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns, verbosity="trace").configure()
    _, stranger = uglab.keypair()
    before = ug.showconf()
    k = secret()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(ug.sock)
        s.sendall(("set=1\nprivate_key=%s\nlisten_port=41998\n"
                   "public_key=%s\nallowed_ip=10.9.5.0/24\n"
                   % (uglab.key_hex(k), uglab.key_hex(stranger))).encode())
        # While it waits, others are served and see nothing of it.
        for _ in range(3):
            assert ug.showconf() == before
            time.sleep(0.2)
        ug.set("listen-port", "41997")
        assert ug.dump().listen_port == 41997
        # The client goes without the blank line: still nothing of it.
    time.sleep(0.3)
    dump = ug.dump()
    assert dump.listen_port == 41997
    assert dump.private_key == ug.private_key
    assert stranger not in dump.peers
    assert key_pieces(stop_and_log(ug), [k]) == []


def test_silent_clients_do_not_lock_others_out(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns).configure()
    silent = []
    try:
        for _ in range(40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(ug.sock)
            silent.append(s)
        # Served at once, 40 silent connections or not.
        t0 = time.monotonic()
        assert ug.dump().listen_port == ug.port
        ug.set("listen-port", "41996")
        assert ug.dump().listen_port == 41996
        assert time.monotonic() - t0 < 20
        # Room was made by closing the oldest; the newest are untouched.
        closed = [i for i, s in enumerate(silent) if not still_open(s)]
        assert len(closed) >= 8, closed
        assert all(still_open(s) for s in silent[-20:])
        assert "closing the oldest" in ug.process.log()
    finally:
        for s in silent:
            s.close()
    assert ug.process.alive()
    assert ug.dump().listen_port == 41996


def test_line_that_is_no_request(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns).configure()
    k = secret()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(ug.sock)
        s.sendall(("%s\nget=1\n\n" % k).encode())
        text, closed = answer_of(s)
        assert text == "errno=-%d\n\n" % EINVAL
        assert closed or is_closed(s)
    assert "not get=1, set=1 or stats=1" in ug.process.log()
    assert ug.dump().private_key == ug.private_key
    assert key_pieces(ug.process.log(), [k]) == []
