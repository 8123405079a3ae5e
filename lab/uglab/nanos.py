# SPDX-License-Identifier: MIT
"""The Nanos guest: finds the forwarding Nanos kernel (a built tree named
by NANOS_DIR, or the build of Nanos's pinned sources that nanosbuild
caches), chooses the lab's guest, writes the image manifest the seed's
config.json describes, and builds the image with Nanos's mkfs.  It also
writes the matching config.json, so that a user with ops can run
`ops image create -c config.json` on the same inputs."""

import json
import os
import re
import shutil

from . import nanosbuild
from .util import SEED_DIR, LabError, read_file, run, write_file

# The seed's command line (config.json Args), unchanged: the UAPI file,
# interface "wg2" (Nanos answers TUNSETIFF with its own lwIP name anyway).
PROGRAM = "uniguard"
CONF_NAME = "boringtun.conf"

# The daemon's console line once its interface is up: the gateway is ready.
READY_MARK = r"uniguard\[[^\]\s]+\] \w+: interface \S+ ready"


def seed_args():
    return json.loads(read_file(os.path.join(SEED_DIR, "config.json")))[
        "Args"]


def find_kernel():
    """The forwarding kernel: a dict with mkfs, boot, kernel, klib_dir,
    tree and where they came from, or None when there is none.  NANOS_DIR
    (a tree built elsewhere) first, then the build of the pinned sources
    in the cache (nanosbuild: `make nanos`).  A release kernel of ops is
    never taken: it does not forward."""
    tree = os.environ.get("NANOS_DIR")
    if tree:
        k, missing = nanosbuild.tree_kernel(tree, "NANOS_DIR=" + tree)
        if missing:
            raise LabError("NANOS_DIR is not a built Nanos tree; missing: "
                           + ", ".join(missing))
        return k
    return nanosbuild.cached()


class Choice:
    """The lab's guest: "nanos" with its kernel (or None when it is to be
    built first), or "linux" and why not Nanos."""

    def __init__(self, guest, kernel=None, build=False, why=None,
                 source=None):
        self.guest = guest
        self.kernel = kernel
        self.build = build
        self.why = why
        if build:
            source = "to be built from %s, then cached" % (
                nanosbuild.origin())
        self.source = kernel["source"] if kernel else source

    def line(self):
        """The lab's first line."""
        if self.guest == "linux":
            return "guest: linux, because " + self.why
        return "guest: nanos (%s)" % self.source


def choose(guest, may_build=True):
    """Which guest a run with --guest GUEST boots.  auto and nanos take
    NANOS_DIR, else the cached build, else a build from sources that can
    be had (unless may_build is False: CI's smoke run never builds); auto
    falls back to Linux when there is no Nanos, nanos fails instead."""
    if guest == "linux":
        return Choice("linux", why="--guest linux was asked for")
    kernel = find_kernel()
    if kernel:
        return Choice("nanos", kernel)
    pins, change = nanosbuild.settings()
    key = nanosbuild.cache_key(pins, change)
    if may_build:
        why = nanosbuild.sources_reachable(pins)
        if why is None:
            return Choice("nanos", build=True)
    else:
        why = ("no Nanos build in the cache (%s/%s) and this run builds "
               "none; `make nanos` builds it, or set NANOS_DIR to a Nanos "
               "tree built elsewhere" % (nanosbuild.cache_root(), key))
    if guest == "nanos":
        raise LabError(why)
    return Choice("linux", why=why)


def tree_notes(kernel):
    """What the sources of a built tree say about the one kernel change
    the gateway needs: {"forward": bool}, None when unknown (sources
    gone, a changed upstream)."""
    notes = {"forward": None}
    tree = kernel.get("tree")
    if not tree:
        return notes
    try:
        opts = read_file(os.path.join(tree, "src", "net", "lwipopts.h"))
        notes["forward"] = re.search(r"^\s*#\s*define\s+IP_FORWARD\s+1\b",
                                     opts, re.M) is not None
    except OSError:
        pass
    return notes


