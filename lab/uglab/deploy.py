# SPDX-License-Identifier: MIT
"""lab/deploy-gcp: the gateway on Compute Engine in one command, with the
stock gcloud and gsutil CLIs and the user's own gcloud login.

The deployment is a fixed list of steps, each one cloud resource with the
command that finds it (describe), the one that makes it (create) and the
one that removes it (delete):

  upload    the image archive to gs://BUCKET/NAME.tar.gz
  image     NAME, from that archive, with its guest OS features
  address   NAME-ip, a static external address in the zone's region
  fw-wg     NAME-allow-wg: UDP to the WireGuard port, to the tag NAME only
  fw-vpn    NAME-allow-vpn: the VPN subnet to the network's hosts
  fw-fwd    NAME-allow-fwd: the private ranges to the gateway (so that
            private hosts can reach clients through it)
  instance  NAME, with --can-ip-forward, the tag and the address
  route     NAME-route-vpn: the VPN subnet via the instance

Deploy walks the list in order and creates what describe does not find,
so a run that failed half-way is simply run again: what exists is
checked (the image holds this archive, the instance forwards and carries
the tag, the route points at it) and skipped.  There is no local state:
the cloud is the state.  Teardown walks the list backwards and deletes
what exists and carries this tool's mark in its description; anything
else of the same name is left alone.  --dry-run makes no call at all and
prints the commands a fresh project would get."""

import configparser
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

from . import gce
from .util import REPO_DIR, LabError, write_file

MARK = "uniguard deploy-gcp"
LABEL = "uniguard-artifact"
NAME_RX = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
ZONE_RX = re.compile(r"^([a-z]+-[a-z]+[0-9]+)-[a-z]$")
# What gcloud and gsutil say when the thing asked for does not exist;
# any other failure of a describe (no login, no permission, no API) stops
# the run instead of leading to a create.
ABSENT_RX = re.compile(r"was not found|No URLs matched|"
                       r"BucketNotFoundException|bucket does not exist")
IP_FORMAT = "get(networkInterfaces[0].accessConfigs[0].natIP)"


class DeployError(LabError):
    pass


def yes(v):
    return str(v).strip().lower() in ("1", "yes", "true", "on")


# --------------------------------------------------------------- config

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

    def client_allowed(self, c):
        if c.allowed_ips:
            return c.allowed_ips
        return ",".join(str(n) for n in [self.vpn_subnet] +
                        self.private_ranges)


# ----------------------------------------------------------------- steps

class Step:
    """One cloud resource: how to find it, make it and remove it."""

    def __init__(self, key, title, describe, create, delete, check=None,
                 keep=False):
        self.key = key
        self.title = title
        self.describe = describe
        self.create = create
        self.delete = delete
        self.check = check
        # keep: a resource deploy uses but did not make (an existing
        # image): never created, never deleted.
        self.keep = keep


def gcloud(*args):
    return ["gcloud"] + list(args)


