# SPDX-License-Identifier: MIT
"""WireGuard configuration files and Linux guest images of the lab."""

import os
import re

from ugtools import keys, wgquick

from .topology import PUBLIC_IP, WG_PORT
from .util import LAB_DIR, SEED_DIR, LabError, read_file, run, write_file

MKIMAGE = os.path.join(LAB_DIR, "mkimage-linux")
GUEST = os.path.join(LAB_DIR, "guest")

GATEWAY_TUN_ADDR = "10.0.0.1/24"
# Where the gateway application finds its configuration in the Linux image,
# and how it is started: the daemon's own command line.
GATEWAY_CONF = "/etc/uniguard/wg0.conf"
GATEWAY_IFNAME = "wg0"
GATEWAY_ARGS = "-f -v info -c %s %s" % (GATEWAY_CONF, GATEWAY_IFNAME)

GATEWAY_MODULES = "virtio_pci virtio_net virtio_rng tun"
CLIENT_MODULES = "virtio_pci virtio_net virtio_rng virtio_console wireguard"
KERNEL_GATEWAY_MODULES = "virtio_pci virtio_net virtio_rng wireguard"
CTL_PORT = "uglab.ctl"


def seed(name):
    return read_file(os.path.join(SEED_DIR, name))


def gateway_ini(extra_peers):
    """The gateway's wg-quick INI: the seed's nanoswg.conf unchanged, plus
    the tun address (on Linux the daemon applies Address itself; on Nanos it
    comes from the manifest) and the lab's own clients as more peers."""
    text = wgquick.add_to_interface(seed("nanoswg.conf"),
                                    [("Address", GATEWAY_TUN_ADDR)])
    return wgquick.add_peers(text, extra_peers)


def gateway_uapi(extra_peers):
    """The same configuration as UAPI set commands: the seed's
    boringtun.conf plus the lab's peers (the Nanos image uses this file, as
    the seed's config.json does)."""
    lines = [l for l in seed("boringtun.conf").splitlines() if l.strip()]
    for pub, allowed in extra_peers:
        lines += ["public_key=" + keys.key_hex(pub),
                  "replace_allowed_ips=true",
                  "allowed_ip=" + allowed]
    return "\n".join(lines) + "\n\n"


def gateway_public_key():
    return keys.pubkey(wgquick.get(wgquick.interface(seed("nanoswg.conf")),
                                   "PrivateKey"))


def client_ini(priv, addr, server_pub, endpoint=None):
    return wgquick.render(
        [("PrivateKey", priv), ("Address", addr)],
        [[("PublicKey", server_pub),
          ("Endpoint", endpoint or "%s:%d" % (PUBLIC_IP, WG_PORT)),
          ("AllowedIPs", "10.0.0.0/24,10.240.0.0/16")]])


def seed_client_ini():
    """The seed's utun2.conf with its Endpoint moved to the lab's public
    address; everything else as the seed has it."""
    text = seed("utun2.conf")
    text, n = re.subn(r"^(\s*Endpoint\s*=\s*)\S+",
                      r"\g<1>%s:%d" % (PUBLIC_IP, WG_PORT), text,
                      flags=re.M | re.I)
    if n != 1:
        raise LabError("utun2.conf has no Endpoint line")
    return text


def build_gateway(kdir, busybox, app, conf_text, out, addr, gw,
                  initrd=None, kernel=None):
    """The gateway image: the application as /bin/uniguard, its INI file,
    static addressing of the NIC and forwarding on."""
    stage = os.path.dirname(out)
    conf = os.path.join(stage, "gateway-wg0.conf")
    write_file(conf, conf_text, 0o600)
    argv = [MKIMAGE, "--kernel-dir", kdir, "--busybox", busybox,
            "--out", out, "--modules", GATEWAY_MODULES,
            "--file", conf + ":" + GATEWAY_CONF,
            "--app", "/bin/uniguard " + GATEWAY_ARGS,
            "--addr", addr, "--gateway", gw, "--forward",
            "--hostname", "uniguard"]
    argv += ["--bin", app + ":/bin/uniguard"]
    if initrd:
        argv += ["--initrd", initrd]
    if kernel:
        argv += ["--kernel", kernel]
    return run(argv, timeout=300).stdout.strip()


# The [Interface] keys of uniguard's own (the gateway's), which wg-quick
# does not know: the kernel gateway's file leaves them out.
GATEWAY_ONLY_KEYS = ("HTTP", "LogCounters", "PeersFrom")


def kernel_gateway_ini(gateway_text):
    """The kernel-WireGuard gateway's wg-quick file from the uniguard
    gateway's (gateway_ini): the same key, port, address and peers, less
    the keys only uniguard reads."""
    secs = wgquick.sections(gateway_text)
    iface = [kv for s, p in secs if s == "interface" for kv in p
             if kv[0].lower() not in [k.lower() for k in GATEWAY_ONLY_KEYS]]
    peers = [p for s, p in secs if s == "peer"]
    if len(secs) != len(peers) + 1 or not wgquick.get(iface, "PrivateKey"):
        raise LabError("the gateway's configuration needs one [Interface] "
                       "with a PrivateKey, then [Peer] sections")
    return wgquick.render(iface, peers)


def build_kernel_wg(kdir, busybox, conf_text, out, addr, gw, hostname,
                    modules, forward=False, ctl=None):
    """An image whose application brings the wg-quick file up with the
    Linux kernel's WireGuard (wireguard.ko and its dependencies, wg-quick
    with bash, iproute2's ip and wg, copied with their libraries)."""
    stage = os.path.dirname(out)
    conf = os.path.join(stage, hostname + "-wg0.conf")
    write_file(conf, conf_text, 0o600)
    ip = "/usr/bin/ip" if os.path.exists("/usr/bin/ip") else "/sbin/ip"
    argv = [MKIMAGE, "--kernel-dir", kdir, "--busybox", busybox,
            "--out", out, "--modules", modules,
            "--file", conf + ":/etc/wireguard/wg0.conf",
            "--bin", "/bin/bash:/bin/bash",
            "--bin", ip + ":/usr/sbin/ip",
            "--bin", "/usr/bin/wg:/usr/bin/wg",
            "--bin", "/usr/bin/wg-quick:/usr/bin/wg-quick",
            "--bin", os.path.join(GUEST, "wg-client") + ":/bin/wg-client",
            "--app", "/bin/wg-client",
            "--addr", addr, "--gateway", gw, "--hostname", hostname]
    if forward:
        argv.append("--forward")
    if ctl:
        argv += ["--ctl", ctl]
    return run(argv, timeout=300).stdout.strip()


def build_client(kdir, busybox, conf_text, out, addr, gw):
    """The kernel-WireGuard client image, with a control shell on a
    virtio serial port for the lab."""
    return build_kernel_wg(kdir, busybox, conf_text, out, addr, gw,
                           "wgclient", CLIENT_MODULES, ctl=CTL_PORT)


def build_kernel_gateway(kdir, busybox, conf_text, out, addr, gw):
    """The reference gateway of `make lab-bench`: the Linux kernel's
    WireGuard on the same Linux guest as uniguard's, with conf_text
    (kernel_gateway_ini) and IPv4 forwarding on; no control shell."""
    return build_kernel_wg(kdir, busybox, conf_text, out, addr, gw,
                           "wggateway", KERNEL_GATEWAY_MODULES, forward=True)
