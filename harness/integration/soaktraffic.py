# SPDX-License-Identifier: MIT
"""Steady, checkable traffic for the soak test; run inside a namespace.

  soaktraffic.py udp-send ADDR PORT RATE SECONDS
      RATE datagrams a second for SECONDS, each carrying its sequence
      number and a body that depends on it; prints a JSON summary.
  soaktraffic.py udp-recv ADDR PORT
      counts what arrives until SIGUSR1: gaps, duplicates, corrupted
      bodies, and for every datagram how far behind the highest sequence
      number seen so far it came; prints a JSON summary.
  soaktraffic.py tcp-send ADDR PORT RATE SECONDS
      one connection carrying RATE bytes a second of a known stream for
      SECONDS, then a half-close; prints a JSON summary.
  soaktraffic.py tcp-recv ADDR PORT
      accepts one connection and checks every byte of that stream.

Every process prints "ready" (receivers) or "started" (senders) first, a
JSON progress line every PROGRESS seconds, and one final JSON line that
has "final": true.
"""

import json
import os
import signal
import socket
import struct
import sys
import time

PROGRESS = 10.0
HEADER = struct.Struct(">QI")           # sequence number, body length
N_BODIES = 251                          # prime: lengths do not align with
                                        # any power-of-two pattern
# Linux's numbers, for a Python that does not name them.
SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
TCP_BLOCK = 65521                       # the TCP stream repeats this block


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_max_payload(addr, mtu):
    return mtu - (40 if ":" in addr else 20) - 8


def bodies(max_body):
    """N_BODIES bodies whose lengths sweep 0..max_body, the full size
    included, each filled with bytes that depend on its index."""
    out = []
    for i in range(N_BODIES):
        if i % 17 == 0:
            n = max_body
        else:
            n = (i * 7919) % (max_body + 1)
        out.append(bytes((i * 31 + k * 13) & 0xff for k in range(n)))
    return out


def emit(obj):
    print(json.dumps(obj), flush=True)


def udp_send(addr, port, rate, seconds, mtu):
    body = bodies(udp_max_payload(addr, mtu) - HEADER.size)
    ip_udp = (40 if ":" in addr else 20) + 8
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.connect((addr, port))
    emit({"started": True})
    seq = 0
    errors = 0
    payload_bytes = 0
    # Each message is at least its inner packet plus the 32 bytes of the
    # transport header and tag; padding only adds to that.
    wire_min = 0
    start = base = time.monotonic()
    base_seq = 0
    rebases = 0
    last_progress = start
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        due = base_seq + int((now - base) * rate)
        if due - seq > rate:
            # A second or more behind (the process was kept off the CPU):
            # go on from here rather than send the backlog in one burst.
            base, base_seq = now, seq
            due = seq
            rebases += 1
        burst = 0
        while seq < due and burst < 256:
            payload = HEADER.pack(seq, len(body[seq % N_BODIES])) + \
                body[seq % N_BODIES]
            try:
                s.send(payload)
            except OSError:
                # Not sent (ENOBUFS and the like): the same number is
                # tried again, so that a gap at the receiver is a loss.
                errors += 1
                break
            seq += 1
            burst += 1
            payload_bytes += len(payload)
            wire_min += 32 + ip_udp + len(payload)
        if now - last_progress >= PROGRESS:
            last_progress = now
            emit({"t": round(now - start, 1), "sent": seq})
        time.sleep(0.002)
    emit({"final": True, "sent": seq, "send_errors": errors,
          "payload_bytes": payload_bytes, "wire_bytes_min": wire_min,
          "rebases": rebases, "seconds": round(time.monotonic() - start, 3)})


class Stop:
    flag = False