def describe(kernel):
    """One line for the log on what this kernel can do as a gateway."""
    fwd = tree_notes(kernel)["forward"]
    if fwd is None:
        return "IP_FORWARD unknown (needed to forward)"
    if fwd:
        return "IP_FORWARD on"
    return ("IP_FORWARD OFF in src/net/lwipopts.h: the gateway will not "
            "forward")


def uptime_at_tun(console, tun_addr="10.0.0.1"):
    """The guest's uptime when the tun interface took its address from the
    manifest, which happens inside the application's TUNSETIFF: the
    moment the application started, on the kernel's own clock."""
    m = re.search(r"^\[([\d.]+)\] \w+: assigned %s\s*$"
                  % re.escape(tun_addr), console, re.M)
    return float(m.group(1)) if m else None


def bad_checksums(namespaces):
    """IPv4 packets with a bad header checksum that the lab's namespaces
    dropped (a Nanos kernel whose lwIP leaves DF out of the checksum)."""
    total = 0
    for ns in namespaces:
        cp = run(["cat", "/proc/net/netstat"], ns=ns, check=False)
        lines = [l.split() for l in cp.stdout.splitlines()
                 if l.startswith("IpExt:")]
        if len(lines) == 2 and "InCsumErrors" in lines[0]:
            total += int(lines[1][lines[0].index("InCsumErrors")])
    return total


def manifest(app, conf, kernel, ipaddr, netmask, gateway, tun_addr,
             tun_mask, tun_mtu=None, extra_args=()):
    """The image manifest: the program and its files as the seed's
    config.json lists them (Args, Files, Dirs), the tun klib, the tun
    interface's settings (ManifestPassthrough; tun_mtu, when given, as its
    MTU, which is Nanos's 32 KiB otherwise) and static addressing of the
    NIC from the manifest root, or none when ipaddr is None: then Nanos
    asks DHCP, as on Compute Engine."""
    seed = json.loads(read_file(os.path.join(SEED_DIR, "config.json")))
    # extra_args (the operations listener's --http) go before the
    # interface name, which comes last.
    argv = list(seed["Args"])
    args = " ".join([PROGRAM] + argv[:-1] + list(extra_args) + argv[-1:])
    klibs = list(seed.get("RunConfig", {}).get("Klibs", ["tun"]))
    extra = []
    if os.environ.get("NANOS_STRACE") == "1":
        # Every system call of the gateway on its console: how a failure
        # inside the unikernel is found.
        klibs.append("strace")
        extra.append("    debugsyscalls:t")
    klib_entries = " ".join(
        "%s:(contents:(host:%s))" % (k, os.path.join(kernel["klib_dir"], k))
        for k in klibs)
    dirs = " ".join("%s:(children:(run:(children:(wireguard:(children:()))"
                    ")))" % d for d in seed.get("Dirs", []))
    tun = seed.get("ManifestPassthrough", {}).get("tun", {})
    tun_entries = []
    for ifname, cfg in sorted(tun.items()):
        cfg = dict(cfg)
        # The gateway's tunnel address, which is the seed's in the lab.
        cfg["ipaddress"] = tun_addr
        cfg["netmask"] = tun_mask
        if tun_mtu:
            cfg["mtu"] = str(tun_mtu)
        tun_entries.append("%s:(%s)" % (ifname, " ".join(
            "%s:%s" % (k, v) for k, v in cfg.items())))
    nic = ["    ipaddr:%s" % ipaddr, "    netmask:%s" % netmask,
           "    gateway:%s" % gateway] if ipaddr else []
    return "\n".join([
        "(",
        "    boot:(children:(klib:(children:(%s))))" % klib_entries,
        "    children:(",
        "        %s:(contents:(host:%s))" % (PROGRAM, app),
        "        %s:(contents:(host:%s))" % (CONF_NAME, conf),
        "        %s" % dirs,
        "    )",
        "    klibs:bootfs",
        "    program:/%s" % PROGRAM,
        "    arguments:[%s]" % args,
        "    environment:(PWD:/)"] + nic + [
        "    tun:(%s)" % " ".join(tun_entries)] + extra + [
        ")",
        ""])


