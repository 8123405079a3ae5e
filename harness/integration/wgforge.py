# SPDX-License-Identifier: MIT
"""Forged WireGuard traffic for the flood tests: the standard library, and
libsodium (through ctypes) to open cookie replies.

What an attacker can send without knowing any private key: handshake
initiations with a correct mac1 (it needs only the responder's public key)
and random contents, initiations that also carry a correct mac2 after the
attacker has received a cookie reply at its own address, data messages
with a live receiver index and a wrong tag, captured data messages sent
again, and data messages for receiver indices nobody holds.

As a module it builds the messages; as a program, run inside a namespace,
it floods and prints one JSON line of what it sent:

  wgforge.py spoof-flood --gw ADDR --port P --pub B64 --net CIDR
                         --sources M --rate R --seconds T
      initiations (mac1 right, mac2 zero) from M addresses of CIDR, each
      sent through a raw socket with a forged IPv4 source: nobody receives
      the cookie replies.
  wgforge.py cookie-flood --gw ADDR --port P --pub B64 --bind A,B,...
                          --rate R --seconds T
      from each bound address: initiations until a cookie reply comes,
      then initiations with a correct mac2 at R per second per address.
  wgforge.py data-flood --gw ADDR --port P --capture FILE --count N
                        --rate R
      N data messages of each kind, interleaved: the live receiver index
      with a wrong tag, captured messages replayed, unknown indices.

Each stops at the end of its time (or count) or on SIGTERM, and prints
what it really offered: message counts, seconds, the rate achieved.

  wgforge.py tcp-sink --addr A --port P      (and tcp-source ... --seconds T)
      a timed TCP transfer where iperf3 is not installed: the sink prints
      bytes, seconds and Mbit/s of what one connection brought.
"""

import argparse
import base64
import ctypes
import ctypes.util
import hashlib
import ipaddress
import json
import os
import random
import signal
import socket
import struct
import sys
import time

MSG_INITIATION = 1
MSG_COOKIE_REPLY = 3
MSG_DATA = 4
INIT_LEN = 148
INIT_MAC1 = 116
INIT_MAC2 = 132
COOKIE_REPLY_LEN = 64
DATA_HEADER_LEN = 16
TAG_LEN = 16


# BLAKE2s: HASH is unkeyed with a 32-byte digest, MAC is keyed with a
# 16-byte digest (whitepaper 5.4).

def wg_hash(*parts):
    return hashlib.blake2s(b"".join(parts), digest_size=32).digest()


def wg_mac(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def public_key_bytes(b64):
    key = base64.b64decode(b64)
    if len(key) != 32:
        raise ValueError("a public key is 32 bytes")
    return key


def mac1_key(public):
    return wg_hash(b"mac1----", public)


def cookie_key(public):
    return wg_hash(b"cookie--", public)


def initiation(m1key, sender=None, cookie=None, rng=os.urandom):
    """A 148-byte initiation: random sender index (unless given), random
    ephemeral key and sealed fields, mac1 under m1key, and mac2 from
    cookie (or zero)."""
    if sender is None:
        sender = struct.unpack("<I", rng(4))[0]
    msg = bytearray(struct.pack("<BxxxI", MSG_INITIATION, sender))
    msg += rng(INIT_MAC1 - 8)
    msg += wg_mac(m1key, bytes(msg))
    if cookie is None:
        msg += bytes(16)
    else:
        msg += wg_mac(cookie, bytes(msg))
    assert len(msg) == INIT_LEN
    return bytes(msg)


def data_message(receiver, counter, payload):
    return struct.pack("<BxxxIQ", MSG_DATA, receiver, counter) + payload


def parse_data(msg):
    """(receiver index, counter) of a data message, or None."""
    if len(msg) < DATA_HEADER_LEN + TAG_LEN or msg[0] != MSG_DATA or \
            msg[1:4] != b"\0\0\0":
        return None
    return struct.unpack("<IQ", msg[4:16])


# XChaCha20-Poly1305 (opening only), for the cookie in a cookie reply:
# libsodium's, the library the daemon's own crypto is built on, through
# ctypes.
_sodium = None


def _libsodium():
    global _sodium
    if _sodium is None:
        name = ctypes.util.find_library("sodium") or "libsodium.so.23"
        lib = ctypes.CDLL(name)
        if lib.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
        _sodium = lib
    return _sodium


def xaead_open(key, nonce24, sealed, ad):
    """The plaintext, or None if the tag does not verify."""
    if len(sealed) < TAG_LEN:
        return None
    out = ctypes.create_string_buffer(max(1, len(sealed) - TAG_LEN))
    out_len = ctypes.c_ulonglong(0)
    ret = _libsodium().crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(out_len), None, sealed,
        ctypes.c_ulonglong(len(sealed)), ad, ctypes.c_ulonglong(len(ad)),
        nonce24, key)
    if ret != 0:
        return None
    return out.raw[:out_len.value]


