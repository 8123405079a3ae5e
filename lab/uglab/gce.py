# SPDX-License-Identifier: MIT
"""The Compute Engine image of the gateway, built for the devices Compute
Engine gives a VM and packaged the way it imports a disk.  Two guests:
the Nanos unikernel (the default), or the lab's Linux microVM.

What Compute Engine imports is a gzip-compressed tar archive in GNU format
holding one file, `disk.raw`: a raw disk with a partition table and a
bootable partition, whose size is a whole number of GiB.  The disk is
padded with a sparse tail to the next GiB; the tar records the tail as a
hole, so the archive stays as small as the data.

The Nanos disk is the one Nanos's mkfs writes from the image manifest
(nanos.manifest): the seed's program, Args, files and tun klib, the tun
interface's address and an MTU that fits a 1460-byte VPC, the forwarding
kernel, and no address for the NIC, so that Nanos asks DHCP.  Nanos has
drivers for Compute Engine's disks (virtio-scsi, NVMe) and NICs
(virtio-net, gVNIC) built into its kernel.

The Linux disk is the one lab/mkimage-linux builds (MBR, one active FAT
partition, syslinux, kernel and initramfs).  The initramfs holds
everything the gateway runs, so after the boot loader has read the kernel
and the initramfs through the BIOS the disk is never touched again.  Its
drivers are loaded anyway (virtio-scsi, the default of Compute Engine;
NVMe, which some machine types use, is built into the kernel), so that the
disk shows up in the guest like on any other image.  The NIC is
virtio-net; the address comes from DHCP, which on Compute Engine is a /32
lease with a route to the subnet's gateway (lab/guest/udhcpc.script
handles that).  The console is the first serial port, ttyS0.

Beside each archive goes a manifest (NAME.json) that describes what the
image was built from without a secret in it: the guest, the gateway's
public key, port, tunnel address and MTU, the peers' public keys and
allowed IPs, and the archive's SHA-256.  The deploy command compares it
with its configuration and refuses a stale archive."""

import base64
import datetime
import gzip
import hashlib
import ipaddress
import json
import os
import shutil
import struct
import subprocess
import tarfile
import tempfile

from ugtools import keys, wgquick

from . import nanos
from .util import LAB_DIR, WORK_DIR, LabError, run, write_file

MKIMAGE = os.path.join(LAB_DIR, "mkimage-linux")
GCE_DIR = os.path.join(WORK_DIR, "gce")
DISK_NAME = "disk.raw"
GIB = 1 << 30

# Drivers of the devices a Compute Engine VM has: the virtio PCI
# transport, the virtio-scsi disk (and the SCSI disk driver above it), the
# NVMe disk of some machine types (built into Debian's cloud kernel;
# mkimage-linux skips built-in modules), the virtio-net NIC, and tun for the
# gateway.  No virtio-rng: Compute Engine has none, and the kernel seeds
# its generator from the CPU's RDRAND.  No gVNIC driver: only virtio-net
# is tested (QEMU has no gVNIC model), so the image does not claim it.
GCE_MODULES = "virtio_pci virtio_scsi sd_mod nvme virtio_net tun"

# WireGuard adds 60 bytes to each packet over IPv4 (20 IP, 8 UDP, 32 of
# its own); a VPC's MTU is 1460 by default, so the tunnel gets 1380 and
# no encapsulated packet needs fragmenting on the way.
DEFAULT_MTU = 1380

# Compute Engine's manual import documents `tar --format=oldgnu -Sczf`.
# The old GNU and GNU formats write the same header magic and the same
# sparse member type; oldgnu is what the import page names.
TAR_FORMAT = "oldgnu"
GNU_MAGIC = b"ustar  \x00"

# The Compute Engine guest OS features each image has.  Neither is
# UEFI_COMPATIBLE: both disks boot through the BIOS from their MBR.
# Linux: a multiqueue virtio-scsi driver, and no GVNIC (see above).
# Nanos: its gve driver, so that the image may run on the machine types
# that only have gVNIC (as ops marks its images); its virtio-scsi driver
# uses one request queue, so no VIRTIO_SCSI_MULTIQUEUE.
GUEST_OS_FEATURES = {"linux": ["VIRTIO_SCSI_MULTIQUEUE"],
                     "nanos": ["GVNIC"]}
GUESTS = ("nanos", "linux")

