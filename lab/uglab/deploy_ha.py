# SPDX-License-Identifier: MIT
"""lab/deploy-gcp deploy --ha / --gateways N, and update: the gateway in a
stateful managed instance group, healed and updated by Compute Engine.

One gateway (--ha) or N (--gateways N) run from one instance template in
one managed instance group.  Each instance has a name of its own
(NAME-0 ... NAME-{N-1}) and a reserved external address kept by a
stateful per-instance config, so that autohealing and updates recreate it
with the same name and the same address: the clients' Endpoint and the
VPC route to the instance stay valid.  The VPN subnet is cut into N
slices of equal size (a power of two: 10.0.0.0/24 for three gateways
gives four /26, the last one spare); gateway i serves the clients whose
addresses lie in slice i, and the route NAME-route-i sends slice i to
instance NAME-i, so the private network's replies reach the gateway that
holds the client's session, without address translation.

Every gateway runs the same image (one template): the same key, the same
peers.  A client talks to the gateway its file names as Endpoint; the
other gateways know its key but never see its traffic, since no route
sends its address to them.

Images and templates are named after the archive's SHA-256 (NAME-<12
hex>), so that `update` can make the new ones beside the running ones and
roll the group over to them, and a re-run after a failure finds what it
made.  As in the single-instance deploy, each step asks whether its
resource exists and makes it only when it does not; no local state.

This file builds the steps (deploy_plan.Step) and runs them with
deploy_cloud.Cloud; deploy.py parses the command line and dispatches."""

import copy
import ipaddress
import json
import math
import os
import re
import textwrap

from .deploy_cloud import Cloud, quote
from .deploy_clients import client_configs
from .deploy_config import DeployError, rel_repo
from .deploy_plan import MARK, Step, gcloud, preflight
from .deploy_plan import plan as single_plan
from .util import write_file

# The operations listener's port (the daemon's --http, docs/operations.md)
# that the health check probes for GET /healthz.
HEALTH_PORT = 9586
HEALTH_PATH = "/healthz"
# Where the gateways' image starts it: every address, since Compute
# Engine's health checkers reach the instance's VPC address.
LISTEN = "0.0.0.0:%d" % HEALTH_PORT
# Where Google's health checkers come from (Compute Engine's documented
# ranges for health checks and autohealing).
HEALTH_SOURCES = "35.191.0.0/16,130.211.0.0/22"
# Seconds a new gateway gets before failed checks count: Nanos is ready in
# about a second, but the VM's boot takes longer.
INITIAL_DELAY = 90
PEERS_ATTRIBUTE = "uniguard-peers"
PLACEHOLDER = "<sha256 of the archive>"


def slices(subnet, n):
    """The VPN subnet cut into n slices of equal size: the smallest power
    of two at least n of them, the first n used."""
    if n < 1:
        raise DeployError("--gateways needs at least 1")
    bits = max(0, math.ceil(math.log2(n)))
    if subnet.prefixlen + bits > subnet.max_prefixlen - 2:
        raise DeployError("the VPN subnet %s is too small for %d gateways"
                          % (subnet, n))
    return list(subnet.subnets(prefixlen_diff=bits))[:n]


class Group:
    """Names and slices of a group of n gateways for cfg."""

    def __init__(self, cfg, n, art=None):
        self.cfg = cfg
        self.n = n
        self.sha = art["sha256"] if art else None
        tag = self.sha[:12] if self.sha else "<sha12>"
        # The image and template carry the archive's hash: an update makes
        # new ones beside the old.
        self.version = "%s-%s" % (cfg.name, tag)
        self.group = cfg.name + "-group"
        self.hc = cfg.name + "-hc"
        self.fw_hc = cfg.name + "-allow-hc"
        self.slices = slices(cfg.vpn_subnet, n)
        self.instances = ["%s-%d" % (cfg.name, i) for i in range(n)]
        self.addresses = ["%s-ip-%d" % (cfg.name, i) for i in range(n)]
        self.routes = ["%s-route-%d" % (cfg.name, i) for i in range(n)]
        self.object = "%s.tar.gz" % self.version
        self.peers_file = os.path.join(os.path.dirname(cfg.artifact),
                                       cfg.name + "-peers.conf")

    def gateway_of(self, client):
        """The index of the gateway whose slice holds the client's
        IPv4 address."""
        for a in client.addresses:
            ip = ipaddress.ip_interface(a).ip
            for i, s in enumerate(self.slices):
                if ip.version == 4 and ip in s:
                    return i
        raise DeployError(
            "client %s: its address %s lies in no gateway's slice (%s)"
            % (client.name, ",".join(client.addresses),
               ", ".join(str(s) for s in self.slices)))