def plan(cfg, art=None):
    """The steps for cfg; art is the artifact's manifest (None when it is
    not built yet: the dry run shows placeholders)."""
    p = "--project=" + cfg.project
    zone = "--zone=" + cfg.zone
    region = "--region=" + cfg.region
    net = "--network=" + cfg.network
    fmt = "--format=json"
    sha = art["sha256"] if art else "<sha256 of the archive>"
    uri = "gs://%s/%s" % (cfg.bucket, cfg.object)
    steps = []

    if cfg.image_from == "artifact":
        def check_object(obj, art=art):
            if art and obj.get("md5") and obj["md5"] != art["md5"]:
                return "stale"      # a different archive: upload again
            return None
        steps.append(Step(
            "upload", "archive %s" % uri,
            ["gsutil", "stat", uri],
            ["gsutil", "cp", cfg.artifact, uri],
            ["gsutil", "rm", uri], check=check_object))

        def check_image(obj, sha=sha, art=art):
            got = (obj.get("labels") or {}).get(LABEL)
            if art and got != sha[:40]:
                return ("image %s exists but was made from another archive "
                        "(label %s=%s, this one %s); remove it with "
                        "teardown or name another image"
                        % (cfg.image, LABEL, got, sha[:40]))
            return None
        steps.append(Step(
            "image", "image %s" % cfg.image,
            gcloud("compute", "images", "describe", cfg.image, p, fmt),
            gcloud("compute", "images", "create", cfg.image, p,
                   "--source-uri=" + uri,
                   "--guest-os-features=" +
                   ",".join(gce.GUEST_OS_FEATURES),
                   "--architecture=X86_64",
                   "--labels=%s=%s" % (LABEL, sha[:40]),
                   "--description=%s: gateway image, archive sha256 %s"
                   % (MARK, sha)),
            gcloud("compute", "images", "delete", cfg.image, p, "--quiet"),
            check=check_image))
    else:
        steps.append(Step(
            "image", "image %s (made elsewhere, e.g. by ops)" % cfg.image,
            gcloud("compute", "images", "describe", cfg.image, p, fmt),
            None, None, keep=True))

    if cfg.static_address:
        steps.append(Step(
            "address", "external address %s" % cfg.address_name,
            gcloud("compute", "addresses", "describe", cfg.address_name, p,
                   region, fmt),
            gcloud("compute", "addresses", "create", cfg.address_name, p,
                   region, "--description=%s: external address of the "
                   "gateway" % MARK),
            gcloud("compute", "addresses", "delete", cfg.address_name, p,
                   region, "--quiet")))

    def fw(key, name, rules, sources, target, what):
        argv = gcloud("compute", "firewall-rules", "create", name, p, net,
                      "--direction=INGRESS", "--action=ALLOW",
                      "--rules=" + rules, "--source-ranges=" + sources)
        if target:
            argv.append("--target-tags=" + target)
        argv.append("--description=%s: %s" % (MARK, what))
        return Step(
            key, "firewall rule %s" % name,
            gcloud("compute", "firewall-rules", "describe", name, p, fmt),
            argv,
            gcloud("compute", "firewall-rules", "delete", name, p,
                   "--quiet"))

    steps.append(fw("fw-wg", cfg.fw_wg, "udp:%s" % (cfg.port or "PORT"),
                    cfg.client_ranges, cfg.tag,
                    "WireGuard clients to the gateway"))
    if cfg.private_firewall:
        steps.append(fw("fw-vpn", cfg.fw_vpn, cfg.allow,
                        str(cfg.vpn_subnet), None,
                        "VPN clients to the private network"))
        steps.append(fw("fw-fwd", cfg.fw_fwd, cfg.allow,
                        ",".join(str(r) for r in cfg.private_ranges),
                        cfg.tag, "the private network to VPN clients "
                        "through the gateway"))

    create = gcloud("compute", "instances", "create", cfg.instance, p, zone,
                    "--machine-type=" + cfg.machine_type,
                    "--image=" + cfg.image, "--image-project=" + cfg.project,
                    "--boot-disk-size=%dGB" % cfg.boot_disk_size,
                    "--boot-disk-type=" + cfg.boot_disk_type,
                    "--can-ip-forward", "--tags=" + cfg.tag, net)
    if cfg.subnet:
        create.append("--subnet=" + cfg.subnet)
    if cfg.private_ip:
        create.append("--private-network-ip=" + cfg.private_ip)
    if cfg.static_address:
        create.append("--address=" + cfg.address_name)
    # The gateway calls no Google API: no service account, no scopes.
    create += ["--no-service-account", "--no-scopes",
               "--description=%s: WireGuard gateway" % MARK]

    def check_instance(obj):
        bad = []
        if not obj.get("canIpForward"):
            bad.append("has no IP forwarding (it can only be set at "
                       "creation)")
        if cfg.tag not in ((obj.get("tags") or {}).get("items") or []):
            bad.append("lacks the network tag %s" % cfg.tag)
        if bad:
            return "instance %s exists but %s; remove it with teardown " \
                "and deploy again" % (cfg.instance, " and ".join(bad))
        return None
    steps.append(Step(
        "instance", "instance %s" % cfg.instance,
        gcloud("compute", "instances", "describe", cfg.instance, p, zone,
               fmt),
        create,
        gcloud("compute", "instances", "delete", cfg.instance, p, zone,
               "--quiet"),
        check=check_instance))

    def check_route(obj):
        hop = obj.get("nextHopInstance") or ""
        if obj.get("destRange") != str(cfg.vpn_subnet) or not hop.endswith(
                "/zones/%s/instances/%s" % (cfg.zone, cfg.instance)):
            return ("route %s exists but sends %s to %s; remove it with "
                    "teardown and deploy again"
                    % (cfg.route, obj.get("destRange"), hop or "elsewhere"))
        return None
    steps.append(Step(
        "route", "route %s" % cfg.route,
        gcloud("compute", "routes", "describe", cfg.route, p, fmt),
        gcloud("compute", "routes", "create", cfg.route, p, net,
               "--destination-range=%s" % cfg.vpn_subnet,
               "--next-hop-instance=" + cfg.instance,
               "--next-hop-instance-zone=" + cfg.zone, "--priority=1000",
               "--description=%s: the VPN subnet via the gateway" % MARK),
        gcloud("compute", "routes", "delete", cfg.route, p, "--quiet"),
        check=check_route))
    return steps


