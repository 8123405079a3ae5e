#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of fuzz_uapi, fuzz_wgconf and fuzz_wire into
harness/fuzz/corpus (the other targets' seeds there are left alone).

fuzz_uapi and fuzz_wgconf get configuration texts (the seed's files and a
few that touch every key); fuzz_wire gets operation lists in the format
fuzz_wire.c reads: one opcode byte, then that operation's operands, with
the handshake known-answer messages of harness/data among them.

The output is deterministic; run it again after changing fuzz_wire.c's
input format, and commit the result.
"""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
OUT = os.path.join(HERE, "corpus")

# ---- fuzz_wire's operations (enum op in fuzz_wire.c) ----
(OP_RAW, OP_INIT_BODY, OP_RESP_BODY, OP_COOKIE_BODY, OP_INITIATION,
 OP_RESPONSE, OP_COOKIE, OP_DATA, OP_SEND, OP_TICK, OP_LOAD, OP_MTU,
 OP_CONFIG, OP_GET, OP_RECV_PREPARE, OP_RECV_FINISH, OP_SEND_PREPARE,
 OP_SEND_SEAL) = range(18)

EP_B, EP_B_ROAM, EP_ODD, EP_V6, EP_C = 0, 1, 2, 3, 4
REMOTE_B, REMOTE_C = 0, 1
INNER_RAW, INNER_V4, INNER_V6, INNER_EMPTY = 0, 1, 2, 3
# Sources (inbound) or destinations (outbound) in make_inner's tables.
V4_B, V4_B_NET, V4_C, V4_NOBODY, V4_D = 0, 1, 2, 3, 6
BIG = 0x40              # make_inner: lengths up to 65535 and past
TAMPER = 0x40           # op_data: one bit flipped after sealing
V6_B, V6_C, V6_NOBODY = 0, 1, 2


def u16(v):
    return struct.pack("<H", v)


def u32(v):
    return struct.pack("<I", v)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


def raw(msg, ep=EP_B):
    return bytes([OP_RAW]) + u16(len(msg)) + bytes([ep]) + msg


def body(op, msg, remote=REMOTE_B, mode=1, ep=EP_B):
    return bytes([op, remote, mode, ep]) + msg


def inner(mode=INNER_V4, sel=V4_B, payload=b"", lying=None):
    out = bytes([mode, sel]) + u16(len(payload)) + payload
    if lying is not None:
        out += u16(lying)
    return out


def big(mode, sel, length):
    """An inner packet of length payload bytes, taken from what follows."""
    return bytes([mode | BIG, sel]) + u16(length)


def data(pick=0, cmode=0, counter=0, ep=EP_B, pkt=None, key=None,
         op=OP_DATA):
    out = bytes([op, pick, cmode]) + u64(counter) + bytes([ep])
    out += pkt if pkt is not None else inner(payload=bytes(range(36)))
    if key is not None:
        out += key
    return out


def initiation(remote=REMOTE_B, mode=1, index=0x1000, ep=EP_B, eph=0x11,
               ts=None):
    if ts is not None:
        mode |= 0x20
    # 50 ms first: A takes at most one initiation per peer per 20 ms.
    out = tick(64, 50)
    out += bytes([OP_INITIATION, remote, mode]) + u32(index) + bytes([ep])
    out += bytes([eph]) * 32
    if ts is not None:
        out += ts
    return out


def response(pick=0, mode=1, index=0x2000, ep=EP_B, eph=0x22):
    return (bytes([OP_RESPONSE, pick, mode]) + u32(index) + bytes([ep]) +
            bytes([eph]) * 32)


def cookie(remote=REMOTE_B, ep=EP_B, a_ep=EP_B):
    return (bytes([OP_COOKIE, remote, ep, a_ep]) + bytes(range(32)) +
            bytes(range(100, 124)))


def send(pkt):
    return bytes([OP_SEND]) + pkt


def tick(sel=200, ms=0):
    return bytes([OP_TICK, sel]) + u16(ms)


def tick_seconds(s):
    return tick(64, s * 1000 if s * 1000 < 65536 else 65535)


def tick_step(i):
    # sel >= 128 picks steps[sel % 11] in op_tick.
    return tick(128 + (i - 128) % 11, 0)


def load(n):
    return bytes([OP_LOAD, n])


def mtu(n):
    return bytes([OP_MTU]) + u16(n)


# op_config's cases.
(CONFIG_REMOVE_B, CONFIG_ADD_B, CONFIG_KEY2, CONFIG_KEY1, CONFIG_NO_KEY,
 CONFIG_C_KEEPALIVE, CONFIG_LOW_ORDER_D, CONFIG_TAKE_C_KEY, CONFIG_OWN_KEY,
 CONFIG_REPLACE_ALL) = range(10)


def config(what, arg=0):
    return bytes([OP_CONFIG, what]) + (bytes([arg]) if what == 5 else b"")


def get():
    return bytes([OP_GET])


def recv_prepare(**kw):
    return data(op=OP_RECV_PREPARE, **kw)


def recv_finish(pick=0):
    return bytes([OP_RECV_FINISH, pick])


def send_prepare(pkt):
    return bytes([OP_SEND_PREPARE]) + pkt


def send_seal(pick=0):
    return bytes([OP_SEND_SEAL, pick])


def kat():
    with open(os.path.join(DATA, "wg_handshake_kat.json")) as f:
        k = json.load(f)
    hs = k["handshakes"][0]["outputs"]
    return {name: bytes.fromhex(hs[name]) for name in (
        "handshake_initiation_148", "handshake_response_92",
        "transport_i2r_counter0", "transport_i2r_keepalive_counter1",
        "transport_r2i_counter0")}


def wire_seeds():
    k = kat()
    init, resp = k["handshake_initiation_148"], k["handshake_response_92"]
    ping4 = inner(INNER_V4, V4_B, bytes(range(36)))
    ping6 = inner(INNER_V6, V6_B, bytes(range(64)))
    # steps[] indices in op_tick: 6 REKEY_AFTER_TIME, 8 REJECT_AFTER_TIME,
    # 9 ZERO_KEYS_AFTER, 3 REKEY_TIMEOUT + 1.
    return {
        "empty": b"",
        "kat-initiation-raw": raw(init),
        "kat-response-raw": raw(resp),
        "kat-data-raw": raw(k["transport_i2r_counter0"]) +
        raw(k["transport_i2r_keepalive_counter1"]) +
        raw(k["transport_r2i_counter0"]),
        "kat-initiation-body": body(OP_INIT_BODY, init[:116]),
        "kat-response-body": body(OP_RESP_BODY, resp[:60], mode=0x11),
        "cookie-body": body(OP_COOKIE_BODY, bytes(64), mode=0x10),
        "short-and-long": raw(b"\x01\x00\x00\x00") + raw(b"\x04" * 31) +
        raw(bytes([4, 0, 0, 0]) + bytes(1500)) + raw(b"\x05\x00\x00\x00"),
        "data-ping": data(pkt=ping4),
        "data-ping6": data(pkt=ping6),
        "data-from-network": data(pkt=inner(INNER_V4, V4_B_NET, b"abc")),
        "data-wrong-source": data(pkt=inner(INNER_V4, V4_C, b"x" * 20)) +
        data(pkt=inner(INNER_V6, V6_NOBODY, b"y" * 8)),
        "data-lying-length": data(pkt=inner(INNER_V4 | 0x10, V4_B,
                                            b"z" * 30, lying=0x4000)) +
        data(pkt=inner(INNER_V6 | 0x10, V6_B, b"z" * 30, lying=2)),
        "data-raw-and-keepalive": data(pkt=inner(INNER_RAW, 0, b"\x45" * 9)) +
        data(pkt=inner(INNER_EMPTY)),
        "data-replay": data(pkt=ping4) + data(cmode=2, counter=1, pkt=ping4) +
        data(cmode=2 | 0x10, counter=0, pkt=ping4) +
        data(cmode=3, counter=(1 << 64) - 8193, pkt=ping4),
        "data-unknown-index": data(pick=0x80, counter=0xdeadbeef,
                                   key=bytes(32)),
        "data-unpadded-roaming": data(cmode=0x20, ep=EP_B_ROAM, pkt=ping4) +
        data(cmode=0x20, ep=EP_V6, pkt=ping6),
        "send-and-answer": send(inner(INNER_V4, V4_B, b"out")) +
        send(inner(INNER_V6, V6_B, b"out6")) +
        send(inner(INNER_V4, V4_NOBODY, b"none")) + data(pkt=ping4),
        "initiation-then-data": initiation(index=0x1234) +
        data(pick=1, pkt=ping4) + data(pick=0, pkt=ping4),
        "initiation-from-c": initiation(REMOTE_C, index=0x4321, ep=EP_C) +
        data(pick=1, pkt=inner(INNER_V4, V4_C, b"c")) +
        send(inner(INNER_V4, V4_C, b"to c")),
        "initiation-replayed-time": initiation(index=7, ts=bytes(12)) +
        initiation(index=8, eph=0x33) + initiation(index=9, eph=0x44),
        "rekey-answered": send(inner(INNER_V4, V4_B, b"a")) +
        tick_step(6) + send(inner(INNER_V4, V4_B, b"b")) +
        tick(64) + response() + data(pick=1, pkt=ping4) +
        send(inner(INNER_V4, V4_B, b"c")),
        "retransmit-and-give-up": config(0) + config(1) +
        send(inner(INNER_V4, V4_B, b"q")) + tick(0) * 3 + tick_step(3) * 20,
        "under-load-cookie": load(255) + initiation(index=0x99, mode=0) +
        initiation(index=0x9a, mode=1, eph=0x12) +
        tick(64, 50) + body(OP_INIT_BODY, init[:116], mode=2) + load(0),
        "cookie-reply-taken": config(0) + config(1) +
        send(inner(INNER_V4, V4_B, b"q")) + cookie() + tick_step(3) +
        response(mode=1),
        "config-churn": config(0) + data(pkt=ping4) + config(1) +
        initiation(index=0x77) + config(2) + data(pick=1, pkt=ping4) +
        config(3) + config(4) + send(ping4) + config(CONFIG_REPLACE_ALL) +
        get(),
        "config-odd-peers": config(CONFIG_LOW_ORDER_D) +
        send(inner(INNER_V4, V4_D, b"d")) + config(CONFIG_OWN_KEY) +
        config(CONFIG_TAKE_C_KEY) + data(pkt=ping4) + get() +
        config(CONFIG_KEY1) + initiation(REMOTE_C, index=0x66, ep=EP_C),
        "data-tampered": data(cmode=TAMPER, counter=0x1234, pkt=ping4) +
        data(cmode=TAMPER | 1, counter=8 * 20 + 3, pkt=ping4) + data(pkt=ping4),
        # A big inner packet takes the rest of the input as its bytes (and
        # zeros after), so each is the last operation of its input.
        "big-send-largest": data(pkt=ping4) + send(big(INNER_V4, V4_B, 65515)),
        "big-send-too-big": send(big(INNER_V6, V6_B, 65535)),
        "big-send-raw": mtu(1420) + send(big(INNER_RAW, 0, 65535)),
        "big-data": get() + data(pkt=big(INNER_V4, V4_B, 65515)),
        "steps-recv": recv_prepare(pkt=ping4) + recv_prepare(pkt=ping6) +
        recv_finish(1) + recv_finish(0) + recv_prepare(cmode=TAMPER,
                                                       pkt=ping4) +
        recv_finish(0),
        "steps-recv-across-rekey": recv_prepare(pkt=ping4) +
        initiation(index=0x4444) + data(pick=1, pkt=ping4) + recv_finish() +
        recv_prepare(pick=1, pkt=ping4) + config(CONFIG_REMOVE_B) +
        recv_finish() + recv_prepare(pkt=ping4) + tick_step(8) +
        recv_finish(),
        "steps-send": send_prepare(ping4) + send_prepare(ping4) +
        send_prepare(inner(INNER_V6, V6_B, b"six")) + send_seal(2) +
        send_seal(0) + send_seal(0) + send_prepare(ping4) + tick_step(9) +
        send_seal(0),
        "steps-send-no-session": config(CONFIG_KEY2) + send_prepare(ping4) +
        send_prepare(inner(INNER_V4, V4_C, b"c")) + send_seal(0),
        "keepalive-to-c": config(5, 3) + tick_seconds(3) + tick(0) +
        initiation(REMOTE_C, index=0x55, ep=EP_C),
        "mtu": mtu(1280) + send(inner(INNER_V4, V4_B, bytes(1400))) +
        mtu(68) + send(inner(INNER_V4, V4_B, bytes(100))) + mtu(0),
        "expiry": tick_step(8) + data(pkt=ping4) + tick_step(9) +
        data(pkt=ping4) + send(ping4),
    }


# ---- configuration texts ----

K1 = "38aaf39e7016661b24a87331f45d090f8ea9319596124796a9dc852b53c65572"
K2 = "e9209666e4ff90ef10d82e8bdf29cbd8ae7cdd8715b86ec5c283221fbc6ba45b"
K3 = "e43029285a82aea0c4dbf3cc47edf120c1c5c0605d82eab65caeca68ad33cb55"
B1 = "OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI="
B2 = "6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs="
B3 = "5DApKFqCrqDE2/PMR+3xIMHFwGBdguq2XK7KaK0zy1U="


def uapi_seeds():
    return {
        "minimal": "set=1\n\n",
        "device": f"set=1\nprivate_key={K1}\nlisten_port=51820\nfwmark=7\n"
        "replace_peers=true\n\n",
        "full-peer": f"set=1\nprivate_key={K1}\npublic_key={K2}\n"
        f"preshared_key={K3}\nendpoint=192.0.2.1:51820\n"
        "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
        "allowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n"
        "protocol_version=1\n\n",
        "ipv6-endpoints": f"set=1\npublic_key={K2}\n"
        "endpoint=[2001:db8::1]:51820\npublic_key=" + K3 +
        "\nendpoint=[fe80::1%3]:1\n\n",
        "remove-update": f"set=1\npublic_key={K2}\nremove=true\n"
        f"public_key={K3}\nupdate_only=true\nallowed_ip=-10.0.0.0/24\n"
        "allowed_ip=10.1.0.0/16\nallowed_ip=0.0.0.0/0\n\n",
        "host-bits": f"set=1\npublic_key={K2}\nallowed_ip=10.1.2.3/8\n"
        "allowed_ip=fd00::1/64\n\n",
        "own-key-as-peer": f"set=1\nprivate_key={K1}\npublic_key="
        "e9209666e4ff90ef10d82e8bdf29cbd8ae7cdd8715b86ec5c283221fbc6ba45b"
        "\n\n",
        "crlf": f"set=1\r\nlisten_port=1\r\npublic_key={K2}\r\n\r\n",
        "after-blank": "set=1\nlisten_port=1\n\nlisten_port=2\n",
        "no-equals": "set=1\nlisten_port\n\n",
        "device-after-peer": f"set=1\npublic_key={K2}\nlisten_port=1\n\n",
        "bad-values": "set=1\nlisten_port=65536\n",
        "zero-keys": "set=1\nprivate_key=" + "0" * 64 + "\npublic_key=" +
        K2 + "\npreshared_key=" + "0" * 64 + "\n\n",
        "get": "get=1\n\n",
    }


def wgconf_seeds():
    return {
        "everything": f"[Interface]\nPrivateKey = {B1}\nListenPort = 51820\n"
        "FwMark = 0x1f\nAddress = 10.0.0.1/24, fd00::1/64\n"
        "DNS = 192.0.2.53, example.internal\nMTU = 1420\nTable = off\n"
        "PreUp = echo pre # not a comment\nPostUp = echo up\n"
        "PreDown = echo pd\nPostDown = echo down\nSaveConfig = false\n\n"
        f"[Peer]\nPublicKey = {B2}\nPresharedKey = {B3}\n"
        "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
        "Endpoint = vpn.example.com:51820\nPersistentKeepalive = 25\n",
        "endpoints": f"[Peer]\nPublicKey = {B2}\nEndpoint = [2001:db8::1]:1\n"
        f"[Peer]\nPublicKey = {B3}\nEndpoint = [vpn.example]:2\n",
        "incremental": f"[Peer]\nPublicKey = {B2}\n"
        "AllowedIPs = +10.0.0.0/8, -10.1.0.0/16\n",
        "spacing-and-case": "# a comment\n  [ interface ]  \n"
        f"private key = {B1} # mine\nlisten port = 5 1820\n"
        "saveconfig = TRUE\nfwmark = off\n"
        f"[PEER]\npublickey={B2}\nallowedips=0.0.0.0/0,::/0\n"
        "persistentkeepalive = off\n",
        "errors-host-bits": f"[Peer]\nPublicKey = {B2}\n"
        "AllowedIPs = 10.0.0.1/24\n",
        "errors-twice": "[Interface]\nListenPort = 1\nListenPort = 2\n",
        "errors-no-key": "[Peer]\nAllowedIPs = 10.0.0.0/8\n",
        "uapi-text": f"set=1\nprivate_key={K1}\n\n",
    }


def write(target, name, content):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(os.path.join(d, name), mode) as f:
        f.write(content)


def main():
    # Only this script's targets: others keep their own seeds here.
    for target in ("fuzz_uapi", "fuzz_wgconf", "fuzz_wire"):
        d = os.path.join(OUT, target)
        if os.path.isdir(d):
            shutil.rmtree(d)
    seed = os.path.join(DATA, "seed")
    for name, text in uapi_seeds().items():
        write("fuzz_uapi", name, text)
    shutil.copy(os.path.join(seed, "boringtun.conf"),
                os.path.join(OUT, "fuzz_uapi", "seed-boringtun.conf"))
    for name, text in wgconf_seeds().items():
        write("fuzz_wgconf", name, text)
    for f in ("nanoswg.conf", "utun2.conf"):
        shutil.copy(os.path.join(seed, f),
                    os.path.join(OUT, "fuzz_wgconf", "seed-" + f))
    for name, blob in wire_seeds().items():
        write("fuzz_wire", name, blob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