def peers_text(cfg):
    """The peers metadata attribute: a wg-quick [Peer] section for each
    peer of the gateway (public keys and allowed IPs, no secret)."""
    out = []
    for pub, allowed in cfg.gateway["peers"]:
        out += ["[Peer]", "PublicKey = " + pub, "AllowedIPs = " + allowed,
                ""]
    return "\n".join(out)


def image_steps(cfg, g, art):
    """The archive, its image and the instance template, all named after
    the archive's hash: deploy makes them, update makes the next ones."""
    p = "--project=" + cfg.project
    fmt = "--format=json"
    uri = "gs://%s/%s" % (cfg.bucket, g.object)
    sha = g.sha or PLACEHOLDER
    features = ",".join(art["guest_os_features"]) if art else "GVNIC"
    steps = [
        Step("upload", "archive %s" % uri, ["gsutil", "stat", uri],
             ["gsutil", "cp", cfg.artifact, uri], ["gsutil", "rm", uri]),
        Step("image", "image %s" % g.version,
             gcloud("compute", "images", "describe", g.version, p, fmt),
             gcloud("compute", "images", "create", g.version, p,
                    "--source-uri=" + uri,
                    "--guest-os-features=" + features,
                    "--architecture=X86_64",
                    "--labels=uniguard-artifact=%s" % sha[:40],
                    "--description=%s: gateway image, archive sha256 %s"
                    % (MARK, sha)),
             gcloud("compute", "images", "delete", g.version, p,
                    "--quiet"))]
    create = gcloud("compute", "instance-templates", "create", g.version, p,
                    "--machine-type=" + cfg.machine_type,
                    "--image=" + g.version, "--image-project=" + cfg.project,
                    "--boot-disk-size=%dGB" % cfg.boot_disk_size,
                    "--boot-disk-type=" + cfg.boot_disk_type,
                    "--can-ip-forward", "--tags=" + cfg.tag,
                    "--network=" + cfg.network)
    if cfg.subnet:
        create += ["--subnet=" + cfg.subnet, "--region=" + cfg.region]
    if not cfg.peers_attribute:
        # The peers the image holds, for whoever reads the template.  A
        # group whose gateways follow an attribute (peer add) keeps it in
        # the project's metadata instead: an instance's own attribute
        # would shadow it, and recreation resets it to the template's.
        create.append("--metadata-from-file=%s=%s" % (PEERS_ATTRIBUTE,
                                                       g.peers_file))
    create += ["--no-service-account", "--no-scopes",
               "--description=%s: WireGuard gateway template, archive "
               "sha256 %s" % (MARK, sha)]

    def check_template(obj):
        props = obj.get("properties") or {}
        if not props.get("canIpForward"):
            return ("instance template %s exists but has no IP forwarding; "
                    "remove it with teardown" % g.version)
        return None
    steps.append(Step(
        "template", "instance template %s" % g.version,
        gcloud("compute", "instance-templates", "describe", g.version, p,
               fmt),
        create,
        gcloud("compute", "instance-templates", "delete", g.version, p,
               "--quiet"), check=check_template))
    return steps