def open_cookie_reply(ckey, reply, mac1):
    """The 16-byte cookie of a cookie reply answering a message whose
    mac1 was mac1, or None."""
    if len(reply) != COOKIE_REPLY_LEN or reply[0] != MSG_COOKIE_REPLY:
        return None
    return xaead_open(ckey, reply[8:32], reply[32:64], mac1)


# IPv4 + UDP with a chosen source, for a raw socket with IP_HDRINCL. The
# kernel fills in the IP checksum and identification; a zero UDP checksum
# means "none" in IPv4.

def ipv4_udp(src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp) + len(payload),
                     0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    return ip + udp + payload


def spread_hosts(cidr, count):
    """count distinct host addresses spread evenly over cidr."""
    net = ipaddress.ip_network(cidr)
    hosts = net.num_addresses - 2
    if count > hosts:
        raise ValueError("%s has only %d hosts" % (cidr, hosts))
    base = int(net.network_address)
    return [str(ipaddress.ip_address(base + 1 + i * hosts // count))
            for i in range(count)]


# The programs.

class Clock:
    """Paces sends at rate per second in batches; stops at the deadline or
    on SIGTERM."""

    def __init__(self, rate, seconds, batch=64):
        self.rate = rate
        self.batch = batch
        self.start = time.monotonic()
        self.deadline = self.start + seconds if seconds else None
        self.next = self.start
        self.stopped = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)

    def _stop(self, signum, frame):
        self.stopped = True

    def running(self):
        now = time.monotonic()
        return not self.stopped and (self.deadline is None or
                                     now < self.deadline)

    def pace(self):
        """Called after each batch: waits for the next batch's turn."""
        self.next += self.batch / self.rate
        delay = self.next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -0.5:
            # Far behind (the machine is busy): no catch-up burst.
            self.next = time.monotonic()

    def elapsed(self):
        return time.monotonic() - self.start


def report(**fields):
    print(json.dumps(fields), flush=True)


def cmd_spoof_flood(a):
    m1key = mac1_key(public_key_bytes(a.pub))
    sources = spread_hosts(a.net, a.sources)
    rng = random.Random(a.seed)
    pool = []
    for i in range(max(a.pool, len(sources))):
        src = sources[i % len(sources)]
        body = initiation(m1key, rng=rng.randbytes)
        pool.append(ipv4_udp(src, rng.randrange(1024, 65536), a.gw, a.port,
                             body))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    dest = (a.gw, 0)
    clock = Clock(a.rate, a.seconds)
    sent = errors = k = 0
    n = len(pool)
    while clock.running():
        for _ in range(clock.batch):
            try:
                s.sendto(pool[k], dest)
                sent += 1
            except OSError:
                errors += 1
            k = k + 1 if k + 1 < n else 0
        clock.pace()
    secs = clock.elapsed()
    report(sent=sent, errors=errors, seconds=round(secs, 3),
           rate=round(sent / secs), sources=len(sources))


def cmd_cookie_flood(a):
    public = public_key_bytes(a.pub)
    m1key, ckey = mac1_key(public), cookie_key(public)
    socks = []
    for addr in a.bind.split(","):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        s.setblocking(False)
        socks.append(s)
    dest = (a.gw, a.port)
    clock = Clock(a.rate * len(socks), a.seconds, batch=len(socks) * 8)
    cookies = {}            # socket -> cookie
    waiting = {}            # socket -> mac1 of the initiation it sent
    asked = sent = replies = refused = errors = 0
    last_ask = 0.0
    while clock.running():
        now = time.monotonic()
        # Ask (again) for a cookie where none came within 200 ms.
        if now - last_ask >= 0.2:
            last_ask = now
            for s in socks:
                if s not in cookies:
                    msg = initiation(m1key)
                    waiting[s] = msg[INIT_MAC1:INIT_MAC2]
                    s.sendto(msg, dest)
                    asked += 1
        for s in socks:
            while True:
                try:
                    reply = s.recv(2048)
                except BlockingIOError:
                    break
                replies += 1
                cookie = open_cookie_reply(ckey, reply, waiting.get(s, b""))
                if cookie is None:
                    refused += 1
                else:
                    cookies[s] = cookie
        for _ in range(8):
            for s, cookie in cookies.items():
                try:
                    s.sendto(initiation(m1key, cookie=cookie), dest)
                    sent += 1
                except OSError:
                    errors += 1
        clock.pace()
    secs = clock.elapsed()
    report(sent_with_mac2=sent, asked=asked, cookie_replies=replies,
           replies_refused=refused, sources_with_cookie=len(cookies),
           sources=len(socks), errors=errors, seconds=round(secs, 3),
           rate=round(sent / secs))


def cmd_data_flood(a):
    with open(a.capture) as f:
        cap = json.load(f)
    captured = [bytes.fromhex(h) for h in cap["messages"]]
    live = set(cap["live_indices"])
    index = cap["receiver"]
    rng = random.Random(a.seed)

    def bad_tag(i):
        # The live index with, in turn: random bytes for the sealed packet
        # and its tag under a counter far ahead of any used (a receiver
        # that moved its replay window before checking the tag would then
        # refuse the real traffic); a captured message with one bit of its
        # tag flipped (its counter already used: the tag must be checked
        # first); the same under a fresh counter.
        m = captured[i % len(captured)]
        if i % 3 == 0:
            return data_message(index, (1 << 40) + i,
                                rng.randbytes(len(m) - DATA_HEADER_LEN))
        m = bytearray(m)
        m[-1 - rng.randrange(TAG_LEN)] ^= 1 << rng.randrange(8)
        if i % 3 == 2:
            m[8:16] = struct.pack("<Q", (1 << 41) + i)
        return bytes(m)

    def unknown(i):
        while True:
            r = rng.getrandbits(32)
            if r not in live:
                break
        n = len(captured[i % len(captured)]) - DATA_HEADER_LEN
        return data_message(r, i, rng.randbytes(n))

    kinds = {
        "bad_tag": [bad_tag(i) for i in range(a.count)],
        "replayed": [captured[i % len(captured)] for i in range(a.count)],
        "unknown_index": [unknown(i) for i in range(a.count)],
    }
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = (a.gw, a.port)
    clock = Clock(a.rate, None, batch=48)
    sent = dict.fromkeys(kinds, 0)
    errors = 0
    i = 0
    while clock.running() and i < a.count:
        for _ in range(clock.batch // len(kinds)):
            if i >= a.count:
                break
            for name, msgs in kinds.items():
                try:
                    s.sendto(msgs[i], dest)
                    sent[name] += 1
                except OSError:
                    errors += 1
            i += 1
        clock.pace()
    secs = clock.elapsed()
    report(sent=sent, errors=errors, seconds=round(secs, 3),
           rate=round(sum(sent.values()) / secs))


def cmd_tcp_sink(a):
    """Takes one connection, reads it to the end; reports bytes and the
    seconds from the first byte to the last."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.addr, a.port))
    srv.listen(1)
    print("ready", flush=True)
    conn, _ = srv.accept()
    total, first = 0, None
    with conn:
        while True:
            chunk = conn.recv(1 << 18)
            if not chunk:
                break
            if first is None:
                first = time.monotonic()
            total += len(chunk)
    secs = time.monotonic() - first if first else 0.0
    report(bytes=total, seconds=round(secs, 3),
           mbit=round(total * 8 / secs / 1e6, 1) if secs else 0.0)


def cmd_tcp_source(a):
    """Sends as fast as the connection takes for the given seconds."""
    block = bytes(1 << 16)
    with socket.create_connection((a.addr, a.port), timeout=30) as conn:
        end = time.monotonic() + a.seconds
        while time.monotonic() < end:
            conn.sendall(block)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("spoof-flood", "cookie-flood", "data-flood"):
        c = sub.add_parser(name)
        c.add_argument("--gw", required=True)
        c.add_argument("--port", type=int, required=True)
        c.add_argument("--rate", type=float, default=10000)
        c.add_argument("--seed", type=int, default=None)
        if name != "data-flood":
            c.add_argument("--pub", required=True)
            c.add_argument("--seconds", type=float, default=10)
    sp = sub.choices["spoof-flood"]
    sp.add_argument("--net", required=True)
    sp.add_argument("--sources", type=int, default=16384)
    sp.add_argument("--pool", type=int, default=16384)
    sub.choices["cookie-flood"].add_argument("--bind", required=True)
    df = sub.choices["data-flood"]
    df.add_argument("--capture", required=True)
    df.add_argument("--count", type=int, required=True)
    for name in ("tcp-sink", "tcp-source"):
        c = sub.add_parser(name)
        c.add_argument("--addr", required=True)
        c.add_argument("--port", type=int, required=True)
    sub.choices["tcp-source"].add_argument("--seconds", type=float,
                                           default=3)
    a = p.parse_args(argv)
    {"spoof-flood": cmd_spoof_flood, "cookie-flood": cmd_cookie_flood,
     "data-flood": cmd_data_flood, "tcp-sink": cmd_tcp_sink,
     "tcp-source": cmd_tcp_source}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
