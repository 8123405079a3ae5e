# SPDX-License-Identifier: MIT
"""What the lab needs from Debian: host packages (installed when missing)
and the guest's kernel and busybox packages (downloaded and unpacked into
the lab's work directory, never installed)."""

import glob
import os
import shutil

from .util import WORK_DIR, LabError, detail, run

# Host tools, by the command that proves each package is there.
HOST_PACKAGES = [
    ("qemu-system-x86", "qemu-system-x86_64"),
    ("iproute2", "ip"),
    ("nftables", "nft"),
    ("wireguard-tools", "wg-quick"),
    ("wireguard-go", "wireguard-go"),
    ("iputils-ping", "ping"),
    ("mtools", "mcopy"),
    ("dosfstools", "mkfs.vfat"),
    ("syslinux", "syslinux"),
    ("syslinux-common", "/usr/lib/syslinux/mbr/mbr.bin"),
    ("fdisk", "sfdisk"),
    ("cpio", "cpio"),
    ("kmod", "depmod"),
    ("procps", "sysctl"),
    # Scenario operations: a real Prometheus server and promtool.
    ("prometheus", "promtool"),
]

KERNEL_META = "linux-image-cloud-amd64"
BUSYBOX = "busybox-static"
CACHE_DIR = os.path.join(WORK_DIR, "cache")


def have(probe):
    if probe.startswith("/"):
        return os.path.exists(probe)
    return shutil.which(probe) is not None or any(
        os.access(os.path.join(d, probe), os.X_OK)
        for d in ("/usr/sbin", "/sbin"))


def missing_packages(packages=HOST_PACKAGES):
    return [pkg for pkg, probe in packages if not have(probe)]


_updated = False


def apt_update():
    global _updated
    if not _updated:
        run(["apt-get", "update", "-q"], timeout=600)
        _updated = True


def install_missing(allowed=True, packages=HOST_PACKAGES):
    """Installs the host packages that are missing; returns their names."""
    missing = missing_packages(packages)
    if not missing:
        return []
    if not allowed or os.geteuid() != 0:
        raise LabError("missing packages: %s (install them, or run as "
                       "root so the lab can)" % " ".join(missing))
    detail("installing " + " ".join(missing))
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    apt_update()
    # Another apt-get may hold dpkg's lock for a while: wait for it.
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
         "-o", "DPkg::Lock::Timeout=600"]
        + missing, env=env, timeout=1200)
    return missing


def apt_download(pkg):
    """Downloads one package into the cache unless it is there already;
    returns the path of the .deb."""
    os.makedirs(CACHE_DIR, exist_ok=True)
    found = sorted(glob.glob(os.path.join(CACHE_DIR, pkg + "_*.deb")))
    if found:
        return found[-1]
    argv = ["apt-get", "download", "-q", "-o",
            "APT::Sandbox::User=root", pkg]
    try:
        run(argv, timeout=600).stdout
    except LabError:
        apt_update()
        run(argv, timeout=600)
    # apt-get download writes into the current directory.
    for f in glob.glob(pkg + "_*.deb"):
        shutil.move(f, os.path.join(CACHE_DIR, os.path.basename(f)))
    found = sorted(glob.glob(os.path.join(CACHE_DIR, pkg + "_*.deb")))
    if not found:
        raise LabError("apt-get download %s gave no file" % pkg)
    return found[-1]


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def unpack(deb, dest):
    """Unpacks a .deb into dest once (dpkg-deb -x, nothing installed)."""
    stamp = os.path.join(dest, ".unpacked-" + os.path.basename(deb))
    if os.path.exists(stamp):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    run(["dpkg-deb", "-x", deb, dest])
    open(stamp, "w").close()
    return dest


def fetch_kernel():
    """Returns the unpacked directory of the cloud kernel package: the meta
    package names the versioned one that holds the kernel and modules."""
    cwd = os.getcwd()
    os.makedirs(CACHE_DIR, exist_ok=True)
    os.chdir(CACHE_DIR)
    try:
        meta = apt_download(KERNEL_META)
        dep = None
        for alt in deb_field(meta, "Depends").split(","):
            name = alt.split("|")[0].split("(")[0].strip()
            if name.startswith("linux-image-"):
                dep = name
                break
        if not dep:
            raise LabError("%s depends on no linux-image package" % meta)
        deb = apt_download(dep)
        bb = apt_download(BUSYBOX)
    finally:
        os.chdir(cwd)
    kdir = unpack(deb, os.path.join(WORK_DIR, "kernel", dep))
    bbdir = unpack(bb, os.path.join(WORK_DIR, "busybox"))
    busybox = os.path.join(bbdir, "bin", "busybox")
    if not os.access(busybox, os.X_OK):
        raise LabError("no busybox in " + bb)
    return kdir, busybox, dep
