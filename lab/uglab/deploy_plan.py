# SPDX-License-Identifier: MIT
"""The deployment as a fixed list of steps, each one cloud resource with the
gcloud or gsutil command that finds it (describe), the one that makes it
(create) and the one that removes it (delete), and a check of what a
describe found.  Nothing here runs a command."""

from . import gce

MARK = "uniguard deploy-gcp"
LABEL = "uniguard-artifact"
IP_FORMAT = "get(networkInterfaces[0].accessConfigs[0].natIP)"


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
                   ",".join(art["guest_os_features"] if art else
                            gce.GUEST_OS_FEATURES[cfg.guest]),
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
