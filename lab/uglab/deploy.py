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
prints the commands a fresh project would get.

The code is split by concern: deploy_config (the INI file), deploy_plan
(the steps), deploy_cloud (running gcloud and gsutil), deploy_clients (the
clients' files), deploy_ops (config.json for ops), deploy_peers (the
clients in the metadata attribute), deploy_machines (the
machine types the images run on); this file holds the commands."""

import json
import os
import re
import sys

from . import gce
from .deploy_clients import client_configs, emit_clients
from .deploy_cloud import Cloud, quote
from .deploy_config import (Config, DeployError, find_app,
                            forwarding_kernel, rel_repo)
from .deploy_machines import verdict
from .deploy_ops import do_ops
from .deploy_peers import do_peer
from .deploy_plan import MARK, ip_query, plan, preflight
from .util import REPO_DIR, LabError


def artifact_state(cfg):
    """(manifest, why) of the configured archive: manifest None when it
    must be built, with the reason."""
    if not os.path.exists(cfg.artifact):
        return None, "not built yet"
    man = gce.read_manifest(cfg.artifact)
    if not man:
        return None, "no manifest beside it"
    if gce.archive_guest(man) != cfg.guest:
        return None, "built for the %s guest, not %s" % (
            gce.archive_guest(man), cfg.guest)
    if man.get("gateway") != json.loads(json.dumps(cfg.gateway)):
        return None, "built from another configuration"
    http = getattr(cfg, "http", None)
    if man.get("http") != http:
        # --ha and --gateways: the health check needs the listener.
        return None, ("built with the operations listener on %s, which "
                      "only --ha and --gateways use" % man["http"]
                      if man.get("http") else
                      "built without the operations listener (--http) "
                      "that the health check of --ha and --gateways needs")
    if man.get("peers_from") != cfg.peers_from():
        return None, ("built with --peers-from %s" % man["peers_from"]
                      if man.get("peers_from") else
                      "built without --peers-from")
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
    app = find_app(args.gateway_app)
    http = getattr(cfg, "http", None)
    if http and not has_listener(app):
        raise DeployError(
            "--ha and --gateways need the operations listener (uniguard "
            "--http, GET /healthz) for the health check, and %s has none: "
            "autohealing would recreate every gateway over and over" % app)
    extra = {"application": rel_repo(app),
             "application_sha256": gce.sha256_file(app),
             "config": os.path.relpath(cfg.path, REPO_DIR)}
    if cfg.guest == "nanos":
        man, note = gce.build_artifact(
            app, cfg.gateway_text, cfg.gateway, cfg.artifact,
            kernel=forwarding_kernel(), extra=extra, http=http,
            peers_from=cfg.peers_from())
    else:
        from . import deps
        missing = [p for p, probe in deps.HOST_PACKAGES
                   if p in IMAGE_PACKAGES and not deps.have(probe)]
        if missing:
            if os.geteuid() != 0:
                raise DeployError("missing packages to build the image: %s"
                                  % " ".join(missing))
            deps.install_missing(True)
        kdir, busybox, kpkg = deps.fetch_kernel()
        man, note = gce.build_artifact(
            app, cfg.gateway_text, cfg.gateway, cfg.artifact,
            linux=(kdir, busybox), extra=dict(extra, kernel_package=kpkg),
            http=http, peers_from=cfg.peers_from())
    print(note, file=log)
    print("artifact %s: %s guest, %d GiB disk, %d KiB archive, sha256 %s"
          % (cfg.artifact, cfg.guest, man["disk_gib"],
             man["archive_bytes"] // 1024, man["sha256"]), file=log)
    return man


def has_listener(app):
    """Whether this uniguard has the operations listener (--http)."""
    import subprocess
    cp = subprocess.run([app, "--help"], capture_output=True, text=True)
    return "--http" in cp.stdout + cp.stderr


# What lab/mkimage-linux needs to build the Linux disk.
IMAGE_PACKAGES = ("mtools", "dosfstools", "syslinux", "syslinux-common",
                  "fdisk", "cpio", "kmod")


def check_machine_type(cfg, args, log):
    """Stops a deployment on a machine type the image cannot run on (Arm)
    or did not boot on in the lab (the NVMe series), unless
    --allow-untested-machine-type says to try; a series this tool does
    not know only draws a warning."""
    level, why = verdict(cfg.machine_type, cfg.guest)
    if level == "unsupported" or (
            level == "untested" and not args.allow_untested_machine_type):
        raise DeployError(why + (
            " (--allow-untested-machine-type deploys it anyway)"
            if level == "untested" else ""))
    if level != "tested":
        print("deploy-gcp: warning: %s" % why, file=log, flush=True)


def do_deploy(cfg, args, out, log):
    check_machine_type(cfg, args, log)
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
  peer add NAME | peer remove NAME | peer list
             the clients in the instance's metadata attribute ([vpn]
             peers_attribute) that the running gateway follows; add makes
             the client's keys and prints its wg-quick file
  update     roll a new image through the gateways' managed instance group
             (deploy --ha or --gateways N made it), one gateway at a time

deploy --ha puts the gateway in a stateful managed instance group with
autohealing on /healthz; deploy --gateways N runs N of them, each with its
slice of the VPN subnet (docs/deploy-gcp.md, High availability); peer
add with --ha or --gateways N puts the client on the least-loaded gateway
(the peers in the project's metadata attribute).
"""