def ip_query(cfg):
    return gcloud("compute", "instances", "describe", cfg.instance,
                  "--project=" + cfg.project, "--zone=" + cfg.zone,
                  "--format=" + IP_FORMAT)


def preflight(cfg):
    """Read-only checks of what deploy uses but does not make."""
    return [("bucket gs://%s" % cfg.bucket,
             ["gsutil", "ls", "-b", "gs://%s" % cfg.bucket],
             "make it: gsutil mb -p %s -l %s -b on gs://%s"
             % (cfg.project, cfg.region, cfg.bucket)),
            ("network %s" % cfg.network,
             gcloud("compute", "networks", "describe", cfg.network,
                    "--project=" + cfg.project, "--format=json"),
             "make it (docs/deploy-gcp.md), or name yours in [gcp] "
             "network")]


# ---------------------------------------------------------------- runner

def quote(argv):
    return " ".join(shlex.quote(a) for a in argv)


class Cloud:
    """Runs gcloud and gsutil (GCLOUD and GSUTIL name other binaries);
    every command is echoed to the log stream first."""

    def __init__(self, log):
        self.log = log
        self.bins = {"gcloud": os.environ.get("GCLOUD") or "gcloud",
                     "gsutil": os.environ.get("GSUTIL") or "gsutil"}

    def run(self, argv):
        print("$ " + quote(argv), file=self.log, flush=True)
        exe = self.bins[argv[0]]
        if not shutil.which(exe):
            raise DeployError("%s not found: install the Google Cloud CLI "
                              "(docs/deploy-gcp.md)" % argv[0])
        cp = subprocess.run([exe] + argv[1:], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
        return cp

    def describe(self, argv):
        """Returns the resource (a dict) or None when it does not exist;
        any other failure raises."""
        cp = self.run(argv)
        if cp.returncode == 0:
            if argv[0] == "gsutil":
                return parse_stat(cp.stdout)
            try:
                return json.loads(cp.stdout or "{}")
            except ValueError:
                raise DeployError("%s: unreadable answer: %s"
                                  % (quote(argv[:4]), cp.stdout[:200]))
        if ABSENT_RX.search(cp.stderr):
            return None
        raise DeployError("%s failed (%d): %s" % (
            quote(argv[:4]), cp.returncode, first_lines(cp.stderr)))

    def must(self, argv, what):
        cp = self.run(argv)
        if cp.returncode != 0:
            raise DeployError("%s failed (exit %d): %s" % (
                what, cp.returncode, first_lines(cp.stderr or cp.stdout)))
        return cp


def first_lines(text, n=4):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " / ".join(lines[:n]) or "no message"


def parse_stat(text):
    """gsutil stat's metadata lines, as a dict; the MD5 under "md5"."""
    obj = {}
    for line in text.splitlines():
        m = re.match(r"^\s+([^:]+):\s+(.*)$", line)
        if m:
            obj[m.group(1).strip()] = m.group(2).strip()
    obj["md5"] = obj.get("Hash (md5)")
    return obj


# --------------------------------------------------------------- clients

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


# ------------------------------------------------------------- commands

def artifact_state(cfg):
    """(manifest, why) of the configured archive: manifest None when it
    must be built, with the reason."""
    if not os.path.exists(cfg.artifact):
        return None, "not built yet"
    man = gce.read_manifest(cfg.artifact)
    if not man:
        return None, "no manifest beside it"
    if man.get("gateway") != json.loads(json.dumps(cfg.gateway)):
        return None, "built from another configuration"
    try:
        info = gce.inspect(cfg.artifact)
    except LabError as e:
        return None, str(e)
    if info["sha256"] != man.get("sha256"):
        return None, "the archive changed since its manifest was written"
    return man, None


def do_image(cfg, args, log, force=False):
    """Builds the archive for cfg unless an up-to-date one exists."""
    man, why = artifact_state(cfg)
    if man and not force:
        print("artifact %s is up to date (sha256 %s)"
              % (cfg.artifact, man["sha256"]), file=log)
        return man
    print("artifact %s: %s; building" % (cfg.artifact, why or "rebuild"),
          file=log, flush=True)
    from . import deps
    missing = [p for p, probe in deps.HOST_PACKAGES
               if p in IMAGE_PACKAGES and not deps.have(probe)]
    if missing:
        if os.geteuid() != 0:
            raise DeployError("missing packages to build the image: %s"
                              % " ".join(missing))
        deps.install_missing(True)
    kdir, busybox, kpkg = deps.fetch_kernel()
    app = find_app(args.gateway_app)
    man, note = gce.build_artifact(
        kdir, busybox, app, cfg.gateway_text, cfg.gateway, cfg.artifact,
        extra={"kernel_package": kpkg, "application": rel_repo(app),
               "application_sha256": gce.sha256_file(app),
               "config": os.path.relpath(cfg.path, REPO_DIR)})
    print(note, file=log)
    print("artifact %s: %d GiB disk, %d KiB archive, sha256 %s"
          % (cfg.artifact, man["disk_gib"], man["archive_bytes"] // 1024,
             man["sha256"]), file=log)
    return man


IMAGE_PACKAGES = ("mtools", "dosfstools", "syslinux", "syslinux-common",
                  "fdisk", "cpio", "kmod")


def find_app(choice):
    path = choice or os.environ.get("UNIGUARD") or os.path.join(
        REPO_DIR, "build", "uniguard")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise DeployError("no uniguard binary at %s: run `make` first, or "
                          "name one with --gateway-app" % path)
    return os.path.abspath(path)


def do_deploy(cfg, args, out, log):
    steps_note = []
    if args.dry_run:
        man = None
        if cfg.image_from == "artifact":
            man, why = artifact_state(cfg)
            if not man:
                steps_note.append(
                    "# the archive %s is %s: the real run builds it first "
                    "(lab/deploy-gcp image --config %s)"
                    % (rel_repo(cfg.artifact), why, rel_repo(cfg.path)))
        print_plan(cfg, plan(cfg, man), out, steps_note)
        return 0
    man = do_image(cfg, args, log) if cfg.image_from == "artifact" else None
    cloud = Cloud(log)
    for what, argv, hint in preflight(cfg):
        if cloud.describe(argv) is None:
            raise DeployError("%s does not exist; %s" % (what, hint))
    steps = plan(cfg, man)
    found = {}
    for st in steps:
        if st.key == "upload" and found_image(cloud, steps, found):
            print("= %s: not needed, the image exists" % st.title, file=log)
            continue
        obj = found.get(st.key) if st.key in found else \
            cloud.describe(st.describe)
        found[st.key] = obj
        if obj is not None:
            problem = st.check(obj) if st.check else None
            if problem == "stale":
                print("~ %s: holds another archive; uploading again"
                      % st.title, file=log)
            elif problem:
                raise DeployError(problem)
            else:
                print("= %s: exists" % st.title, file=log)
                continue
        if st.keep:
            raise DeployError("%s does not exist; make it first" % st.title)
        print("+ %s: creating" % st.title, file=log, flush=True)
        cloud.must(st.create, st.title)
    ip = cloud.must(ip_query(cfg), "the instance's external address") \
        .stdout.strip()
    if not re.match(r"^\d+\.\d+\.\d+\.\d+$", ip):
        raise DeployError("instance %s has no external IPv4 address (got "
                          "%r)" % (cfg.instance, ip))
    print("gateway %s is up at %s, WireGuard on udp %d"
          % (cfg.instance, ip, cfg.port), file=log)
    emit_clients(cfg, ip, args, out)
    return 0


def found_image(cloud, steps, found):
    """Whether the image exists (and holds this archive: a different one
    stops the run before anything is uploaded)."""
    img = [s for s in steps if s.key == "image"][0]
    if "image" not in found:
        found["image"] = cloud.describe(img.describe)
    obj = found["image"]
    if obj is None:
        return False
    problem = img.check(obj) if img.check else None
    if problem:
        raise DeployError(problem)
    return True


def do_teardown(cfg, args, out, log):
    steps = [s for s in reversed(plan(cfg, None)) if not s.keep]
    if args.dry_run:
        print("# uniguard deploy-gcp teardown: project %s, zone %s (dry "
              "run: nothing is run)" % (cfg.project, cfg.zone), file=out)
        print("# Each delete runs only when describe finds the resource "
              "and its description carries %r." % MARK, file=out)
        for i, st in enumerate(steps, 1):
            print("\n# %d. %s   (check: %s)" % (i, st.title,
                                                quote(st.describe)),
                  file=out)
            print(quote(st.delete), file=out)
        print("\n# left in place: the bucket gs://%s, the network %s"
              % (cfg.bucket, cfg.network), file=out)
        return 0
    cloud = Cloud(log)
    for st in steps:
        obj = cloud.describe(st.describe)
        if obj is None:
            print("= %s: absent" % st.title, file=log)
            continue
        if st.key != "upload" and not str(obj.get("description", "")
                                          ).startswith(MARK):
            print("! %s: not made by deploy-gcp (its description lacks "
                  "%r); left alone" % (st.title, MARK), file=log)
            continue
        print("- %s: deleting" % st.title, file=log, flush=True)
        cloud.must(st.delete, st.title)
    print("teardown done; left in place: the bucket gs://%s and the "
          "network %s" % (cfg.bucket, cfg.network), file=log)
    return 0


def do_status(cfg, args, out, log):
    cloud = Cloud(log)
    missing = 0
    for st in plan(cfg, None):
        obj = cloud.describe(st.describe)
        missing += obj is None
        print("%-8s %-40s %s" % (st.key, st.title,
                                 "absent" if obj is None else "present"),
              file=out)
    return 0 if missing == 0 else 3


def rel_repo(path):
    r = os.path.relpath(path, REPO_DIR)
    return path if r.startswith("..") else r


def print_plan(cfg, steps, out, notes):
    w = lambda s="": print(s, file=out)  # noqa: E731
    w("# uniguard deploy-gcp: plan for project %s, zone %s (dry run: "
      "nothing is run)" % (cfg.project, cfg.zone))
    w("# Each step first runs its check; the create runs only when the "
      "check finds")
    w("# nothing, so a re-run skips what exists.  Uses: bucket gs://%s, "
      "network %s." % (cfg.bucket, cfg.network))
    for n in notes:
        w(n)
    for i, st in enumerate(steps, 1):
        w()
        w("# %d. %s   (check: %s)" % (i, st.title, quote(st.describe)))
        if st.key == "upload":
            w("#    skipped when the image exists already")
        if st.create:
            w(quote([rel_repo(a) if a == cfg.artifact else a
                     for a in st.create]))
    w()
    w("# %d. the gateway's external address, the Endpoint of every client"
      % (len(steps) + 1))
    w(quote(ip_query(cfg)))
    w()
    w("# client configurations (printed after the real run; "
      "EXTERNAL_IP from the query above):")
    for c, text, _ in client_configs(cfg, "EXTERNAL_IP"):
        w("# ---- client %s ----" % c.name)
        for line in text.rstrip("\n").splitlines():
            w(("#   " + line).rstrip())


# ------------------------------------------------------------ ops users

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


def do_ops(cfg, args, out, log):
    """Writes, for `ops image create -t gcp`, the seed's config.json with
    the cloud settings and the forwarding kernel filled in, in the layout
    of current ops or (--ops-layout seed) of the seed's older ops, the
    gateway's configuration as UAPI lines (boringtun.conf, as the seed
    names it), the binary and the directories config.json lists, into a
    private directory."""
    from . import nanos
    kernel = forwarding_kernel()
    d = os.path.abspath(args.out or os.path.join(gce.GCE_DIR, "ops-" +
                                                 cfg.image))
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)
    app = find_app(args.gateway_app)
    shutil.copy(app, os.path.join(d, nanos.PROGRAM))
    ini = os.path.join(d, ".gateway.conf")
    write_file(ini, cfg.gateway_text, 0o600)
    try:
        cp = subprocess.run([app, "convert", ini], capture_output=True,
                            text=True)
    finally:
        os.unlink(ini)
    if cp.returncode != 0:
        raise DeployError("uniguard convert: %s" % cp.stderr.strip())
    write_file(os.path.join(d, nanos.CONF_NAME), cp.stdout, 0o600)
    gw = ipaddress.ip_interface(cfg.vpn_address)
    text = nanos.config_json(
        kernel, None, None, None,
        cloud={"ProjectID": cfg.project, "Zone": cfg.zone,
               "BucketName": cfg.bucket},
        tun={"ipaddress": str(gw.ip), "netmask": str(gw.netmask),
             "mtu": str(cfg.mtu)},
        udp_ports=[str(cfg.port)], layout=args.ops_layout)
    # ops copies each of Dirs from beside config.json into the image and
    # stops when one is missing; the daemon makes its var/run/wireguard.
    for sub in json.loads(text).get("Dirs", []):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    write_file(os.path.join(d, "config.json"), text)
    print("wrote %s: config.json (%s ops layout; kernel from %s), %s "
          "(mode 0600: the gateway's key), %s"
          % (d, args.ops_layout, kernel["source"], nanos.CONF_NAME,
             nanos.PROGRAM), file=log)
    print("then: cd %s && ops image create %s -c config.json -t gcp -i %s"
          % (d, nanos.PROGRAM, cfg.image), file=out)
    print("and:  lab/deploy-gcp deploy --config %s with image_from = "
          "existing in [gcp]" % rel_repo(cfg.path), file=out)
    return 0


