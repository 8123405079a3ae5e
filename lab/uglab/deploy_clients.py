# SPDX-License-Identifier: MIT
"""The clients' wg-quick files once the gateway's external address is known:
the user's own file with the new Endpoint (its key masked unless asked
for), or a file without a secret for a client given by public key."""

import os
import re

from .deploy_config import DeployError, rel_repo
from .util import write_file


def client_configs(cfg, endpoint_ip, show_keys=False):
    """Each client's wg-quick file with the gateway's external address as
    Endpoint; returns [(client, text, holds_secret)].  A client given by
    its own file keeps everything but the Endpoint (and gains the tunnel
    MTU if it names none); its PrivateKey line is masked unless
    show_keys.  A client given by public key gets a file without a secret
    that reads its key from a file on the client."""
    server_pub = cfg.gateway["public_key"]
    endpoint = "%s:%d" % (endpoint_ip, cfg.port)
    out = []
    for c in cfg.clients:
        if c.config:
            text, secret = client_from_file(cfg, c, server_pub, endpoint,
                                            show_keys)
        else:
            text = client_from_key(cfg, c, server_pub, endpoint)
            secret = False
        out.append((c, text, secret))
    return out


def client_from_file(cfg, c, server_pub, endpoint, show_keys):
    # Sections as lists of lines; the [Peer] with the gateway's public key
    # gets the Endpoint, the [Interface] the MTU when it has none.
    sections = [[None, []]]
    for line in c.text.rstrip("\n").splitlines():
        m = re.match(r"^\s*\[(\w+)\]\s*$", line)
        if m:
            sections.append([m.group(1).lower(), [line]])
        else:
            sections[-1][1].append(line)

    def key_of(line):
        m = re.match(r"^\s*(\w+)\s*=\s*(.*?)\s*$", line)
        return (m.group(1).lower(), m.group(2)) if m else (None, None)

    gw = [s for s in sections if s[0] == "peer" and any(
        key_of(l) == ("publickey", server_pub) for l in s[1])]
    if len(gw) != 1:
        raise DeployError("%s has no [Peer] with the gateway's public key "
                          "%s" % (c.config, server_pub))
    out = []
    secret = False
    for name, lines in sections:
        body = []
        for line in lines:
            k, _ = key_of(line)
            if name == "interface" and k == "privatekey":
                if show_keys:
                    body.append(line)
                    secret = True
                else:
                    body.append("# PrivateKey = (as in %s; --show-keys "
                                "prints it)" % rel_repo(c.config))
                continue
            if name == "peer" and k == "endpoint" and lines is gw[0][1]:
                body.append("Endpoint = " + endpoint)
                continue
            body.append(line)
        if name == "interface" and not any(
                key_of(l)[0] == "mtu" for l in lines):
            body.insert(1, "MTU = %d" % cfg.mtu)
        if name == "peer" and lines is gw[0][1] and not any(
                key_of(l)[0] == "endpoint" for l in lines):
            body.insert(1, "Endpoint = " + endpoint)
        out += body
    return "\n".join(out) + "\n", secret


def client_from_key(cfg, c, server_pub, endpoint):
    lines = ["[Interface]",
             "# This client's private key never leaves it: wg-quick reads "
             "it from",
             "# %s (make it with: umask 077; wg genkey > %s;" % (
                 c.key_file, c.key_file),
             "# its public half, wg pubkey < %s, is %s)." % (
                 c.key_file, c.public_key),
             "PostUp = wg set %%i private-key %s" % c.key_file,
             "Address = %s" % ",".join(c.addresses),
             "MTU = %d" % cfg.mtu,
             "",
             "[Peer]",
             "PublicKey = %s" % server_pub,
             "Endpoint = %s" % endpoint,
             "AllowedIPs = %s" % cfg.client_allowed(c)]
    if c.keepalive:
        lines.append("PersistentKeepalive = %d" % c.keepalive)
    return "\n".join(lines) + "\n"


def emit_clients(cfg, ip, args, out):
    confs = client_configs(cfg, ip, args.show_keys or bool(args.client_dir))
    if args.client_dir:
        d = os.path.abspath(args.client_dir)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        for c, text, _ in confs:
            p = os.path.join(d, c.name + ".conf")
            write_file(p, text, 0o600)
            print("client %s: %s (mode 0600)" % (c.name, p), file=out)
        return
    for c, text, _ in confs:
        print("# ---- client %s: %s.conf ----" % (c.name, c.name), file=out)
        out.write(text)
        print(file=out)
