# SPDX-License-Identifier: MIT
"""Bad input at start-up: the command line and the -c file. Each is refused
with a message that says what is wrong (and where, for a file), a non-zero
exit (2 for the command line, 1 for what it names), and nothing opened: no
interface, no socket file. A daemon already running is not disturbed."""

import os
import re
import stat

import pytest

import uglab

BINARY_OPTS = ["-f", "--disable-drop-privileges", "yes"]


def nothing_opened(ns, ifname):
    # "dev": words such as "up" are filters to `ip link show`.
    assert ns.ip("link", "show", "dev", ifname, check=False).returncode != 0
    assert not os.path.exists(os.path.join(uglab.SOCK_DIR, ifname + ".sock"))


# argv after the binary (IF is the test's interface name), exit code, and
# what stderr says.
BAD_COMMAND_LINES = [
    (["--bogus", "IF"], 2, r"unrecognized option '--bogus'"),
    (["-x", "IF"], 2, r"invalid option -- 'x'"),
    (["-f", "-v"], 2, r"option requires an argument -- 'v'"),
    (["-f", "-c"], 2, r"option requires an argument -- 'c'"),
    (["-f", "--log"], 2, r"option '--log' requires an argument"),
    (["-f", "-v", "loud", "IF"], 2, r"-v: unknown level 'loud'"),
    (["-f", "--verbosity=", "IF"], 2, r"-v: unknown level ''"),
    (["-f"], 2, r"missing the interface name"),
    (["-f", "IF", "other"], 2, r"one interface name, after the options"),
    (["-f", "IF", "-v", "debug"], 2, r"one interface name, after the options"),
    (["-f", ""], 2, r"bad interface name ''"),
    (["-f", "a" * 16], 2, r"bad interface name 'a{16}'"),
    (["-f", "a/b"], 2, r"bad interface name 'a/b'"),
    (["-f", "a:b"], 2, r"bad interface name 'a:b'"),
    (["-f", "a b"], 2, r"bad interface name 'a b'"),
    (["-f", "."], 2, r"bad interface name '\.'"),
    (["-f", ".."], 2, r"bad interface name '\.\.'"),
    (["-f", "--disable-drop-privileges=maybe", "IF"], 2,
     r"--disable-drop-privileges: 'maybe' is not yes or no"),
    (["-f", "--aead", "fast", "IF"], 2,
     r"--aead: 'fast' is not auto, libcrypto or libsodium"),
    (["-f", "--aead"], 2, r"option '--aead' requires an argument"),
    (["-f", "--netdev", "bogus", "IF"], 1, r"no packet backend named bogus"),
    (["-f", "-l", "/nonexistent-dir/uniguard.log", "IF"], 1,
     r"/nonexistent-dir/uniguard\.log: No such file or directory"),
]


@pytest.mark.parametrize("argv,code,message", BAD_COMMAND_LINES,
                         ids=lambda v: repr(v) if isinstance(v, list)
                         else None)
def test_bad_command_line(lab, argv, code, message):
    ns = lab.netns("a")
    ifname = lab.ifname()
    argv = [ifname if a == "IF" else a for a in argv]
    res = ns.exec(uglab.uniguard_binary(), *argv, check=False, timeout=20)
    assert res.returncode == code, (res.returncode, res.stderr)
    assert re.search(message, res.stderr), res.stderr
    if code == 2:
        # A usage error says how to use it, on stderr only.
        assert res.stdout == ""
    nothing_opened(ns, ifname)


@pytest.mark.parametrize("name,value,message", [
    ("UNIGUARD_LOG_LEVEL", "loud", "UNIGUARD_LOG_LEVEL: unknown level 'loud'"),
    ("UNIGUARD_AEAD", "openssl",
     "UNIGUARD_AEAD: 'openssl' is not auto, libcrypto or libsodium"),
])
def test_bad_option_in_the_environment(lab, name, value, message):
    ns = lab.netns("a")
    ifname = lab.ifname()
    res = ns.exec(uglab.uniguard_binary(), "-f", ifname, check=False,
                  timeout=20, env={name: value})
    assert res.returncode == 2
    assert message in res.stderr, res.stderr
    nothing_opened(ns, ifname)


def test_bad_command_line_leaves_a_running_daemon_alone(lab):
    ns = lab.netns("a")
    ug = lab.uniguard(ns).configure()
    before = ug.showconf()
    binary = uglab.uniguard_binary()
    for argv in (["-f", "-v", "loud", ug.ifname],
                 ["-f", "--bogus", ug.ifname],
                 ["-f", "-c", "/nonexistent.conf", ug.ifname],
                 BINARY_OPTS + [ug.ifname]):
        res = ns.exec(binary, *argv, check=False, timeout=20)
        assert res.returncode in (1, 2), (argv, res.stderr)
    assert ug.process.alive()
    assert os.path.exists(ug.sock)
    assert ug.showconf() == before


# The -c file. Each case: how to make the file (a function of the lab and
# a path), and what the message says after "PATH".

def make_missing(lab, path):
    pass