# ----------------------------------------------------------------- main

USAGE = """lab/deploy-gcp COMMAND --config FILE [options]

commands:
  deploy     build the image archive if needed, upload it, create the image,
             address, firewall rules, instance and route, print the client
             configurations
  teardown   delete what deploy made, in reverse order
  status     show which of the resources exist
  image      only build (or check) the image archive
  ops        write config.json and friends for `ops image create -t gcp`
"""


def parse(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="lab/deploy-gcp", usage=USAGE,
        description="uniguard on Compute Engine (docs/deploy-gcp.md).")
    ap.add_argument("command", choices=("deploy", "teardown", "status",
                                        "image", "ops"))
    ap.add_argument("--config", "-c", required=True,
                    help="the deployment's INI file "
                    "(lab/gcp.example.conf shows every key)")
    ap.add_argument("--dry-run", "-n", action="store_true",
                    help="print every command without running any")
    ap.add_argument("--client-dir", metavar="DIR",
                    help="write each client's file to DIR/NAME.conf "
                    "(mode 0600) instead of printing it")
    ap.add_argument("--show-keys", action="store_true",
                    help="print the private keys of clients given by "
                    "their own file (masked by default)")
    ap.add_argument("--gateway-app", metavar="PATH",
                    help="the uniguard binary for the image (default "
                    "$UNIGUARD, else build/uniguard)")
    ap.add_argument("--rebuild", action="store_true",
                    help="image: build even when the archive is current")
    ap.add_argument("--out", metavar="DIR", help="ops: where to write")
    ap.add_argument("--ops-layout", choices=("current", "seed"),
                    default="current",
                    help="ops: config.json for current ops (Klibs at the "
                    "top level, the default) or for the seed's older ops "
                    "(Klibs in RunConfig)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    out, log = sys.stdout, sys.stderr
    try:
        cfg = Config(args.config).resolve()
        if args.command == "deploy":
            return do_deploy(cfg, args, out, log)
        if args.command == "teardown":
            return do_teardown(cfg, args, out, log)
        if args.command == "status":
            return do_status(cfg, args, out, log)
        if args.command == "image":
            if args.dry_run:
                man, why = artifact_state(cfg)
                print("artifact %s: %s" % (cfg.artifact, "up to date"
                                           if man else why), file=out)
                return 0
            do_image(cfg, args, log, force=args.rebuild)
            return 0
        if args.command == "ops":
            return do_ops(cfg, args, out, log)
    except BrokenPipeError:
        # The reader stopped early (| head): no traceback, and no second
        # error when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (LabError, ValueError) as e:
        # ValueError: a number or an address in the configuration that
        # does not parse; its message quotes the value.
        print("deploy-gcp: %s" % e, file=log)
        if args.command == "deploy" and not args.dry_run:
            print("deploy-gcp: fix the cause and run the same command "
                  "again: finished steps are found and skipped", file=log)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
