# SPDX-License-Identifier: MIT
"""lab/deploy-gcp peer add NAME / peer remove NAME / peer list: the
clients the gateway reads from its instance's metadata attribute (the
daemon's --peers-from gce-metadata, docs/operations.md), changed with
`gcloud compute instances add-metadata` while the gateway runs.

The attribute holds wg-quick [Peer] sections, each after a comment that
names it (`# peer: NAME`): the gateway skips comments, this tool finds
its peers by them.  A new client's key pair is made here with `wg
genkey`; its private key is printed in its wg-quick file (or written to
--client-dir, mode 0600) and never sent to the cloud.  Its address is the
first of the VPN subnet that neither the gateway, nor a client of the
configuration, nor a peer of the attribute has."""

import ipaddress
import os
import re
import tempfile

from ugtools import keys

from .deploy_cloud import Cloud
from .deploy_config import DeployError
from .deploy_plan import gcloud, ip_query
from .util import write_file

NAME_RX = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$")
MARK_RX = re.compile(r"^#\s*peer:\s*(\S+)\s*$")


class Peer:
    def __init__(self, name, public_key, allowed_ips):
        self.name = name
        self.public_key = public_key
        self.allowed_ips = allowed_ips


def parse_attribute(text):
    """The named peers of an attribute's text, in order; sections without
    a name are kept under the name "-"."""
    peers = []
    name = None
    cur = None
    for line in text.splitlines():
        m = MARK_RX.match(line)
        if m:
            name = m.group(1)
            continue
        s = line.split("#", 1)[0].strip()
        if s.lower() == "[peer]":
            cur = Peer(name or "-", None, "")
            peers.append(cur)
            name = None
            continue
        kv = re.match(r"^(\w+)\s*=\s*(.*)$", s)
        if cur and kv:
            k = kv.group(1).lower()
            if k == "publickey":
                cur.public_key = kv.group(2).strip()
            elif k == "allowedips":
                cur.allowed_ips = kv.group(2).replace(" ", "")
    return peers


def render_attribute(peers):
    out = []
    for p in peers:
        if p.name != "-":
            out.append("# peer: %s" % p.name)
        out += ["[Peer]", "PublicKey = %s" % p.public_key,
                "AllowedIPs = %s" % p.allowed_ips, ""]
    return "\n".join(out)


def instance_cmd(cfg, verb, *rest):
    return gcloud("compute", "instances", verb, cfg.instance,
                  "--project=" + cfg.project, "--zone=" + cfg.zone, *rest)


def read_attribute(cloud, cfg):
    """The attribute's text ("" when the instance has none)."""
    obj = cloud.describe(instance_cmd(cfg, "describe", "--format=json"))
    if obj is None:
        raise DeployError("instance %s does not exist: deploy it first"
                          % cfg.instance)
    for item in (obj.get("metadata") or {}).get("items") or []:
        if item.get("key") == cfg.peers_attribute:
            return item.get("value") or ""
    return ""