def group_steps(cfg, g):
    """What one deploy makes once: addresses, firewall rules, the health
    check, the group, its named instances and the routes of the slices."""
    p = "--project=" + cfg.project
    zone = "--zone=" + cfg.zone
    region = "--region=" + cfg.region
    fmt = "--format=json"
    steps = []
    for addr in g.addresses:
        steps.append(Step(
            "address", "external address %s" % addr,
            gcloud("compute", "addresses", "describe", addr, p, region,
                   fmt),
            gcloud("compute", "addresses", "create", addr, p, region,
                   "--description=%s: external address of a gateway"
                   % MARK),
            gcloud("compute", "addresses", "delete", addr, p, region,
                   "--quiet")))
    # The single deploy's firewall rules, as they are.
    steps += [s for s in single_plan(cfg, None) if s.key.startswith("fw-")]
    steps.append(Step(
        "fw-hc", "firewall rule %s" % g.fw_hc,
        gcloud("compute", "firewall-rules", "describe", g.fw_hc, p, fmt),
        gcloud("compute", "firewall-rules", "create", g.fw_hc, p,
               "--network=" + cfg.network, "--direction=INGRESS",
               "--action=ALLOW", "--rules=tcp:%d" % HEALTH_PORT,
               "--source-ranges=" + HEALTH_SOURCES,
               "--target-tags=" + cfg.tag,
               "--description=%s: the health checkers to /healthz on the "
               "gateways" % MARK),
        gcloud("compute", "firewall-rules", "delete", g.fw_hc, p,
               "--quiet")))
    steps.append(Step(
        "health-check", "health check %s" % g.hc,
        gcloud("compute", "health-checks", "describe", g.hc, p, fmt),
        gcloud("compute", "health-checks", "create", "http", g.hc, p,
               "--port=%d" % HEALTH_PORT, "--request-path=" + HEALTH_PATH,
               "--check-interval=5s", "--timeout=5s",
               "--healthy-threshold=2", "--unhealthy-threshold=3",
               "--description=%s: /healthz on the operations listener of "
               "the gateways" % MARK),
        gcloud("compute", "health-checks", "delete", g.hc, p, "--quiet")))

    def check_group(obj):
        heal = obj.get("autoHealingPolicies") or []
        if not heal or not str(heal[0].get("healthCheck", "")).endswith(
                "/healthChecks/" + g.hc):
            return ("instance group %s exists without autohealing on %s; "
                    "remove it with teardown" % (g.group, g.hc))
        return None
    steps.append(Step(
        "group", "managed instance group %s" % g.group,
        gcloud("compute", "instance-groups", "managed", "describe", g.group,
               p, zone, fmt),
        gcloud("compute", "instance-groups", "managed", "create", g.group,
               p, zone, "--template=" + g.version, "--size=0",
               "--base-instance-name=" + cfg.name,
               "--health-check=" + g.hc,
               "--initial-delay=%d" % INITIAL_DELAY,
               "--description=%s: the WireGuard gateways" % MARK),
        gcloud("compute", "instance-groups", "managed", "delete", g.group,
               p, zone, "--quiet"), check=check_group))
    for i, inst in enumerate(g.instances):
        def check_instance(obj, inst=inst):
            bad = []
            if not obj.get("canIpForward"):
                bad.append("has no IP forwarding")
            if cfg.tag not in ((obj.get("tags") or {}).get("items") or []):
                bad.append("lacks the network tag %s" % cfg.tag)
            if bad:
                return ("instance %s exists but %s; remove it with teardown"
                        % (inst, " and ".join(bad)))
            return None
        # The instance belongs to the group: deleting the group deletes
        # it, so teardown has nothing to do for it alone.
        steps.append(Step(
            "instance", "gateway %s (slice %s)" % (inst, g.slices[i]),
            gcloud("compute", "instances", "describe", inst, p, zone, fmt),
            gcloud("compute", "instance-groups", "managed",
                   "create-instance", g.group, p, zone,
                   "--instance=" + inst,
                   "--stateful-external-ip=address=projects/%s/regions/%s/"
                   "addresses/%s,interface-name=nic0,auto-delete=never"
                   % (cfg.project, cfg.region, g.addresses[i])),
            None, check=check_instance))
    for i, route in enumerate(g.routes):
        def check_route(obj, i=i, route=route):
            hop = obj.get("nextHopInstance") or ""
            if obj.get("destRange") != str(g.slices[i]) or not hop.endswith(
                    "/zones/%s/instances/%s" % (cfg.zone, g.instances[i])):
                return ("route %s exists but sends %s to %s; remove it with "
                        "teardown" % (route, obj.get("destRange"),
                                      hop or "elsewhere"))
            return None
        steps.append(Step(
            "route", "route %s" % route,
            gcloud("compute", "routes", "describe", route, p, fmt),
            gcloud("compute", "routes", "create", route, p,
                   "--network=" + cfg.network,
                   "--destination-range=%s" % g.slices[i],
                   "--next-hop-instance=" + g.instances[i],
                   "--next-hop-instance-zone=" + cfg.zone,
                   "--priority=1000",
                   "--description=%s: slice %d of the VPN subnet via its "
                   "gateway" % (MARK, i)),
            gcloud("compute", "routes", "delete", route, p, "--quiet"),
            check=check_route))
    return steps


