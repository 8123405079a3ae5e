# SPDX-License-Identifier: MIT
"""lab/deploy-gcp's settings: the deployment's INI file (lab/gcp.example.conf
explains each key), checked and resolved into what the gateway is built
from: its wg-quick file with a [Peer] for each client, and a description
of it without a secret.  The user's private keys are read here and
nowhere else."""

import configparser
import ipaddress
import os
import re

from . import gce
from .util import REPO_DIR, LabError

NAME_RX = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
ZONE_RX = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")


class DeployError(LabError):
    pass


def yes(v):
    return str(v).strip().lower() in ("1", "yes", "true", "on")


class Client:
    def __init__(self, name):
        self.name = name
        self.config = None      # path of the user's own wg-quick file
        self.text = None
        self.public_key = None
        self.addresses = []
        self.allowed_ips = None
        self.keepalive = None
        self.key_file = None


class Config:
    """The deployment's settings, from an INI file (lab/gcp.example.conf
    explains each key).  Paths in it are relative to the file."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        base = os.path.dirname(self.path)
        cp = configparser.ConfigParser(interpolation=None,
                                       inline_comment_prefixes=("#", ";"))
        try:
            with open(self.path) as f:
                cp.read_file(f)
        except (OSError, configparser.Error) as e:
            raise DeployError("%s: %s" % (path, e))
        if not cp.has_section("gcp") or not cp.has_section("vpn"):
            raise DeployError("%s: needs [gcp] and [vpn] sections" % path)
        g = cp["gcp"]
        v = cp["vpn"]

        def need(sec, key):
            val = sec.get(key, "").strip()
            if not val:
                raise DeployError("%s: [%s] %s is required"
                                  % (path, sec.name, key))
            return val

        def rel(p):
            p = os.path.expanduser(p)
            return p if os.path.isabs(p) else os.path.normpath(
                os.path.join(base, p))

        self.project = need(g, "project")
        self.zone = need(g, "zone")
        m = ZONE_RX.match(self.zone)
        if not m:
            raise DeployError("%s: zone %r is not a Compute Engine zone "
                              "(like us-west2-a)" % (path, self.zone))
        self.region = m.group(1)
        self.bucket = need(g, "bucket")
        if not re.match(r"^[a-z0-9][-a-z0-9_.]{1,220}[a-z0-9]$",
                        self.bucket):
            raise DeployError("%s: %r is not a bucket name"
                              % (path, self.bucket))
        self.network = g.get("network", "default").strip()
        self.subnet = g.get("subnet", "").strip() or None
        self.machine_type = g.get("machine_type", "e2-micro").strip()
        self.boot_disk_size = int(g.get("boot_disk_size", "10"))
        self.boot_disk_type = g.get("boot_disk_type", "pd-standard").strip()
        self.static_address = yes(g.get("static_address", "yes"))
        self.private_ip = g.get("private_ip", "").strip() or None
        self.client_ranges = g.get("client_source_ranges",
                                   "0.0.0.0/0").replace(" ", "")
        self.name = g.get("name", "uniguard").strip()
        self.image = g.get("image", self.name).strip()
        self.instance = g.get("instance", self.name).strip()
        self.tag = g.get("tag", self.name).strip()
        self.address_name = g.get("address", self.name + "-ip").strip()
        self.fw_wg = self.name + "-allow-wg"
        self.fw_vpn = self.name + "-allow-vpn"
        self.fw_fwd = self.name + "-allow-fwd"
        self.route = g.get("route", self.name + "-route-vpn").strip()
        self.object = g.get("object", self.image + ".tar.gz").strip()
        self.image_from = g.get("image_from", "artifact").strip()
        if self.image_from not in ("artifact", "existing"):
            raise DeployError("%s: image_from is artifact or existing"
                              % path)
        art = g.get("artifact", "").strip()
        self.artifact = rel(art) if art else os.path.join(
            gce.GCE_DIR, self.image + ".tar.gz")
        for what in ("image", "instance", "tag", "address_name", "fw_wg",
                     "fw_vpn", "fw_fwd", "route"):
            val = getattr(self, what)
            if not NAME_RX.match(val):
                raise DeployError("%s: %r (%s) is not a valid resource "
                                  "name: lowercase letters, digits and "
                                  "dashes, 63 at most, starting with a "
                                  "letter" % (path, val, what))

        self.server_config = rel(need(v, "server_config"))
        self.vpn_subnet = self.net(need(v, "subnet"), "subnet")
        self.vpn_address = v.get("address", "").strip() or "%s/%d" % (
            next(self.vpn_subnet.hosts()), self.vpn_subnet.prefixlen)
        gw = ipaddress.ip_interface(self.vpn_address)
        if gw.ip not in self.vpn_subnet:
            raise DeployError("%s: [vpn] address %s is outside subnet %s"
                              % (path, self.vpn_address, self.vpn_subnet))
        self.private_ranges = [self.net(r, "private_ranges") for r in
                               need(v, "private_ranges").replace(
                                   ",", " ").split()]
        for r in self.private_ranges:
            if r.overlaps(self.vpn_subnet):
                raise DeployError("%s: the VPN subnet %s overlaps the "
                                  "private range %s" % (path,
                                                        self.vpn_subnet, r))
        self.port = int(v["port"]) if v.get("port", "").strip() else None
        self.mtu = int(v.get("mtu", str(gce.DEFAULT_MTU)))
        self.private_firewall = yes(v.get("private_firewall", "yes"))
        self.allow = v.get("allow", "icmp,tcp,udp").replace(" ", "")
        # The metadata attribute the gateway reads more peers from
        # (--peers-from), which `deploy-gcp peer` edits; none when unset.
        self.peers_attribute = v.get("peers_attribute", "").strip() or None
        if self.peers_attribute and not re.match(
                r"^[A-Za-z0-9_-]{1,128}$", self.peers_attribute):
            raise DeployError("%s: [vpn] peers_attribute %r is not a "
                              "metadata key (letters, digits, '-', '_')"
                              % (path, self.peers_attribute))

        self.clients = []
        for sec in cp.sections():
            m = re.match(r"^client\s+(\S+)$", sec)
            if not m:
                if sec not in ("gcp", "vpn"):
                    raise DeployError("%s: unknown section [%s]"
                                      % (path, sec))
                continue
            self.clients.append(self.client(m.group(1), cp[sec], rel))
        names = [c.name for c in self.clients]
        if len(set(names)) != len(names):
            raise DeployError("%s: client names repeat" % path)

    def net(self, text, what):
        try:
            return ipaddress.ip_network(text.strip(), strict=True)
        except ValueError as e:
            raise DeployError("%s: [vpn] %s: %s" % (self.path, what, e))

    def client(self, name, sec, rel):
        c = Client(name)
        if sec.get("config", "").strip():
            c.config = rel(sec["config"].strip())
        else:
            c.public_key = sec.get("public_key", "").strip()
            if not c.public_key:
                raise DeployError("%s: [client %s] needs config (the "
                                  "client's wg-quick file) or public_key"
                                  % (self.path, name))
            gce.check_key(c.public_key, "[client %s] public_key" % name)
            addr = sec.get("address", "").strip()
            if not addr:
                raise DeployError("%s: [client %s] needs address"
                                  % (self.path, name))
            c.addresses = [a.strip() for a in addr.split(",") if a.strip()]
            c.key_file = sec.get("key_file", "").strip() or \
                "/etc/wireguard/%s.key" % name
        if sec.get("allowed_ips", "").strip():
            c.allowed_ips = sec["allowed_ips"].replace(" ", "")
        if sec.get("keepalive", "").strip():
            c.keepalive = int(sec["keepalive"])
        return c

    # What the gateway is built from: reading the user's files (the only
    # place the private keys are read) and deriving public keys.
    def resolve(self):
        try:
            with open(self.server_config) as f:
                self.server_text = f.read()
        except OSError as e:
            raise DeployError("server_config: %s" % e)
        for c in self.clients:
            if c.config:
                try:
                    with open(c.config) as f:
                        c.text = f.read()
                except OSError as e:
                    raise DeployError("[client %s] config: %s"
                                      % (c.name, e))
                secs = gce.ini_sections(c.text)
                iface = [p for s, p in secs if s == "interface"]
                if len(iface) != 1 or not gce.ini_get(iface[0],
                                                       "PrivateKey"):
                    raise DeployError("%s: needs one [Interface] with a "
                                      "PrivateKey" % c.config)
                c.public_key = gce.pubkey(gce.check_key(
                    gce.ini_get(iface[0], "PrivateKey"), c.config))
                addr = gce.ini_get(iface[0], "Address")
                if not addr:
                    raise DeployError("%s: [Interface] has no Address"
                                      % c.config)
                c.addresses = [a.strip() for a in addr.split(",")]
            for a in c.addresses:
                ip = ipaddress.ip_interface(a)
                if ip.version == 4 and ip.ip not in self.vpn_subnet:
                    raise DeployError("[client %s] address %s is outside "
                                      "the VPN subnet %s"
                                      % (c.name, a, self.vpn_subnet))
        peers = [(c.public_key, ",".join(
            str(ipaddress.ip_interface(a).network) for a in c.addresses))
            for c in self.clients]
        self.gateway_text, self.gateway = gce.gateway_ini(
            self.server_text, self.vpn_address, self.mtu, peers)
        lp = self.gateway["listen_port"]
        if lp is None:
            raise DeployError("%s: [Interface] needs a ListenPort (the "
                              "firewall opens it)" % self.server_config)
        if self.port is not None and self.port != lp:
            raise DeployError("[vpn] port %d differs from ListenPort %d in "
                              "%s" % (self.port, lp, self.server_config))
        self.port = lp
        return self

    def peers_from(self):
        """The daemon's --peers-from for the image, or None."""
        return "gce-metadata:" + self.peers_attribute \
            if self.peers_attribute else None

    def client_allowed(self, c):
        if c.allowed_ips:
            return c.allowed_ips
        return ",".join(str(n) for n in [self.vpn_subnet] +
                        self.private_ranges)


