# SPDX-License-Identifier: MIT
"""lab/deploy-gcp ops: what `ops image create -t gcp` needs to build the
gateway's Nanos image from the same binary and configuration."""

import ipaddress
import json
import os
import shutil

from . import gce
from .deploy_config import find_app, forwarding_kernel, rel_repo
from .util import write_file


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
    write_file(os.path.join(d, nanos.CONF_NAME),
               gce.uapi_text(app, cfg.gateway_text, d), 0o600)
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