def wait_stable(cfg, g):
    return gcloud("compute", "instance-groups", "managed", "wait-until",
                  g.group, "--project=" + cfg.project, "--zone=" + cfg.zone,
                  "--stable", "--timeout=600")


def ip_query(cfg, inst):
    return gcloud("compute", "instances", "describe", inst,
                  "--project=" + cfg.project, "--zone=" + cfg.zone,
                  "--format=get(networkInterfaces[0].accessConfigs[0]"
                  ".natIP)")


def rolling_update(cfg, g):
    """The group's own rolling update to the template g.version: one
    gateway at a time (max-unavailable 1), never an extra one (max-surge 0:
    a stateful address cannot be on two instances), each recreated with
    its name and address and healthy before the next."""
    return gcloud("compute", "instance-groups", "managed", "rolling-action",
                  "start-update", g.group, "--project=" + cfg.project,
                  "--zone=" + cfg.zone, "--version=template=" + g.version,
                  "--max-unavailable=1", "--max-surge=0",
                  "--replacement-method=recreate", "--minimal-action=replace")


def wait_version(cfg, g):
    return gcloud("compute", "instance-groups", "managed", "wait-until",
                  g.group, "--project=" + cfg.project, "--zone=" + cfg.zone,
                  "--version-target-reached", "--timeout=1800")


# ------------------------------------------------------------- running

def apply(cloud, steps, log):
    """Makes what is missing, step by step; what exists is checked."""
    for st in steps:
        obj = cloud.describe(st.describe)
        if obj is not None:
            problem = st.check(obj) if st.check else None
            if problem:
                raise DeployError(problem)
            print("= %s: exists" % st.title, file=log)
            continue
        print("+ %s: creating" % st.title, file=log, flush=True)
        cloud.must(st.create, st.title)


def image_exists(cloud, steps, log):
    """Whether the versioned image exists already: then its archive
    need not be uploaded (it may be gone from the bucket)."""
    img = [s for s in steps if s.key == "image"][0]
    if cloud.describe(img.describe) is None:
        return False
    print("= %s: not needed, the image exists" % steps[0].title, file=log)
    return True


def make_version(cloud, cfg, g, man, log, then=()):
    """Makes what is missing of this archive's image and template (and of
    the steps then)."""
    write_file(g.peers_file, peers_text(cfg), 0o644)
    steps = image_steps(cfg, g, man)
    if image_exists(cloud, steps, log):
        steps = steps[1:]
    apply(cloud, steps + list(then), log)


def endpoints(cloud, cfg, g):
    ips = []
    for inst in g.instances:
        ip = cloud.must(ip_query(cfg, inst), "the external address of %s"
                        % inst).stdout.strip()
        if not re.match(r"^\d+\.\d+\.\d+\.\d+$", ip):
            raise DeployError("instance %s has no external IPv4 address "
                              "(got %r)" % (inst, ip))
        ips.append(ip)
    return ips


def emit_group_clients(cfg, g, ips, out, show_keys=False):
    """Each client's file, with the Endpoint of its slice's gateway."""
    for i, ip in enumerate(ips):
        mine = [c for c in cfg.clients if g.gateway_of(c) == i]
        part = copy.copy(cfg)
        part.clients = mine
        for c, text, _ in client_configs(part, ip, show_keys):
            print("# ---- client %s: %s.conf (gateway %s) ----"
                  % (c.name, c.name, g.instances[i]), file=out)
            out.write(text)
            print(file=out)


def do_group_deploy(cfg, args, out, log, image_fn, state):
    man, why = state
    g = Group(cfg, args.gateways, man)
    for c in cfg.clients:
        g.gateway_of(c)
    if args.dry_run:
        print_group_plan(cfg, g, man, out, "deploy", why)
        return 0
    man = image_fn()
    g = Group(cfg, args.gateways, man)
    cloud = Cloud(log)
    for what, argv, hint in preflight(cfg):
        if cloud.describe(argv) is None:
            raise DeployError("%s does not exist; %s" % (what, hint))
    make_version(cloud, cfg, g, man, log, group_steps(cfg, g))
    cloud.must(wait_stable(cfg, g), "waiting for the group to be stable")
    ips = endpoints(cloud, cfg, g)
    for inst, ip, s in zip(g.instances, ips, g.slices):
        print("gateway %s is up at %s, WireGuard on udp %d, clients %s"
              % (inst, ip, cfg.port, s), file=log)
    emit_group_clients(cfg, g, ips, out, args.show_keys)
    return 0


