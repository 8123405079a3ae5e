# SPDX-License-Identifier: MIT
"""Which Compute Engine machine types the gateway's images run on, told
by machine series (the part of the type before its first dash): the boot
disk's interface and the NIC each series gives, against the devices the
lab booted each image on (docs/deploy-gcp.md, "Machine types").

Compute Engine attaches the boot disk on virtio-scsi and gives a
virtio-net NIC on the first- and second-generation x86 series; Tau T2A
and the third generation and later attach it over NVMe (Compute
Engine's "About Persistent Disk", storage interface types) and give gVNIC
as their NIC.  The lab boots both images on virtio-scsi with virtio-net;
on NVMe the Linux image boots and the Nanos image does not (its kernel
never hears back from QEMU's NVMe controller), and neither image has run
on gVNIC."""

# First and second generation x86: virtio-scsi boot disk, virtio-net.
# custom-* and the shared-core f1/g1 types are N1.
SCSI_SERIES = ("e2", "n1", "custom", "f1", "g1", "n2", "n2d", "c2", "c2d",
               "t2d", "m1", "m2")

# Third generation and later (x86): NVMe boot disk, gVNIC.
NVME_SERIES = ("c3", "c3d", "c4", "c4d", "n4", "n4d", "h3", "h4d", "m3",
               "m4", "x4", "z3", "a3", "a4", "g4")

# Arm: the images are x86-64.
ARM_SERIES = ("t2a", "c4a", "n4a", "a4x")

# What each image lacks on the NVMe series, as the lab found it.
NVME_WHY = {
    "nanos": "the Nanos image does not boot from NVMe in the lab: Nanos's "
             "NVMe driver enables MSI-X only after it has enabled the "
             "controller, and QEMU's NVMe controller then never signals "
             "the admin queue's completions, so the kernel waits for its "
             "root disk for ever; Compute Engine's NVMe controller was not "
             "tested, nor was Nanos's gVNIC driver",
    "linux": "the Linux image boots from NVMe in the lab but has no gVNIC "
             "driver, the NIC these types give",
}

TESTED = ("first- and second-generation x86 types (E2, N1, N2, N2D, C2, "
          "C2D, T2D, M1, M2), whose boot disk is on virtio-scsi")


def series(machine_type):
    return machine_type.strip().lower().split("-", 1)[0]


def verdict(machine_type, guest):
    """(level, text) for an image of guest on machine_type: level is
    "tested" (the lab booted the image on this series' devices),
    "untested" (an NVMe series: it did not, or cannot, work in the lab),
    "unsupported" (Arm) or "unknown" (a series this list lacks)."""
    s = series(machine_type)
    if s in SCSI_SERIES:
        return "tested", ""
    if s in ARM_SERIES:
        return "unsupported", (
            "machine type %s is Arm (series %s); the gateway's image is "
            "x86-64: use one of the %s" % (machine_type, s.upper(), TESTED))
    if s in NVME_SERIES:
        return "untested", (
            "machine type %s (series %s) attaches its boot disk over NVMe "
            "and gives gVNIC as its NIC; %s. Use one of the %s, such as "
            "e2-micro or n2-standard-2" % (
                machine_type, s.upper(), NVME_WHY[guest], TESTED))
    return "unknown", (
        "machine type %s: series %s is not known to lab/deploy-gcp; the "
        "image was tested on the devices of the %s only" % (
            machine_type, s.upper(), TESTED))