def find_app(choice):
    path = choice or os.environ.get("UNIGUARD") or os.path.join(
        REPO_DIR, "build", "uniguard")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise DeployError("no uniguard binary at %s: run `make` first, or "
                          "name one with --gateway-app" % path)
    return os.path.abspath(path)


def rel_repo(path):
    r = os.path.relpath(path, REPO_DIR)
    return path if r.startswith("..") else r


def forwarding_kernel():
    """The Nanos kernel whose image can forward, or a DeployError that
    says why there is none.  Forwarding needs lwIP's IP_FORWARD, which
    only a kernel built with the seed's change has (make nanos, or a tree
    named by NANOS_DIR); ops's release kernels leave it off."""
    from . import nanos
    kernel = nanos.find_kernel()
    if not kernel:
        raise DeployError(
            "no Nanos kernel that forwards was found, and a stock ops "
            "kernel does not forward (lwIP's IP_FORWARD is off in ops's "
            "release kernels): build one with `make nanos`, or name a built "
            "tree with NANOS_DIR")
    fwd = kernel.get("forward")
    if fwd is None:
        fwd = nanos.tree_notes(kernel)["forward"]
    if not fwd:
        raise DeployError(
            "the Nanos kernel of %s %s; a stock ops kernel does not forward "
            "(lwIP's IP_FORWARD is off in ops's release kernels): build one "
            "with `make nanos`, or name a built tree with NANOS_DIR"
            % (kernel["source"], "does not enable IP_FORWARD" if fwd is False
               else "may not forward (its sources do not say)"))
    return kernel