def with_text_file(text, fn):
    """fn(path) with text in a private temporary file, removed after."""
    fd, path = tempfile.mkstemp(prefix="ug-peers.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return fn(path)
    finally:
        os.unlink(path)


def write_attribute(cloud, cfg, text, log):
    with_text_file(text, lambda path: cloud.must(
        instance_cmd(cfg, "add-metadata", "--metadata-from-file=%s=%s"
                     % (cfg.peers_attribute, path)),
        "setting the metadata attribute %s" % cfg.peers_attribute))


def free_address(cfg, peers):
    """The first host address of the VPN subnet nobody has: not the
    gateway's, a configured client's or one an attribute peer routes."""
    used = set()
    taken = [a.strip() for a in cfg.vpn_address.split(",")]
    for c in cfg.clients:
        taken += c.addresses
    for a in taken:
        used.add(ipaddress.ip_interface(a).ip)
    for p in peers:
        for a in p.allowed_ips.split(","):
            if a:
                net = ipaddress.ip_network(a, strict=False)
                if net.version == cfg.vpn_subnet.version and \
                        net.overlaps(cfg.vpn_subnet):
                    used.update(net if net.num_addresses <= 65536 else ())
    for host in cfg.vpn_subnet.hosts():
        if host not in used:
            return host
    raise DeployError("no free address left in the VPN subnet %s"
                      % cfg.vpn_subnet)


def client_file(cfg, private_key, address, endpoint_ip):
    return "\n".join([
        "[Interface]",
        "PrivateKey = %s" % private_key,
        "Address = %s/32" % address,
        "MTU = %d" % cfg.mtu,
        "",
        "[Peer]",
        "PublicKey = %s" % cfg.gateway["public_key"],
        "Endpoint = %s:%d" % (endpoint_ip, cfg.port),
        "AllowedIPs = %s" % ",".join(str(n) for n in [cfg.vpn_subnet] +
                                     cfg.private_ranges),
        "PersistentKeepalive = 25",
        ""])


def peer_words(cfg, args):
    """(verb, name) of `peer add NAME | remove NAME | list`, checked."""
    words = args.peer_args
    if not words or words[0] not in ("add", "remove", "list") or \
            (words[0] == "list") != (len(words) == 1) or len(words) > 2:
        raise DeployError("usage: peer add NAME | peer remove NAME | "
                          "peer list")
    if not cfg.peers_attribute:
        raise DeployError("[vpn] peers_attribute is off: the gateway reads "
                          "no peers from metadata")
    name = words[1] if len(words) == 2 else None
    if name is not None and not NAME_RX.match(name):
        raise DeployError("%r is not a peer name: letters, digits, '-', "
                          "'_' and '.', 63 at most" % name)
    return words[0], name


def list_peers(peers, out):
    for p in peers:
        print("%-20s %s %s" % (p.name, p.public_key, p.allowed_ips),
              file=out)


def without(peers, name, attribute):
    """The peers without NAME; an error when there is none of that name."""
    left = [p for p in peers if p.name != name]
    if len(left) == len(peers):
        raise DeployError("no peer %s in the attribute %s"
                          % (name, attribute))
    return left


def emit_client(args, out, name, text, address, gateway=None):
    """The new client's file: printed, or written to --client-dir."""
    if args.client_dir:
        d = os.path.abspath(args.client_dir)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o700)
        p = os.path.join(d, name + ".conf")
        write_file(p, text, 0o600)
        print("client %s: %s (mode 0600), address %s%s"
              % (name, p, address,
                 ", gateway %s" % gateway if gateway else ""), file=out)
    else:
        print("# ---- client %s: %s.conf (%sholds its private key) ----"
              % (name, name, "gateway %s; " % gateway if gateway else ""),
              file=out)
        out.write(text)


def do_peer(cfg, args, out, log):
    verb, name = peer_words(cfg, args)
    cloud = Cloud(log)
    peers = parse_attribute(read_attribute(cloud, cfg))
    if verb == "list":
        print("# metadata attribute %s of instance %s: %d peer%s"
              % (cfg.peers_attribute, cfg.instance, len(peers),
                 "" if len(peers) == 1 else "s"), file=out)
        list_peers(peers, out)
        return 0
    if verb == "remove":
        left = without(peers, name, cfg.peers_attribute)
        write_attribute(cloud, cfg, render_attribute(left), log)
        print("peer %s removed: the gateway cuts it off as soon as it "
              "reads the attribute" % name, file=log)
        return 0
    if any(p.name == name for p in peers) or \
            any(c.name == name for c in cfg.clients):
        raise DeployError("a peer or client named %s exists already" % name)
    address = free_address(cfg, peers)
    ip = cloud.must(ip_query(cfg), "the instance's external address") \
        .stdout.strip()
    private = keys.genkey()
    public = keys.pubkey(private)
    peers.append(Peer(name, public, "%s/32" % address))
    write_attribute(cloud, cfg, render_attribute(peers), log)
    text = client_file(cfg, private, address, ip or "EXTERNAL_IP")
    emit_client(args, out, name, text, address)
    print("peer %s added as %s: the gateway lets it in as soon as it reads "
          "the attribute" % (name, address), file=log)
    return 0