def udp_recv(addr, port, mtu):
    body = bodies(udp_max_payload(addr, mtu) - HEADER.size)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    # Room for seconds of traffic, so that a receiver kept off the CPU
    # by a busy machine does not lose datagrams; the kernel counts any it
    # does lose, and SO_RXQ_OVFL reports that count.
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
    s.bind((addr, port))
    s.settimeout(0.2)
    signal.signal(signal.SIGUSR1, lambda *_: setattr(Stop, "flag", True))
    emit({"ready": True})
    seen = bytearray(1 << 20)
    highest = -1
    received = 0
    duplicates = 0
    corrupted = 0
    late = 0
    max_reorder = 0
    overflow = 0
    received_bytes = 0
    start = last_progress = time.monotonic()
    cmsg_space = socket.CMSG_SPACE(4)
    while not Stop.flag:
        try:
            data, anc, _, _ = s.recvmsg(65536, cmsg_space)
        except socket.timeout:
            data = None
        except InterruptedError:
            data = None
        if data is not None:
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL \
                        and len(cdata) >= 4:
                    overflow = struct.unpack("=I", cdata[:4])[0]
            received_bytes += len(data)
            if len(data) < HEADER.size:
                corrupted += 1
                continue
            seq, n = HEADER.unpack_from(data)
            if n != len(data) - HEADER.size or \
                    data[HEADER.size:] != body[seq % N_BODIES]:
                corrupted += 1
                continue
            while seq >= len(seen):
                seen.extend(bytes(len(seen)))
            if seen[seq]:
                duplicates += 1
                continue
            seen[seq] = 1
            received += 1
            if seq > highest:
                highest = seq
            else:
                late += 1
                max_reorder = max(max_reorder, highest - seq)
        now = time.monotonic()
        if now - last_progress >= PROGRESS:
            last_progress = now
            emit({"t": round(now - start, 1), "received": received,
                  "highest": highest})
    emit({"final": True, "received": received, "highest": highest,
          "gaps": highest + 1 - received, "duplicates": duplicates,
          "corrupted": corrupted, "late": late, "max_reorder": max_reorder,
          "socket_overflow": overflow, "received_bytes": received_bytes})


def tcp_block():
    return bytes((k * 151 + (k >> 8) * 7) & 0xff for k in range(TCP_BLOCK))


def tcp_send(addr, port, rate, seconds):
    block = tcp_block()
    ring = block + block
    chunk = 8192
    conn = socket.create_connection((addr, port), timeout=30)
    emit({"started": True})
    sent = 0
    start = last_progress = time.monotonic()
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        due = int((now - start) * rate)
        while sent < due:
            off = sent % TCP_BLOCK
            n = min(chunk, due - sent)
            conn.sendall(ring[off:off + n])
            sent += n
        if now - last_progress >= PROGRESS:
            last_progress = now
            emit({"t": round(now - start, 1), "sent": sent})
        time.sleep(0.01)
    conn.shutdown(socket.SHUT_WR)
    # The receiver closes once it has read everything: then all of it
    # has arrived, not just left this socket.
    conn.settimeout(60)
    while conn.recv(4096):
        pass
    conn.close()
    emit({"final": True, "sent": sent,
          "seconds": round(time.monotonic() - start, 3)})


def tcp_recv(addr, port):
    block = tcp_block()
    ring = block + block
    with socket.socket(family(addr), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        s.settimeout(60)
        emit({"ready": True})
        conn, _ = s.accept()
    got = 0
    mismatch_at = None
    start = last_progress = time.monotonic()
    with conn:
        # Long enough for any stall a busy machine causes; a stream that
        # stops for longer is a failure worth seeing.
        conn.settimeout(120)
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            if mismatch_at is None:
                pos = 0
                while pos < len(data):
                    off = (got + pos) % TCP_BLOCK
                    n = min(len(data) - pos, TCP_BLOCK)
                    if data[pos:pos + n] != ring[off:off + n]:
                        mismatch_at = got + pos
                        break
                    pos += n
            got += len(data)
            now = time.monotonic()
            if now - last_progress >= PROGRESS:
                last_progress = now
                emit({"t": round(now - start, 1), "received": got})
    emit({"final": True, "received": got, "mismatch_at": mismatch_at})


def final(text):
    """The final JSON line of a process's output, or None."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            obj = json.loads(line)
            if obj.get("final"):
                return obj
    return None


if __name__ == "__main__":
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mtu = int(os.environ.get("SOAK_MTU", "1420"))
    if mode == "udp-send":
        udp_send(addr, port, float(sys.argv[4]), float(sys.argv[5]), mtu)
    elif mode == "udp-recv":
        udp_recv(addr, port, mtu)
    elif mode == "tcp-send":
        tcp_send(addr, port, float(sys.argv[4]), float(sys.argv[5]))
    elif mode == "tcp-recv":
        tcp_recv(addr, port)
    else:
        sys.exit("unknown mode %s" % mode)
