# SPDX-License-Identifier: MIT
"""A TCP transfer both ways between two network namespaces, checked by
hash: tcpxfer_peer.py serving in one, sending from the other."""

import hashlib
import json
import os
import subprocess
import sys
import time

from .run import Failure, run
from .tcpxfer_peer import pattern

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "tcpxfer_peer.py")


def expected(n, seed):
    """What the receiving end reports for n bytes of pattern(n, seed)."""
    return {"len": n, "sha256": hashlib.sha256(pattern(n, seed)).hexdigest()}


def transfer(server_ns, client_ns, addr, up, down, port=5201, timeout=120):
    """up bytes from namespace client_ns to addr:port, served in server_ns,
    and down bytes back; returns (what the server got, what the client
    got, seconds from the client's start to its end), the first two as
    tcpxfer_peer.py reports them.  The server must start and end, and the
    client end within timeout, or it raises Failure."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", server_ns, sys.executable, PEER, "serve",
         addr, str(port), str(down)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = server.stdout.readline()
        if first.strip() != "ready":
            raise Failure("the TCP server in %s did not start: %s" % (
                server_ns, " / ".join((first + server.stdout.read())
                                      .strip().splitlines()[-3:])))
        t = time.monotonic()
        sent = run([sys.executable, PEER, "send", addr, port, up],
                   ns=client_ns, timeout=timeout)
        seconds = time.monotonic() - t
        served, _ = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        raise Failure("the TCP server in %s did not end" % server_ns) \
            from None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()
    if server.returncode != 0:
        raise Failure("the TCP server in %s: exit %d: %s" % (
            server_ns, server.returncode,
            " / ".join(served.strip().splitlines()[-3:])))
    got_up = json.loads(served.strip().splitlines()[-1])
    got_down = json.loads(sent.stdout.strip().splitlines()[-1])
    return got_up, got_down, seconds
