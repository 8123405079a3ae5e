# SPDX-License-Identifier: MIT
"""The Nanos guest: finds a Nanos kernel (a built tree named by NANOS_DIR,
or an ops installation in ~/.ops), writes the image manifest the seed's
config.json describes, and builds the image with Nanos's mkfs.  It also
writes the matching config.json, so that a user with ops can run
`ops image create -c config.json` on the same inputs."""

import json
import os
import re
import shutil

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
    """Returns a dict with mkfs, boot, kernel, klib_dir and where they came
    from, or None when no Nanos kernel is found."""
    tree = os.environ.get("NANOS_DIR")
    if tree:
        out = os.path.join(tree, "output")
        k = {"mkfs": os.path.join(out, "tools", "bin", "mkfs"),
             "boot": os.path.join(out, "platform", "pc", "boot", "boot.img"),
             "kernel": os.path.join(out, "platform", "pc", "bin",
                                    "kernel.img"),
             "klib_dir": os.path.join(out, "platform", "pc", "bin"),
             "source": "NANOS_DIR=" + tree}
        missing = [v for n, v in k.items()
                   if n != "source" and not os.path.exists(v)]
        if not os.path.exists(os.path.join(k["klib_dir"], "tun")):
            missing.append(os.path.join(k["klib_dir"], "tun"))
        if missing:
            raise LabError("NANOS_DIR is not a built Nanos tree; missing: "
                           + ", ".join(missing))
        k["tree"] = tree
        return k
    ops = os.path.expanduser("~/.ops")
    latest = os.path.join(ops, "latest.txt")
    if os.path.exists(latest):
        ver = read_file(latest).strip()
        rel = os.path.join(ops, ver)
        k = {"mkfs": os.path.join(rel, "mkfs"),
             "boot": os.path.join(rel, "boot.img"),
             "kernel": os.path.join(rel, "kernel.img"),
             "klib_dir": os.path.join(rel, "klibs"),
             "source": "ops release " + ver}
        if os.path.exists(k["kernel"]) and os.path.exists(k["boot"]):
            if not os.path.exists(k["mkfs"]):
                k["mkfs"] = None
            return k
    return None


def tree_notes(kernel):
    """What the sources of a built tree say about the two kernel changes
    the gateway needs: {"forward": bool, "df_checksum": bool}, each None
    when unknown (an ops release, sources gone, a changed upstream)."""
    notes = {"forward": None, "df_checksum": None}
    tree = kernel.get("tree")
    if not tree:
        return notes
    try:
        opts = read_file(os.path.join(tree, "src", "net", "lwipopts.h"))
        notes["forward"] = re.search(r"^\s*#\s*define\s+IP_FORWARD\s+1\b",
                                     opts, re.M) is not None
    except OSError:
        pass
    try:
        ip4 = read_file(os.path.join(tree, "vendor", "lwip", "src", "core",
                                     "ipv4", "ip4.c"))
        if re.search(r"IPH_OFFSET_SET\(iphdr,\s*df\b", ip4):
            notes["df_checksum"] = re.search(
                r"chk_sum \+= iphdr->_offset", ip4) is not None
    except OSError:
        pass
    return notes


def describe(kernel):
    """One line for the log on what this kernel can do as a gateway."""
    n = tree_notes(kernel)
    if n["forward"] is None:
        fwd = "IP_FORWARD unknown (needed to forward)"
    elif n["forward"]:
        fwd = "IP_FORWARD on"
    else:
        fwd = ("IP_FORWARD OFF in src/net/lwipopts.h: the gateway will not "
               "forward")
    if n["df_checksum"] is False:
        fwd += ("; its lwIP leaves DF out of the IPv4 header checksum, so "
                "the next hop drops whatever uniguard sends (docs/lab.md)")
    return fwd


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
             tun_mask, tun_mtu=None):
    """The image manifest: the program and its files as the seed's
    config.json lists them (Args, Files, Dirs), the tun klib, the tun
    interface's settings (ManifestPassthrough; tun_mtu, when given, as its
    MTU, which is Nanos's 32 KiB otherwise) and static addressing of the
    NIC from the manifest root, or none when ipaddr is None: then Nanos
    asks DHCP, as on Compute Engine."""
    seed = json.loads(read_file(os.path.join(SEED_DIR, "config.json")))
    args = " ".join([PROGRAM] + seed["Args"])
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
          tun_addr="10.0.0.1", tun_mask="255.255.255.0"):
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
                    tun_addr, tun_mask)
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