def make_directory(lab, path):
    os.mkdir(path)


def make_fifo(lab, path):
    os.mkfifo(path)


def make_empty(lab, path):
    lab.write_file(os.path.basename(path), "")


def make_binary(lab, path):
    with open(path, "wb") as f:
        f.write(bytes(range(256)) * 4)
    os.chmod(path, 0o600)


def make_only_comments(lab, path):
    lab.write_file(os.path.basename(path), "# nothing here\n\n")


def make_too_large(lab, path):
    # Sparse: the size is refused before a byte is read.
    with open(path, "wb") as f:
        f.truncate((64 << 20) + 1)
    os.chmod(path, 0o600)


BAD_FILES = [
    (make_missing, r": No such file or directory$"),
    (make_directory, r": Is a directory$"),
    # A FIFO would block a plain open(): refused at once instead.
    (make_fifo, r": not a regular file$"),
    (make_empty, r":1: neither UAPI set lines nor a wg-quick file"),
    (make_binary, r":1: neither UAPI set lines nor a wg-quick file"),
    (make_only_comments, r":1: neither UAPI set lines nor a wg-quick file"),
    (make_too_large, r": File too large \(the limit is 64 MiB\)$"),
]


@pytest.mark.parametrize("make,message", BAD_FILES,
                         ids=lambda v: v.__name__ if callable(v) else None)
