# SPDX-License-Identifier: MIT
"""lab/deploy-gcp ops: what `ops image create -t gcp` needs to build the
gateway's Nanos image from the same binary and configuration."""

import ipaddress
import json
import os
import shutil
import subprocess

from . import gce
from .deploy_config import DeployError, find_app, rel_repo
from .util import write_file


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