APP_PATH = "/bin/uniguard"
CONF_PATH = "/etc/uniguard/wg0.conf"
IFNAME = "wg0"
APP_CMD = "%s -f -v info -c %s %s" % (APP_PATH, CONF_PATH, IFNAME)


# ------------------------------------------------------- configuration

# The shared readers of wg-quick files and keys, under the names the
# deploy code knows them by.
ini_sections, ini_get = wgquick.sections, wgquick.get
pubkey, check_key = keys.pubkey, keys.check_key


def with_mtu(text, mtu):
    """A client's wg-quick file with an MTU, unless it names one."""
    iface = [p for s, p in ini_sections(text) if s == "interface"]
    if iface and ini_get(iface[0], "MTU"):
        return text
    return wgquick.add_to_interface(text, [("MTU", mtu)])


def gateway_ini(server_text, address, mtu, peers):
    """The gateway's wg-quick file: the user's server file, plus the
    tunnel Address and MTU when it names none (the daemon applies both),
    plus a [Peer] for each (public key, allowed IPs) it lacks.  Returns
    (text, description) where description holds no secret."""
    sections = ini_sections(server_text)
    iface = [p for s, p in sections if s == "interface"]
    if len(iface) != 1:
        raise LabError("the server file needs exactly one [Interface]")
    iface = iface[0]
    priv = ini_get(iface, "PrivateKey")
    if not priv:
        raise LabError("the server file's [Interface] has no PrivateKey")
    check_key(priv, "server PrivateKey")
    port = ini_get(iface, "ListenPort")
    have = {}
    for s, p in sections:
        if s == "peer":
            k = ini_get(p, "PublicKey")
            if k:
                have[k] = ini_get(p, "AllowedIPs") or ""
    add = []
    if not ini_get(iface, "Address") and address:
        add.append(("Address", address))
    if not ini_get(iface, "MTU") and mtu:
        add.append(("MTU", int(mtu)))
    text = wgquick.add_to_interface(server_text, add)
    new = []
    for pub, allowed in peers:
        if pub in have:
            continue
        new.append((pub, allowed))
        have[pub] = allowed
    text = wgquick.add_peers(text, new)
    desc = {
        "public_key": pubkey(priv),
        "listen_port": int(port) if port else None,
        "address": ini_get(iface, "Address") or address,
        "mtu": int(ini_get(iface, "MTU") or mtu or 1420),
        "peers": sorted([k, v] for k, v in have.items()),
    }
    return text, desc


# ------------------------------------------------------------- building

def build_linux_disk(kdir, busybox, app, ini_text, raw):
    """Builds the gateway's raw disk with lab/mkimage-linux for Compute
    Engine's devices (no static address: DHCP), then pads it to whole
    GiB.  The configuration, which holds the gateway's private key, only
    ever sits in a private temporary directory."""
    stage = tempfile.mkdtemp(prefix="ug-gce.")
    try:
        os.chmod(stage, 0o700)
        conf = os.path.join(stage, "wg0.conf")
        write_file(conf, ini_text, 0o600)
        argv = [MKIMAGE, "--kernel-dir", kdir, "--busybox", busybox,
                "--out", raw, "--modules", GCE_MODULES,
                "--bin", app + ":" + APP_PATH,
                "--file", conf + ":" + CONF_PATH,
                "--app", APP_CMD, "--forward", "--hostname", "uniguard"]
        out = run(argv, timeout=300, env={"TMPDIR": stage}).stdout.strip()
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    os.chmod(raw, 0o600)
    pad_to_gib(raw)
    return out


def uapi_text(app, ini_text, stage):
    """The gateway's wg-quick file as the UAPI set lines the seed's Args
    read (boringtun.conf), by the binary's own `uniguard convert`; the
    file passes through stage, a private directory."""
    ini = os.path.join(stage, ".gateway.conf")
    write_file(ini, ini_text, 0o600)
    try:
        cp = subprocess.run([app, "convert", ini], capture_output=True,
                            text=True)
    finally:
        os.unlink(ini)
    if cp.returncode != 0:
        raise LabError("uniguard convert: %s" % cp.stderr.strip())
    return cp.stdout


