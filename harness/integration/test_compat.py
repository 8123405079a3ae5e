# SPDX-License-Identifier: MIT
"""boringtun's and wireguard-go's flags and variables, each with the
meaning it has in its home tool (the table in docs/daemon.md names the
test of each row). Each start is one daemon in a namespace of its own
making, checked by what it does (its user, its threads, where its log
goes, which device and socket it serves), not only by what it logs."""

import os
import re
import signal
import subprocess
import sys

import uglab

HERE = os.path.dirname(os.path.abspath(__file__))
LAUNCHER = os.path.join(HERE, "fdlaunch.py")


def start(lab, ns, argv, env=None, ifname=None, name="uniguard"):
    """uniguard with argv (the interface name last) in ns; returns the
    WgDevice once its socket answers."""
    ifname = ifname or argv[-1]
    proc = ns.popen("%s-%s" % (name, ifname), [uglab.uniguard_binary()] +
                    list(argv), env=env)
    dev = uglab.WgDevice(lab, ns, ifname, "uniguard", proc)
    lab._wait_socket(dev, proc)
    return dev


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        line = next(l for l in f if l.startswith("Uid:"))
    return int(line.split()[1])


def threads_of(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def stopped_log(dev):
    assert dev.stop() == 0, dev.process.log()
    return dev.process.log()


# boringtun-cli: every flag in its long and short spelling.

def test_boringtun_flags(lab):
    ns = lab.netns("a")
    log_path = os.path.join(lab.tmpdir, "long.log")
    long_form = start(lab, ns, [
        "--foreground", "--verbosity", "debug", "--threads", "4",
        "--disable-connected-udp", "--disable-multi-queue", "--log",
        log_path, "--disable-drop-privileges", lab.ifname()])
    pid = long_form.process.pid
    # Foreground, root, and the usual thread per direction: 3 in all.
    assert long_form.process.alive()
    assert uid_of(pid) == 0
    assert threads_of(pid) == 3
    stopped_log(long_form)
    with open(log_path) as f:
        log = f.read()
    assert "--disable-connected-udp: accepted, no effect" in log
    assert "--disable-multi-queue: accepted, no effect" in log
    assert "4 threads: accepted" in log
    assert " debug: " in log

    log_path = os.path.join(lab.tmpdir, "short.log")
    short = start(lab, ns, ["-f", "-v", "error", "-t", "1", "-l", log_path,
                            "--disable-drop-privileges", "yes",
                            lab.ifname()])
    # -t 1: everything on the event loop's one thread.
    assert threads_of(short.process.pid) == 1
    stopped_log(short)
    with open(log_path) as f:
        log = f.read()
    assert " info: " not in log and " debug: " not in log, log


def test_boringtun_variables(lab):
    ns = lab.netns("a")
    dev = start(lab, ns, ["-f", lab.ifname()], env={
        "WG_LOG_LEVEL": "debug", "WG_THREADS": "1", "WG_SUDO": "1"})
    # WG_SUDO=1: boringtun's "do not drop privileges".
    assert uid_of(dev.process.pid) == 0
    assert threads_of(dev.process.pid) == 1
    assert " debug: 1 thread: the packet path runs in the event loop" in \
        stopped_log(dev)

    # WG_SUDO=0 drops as usual; -v and -t win over the variables.
    dev = start(lab, ns, ["-f", "-v", "info", "-t", "2", lab.ifname()],
                env={"WG_LOG_LEVEL": "debug", "WG_THREADS": "1",
                     "WG_SUDO": "0"})
    assert uid_of(dev.process.pid) != 0
    assert threads_of(dev.process.pid) == 3
    assert " debug: " not in stopped_log(dev)


def test_wg_log_file_is_the_detached_log(lab):
    """boringtun writes WG_LOG_FILE once detached; in the foreground its
    log stays on the terminal."""
    ns = lab.netns("a")
    path = os.path.join(lab.tmpdir, "wg.log")
    dev = start(lab, ns, ["-f", "--disable-drop-privileges", "yes",
                          lab.ifname()], env={"WG_LOG_FILE": path})
    assert "ready" in stopped_log(dev)
    assert not os.path.exists(path)

    ifname = lab.ifname()
    res = ns.exec(uglab.uniguard_binary(), "--disable-drop-privileges",
                  "yes", ifname, env={"WG_LOG_FILE": path}, timeout=20)
    assert res.returncode == 0, res.stderr
    pids = ns.pids()
    lab.cleanups.append(lambda: [os.kill(p, signal.SIGTERM) for p in pids])
    assert len(pids) == 1
    with open(path) as f:
        assert "interface %s ready" % ifname in f.read()


def test_wireguard_go_variables(lab):
    ns = lab.netns("a")
    name_file = os.path.join(lab.tmpdir, "name")
    # No -f: WG_PROCESS_FOREGROUND=1 keeps it in the foreground.
    dev = start(lab, ns, ["--disable-drop-privileges", "yes", lab.ifname()],
                env={"WG_PROCESS_FOREGROUND": "1", "LOG_LEVEL": "verbose",
                     "WG_TUN_NAME_FILE": name_file})
    assert dev.process.alive()
    log = stopped_log(dev)
    assert " debug: " in log
    assert "WG_TUN_NAME_FILE: accepted, no effect" in log
    assert not os.path.exists(name_file)

    # LOG_LEVEL=error: no info line; silent: no line at all.
    dev = start(lab, ns, ["-f", "--disable-drop-privileges", "yes",
                          lab.ifname()], env={"LOG_LEVEL": "error"})
    assert " info: " not in stopped_log(dev)
    dev = start(lab, ns, ["-f", "--disable-drop-privileges", "yes",
                          lab.ifname()], env={"LOG_LEVEL": "silent"})
    assert stopped_log(dev) == ""
    # uniguard's own variable wins over the generic one.
    dev = start(lab, ns, ["-f", "--disable-drop-privileges", "yes",
                          lab.ifname()],
                env={"LOG_LEVEL": "silent", "UNIGUARD_LOG_LEVEL": "debug"})
    assert " debug: " in stopped_log(dev)


BAD = [
    # argv (IF: the test's interface), environment, exit code, message.
    (["-t", "0", "IF"], {}, 2, r"-t: '0' is not a number of threads"),
    (["--threads=many", "IF"], {}, 2, r"-t: 'many' is not a number"),
    (["IF"], {"WG_THREADS": "x"}, 2, r"WG_THREADS: 'x' is not a number"),
    (["IF"], {"WG_LOG_LEVEL": "loud"}, 2, r"WG_LOG_LEVEL: unknown level"),
    (["IF"], {"WG_SUDO": "maybe"}, 2, r"WG_SUDO: 'maybe' is not yes or no"),
    (["--tun-fd", "x", "IF"], {}, 2, r"--tun-fd: 'x' is not a file desc"),
    (["--uapi-fd=-2", "IF"], {}, 2, r"--uapi-fd: '-2' is not a file desc"),
    (["IF"], {"WG_TUN_FD": "3.5"}, 2, r"WG_TUN_FD: '3\.5' is not a file"),
    (["IF"], {"WG_UAPI_FD": "x"}, 2, r"WG_UAPI_FD: 'x' is not a file desc"),
    # A descriptor nobody passed: closed, so not a device.
    (["IF"], {"WG_TUN_FD": "77"}, 1,
     r"cannot use descriptor 77 as a TUN device: Bad file descriptor"),
]


def test_bad_values(lab):
    ns = lab.netns("a")
    for argv, env, code, message in BAD:
        ifname = lab.ifname()
        argv = ["-f"] + [ifname if a == "IF" else a for a in argv]
        res = ns.exec(uglab.uniguard_binary(), *argv, env=env, check=False,
                      timeout=20)
        assert res.returncode == code, (argv, env, res.stderr)
        assert re.search(message, res.stderr), (argv, env, res.stderr)
        assert ns.ip("link", "show", "dev", ifname,
                      check=False).returncode != 0
        assert not os.path.exists(os.path.join(uglab.SOCK_DIR,
                                               ifname + ".sock"))


def launch(lab, ns, ifname, mode, how, argv):
    return ns.popen("fdlaunch-" + ifname, [sys.executable, LAUNCHER, ifname,
                                           mode, how,
                                           uglab.uniguard_binary()] + argv)


def test_passed_tun_device_and_listening_socket(lab):
    """wireguard-go's WG_TUN_FD and WG_UAPI_FD (and boringtun's --tun-fd
    and --uapi-fd with a listening socket): the daemon serves the device
    and the socket it was given, under the device's name, and makes
    neither."""
    ns = lab.netns("a")
    for how in ("env", "flags"):
        real, asked = lab.ifname(), lab.ifname()
        proc = launch(lab, ns, real, "listen", how,
                      ["-f", "-v", "debug", "--disable-drop-privileges",
                       "yes", asked])
        dev = uglab.WgDevice(lab, ns, real, "uniguard", proc)
        lab._wait_socket(dev, proc)
        assert ns.ip("link", "show", "dev", asked, check=False).returncode
        assert not os.path.exists(os.path.join(uglab.SOCK_DIR,
                                               asked + ".sock"))
        # Packets from the device reach the daemon: one towards a peer
        # starts a handshake.
        dev.configure()
        peer = uglab.keypair()[1]
        dev.set("peer", peer, "allowed-ips", "10.9.0.2/32", "endpoint",
                "127.0.0.1:9")
        ns.ip("addr", "add", "10.9.0.1/24", "dev", real)
        ns.ip("link", "set", real, "up")
        assert "mtu 1420" in ns.ip("link", "show", "dev", real).stdout
        ns.ping("10.9.0.2", wait=1)
        uglab.wait_until(lambda: dev.stats()["handshakes_initiated"] >= 1,
                         what="a handshake for the device's packet")
        log = stopped_log(dev)
        assert "using the TUN device %s on descriptor" % real in log
        assert "interface %s ready, UAPI socket %s/%s.sock" % (
            real, uglab.SOCK_DIR, real) in log
        # Gone at exit, as wireguard-go leaves them.
        assert not os.path.exists(dev.sock)
        assert ns.ip("link", "show", "dev", real, check=False).returncode


def test_passed_connection(lab):
    """boringtun's WG_UAPI_FD and --uapi-fd with a connected socket: one
    conversation with whoever passed it; its end stops the daemon."""
    ns = lab.netns("a")
    for how in ("env", "flags"):
        real = lab.ifname()
        proc = launch(lab, ns, real, "connected", how,
                      ["-f", "-v", "debug", "--disable-drop-privileges",
                       "yes", "ignored0"])
        assert proc.popen.wait(20) == 0, proc.log()
        log = proc.log()
        assert re.search(r"answer: listen_port=\d+ .*errno=0", log), log
        assert "ready, UAPI on descriptor" in log
        assert "the passed UAPI connection closed: stopping" in log
        assert "exit=0" in log
        assert not os.path.exists(os.path.join(uglab.SOCK_DIR,
                                               real + ".sock"))
        assert ns.ip("link", "show", "dev", real, check=False).returncode


def test_help_and_version():
    binary = uglab.uniguard_binary()
    text = uglab.run([binary, "--help"]).stdout
    for word in ("--tun-fd", "--uapi-fd", "-t, --threads",
                 "--disable-connected-udp", "--disable-multi-queue",
                 "-V, --version", "WG_LOG_LEVEL", "WG_LOG_FILE",
                 "WG_THREADS", "WG_SUDO", "WG_TUN_FD", "WG_UAPI_FD",
                 "WG_PROCESS_FOREGROUND", "LOG_LEVEL", "WG_TUN_NAME_FILE"):
        assert word in text, word
    version = uglab.run([binary, "--version"]).stdout
    assert re.match(r"^uniguard \S+\n$", version)
    assert uglab.run([binary, "-V"]).stdout == version
