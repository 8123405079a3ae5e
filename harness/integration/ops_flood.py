#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile clients of uniguard's operations listener, run inside a test's
namespace by test_operations.py. Each mode runs for --seconds and prints
one JSON line of what it managed.

  flood      connects as fast as it can (--inflight at once); of the
             connections made it keeps the last --idle open without a byte
             sent (they fill the listener's slots), the rest it closes
  slowloris  opens --conns connections, each sending a request head one
             byte every --interval seconds, never finishing it; counts how
             many the listener answered (408) or closed
  oversized  sends heads far over the limit (a long request line, a long
             field, many fields, a body) and reports each status line
"""

import argparse
import collections
import errno
import json
import selectors
import socket
import time


def connect(addr, port, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((addr, port))
    return s


def flood(args):
    """Keeps --inflight non-blocking connects going at once, so that a SYN
    the listener's full backlog drops (and the client would wait a second
    to send again) does not hold the flood up."""
    sel = selectors.DefaultSelector()
    idle = collections.deque()
    pending = {}
    made = failed = timed_out = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        while len(pending) < args.inflight:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((args.addr, args.port))
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                break
            pending[s] = time.monotonic() + 1
            sel.register(s, selectors.EVENT_WRITE)
        now = time.monotonic()
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            sel.unregister(s)
            del pending[s]
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                failed += 1
                s.close()
                continue
            made += 1
            idle.append(s)
            while len(idle) > args.idle:
                idle.popleft().close()
        for s in [s for s, t in pending.items() if t < now]:
            timed_out += 1
            sel.unregister(s)
            del pending[s]
            s.close()
    for s in list(pending) + list(idle):
        s.close()
    return {"connections": made, "failed": failed, "timed_out": timed_out,
            "rate": made / args.seconds}


def slowloris(args):
    head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
    conns = []
    for _ in range(args.conns):
        s = connect(args.addr, args.port)
        s.setblocking(False)
        conns.append(s)
    pos = 0
    answered = closed = 0
    open_ = list(conns)
    end = time.monotonic() + args.seconds
    while time.monotonic() < end and open_:
        still = []
        for s in open_:
            try:
                s.send(head[pos:pos + 1])
            except OSError:
                closed += 1
                s.close()
                continue
            try:
                got = s.recv(4096)
            except BlockingIOError:
                still.append(s)
                continue
            except OSError:
                got = b""
            if got.startswith(b"HTTP/1.1 408"):
                answered += 1
            else:
                closed += 1
            s.close()
        open_ = still
        pos = (pos + 1) % len(head)
        time.sleep(args.interval)
    for s in open_:
        s.close()
    return {"conns": args.conns, "timed_out": answered, "closed": closed,
            "still_open": len(open_)}


def status_of(head, addr, port):
    """The status line the listener answers to head, sent whole."""
    s = connect(addr, port)
    try:
        try:
            s.sendall(head)
        except OSError:
            pass  # it may answer and close before taking all of it
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode(errors="replace")
    finally:
        s.close()


def oversized(args):
    heads = {
        "request_line": b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n",
        "field": b"GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 100000
                 + b"\r\n\r\n",
        "fields": b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                  + b"".join(b"X%d: y\r\n" % i for i in range(200)) + b"\r\n",
        "body": b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
                b"1000000\r\n\r\n" + b"a" * 1000000,
        "get_body": b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: "
                    b"1000000\r\n\r\n" + b"a" * 1000000,
        "binary": bytes(range(256)) * 400,
    }
    out = {}
    end = time.monotonic() + args.seconds
    rounds = 0
    while True:
        for name, head in heads.items():
            out[name] = status_of(head, args.addr, args.port)
        rounds += 1
        if time.monotonic() >= end:
            break
    out["rounds"] = rounds
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["flood", "slowloris", "oversized"])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--idle", type=int, default=200)
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--interval", type=float, default=0.5)
    args = ap.parse_args()
    result = {"flood": flood, "slowloris": slowloris,
              "oversized": oversized}[args.mode](args)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