def build_nanos_disk(kernel, app, ini_text, desc, raw, extra_args=()):
    """Builds the gateway's raw disk with Nanos's mkfs from the image
    manifest: the tun interface gets the gateway's tunnel address and MTU
    (desc), the NIC no address (DHCP).  Pads it to whole GiB.  The
    configuration only ever sits in a private temporary directory."""
    if not kernel.get("mkfs"):
        raise LabError("%s has no mkfs to build the disk with"
                       % kernel["source"])
    tun = [a for a in (ipaddress.ip_interface(x.strip()) for x in
                       desc["address"].split(",")) if a.version == 4]
    if not tun:
        raise LabError("the gateway has no IPv4 tunnel address (Address)")
    tun = tun[0]
    stage = tempfile.mkdtemp(prefix="ug-gce.")
    try:
        os.chmod(stage, 0o700)
        conf = os.path.join(stage, nanos.CONF_NAME)
        write_file(conf, uapi_text(app, ini_text, stage), 0o600)
        text = nanos.manifest(app, conf, kernel, None, None, None,
                              str(tun.ip), str(tun.netmask),
                              tun_mtu=desc["mtu"], extra_args=extra_args)
        run([kernel["mkfs"], "-b", kernel["boot"], "-k", kernel["kernel"],
             raw], input=text, timeout=300)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    os.chmod(raw, 0o600)
    pad_to_gib(raw)
    return "Nanos disk from %s: tun %s mtu %d, the NIC by DHCP" % (
        kernel["source"], tun, desc["mtu"])


