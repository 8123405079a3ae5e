# SPDX-License-Identifier: MIT
"""A launcher that opens what a WireGuard daemon needs and passes it on,
as wireguard-go passes its own TUN device and UAPI socket to the process
it detaches into, or as a supervisor keeps boringtun on a leash:

    fdlaunch.py IFNAME MODE HOW DAEMON-ARGV...

It makes the TUN device IFNAME (IFF_TUN | IFF_NO_PI) and a UAPI socket,
then runs DAEMON-ARGV with both. HOW says how they are named:
"env" (WG_TUN_FD and WG_UAPI_FD) or "flags" (--tun-fd N --uapi-fd N,
inserted before DAEMON-ARGV's last word). MODE is the UAPI socket:

  listen     a listening socket at /var/run/wireguard/IFNAME.sock, 0600;
             the launcher execs the daemon, which takes its place.
  connected  one end of a socket pair: the launcher starts the daemon,
             asks get=1 on its end, prints the answer, closes its end and
             prints the daemon's exit status ("exit=N")."""

import fcntl
import os
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SOCK_DIR = "/var/run/wireguard"


def open_tun(ifname):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", ifname.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    return fd


def listening_socket(ifname):
    os.makedirs(SOCK_DIR, mode=0o755, exist_ok=True)
    path = os.path.join(SOCK_DIR, ifname + ".sock")
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    sock.bind(path)
    os.umask(old)
    sock.listen(16)
    return sock


def daemon_argv(argv, how, tun_fd, uapi_fd):
    if how == "env":
        os.environ["WG_TUN_FD"] = str(tun_fd)
        os.environ["WG_UAPI_FD"] = str(uapi_fd)
        return argv
    if how == "flags":
        return argv[:-1] + ["--tun-fd", str(tun_fd), "--uapi-fd",
                            str(uapi_fd), argv[-1]]
    raise SystemExit("HOW is env or flags")


def ask(sock, request):
    sock.sendall(request.encode())
    data = b""
    while b"errno=" not in data or not data.endswith(b"\n\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode()


def main():
    ifname, mode, how = sys.argv[1:4]
    argv = sys.argv[4:]
    tun_fd = open_tun(ifname)
    os.set_inheritable(tun_fd, True)
    if mode == "listen":
        sock = listening_socket(ifname)
        os.set_inheritable(sock.fileno(), True)
        argv = daemon_argv(argv, how, tun_fd, sock.fileno())
        os.execvp(argv[0], argv)
    if mode != "connected":
        raise SystemExit("MODE is listen or connected")
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    os.set_inheritable(theirs.fileno(), True)
    argv = daemon_argv(argv, how, tun_fd, theirs.fileno())
    pid = os.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    theirs.close()
    os.close(tun_fd)
    ours.settimeout(20)
    print("answer:", ask(ours, "get=1\n\n").replace("\n", " "), flush=True)
    ours.close()
    _, status = os.waitpid(pid, 0)
    print("exit=%d" % os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    main()
