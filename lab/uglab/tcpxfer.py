# SPDX-License-Identifier: MIT
"""A TCP transfer for the lab, run inside namespaces:
    tcpxfer.py serve ADDR PORT RESULT_FILE   accept one connection, write
                                             "<sha256> <bytes>" when it ends
    tcpxfer.py send ADDR PORT FILE           send FILE, then close
"""

import hashlib
import socket
import sys
import time


def serve(addr, port, result):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(1)
    s.settimeout(120)
    conn, _ = s.accept()
    conn.settimeout(120)
    h = hashlib.sha256()
    n = 0
    while True:
        b = conn.recv(1 << 16)
        if not b:
            break
        h.update(b)
        n += len(b)
    conn.close()
    with open(result, "w") as f:
        f.write("%s %d\n" % (h.hexdigest(), n))


def send(addr, port, path):
    data = open(path, "rb").read()
    end = time.monotonic() + 20
    while True:
        try:
            s = socket.create_connection((addr, int(port)), timeout=10)
            break
        except OSError:
            # The server may still be starting.
            if time.monotonic() > end:
                raise
            time.sleep(0.2)
    s.settimeout(120)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "send":
        send(*sys.argv[2:])
    else:
        sys.exit(__doc__)