def current_template(obj):
    """The template a group's instances are to run: its single version's
    template, else its instanceTemplate."""
    versions = obj.get("versions") or []
    link = (versions[0].get("instanceTemplate") if len(versions) == 1
            else None) or obj.get("instanceTemplate") or ""
    return link.rsplit("/", 1)[-1]


def do_update(cfg, args, out, log, image_fn, state):
    """Rolls the group over to an image of the current archive."""
    man, why = state
    g = Group(cfg, args.gateways, man)
    if args.dry_run:
        print_group_plan(cfg, g, man, out, "update", why)
        return 0
    man = image_fn()
    g = Group(cfg, args.gateways, man)
    cloud = Cloud(log)
    grp = cloud.describe([s for s in group_steps(cfg, g)
                          if s.key == "group"][0].describe)
    if grp is None:
        raise DeployError("instance group %s does not exist: deploy --ha "
                          "or --gateways first" % g.group)
    make_version(cloud, cfg, g, man, log)
    running = current_template(grp)
    if running == g.version:
        print("= group %s: already set to %s; waiting for every gateway to "
              "run it" % (g.group, g.version), file=log)
    else:
        print("+ group %s: rolling update %s -> %s, one gateway at a time"
              % (g.group, running or "?", g.version), file=log, flush=True)
        cloud.must(rolling_update(cfg, g), "the rolling update")
    cloud.must(wait_version(cfg, g), "waiting for the rolling update")
    cloud.must(wait_stable(cfg, g), "waiting for the group to be stable")
    print("group %s runs %s on %d gateway(s)" % (g.group, g.version, g.n),
          file=log)
    return 0


def versions_query(cfg, coll):
    """Lists the images or templates named NAME-<12 hex>: every version
    deploy and update made."""
    return gcloud("compute", coll, "list", "--project=" + cfg.project,
                  "--filter=name ~ ^%s-[0-9a-f]{12}$" % re.escape(cfg.name),
                  "--format=json")


def do_group_teardown(cfg, args, out, log):
    """Removes what deploy --gateways N and update made, routes first,
    then the group with its instances, then what they used; what lacks
    this tool's mark in its description is left alone."""
    g = Group(cfg, args.gateways)
    made = [s for s in group_steps(cfg, g) if s.delete]
    if args.dry_run:
        print("# uniguard deploy-gcp teardown of %d gateway(s): project %s, "
              "zone %s (dry run)" % (g.n, cfg.project, cfg.zone), file=out)
        for st in reversed(made):
            print(quote(st.delete), file=out)
        print("# then every template and image NAME-<sha12> that lists "
              "find, and its archive:", file=out)
        for coll in ("instance-templates", "images"):
            print(quote(versions_query(cfg, coll)), file=out)
        return 0
    cloud = Cloud(log)

    def remove(title, describe, delete, obj=None):
        obj = obj if obj is not None else cloud.describe(describe)
        if obj is None:
            print("= %s: absent" % title, file=log)
            return
        if not str(obj.get("description", "")).startswith(MARK):
            print("! %s: not made by deploy-gcp (its description lacks "
                  "%r); left alone" % (title, MARK), file=log)
            return
        print("- %s: deleting" % title, file=log, flush=True)
        cloud.must(delete, title)
    for st in reversed(made):
        remove(st.title, st.describe, st.delete)
    p = "--project=" + cfg.project
    for coll in ("instance-templates", "images"):
        cp = cloud.must(versions_query(cfg, coll), "listing " + coll)
        for obj in json.loads(cp.stdout or "[]"):
            name = obj["name"]
            remove("%s %s" % (coll[:-1].replace("-", " "), name), None,
                   gcloud("compute", coll, "delete", name, p, "--quiet"),
                   obj)
            if coll == "images":
                uri = "gs://%s/%s.tar.gz" % (cfg.bucket, name)
                if cloud.describe(["gsutil", "stat", uri]) is not None:
                    print("- archive %s: deleting" % uri, file=log)
                    cloud.must(["gsutil", "rm", uri], "archive " + uri)
    print("teardown done; left in place: the bucket gs://%s and the "
          "network %s" % (cfg.bucket, cfg.network), file=log)
    return 0


# ------------------------------------------------------------ the plan

