# SPDX-License-Identifier: MIT
"""One end of a TCP transfer both ways, checked by hash; tcpxfer.py runs
it in a network namespace:

  tcpxfer_peer.py serve ADDR PORT REPLY_BYTES   accept one connection, read
                                                to EOF, answer REPLY_BYTES,
                                                print JSON {"len", "sha256"}
                                                of what came
  tcpxfer_peer.py send ADDR PORT BYTES          send BYTES, half-close, read
                                                the answer, print the same
                                                JSON of it

The bytes are pattern(n, b"up") upstream and pattern(n, b"down")
downstream.  The serving end prints "ready" once it listens."""

import hashlib
import json
import socket
import sys

# A stalled connection fails after this long, however slow the path.
IDLE_TIMEOUT = 120


def pattern(n, seed=b"uniguard"):
    """n deterministic bytes."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:n])


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def read_all(conn):
    h = hashlib.sha256()
    n = 0
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            break
        h.update(chunk)
        n += len(chunk)
    return {"len": n, "sha256": h.hexdigest()}


def serve(addr, port, reply):
    with socket.socket(family(addr), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        print("ready", flush=True)
        s.settimeout(IDLE_TIMEOUT)
        conn, _ = s.accept()
        with conn:
            conn.settimeout(IDLE_TIMEOUT)
            got = read_all(conn)
            conn.sendall(pattern(reply, b"down"))
        print(json.dumps(got), flush=True)


def send(addr, port, count):
    with socket.create_connection((addr, port), timeout=IDLE_TIMEOUT) as conn:
        conn.sendall(pattern(count, b"up"))
        conn.shutdown(socket.SHUT_WR)
        got = read_all(conn)
    print(json.dumps(got), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("serve", "send"):
        sys.exit(__doc__)
    mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4])
    (serve if mode == "serve" else send)(addr, port, n)