def test_unusable_config_file(lab, make, message):
    ns = lab.netns("a")
    ifname = lab.ifname()
    path = os.path.join(lab.tmpdir, ifname + ".conf")
    make(lab, path)
    res = ns.exec(uglab.uniguard_binary(), *BINARY_OPTS, "-c", path, ifname,
                  check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith(path), res.stderr
    assert re.search(message, first), res.stderr
    nothing_opened(ns, ifname)


def test_config_file_the_user_cannot_read(lab):
    """Root reads anything, so the daemon runs as nobody here: the file
    is read before anything needs privileges."""
    ns = lab.netns("a")
    ifname = lab.ifname()
    path = lab.write_file(ifname + ".conf", "[Interface]\nPrivateKey = %s\n"
                          % uglab.genkey(), mode=0o600)
    # nobody may reach the file's directory, not the file.
    os.chmod(lab.tmpdir, 0o755)
    os.chmod(os.path.dirname(lab.tmpdir), 0o755)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    res = ns.exec("setpriv", "--reuid=65534", "--regid=65534",
                  "--clear-groups", uglab.uniguard_binary(), "-f", "-c", path,
                  ifname, check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    assert res.stderr.strip().splitlines()[0] == \
        "%s: Permission denied" % path, res.stderr
    nothing_opened(ns, ifname)


# Bad lines that test_uapi.py does not cover: (text, line, key).
BAD_LINES = [
    ("[Interface]\nPrivateKey = short\n", 2, "PrivateKey"),
    ("[Interface]\nPrivateKey = %s\nFwMark = -1\n", 3, "FwMark"),
    ("[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\n"
     "PersistentKeepalive = 70000\n", 5, "PersistentKeepalive"),
    ("[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\n"
     "AllowedIPs = 10.0.0.0/33\n", 5, "AllowedIPs"),
    ("[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\n"
     "Endpoint = 192.0.2.1\n", 5, "Endpoint"),
    ("set=1\nprivate_key=%s\npublic_key=%s\nallowed_ip=10.0.0.0/33\n\n", 4,
     "allowed_ip"),
    ("set=1\nprivate_key=%s\npublic_key=%s\nendpoint=192.0.2.1\n\n", 4,
     "endpoint"),
]


@pytest.mark.parametrize("text,line,key", BAD_LINES)
def test_bad_line_names_file_line_and_key(lab, text, line, key):
    ns = lab.netns("a")
    ifname = lab.ifname()
    priv, pub = uglab.genkey(), uglab.keypair()[1]
    if text.startswith("set=1"):
        priv, pub = uglab.key_hex(priv), uglab.key_hex(pub)
    values = (priv, pub)[:text.count("%s")]
    path = lab.write_file(ifname + ".conf", text % values)
    res = ns.exec(uglab.uniguard_binary(), *BINARY_OPTS, "-c", path, ifname,
                  check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("%s:%d: %s: " % (path, line, key)), res.stderr
    assert not uglab.leaked_secrets(res.stderr)
    nothing_opened(ns, ifname)


# A value too long to quote whole: its start and its length, never empty
# quotes; one that could hold a key: its length alone.
LONG_VALUES = [
    ("[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\n"
     "Endpoint = " + "vpn.example." * 30 + ":51820\n", 3, "Endpoint",
     "'vpn.example.vpn.example....' (366 characters) is not host:port"),
    ("[Interface]\nPrivateKey = %s\n[Peer]\nPublicKey = %s\n"
     "AllowedIPs = " + "10.0.0.1" * 10 + "/32\n", 5, "AllowedIPs",
     "`10.0.0.110.0.0.110.0.0.1...' (83 characters) is not an address"),
    ("[Interface]\nPrivateKey = %s\nListenPort = " + "5" * 300 + "\n", 3,
     "ListenPort", "a value of 300 characters (not shown: it may hold a key) "
     "is not a port number"),
]


@pytest.mark.parametrize("text,line,key,message", LONG_VALUES,
                         ids=["endpoint", "allowed-ips", "port"])
def test_long_value_shows_its_start_and_length(lab, text, line, key,
                                               message):
    ns = lab.netns("a")
    ifname = lab.ifname()
    values = (uglab.genkey(), uglab.keypair()[1])[:text.count("%s")]
    path = lab.write_file(ifname + ".conf", text % values)
    res = ns.exec(uglab.uniguard_binary(), *BINARY_OPTS, "-c", path, ifname,
                  check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("%s:%d: %s: %s" % (path, line, key, message)), \
        res.stderr
    assert "`'" not in res.stderr
    nothing_opened(ns, ifname)


@pytest.mark.parametrize("form", ["wg-quick", "uapi"])
def test_port_in_use_names_the_line_and_key(lab, form):
    ns = lab.netns("a")
    first = lab.uniguard(ns)
    port = first.port
    ifname = lab.ifname()
    if form == "wg-quick":
        text = "[Interface]\n# the port\nListenPort = %d\nPrivateKey = %s\n" \
            % (port, uglab.genkey())
        where = "3: ListenPort"
    else:
        text = "set=1\nprivate_key=%s\nlisten_port=%d\n\n" % (
            uglab.key_hex(uglab.genkey()), port)
        where = "3: listen_port"
    path = lab.write_file(ifname + ".conf", text)
    res = ns.exec(uglab.uniguard_binary(), *BINARY_OPTS, "-c", path, ifname,
                  check=False, timeout=20)
    assert res.returncode == 1, res.stderr
    assert "%s:%s: cannot listen on UDP port %d: Address already in use" % (
        path, where, port) in res.stderr, res.stderr
    assert ":0:" not in res.stderr
    nothing_opened(ns, ifname)
    assert first.process.alive()


def test_config_without_a_private_key_draws_a_warning(lab):
    ns = lab.netns("a")
    keyless = lab.write_file("keyless.conf", "[Interface]\nListenPort = 0\n")
    ug = lab.uniguard(ns, config=keyless)
    log = ug.process.log()
    assert "] warn: %s sets no private key: the interface makes and " \
        "answers no handshake until one is set" % keyless in log, log
    assert " ready, UAPI socket " in log
    keyed = lab.write_file("keyed.conf", "[Interface]\nPrivateKey = %s\n"
                           % uglab.genkey())
    ug = lab.uniguard(ns, config=keyed)
    assert "no private key" not in ug.process.log()


# Words a user guesses for a command: never an interface. Each is refused
# (exit 2, with what to run instead) wherever the interface name goes.
COMMAND_WORDS = ["show", "status", "stats", "help", "version", "up", "down",
                 "start", "stop", "restart", "reload", "list", "ls", "info",
                 "run", "convert", "replay", "showconf", "set", "setconf",
                 "addconf", "syncconf", "genkey", "genpsk", "pubkey", "strip",
                 "save"]


def test_command_words_are_not_interface_names(lab):
    ns = lab.netns("a")
    binary = uglab.uniguard_binary()
    # Each word in one of the places an interface name goes, in turn (one
    # run each: the ASan pass starts every run slowly).
    places = (lambda w: ["-f", w], lambda w: BINARY_OPTS + [w],
              lambda w: ["-f", w, "wg0"])
    for i, word in enumerate(COMMAND_WORDS):
        argv = places[i % len(places)](word)
        res = ns.exec(binary, *argv, check=False, timeout=20)
        assert res.returncode == 2, (argv, res.stderr)
        assert res.stdout == "", argv
        assert re.search(r"^uniguard: '%s' is a command word, not an "
                         r"interface name; try: \S" % word,
                         res.stderr), (argv, res.stderr)
        assert not os.path.exists(os.path.join(uglab.SOCK_DIR,
                                               word + ".sock"))
    # As the first word, where subcommands go, the ones that are not
    # subcommands are refused too.
    for argv in (["up"], ["down", "wg0"], ["status", "wg0"], ["start"]):
        res = ns.exec(binary, *argv, check=False, timeout=20)
        assert res.returncode == 2, (argv, res.stderr)
        assert "is a command word" in res.stderr, (argv, res.stderr)
    # No interface of any name: the namespace has its loopback alone.
    assert ns.ip("-o", "link", "show").stdout.count("\n") == 1, \
        ns.ip("-o", "link", "show").stdout


def test_help_and_version_words():
    binary = uglab.uniguard_binary()
    help_text = uglab.run([binary, "--help"]).stdout
    assert uglab.run([binary, "help"]).stdout == help_text
    assert "Command words" in help_text
    version = uglab.run([binary, "--version"]).stdout
    assert re.match(r"^uniguard \S+\n$", version), version
    assert uglab.run([binary, "version"]).stdout == version
