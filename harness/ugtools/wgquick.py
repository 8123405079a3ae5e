# SPDX-License-Identifier: MIT
"""Reading and writing wg-quick files: an [Interface] section and [Peer]
sections of "Key = value" lines."""

import re

from .run import Failure


def sections(text):
    """Splits a wg-quick file into [(section, [(key, value)])], sections
    in lower case, keys as written, comments and blank lines dropped."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            out.append((m.group(1).lower(), []))
            continue
        if "=" not in line or not out:
            raise Failure("not a wg-quick line: %r" % raw.strip())
        k, v = line.split("=", 1)
        out[-1][1].append((k.strip(), v.strip()))
    return out


def get(pairs, key):
    """The first value of key (in any case) among pairs, or None."""
    for k, v in pairs:
        if k.lower() == key.lower():
            return v
    return None


def interface(text):
    """The (key, value) pairs of the file's one [Interface]."""
    found = [p for s, p in sections(text) if s == "interface"]
    if len(found) != 1:
        raise Failure("a wg-quick file needs exactly one [Interface]")
    return found[0]


def section(name, pairs):
    return "\n".join(["[%s]" % name] + ["%s = %s" % kv for kv in pairs])


def render(interface_pairs, peers=()):
    """A wg-quick file from the [Interface]'s (key, value) pairs and each
    peer's, sections apart by a blank line."""
    blocks = [section("Interface", interface_pairs)]
    blocks += [section("Peer", p) for p in peers]
    return "\n\n".join(blocks) + "\n"


def add_to_interface(text, pairs):
    """text with (key, value) lines added at the top of its [Interface]."""
    text = text.rstrip("\n") + "\n"
    if not pairs:
        return text
    return re.sub(r"^\s*\[Interface\]\s*$",
                  lambda m: section("Interface", pairs), text,
                  count=1, flags=re.M | re.I)


def add_peers(text, peers):
    """text with a [Peer] for each (public key, allowed IPs) at its end."""
    text = text.rstrip("\n") + "\n"
    for pub, allowed in peers:
        text += "\n" + section("Peer", [("PublicKey", pub),
                                        ("AllowedIPs", allowed)]) + "\n"
    return text
