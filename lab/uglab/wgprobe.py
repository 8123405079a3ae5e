#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The lab's health prober, run inside the VPC namespace as Compute
Engine's health checkers run inside the VPC: every INTERVAL seconds it
probes each gateway once and prints one JSON line,
{"t": seconds, "up": {"gw0": true, ...}}.

Two probes:
  http       GET http://ADDR:PORT/healthz answered 200 (the daemon's
             operations listener, --http): what an HTTP health check does
  handshake  a WireGuard handshake initiation from the prober's own peer
             key, answered by a handshake response: the gateway's UDP
             path, its key and its peer table are alive.  For a daemon
             without the listener (UDP itself cannot be health-checked
             by Compute Engine; the lab can).

  wgprobe.py --mode handshake --interval 1 --pub GATEWAY_PUB \
             gw0=10.240.0.10:51820 gw1=http@10.240.0.11:9586 ...
  (a target's MODE@ overrides --mode; the prober's private key in
  UGPROBE_KEY, base64)

Only the initiation is built here (Noise IK as in the WireGuard
whitepaper, section 5.4.2); the response is recognised by its type, its
length and our sender index, which is all liveness needs."""

import argparse
import base64
import concurrent.futures
import ctypes
import ctypes.util
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time
import urllib.request

CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"
LABEL_MAC1 = b"mac1----"
MSG_INITIATION = 1
MSG_RESPONSE = 2
RESPONSE_LEN = 92

_sodium = None


def sodium():
    global _sodium
    if _sodium is None:
        lib = ctypes.CDLL(ctypes.util.find_library("sodium") or
                          "libsodium.so.23")
        if lib.sodium_init() < 0:
            raise RuntimeError("sodium_init failed")
        _sodium = lib
    return _sodium


def blake2s(*parts):
    return hashlib.blake2s(b"".join(parts), digest_size=32).digest()


def hmac_b2s(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def kdf(key, data, n):
    prk = hmac_b2s(key, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac_b2s(prk, prev + bytes([i]))
        out.append(prev)
    return out


def x25519(priv, pub):
    out = ctypes.create_string_buffer(32)
    if sodium().crypto_scalarmult_curve25519(out, priv, pub) != 0:
        raise ValueError("bad public key")
    return out.raw


def x25519_base(priv):
    out = ctypes.create_string_buffer(32)
    sodium().crypto_scalarmult_curve25519_base(out, priv)
    return out.raw


def aead(key, counter, plain, ad):
    out = ctypes.create_string_buffer(len(plain) + 16)
    n = ctypes.c_ulonglong(0)
    nonce = b"\0" * 4 + struct.pack("<Q", counter)
    sodium().crypto_aead_chacha20poly1305_ietf_encrypt(
        out, ctypes.byref(n), plain, ctypes.c_ulonglong(len(plain)), ad,
        ctypes.c_ulonglong(len(ad)), None, nonce, key)
    return out.raw[:n.value]


def tai64n():
    now = time.time()
    return struct.pack(">QI", 0x400000000000000a + int(now),
                       int((now % 1) * 1e9))


def initiation(static_priv, responder_pub, sender):
    """A handshake initiation from static_priv to responder_pub."""
    static_pub = x25519_base(static_priv)
    c = blake2s(CONSTRUCTION)
    h = blake2s(c, IDENTIFIER)
    h = blake2s(h, responder_pub)
    eph = bytearray(os.urandom(32))
    eph[0] &= 248
    eph[31] = (eph[31] & 127) | 64
    eph = bytes(eph)
    eph_pub = x25519_base(eph)
    (c,) = kdf(c, eph_pub, 1)
    h = blake2s(h, eph_pub)
    c, k = kdf(c, x25519(eph, responder_pub), 2)
    enc_static = aead(k, 0, static_pub, h)
    h = blake2s(h, enc_static)
    c, k = kdf(c, x25519(static_priv, responder_pub), 2)
    enc_time = aead(k, 0, tai64n(), h)
    msg = struct.pack("<BxxxI", MSG_INITIATION, sender) + eph_pub + \
        enc_static + enc_time
    msg += hashlib.blake2s(msg, key=blake2s(LABEL_MAC1, responder_pub),
                           digest_size=16).digest()
    return msg + b"\0" * 16


def probe_handshake(addr, port, static_priv, responder_pub, timeout):
    sender = struct.unpack("<I", os.urandom(4))[0]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(initiation(static_priv, responder_pub, sender),
                 (addr, port))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data, _ = s.recvfrom(2048)
            except socket.timeout:
                return False
            if len(data) == RESPONSE_LEN and data[0] == MSG_RESPONSE and \
                    struct.unpack("<I", data[8:12])[0] == sender:
                return True
        return False
    except OSError:
        return False
    finally:
        s.close()


def probe_http(addr, port, timeout):
    try:
        with urllib.request.urlopen("http://%s:%d/healthz" % (addr, port),
                                    timeout=timeout) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("http", "handshake"), required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--timeout", type=float, default=0.8)
    ap.add_argument("--pub", help="handshake: the gateways' public key")
    ap.add_argument("--count", type=int, default=0,
                    help="stop after this many rounds (0: never)")
    ap.add_argument("targets", nargs="+", help="NAME=[MODE@]ADDR:PORT")
    a = ap.parse_args(argv)
    targets = []
    for t in a.targets:
        name, _, hp = t.partition("=")
        mode, _, hp = hp.rpartition("@")
        host, _, port = hp.rpartition(":")
        targets.append((name, host, int(port), mode or a.mode))
    if any(t[3] == "handshake" for t in targets):
        key = base64.b64decode(os.environ["UGPROBE_KEY"])
        pub = base64.b64decode(a.pub)

    def one(t):
        if t[3] == "http":
            return probe_http(t[1], t[2], a.timeout)
        return probe_handshake(t[1], t[2], key, pub, a.timeout)
    t0 = time.monotonic()
    rounds = 0
    with concurrent.futures.ThreadPoolExecutor(len(targets)) as ex:
        while not a.count or rounds < a.count:
            rounds += 1
            start = time.monotonic()
            ups = list(ex.map(one, targets))
            print(json.dumps({"t": round(start - t0, 3),
                              "up": {t[0]: u for t, u in zip(targets,
                                                             ups)}}),
                  flush=True)
            time.sleep(max(0.0, a.interval - (time.monotonic() - start)))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(0)
