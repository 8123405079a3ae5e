# SPDX-License-Identifier: MIT
"""A TCP transfer both ways, checked by hash; run inside a namespace.

  tcpxfer.py serve ADDR PORT REPLY_BYTES   accept one connection, read to
                                           EOF, answer REPLY_BYTES, print
                                           JSON {"len", "sha256"} of what came
  tcpxfer.py send ADDR PORT BYTES          send BYTES, half-close, read the
                                           answer, print the same JSON of it
The bytes are uglab.pattern(n, b"up") upstream and b"down" downstream.
"""

import hashlib
import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import uglab  # noqa: E402


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
        s.settimeout(60)
        conn, _ = s.accept()
        with conn:
            conn.settimeout(60)
            got = read_all(conn)
            conn.sendall(uglab.pattern(reply, b"down"))
        print(json.dumps(got), flush=True)


def send(addr, port, count):
    with socket.create_connection((addr, port), timeout=60) as conn:
        conn.sendall(uglab.pattern(count, b"up"))
        conn.shutdown(socket.SHUT_WR)
        got = read_all(conn)
    print(json.dumps(got), flush=True)


if __name__ == "__main__":
    mode, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if mode == "serve":
        serve(addr, port, n)
    else:
        send(addr, port, n)
