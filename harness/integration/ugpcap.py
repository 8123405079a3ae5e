# SPDX-License-Identifier: MIT
"""uniguard's two-sided captures (daemon/capture.h) read back in Python, for
the replay suite: records with their side, direction, endpoints and
WireGuard fields, and a diff that names the record, the field, what was
expected and what came.

The format: classic pcap, link type LINUX_SLL2 (276); interface index 1
is the outer side (WireGuard datagrams in IPv4/IPv6 + UDP headers), 2 the
inner side (tunnel packets); packet type 0 is an input of uniguard's, 4 an
output.
"""

import socket
import struct

LINKTYPE_LINUX_SLL2 = 276
OUTER, INNER = 1, 2
IN, OUT = 0, 4
WG_TYPES = {1: "initiation", 2: "response", 3: "cookie", 4: "data"}


class Record:
    """One record. For outer ones: src/sport/dst/dport and the WireGuard
    payload; for inner ones: the IP packet as payload."""

    def __init__(self, number, ts, side, direction, payload, src=None,
                 sport=None, dst=None, dport=None):
        self.number = number
        self.ts = ts                    # nanoseconds since the epoch
        self.side = side
        self.direction = direction
        self.payload = payload
        self.src, self.sport, self.dst, self.dport = src, sport, dst, dport

    @property
    def label(self):
        return "%s %s" % ("outer" if self.side == OUTER else "inner",
                          "in" if self.direction == IN else "out")

    def fields(self):
        """Named fields, in the order a diff reports them."""
        out = [("side", self.label)]
        if self.side == OUTER:
            out += [("source", "%s:%s" % (self.src, self.sport)),
                    ("destination", "%s:%s" % (self.dst, self.dport))]
            out += wg_fields(self.payload)
        else:
            out += ip_fields(self.payload)
        out.append(("length", len(self.payload)))
        return out

    def summary(self):
        return ", ".join("%s %s" % kv for kv in self.fields())


def wg_fields(p):
    """The WireGuard message's type and header fields."""
    if len(p) < 4:
        return [("wireguard", "runt of %d bytes" % len(p))]
    t = p[0]
    out = [("wg type", WG_TYPES.get(t, "unknown %d" % t))]
    if t == 1 and len(p) >= 8:
        out.append(("wg sender", struct.unpack("<I", p[4:8])[0]))
    elif t == 2 and len(p) >= 12:
        out += [("wg sender", struct.unpack("<I", p[4:8])[0]),
                ("wg receiver", struct.unpack("<I", p[8:12])[0])]
    elif t == 3 and len(p) >= 8:
        out.append(("wg receiver", struct.unpack("<I", p[4:8])[0]))
    elif t == 4 and len(p) >= 16:
        out += [("wg receiver", struct.unpack("<I", p[4:8])[0]),
                ("wg counter", struct.unpack("<Q", p[8:16])[0])]
    return out


def ip_fields(p):
    if len(p) >= 20 and p[0] >> 4 == 4:
        return [("ip", "%s -> %s proto %d" % (
            socket.inet_ntop(socket.AF_INET, p[12:16]),
            socket.inet_ntop(socket.AF_INET, p[16:20]), p[9]))]
    if len(p) >= 40 and p[0] >> 4 == 6:
        return [("ip", "%s -> %s next %d" % (
            socket.inet_ntop(socket.AF_INET6, p[8:24]),
            socket.inet_ntop(socket.AF_INET6, p[24:40]), p[6]))]
    return [("ip", "not IP")]


def read(path):
    """Every record of a capture, numbered from 1 as Wireshark does."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: not a pcap file" % path)
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        endian = "<"
    elif struct.unpack(">I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d):
        endian = ">"
        magic = struct.unpack(">I", data[:4])[0]
    else:
        raise ValueError("%s: not a pcap file" % path)
    nano = magic == 0xa1b23c4d
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != LINKTYPE_LINUX_SLL2:
        raise ValueError("%s: link type %d, not LINUX_SLL2" % (path, linktype))
    out, off, number = [], 24, 0
    while off + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack(endian + "IIII",
                                             data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        number += 1
        ts = sec * 10**9 + (frac if nano else frac * 1000)
        ifindex = struct.unpack(">I", frame[4:8])[0]
        pkttype = frame[10]
        body = frame[20:]
        if ifindex == INNER:
            out.append(Record(number, ts, INNER, pkttype, body))
            continue
        if body[0] >> 4 == 4:
            ihl = (body[0] & 15) * 4
            src = socket.inet_ntop(socket.AF_INET, body[12:16])
            dst = socket.inet_ntop(socket.AF_INET, body[16:20])
            udp = body[ihl:]
        else:
            src = socket.inet_ntop(socket.AF_INET6, body[8:24])
            dst = socket.inet_ntop(socket.AF_INET6, body[24:40])
            udp = body[40:]
        sport, dport, ulen = struct.unpack(">HHH", udp[:6])
        out.append(Record(number, ts, OUTER, pkttype, udp[8:ulen], src,
                          sport, dst, dport))
    return out


def diff(expected, got, limit=10):
    """Readable differences between two lists of records: one line per
    difference, "record N: FIELD: expected X, got Y", at most limit."""
    lines = []
    for i in range(max(len(expected), len(got))):
        if len(lines) >= limit:
            lines.append("... (more differences left out)")
            break
        if i >= len(expected):
            lines.append("record %d: not expected, got %s"
                         % (got[i].number, got[i].summary()))
            continue
        if i >= len(got):
            lines.append("record %d: missing, expected %s"
                         % (expected[i].number, expected[i].summary()))
            continue
        e, g = expected[i], got[i]
        if e.ts != g.ts:
            lines.append("record %d: time: expected %d.%09d, got %d.%09d"
                         % (e.number, e.ts // 10**9, e.ts % 10**9,
                            g.ts // 10**9, g.ts % 10**9))
        ef, gf = dict(e.fields()), dict(g.fields())
        for key, _ in e.fields():
            if ef.get(key) != gf.get(key):
                lines.append("record %d: %s: expected %s, got %s"
                             % (e.number, key, ef.get(key), gf.get(key)))
        if ef == gf and e.payload != g.payload:
            at = next(k for k in range(len(e.payload))
                      if e.payload[k] != g.payload[k])
            lines.append("record %d: payload differs from byte %d: "
                         "expected %s, got %s"
                         % (e.number, at, e.payload[at:at + 8].hex(),
                            g.payload[at:at + 8].hex()))
    return lines


def outputs(records):
    return [r for r in records if r.direction == OUT]


def inputs(records):
    return [r for r in records if r.direction == IN]
