# SPDX-License-Identifier: MIT
"""WireGuard keys, made by wg(8) so that they are the ones it would make.
A key goes to wg through a pipe, never on a command line.  Every secret
made here is remembered in SECRETS, so that a test can check that no log
shows one."""

import base64

from .run import Failure, run

SECRETS = set()


def genkey():
    key = run(["wg", "genkey"]).stdout.strip()
    SECRETS.add(key)
    return key


def genpsk():
    key = run(["wg", "genpsk"]).stdout.strip()
    SECRETS.add(key)
    return key


def pubkey(private):
    return run(["wg", "pubkey"], input=private + "\n").stdout.strip()


def keypair():
    """(private, public)."""
    private = genkey()
    return private, pubkey(private)


def key_hex(b64):
    """A base64 key as the UAPI writes it: 64 hex digits."""
    return base64.b64decode(b64).hex()


def check_key(key, what):
    """Returns key if it is a base64 WireGuard key; Failure naming what
    otherwise."""
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise Failure("%s: not a WireGuard key: %r" % (what, key))
    return key


# Looking for keys in text: every form a key could be printed in, and any
# piece long enough to matter.

def forms(b64):
    """The forms a key may be printed in: base64 without its padding (a
    piece of it covers the padded form too), hex in either case."""
    raw = base64.b64decode(b64)
    return {b64.rstrip("="), raw.hex(), raw.hex().upper()}


def pieces(text, secrets, piece=20):
    """(secret, piece) for each secret of which text holds a piece."""
    found = []
    for key in secrets:
        hit = None
        for form in forms(key):
            for i in range(len(form) - piece + 1):
                if form[i:i + piece] in text:
                    hit = form[i:i + piece]
                    break
            if hit:
                break
        if hit:
            found.append((key, hit))
    return found