def parse(argv):
    import argparse
    ap = argparse.ArgumentParser(
        prog="lab/deploy-gcp", usage=USAGE,
        description="uniguard on Compute Engine (docs/deploy-gcp.md).")
    ap.add_argument("command", choices=("deploy", "teardown", "status",
                                        "image", "ops", "update", "peer"))
    ap.add_argument("peer_args", nargs="*", metavar="PEER",
                    help="peer: add NAME, remove NAME or list")
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
    ap.add_argument("--guest", choices=gce.GUESTS, default="nanos",
                    help="image, deploy: the gateway's guest OS, the Nanos "
                    "unikernel (default; needs a forwarding Nanos kernel: "
                    "make nanos, or NANOS_DIR) or the Linux microVM")
    ap.add_argument("--allow-untested-machine-type", action="store_true",
                    help="deploy: go ahead on a machine type whose boot "
                    "disk is on NVMe (the third generation and later), on "
                    "which the image did not boot in the lab "
                    "(docs/deploy-gcp.md)")
    ap.add_argument("--rebuild", action="store_true",
                    help="image: build even when the archive is current")
    ap.add_argument("--out", metavar="DIR", help="ops: where to write")
    ap.add_argument("--ops-layout", choices=("current", "seed"),
                    default="current",
                    help="ops: config.json for current ops (Klibs at the "
                    "top level, the default) or for the seed's older ops "
                    "(Klibs in RunConfig)")
    ap.add_argument("--ha", action="store_true",
                    help="deploy, update, teardown: the gateway in a "
                    "stateful managed instance group of one, healed by "
                    "Compute Engine (same as --gateways 1)")
    ap.add_argument("--gateways", type=int, metavar="N",
                    help="deploy, update, teardown: N gateways in one "
                    "stateful managed instance group, each with its slice "
                    "of the VPN subnet and a route to it")
    args = ap.parse_args(argv)
    if args.peer_args and args.command != "peer":
        ap.error("unexpected words after %s: %s"
                 % (args.command, " ".join(args.peer_args)))
    if args.ha and args.gateways not in (None, 1):
        ap.error("--ha is one gateway; --gateways N for more")
    if args.ha:
        args.gateways = 1
    if args.command == "update" and not args.gateways:
        ap.error("update needs --ha or --gateways N (as deploy had)")
    if args.gateways is not None and args.gateways < 1:
        ap.error("--gateways needs at least 1")
    return args


def group_command(cfg, args, out, log):
    """deploy, update and teardown of a managed instance group
    (deploy_ha)."""
    from . import deploy_ha
    # The image of a group runs the operations listener for its health
    # check.
    cfg.http = deploy_ha.LISTEN
    man, why = None, None
    if args.dry_run and cfg.image_from == "artifact":
        man, why = artifact_state(cfg)
    if cfg.image_from != "artifact":
        raise DeployError("--ha and --gateways build their versioned image "
                          "from the archive: image_from = artifact")
    if args.command in ("deploy", "update"):
        # The template carries the machine type, as the instance would.
        check_machine_type(cfg, args, log)
    image_fn = lambda: do_image(cfg, args, log)  # noqa: E731
    if args.command == "deploy":
        return deploy_ha.do_group_deploy(cfg, args, out, log, image_fn,
                                         (man, why))
    if args.command == "update":
        return deploy_ha.do_update(cfg, args, out, log, image_fn,
                                   (man, why))
    return deploy_ha.do_group_teardown(cfg, args, out, log)


def main(argv=None):
    args = parse(argv)
    out, log = sys.stdout, sys.stderr
    try:
        cfg = Config(args.config).resolve()
        cfg.guest = args.guest
        if args.gateways and args.command == "peer":
            from .deploy_group_peers import do_group_peer
            return do_group_peer(cfg, args, out, log)
        if args.gateways and args.command in ("deploy", "update",
                                              "teardown"):
            return group_command(cfg, args, out, log)
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
        if args.command == "peer":
            return do_peer(cfg, args, out, log)
    except BrokenPipeError:
        # The reader stopped early (| head): no traceback, and no second
        # error when Python flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (LabError, ValueError) as e:
        # ValueError: a number or an address in the configuration that
        # does not parse; its message quotes the value.
        print("deploy-gcp: %s" % e, file=log)
        if args.command in ("deploy", "update") and not args.dry_run:
            print("deploy-gcp: fix the cause and run the same command "
                  "again: finished steps are found and skipped", file=log)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