# Where each layout of config.json keeps Klibs: ops PR 1464 (May 2023)
# moved it from RunConfig to the top level, and ops refuses a key its
# version does not declare, so a file carries it in one place only.
OPS_LAYOUTS = ("current", "seed")


def config_json(kernel, ipaddr, netmask, gateway, cloud=None, tun=None,
                udp_ports=None, layout="current"):
    """The seed's config.json with the lab's addressing and this kernel,
    in the layout of current ops (Klibs at the top level) or of the seed's
    older ops (layout "seed": Klibs in RunConfig).  Boot, Kernel and
    KlibDir name the kernel's files when there is one.  For a cloud
    (lab/deploy-gcp ops): no ipaddr leaves the NIC to DHCP, cloud fills
    CloudConfig, tun overrides the tun interface's settings and udp_ports
    the ports ops opens."""
    if layout not in OPS_LAYOUTS:
        raise LabError("ops layout %r: one of %s"
                       % (layout, ", ".join(OPS_LAYOUTS)))
    cfg = json.loads(read_file(os.path.join(SEED_DIR, "config.json")))
    cfg["Program"] = PROGRAM
    if kernel:
        cfg["Boot"] = kernel["boot"]
        cfg["Kernel"] = kernel["kernel"]
        cfg["KlibDir"] = kernel["klib_dir"]
    rc = cfg.setdefault("RunConfig", {})
    klibs = list(rc.pop("Klibs", None) or cfg.pop("Klibs", None)
                 or ["tun"])
    if layout == "current":
        cfg["Klibs"] = klibs
    else:
        rc["Klibs"] = klibs
    if ipaddr:
        rc["IPAddress"] = ipaddr
        rc["NetMask"] = netmask
        rc["Gateway"] = gateway
    if udp_ports:
        rc["UDPPorts"] = list(udp_ports)
    if tun:
        for v in cfg.get("ManifestPassthrough", {}).get("tun", {}).values():
            v.update(tun)
    if cloud:
        cfg["CloudConfig"] = dict(cloud)
    else:
        cfg.pop("CloudConfig", None)
    return json.dumps(cfg, indent=4) + "\n"


def build(kernel, app, conf_text, outdir, ipaddr, netmask, gateway,
          tun_addr="10.0.0.1", tun_mask="255.255.255.0", extra_args=()):
    """Writes boringtun.conf, the manifest and config.json into outdir and
    builds outdir/uniguard-nanos.img; returns the image path."""
    if not app:
        raise LabError("the Nanos guest runs the uniguard binary itself; "
                       "build it first (make)")
    conf = os.path.join(outdir, CONF_NAME)
    write_file(conf, conf_text, 0o600)
    app_copy = os.path.join(outdir, PROGRAM)
    shutil.copy(app, app_copy)
    text = manifest(app_copy, conf, kernel, ipaddr, netmask, gateway,
                    tun_addr, tun_mask, extra_args=extra_args)
    write_file(os.path.join(outdir, "uniguard.manifest"), text)
    write_file(os.path.join(outdir, "config.json"),
               config_json(kernel, ipaddr, netmask, gateway))
    img = os.path.join(outdir, "uniguard-nanos.img")
    if kernel.get("mkfs"):
        run([kernel["mkfs"], "-b", kernel["boot"], "-k", kernel["kernel"],
             img], input=text, timeout=300)
    elif shutil.which("ops"):
        run(["ops", "image", "create", "-c", "config.json", "-i",
             "uniguard-lab", PROGRAM], timeout=600, cwd=outdir)
        built = os.path.expanduser("~/.ops/images/uniguard-lab")
        shutil.copy(built, img)
    else:
        raise LabError("found %s but neither its mkfs nor ops"
                       % kernel["source"])
    return img