EXPLAIN = {
    "upload": "the image archive, named after its hash, into the bucket",
    "image": "a Compute Engine image of that archive (BIOS boot, GVNIC "
             "allowed)",
    "template": "the instance template every gateway is made from: the "
                "image, IP forwarding (set only at creation), the network "
                "tag, no service account, and the peers metadata "
                "attribute (public keys and allowed IPs only)",
    "address": "a reserved external address: a gateway's Endpoint, kept "
               "across recreation by the stateful per-instance config",
    "fw-wg": "UDP to the WireGuard port, to the gateways' tag only",
    "fw-vpn": "VPN clients to the private network",
    "fw-fwd": "the private network to VPN clients through the gateways",
    "fw-hc": "Google's health checkers (35.191.0.0/16, 130.211.0.0/22) to "
             "the operations listener",
    "health-check": "GET /healthz on the operations listener; 3 failures "
                    "in a row (15 s) mark a gateway unhealthy",
    "group": "the stateful managed instance group, empty at first, "
             "autohealing on the health check after a %d s initial delay"
             % INITIAL_DELAY,
    "instance": "a named gateway with its stateful external address "
                "(never deleted with the instance): autohealing and "
                "updates recreate it with the same name and address",
    "route": "the slice's replies from the private network go to its "
             "gateway, which holds the clients' sessions",
}


def print_group_plan(cfg, g, man, out, what, why=None):
    w = lambda s="": print(s, file=out)  # noqa: E731
    w("# uniguard deploy-gcp %s: %d gateway%s in a stateful managed "
      "instance group, project %s, zone %s (dry run: nothing is run)"
      % (what, g.n, "" if g.n == 1 else "s", cfg.project, cfg.zone))
    w("# Each step first runs its check; the create runs only when the "
      "check finds")
    w("# nothing, so a re-run after a failure continues where it stopped.")
    w("# The image runs the operations listener (--http %s) for the "
      "health check." % LISTEN)
    if not man:
        w("# the archive %s is %s: the real run builds it first, and "
          "NAME-<sha12> is named after its SHA-256"
          % (rel_repo(cfg.artifact), why or "not built yet"))
    if g.n > 1:
        w("# slices of %s: %s" % (cfg.vpn_subnet, ", ".join(
            "%s -> %s" % (s, inst) for s, inst in zip(g.slices,
                                                       g.instances))))
    steps = image_steps(cfg, g, man)
    if what == "deploy":
        steps += group_steps(cfg, g)
    n = 0
    for st in steps:
        n += 1
        w()
        w("# %d. %s   (check: %s)" % (n, st.title, quote(st.describe)))
        for line in textwrap.wrap(EXPLAIN[st.key], 66):
            w("#    " + line)
        if st.key == "upload":
            w("#    skipped when the image exists already")
        w(quote([rel_repo(a) if a == cfg.artifact else
                 a.replace(g.peers_file, rel_repo(g.peers_file))
                 for a in st.create]))
    if what == "update":
        n += 1
        w()
        w("# %d. the rolling update (check: the group's template; skipped "
          "when it is %s already)" % (n, g.version))
        w("#    one gateway at a time: recreated from the new template "
          "with its name and")
        w("#    address, healthy on /healthz before the next; never an "
          "extra instance")
        w("#    (a stateful address cannot be on two)")
        w(quote(rolling_update(cfg, g)))
        n += 1
        w()
        w("# %d. wait until every gateway runs the new template" % n)
        w(quote(wait_version(cfg, g)))
    n += 1
    w()
    w("# %d. wait until the group is stable (every gateway created and "
      "healthy)" % n)
    w(quote(wait_stable(cfg, g)))
    if what == "deploy":
        n += 1
        w()
        w("# %d. each gateway's external address, the Endpoint of its "
          "slice's clients" % n)
        for inst in g.instances:
            w(quote(ip_query(cfg, inst)))
        w()
        w("# the peers attribute (%s, from %s):"
          % (PEERS_ATTRIBUTE, rel_repo(g.peers_file)))
        for line in peers_text(cfg).rstrip("\n").splitlines():
            w(("#   " + line).rstrip())
        w()
        w("# client configurations (printed after the real run):")
        for c in cfg.clients:
            i = g.gateway_of(c)
            w("# ---- client %s -> gateway %s, Endpoint EXTERNAL_IP_%d:%s"
              % (c.name, g.instances[i], i, cfg.port))