def pad_to_gib(raw):
    """Extends the disk to the next whole GiB (at least 1) with a hole;
    returns the new size.  The partition table is left as it is: the
    partition keeps its size and the tail is unpartitioned space."""
    size = os.path.getsize(raw)
    want = max(1, -(-size // GIB)) * GIB
    if want != size:
        os.truncate(raw, want)
    return want


def package(raw, tarball):
    """Archives raw as the one member disk.raw of a gzip-compressed GNU
    tar, holes kept as holes (-S), owner and group 0; the archive is
    written 0600 (it holds the gateway's key)."""
    src_dir = os.path.dirname(os.path.abspath(raw))
    if os.path.basename(raw) != DISK_NAME:
        raise LabError("the disk must be named %s, not %s"
                       % (DISK_NAME, os.path.basename(raw)))
    tmp = tarball + ".part"
    old = os.umask(0o077)
    try:
        run(["tar", "--format=" + TAR_FORMAT, "-Sczf", tmp,
             "--owner=0", "--group=0", "--numeric-owner",
             "-C", src_dir, DISK_NAME], timeout=600)
    finally:
        os.umask(old)
    os.chmod(tmp, 0o600)
    os.replace(tmp, tarball)
    return tarball


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def md5_b64(path):
    """The MD5 in the form Cloud Storage reports it (base64)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return base64.b64encode(h.digest()).decode()


# ------------------------------------------------------------- checking

def parse_mbr(sector):
    """Returns (signature ok, [(active, type, start lba, sectors)]) of a
    classic MBR's four entries, empty ones left out."""
    ok = len(sector) >= 512 and sector[510:512] == b"\x55\xaa"
    parts = []
    if ok:
        for i in range(4):
            e = sector[446 + 16 * i:446 + 16 * (i + 1)]
            flag, ptype = e[0], e[4]
            start, count = struct.unpack("<II", e[8:16])
            if ptype:
                parts.append((flag == 0x80, ptype, start, count))
    return ok, parts


def inspect(tarball):
    """Checks an archive against what Compute Engine imports; returns a
    dict describing it or raises LabError naming the first problem."""
    with open(tarball, "rb") as f:
        if f.read(2) != b"\x1f\x8b":
            raise LabError("%s is not gzip-compressed" % tarball)
    with gzip.open(tarball, "rb") as g:
        header = g.read(512)
    if len(header) < 512 or header[257:265] != GNU_MAGIC:
        raise LabError("%s: not a GNU-format tar (magic %r)"
                       % (tarball, header[257:265]))
    with tarfile.open(tarball, "r:gz") as tf:
        members = tf.getmembers()
        if [m.name for m in members] != [DISK_NAME]:
            raise LabError("%s must hold exactly one member %s, not %s"
                           % (tarball, DISK_NAME,
                              [m.name for m in members]))
        m = members[0]
        if not m.isfile():
            raise LabError("%s: %s is not a regular file" % (tarball,
                                                              DISK_NAME))
        size = m.size
        sector = tf.extractfile(m).read(512)
    if size == 0 or size % GIB:
        raise LabError("%s: disk.raw is %d bytes, not a whole number of "
                       "GiB" % (tarball, size))
    ok, parts = parse_mbr(sector)
    if not ok:
        raise LabError("%s: disk.raw has no MBR boot signature" % tarball)
    # The Linux disk has one active partition; Nanos's mkfs marks both
    # of its partitions (boot and root) active.
    if not any(p[0] for p in parts):
        raise LabError("%s: disk.raw has no active partition" % tarball)
    for _, ptype, start, count in parts:
        if ptype == 0xee:
            continue
        if (start + count) * 512 > size:
            raise LabError("%s: a partition ends past the disk" % tarball)
    return {"path": tarball, "disk_bytes": size,
            "disk_gib": size // GIB, "sparse": m.issparse(),
            "archive_bytes": os.path.getsize(tarball),
            "partitions": [{"active": a, "type": "0x%02x" % t,
                            "start": s, "sectors": c}
                           for a, t, s, c in parts],
            "sha256": sha256_file(tarball), "md5": md5_b64(tarball)}


def unpack(tarball, dest):
    """Extracts disk.raw (holes kept) into dest; returns its path."""
    inspect(tarball)
    os.makedirs(dest, exist_ok=True)
    run(["tar", "-xzSf", tarball, "-C", dest, DISK_NAME], timeout=600)
    return os.path.join(dest, DISK_NAME)


# ------------------------------------------------------------- manifest

def manifest_path(tarball):
    base = tarball[:-len(".tar.gz")] if tarball.endswith(".tar.gz") \
        else tarball
    return base + ".json"


def write_manifest(tarball, desc, guest, extra=None):
    info = inspect(tarball)
    man = {"artifact": os.path.basename(tarball), "guest": guest,
           "sha256": info["sha256"], "md5": info["md5"],
           "disk_gib": info["disk_gib"],
           "archive_bytes": info["archive_bytes"],
           "built": datetime.datetime.now(datetime.timezone.utc)
           .strftime("%Y-%m-%dT%H:%M:%SZ"),
           "guest_os_features": GUEST_OS_FEATURES[guest],
           "addressing": "dhcp",
           "gateway": desc}
    if guest == "linux":
        man["modules"] = GCE_MODULES.split()
    man.update(extra or {})
    write_file(manifest_path(tarball), json.dumps(man, indent=2) + "\n")
    return man


def archive_guest(man):
    """The guest of an archive by its manifest; archives built before the
    Nanos image existed are Linux."""
    return (man or {}).get("guest", "linux")


def read_manifest(tarball):
    p = manifest_path(tarball)
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)


def build_artifact(app, ini_text, desc, tarball, kernel=None, linux=None,
                   extra=None, http=None, peers_from=None):
    """The whole build: disk, padding, archive, check, manifest.  The disk
    is Nanos with kernel (a forwarding Nanos kernel, nanos.find_kernel),
    else Linux with linux, the (kernel directory, busybox) of
    deps.fetch_kernel.  The build directory is private (0700) and keeps
    only the archive and its manifest."""
    guest = "nanos" if kernel else "linux"
    outdir = os.path.dirname(os.path.abspath(tarball))
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o700)
    work = tempfile.mkdtemp(prefix=".disk.", dir=outdir)
    try:
        raw = os.path.join(work, DISK_NAME)
        if kernel:
            # The seed's Args read a UAPI file, which has no place for the
            # operations listener: it goes on the command line.
            args = (["--http", http] if http else []) + \
                (["--peers-from", peers_from] if peers_from else [])
            note = build_nanos_disk(kernel, app, ini_text, desc, raw, args)
        else:
            if http:
                ini_text = wgquick.add_to_interface(ini_text,
                                                    [("HTTP", http)])
            if peers_from:
                ini_text = wgquick.add_to_interface(
                    ini_text, [("PeersFrom", peers_from)])
            note = build_linux_disk(linux[0], linux[1], app, ini_text, raw)
        package(raw, tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if kernel:
        extra = dict(extra or {}, kernel=kernel["source"],
                     tun_mtu=desc["mtu"])
    if http:
        extra = dict(extra or {}, http=http)
    if peers_from:
        extra = dict(extra or {}, peers_from=peers_from)
    man = write_manifest(tarball, desc, guest, extra)
    return man, note
