# SPDX-License-Identifier: MIT
"""lab/run: the QEMU end-to-end lab of uniguard."""

import argparse
import fcntl
import os
import signal
import sys

from . import report, topology
from .lab import Lab, cleanup_leftovers
from .util import LAB_DIR, WORK_DIR, LabError, now, say, write_file


class Stopped(BaseException):
    """SIGTERM or SIGHUP: unwind like Ctrl-C so that cleanup runs."""


def on_signal(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def take_lock(prog):
    """The lab's lock (one run at a time: the names are fixed), held while
    the returned file stays open; None, said on stderr, when another run
    holds it or when not run as root."""
    if os.geteuid() != 0:
        print("%s: needs root (network namespaces, taps, nftables)" % prog,
              file=sys.stderr)
        return None
    os.makedirs(WORK_DIR, exist_ok=True)
    lock = open(os.path.join(WORK_DIR, "lab.lock"), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("%s: another lab run holds %s" % (prog, lock.name),
              file=sys.stderr)
        lock.close()
        return None
    return lock


def unwind_on_signals():
    """SIGTERM, SIGHUP and Ctrl-C unwind the stack, so that cleanup runs."""
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    # Ctrl-C must clean up even where the caller started us with SIGINT
    # ignored (a background job of a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_lab(lab, body, hold=False):
    """A run of lab (a Lab or a BenchLab): prepare() it, remove what an
    earlier run left, setup(), then body(); teardown() whatever happens,
    on a signal too (after Enter, with hold, when all went well).  Returns
    why it stopped early, or None."""
    unwind_on_signals()
    failure = None
    try:
        lab.prepare()
        # After prepare(), which installs the host's packages: on a fresh
        # machine even `ip` may be missing until then.
        if any(ns.startswith(topology.PREFIX) for ns in topology.ns_list()):
            say("removing what an earlier run left behind")
            cleanup_leftovers()
        lab.setup()
        body()
    except LabError as e:
        failure = str(e)
        say("FAILED: " + failure)
    except (KeyboardInterrupt, Stopped) as e:
        failure = "interrupted (%s)" % (str(e) or "Ctrl-C")
        say(failure)
    finally:
        if hold and failure is None:
            try:
                input("lab is up; press Enter to tear it down ")
            except (EOFError, KeyboardInterrupt):
                pass
        lab.teardown()
    return failure


def parse(argv):
    ap = argparse.ArgumentParser(
        prog="lab/run",
        description="Boots the uniguard gateway image in QEMU inside "
        "network namespaces, joins WireGuard clients to it and pings a "
        "private host behind it.")
    ap.add_argument("--guest", choices=("auto", "linux", "nanos"),
                    default=os.environ.get("GUEST") or "auto",
                    help="the gateway's guest OS; auto (the default): "
                    "Nanos, built from its pinned sources (NANOS_SRC) or "
                    "reused from the cache or NANOS_DIR, and the Linux "
                    "microVM only when no Nanos can be had; nanos: fail "
                    "instead of falling back")
    ap.add_argument("--no-build", action="store_true",
                    help="never build Nanos: boot it only when a build is "
                    "in the cache or NANOS_DIR names one (CI's smoke run)")
    ap.add_argument("--smoke", action="store_true",
                    help="only the seed scenario and the kernel-WireGuard "
                    "client (what CI runs)")
    ap.add_argument("--cleanup", action="store_true",
                    help="remove what a crashed run left behind, and exit")
    ap.add_argument("--gateway-app", metavar="PATH",
                    help="the gateway application (default: $UNIGUARD, "
                    "else build/uniguard)")
    ap.add_argument("--out", default=os.path.join(LAB_DIR, "out"),
                    help="where the report and console logs go")
    ap.add_argument("--no-install", action="store_true",
                    help="fail instead of installing missing packages")
    ap.add_argument("--hold", action="store_true",
                    help="wait for Enter before tearing the lab down")
    ap.add_argument("--gce", action="store_true",
                    help="build the gateway (the --guest, Nanos when a "
                    "forwarding kernel is found) as the Compute Engine "
                    "archive (disk.raw in a GNU tar.gz) and boot that disk "
                    "with Compute Engine's devices, a 1460-byte VPC and a "
                    "DHCP /32 lease")
    ap.add_argument("--gce-artifact", metavar="TAR_GZ",
                    help="boot this Compute Engine archive (lab/deploy-gcp "
                    "image builds it; its manifest beside it names the "
                    "guest) the same way and run the seed scenario on it")
    ap.add_argument("--gce-disk", choices=("scsi", "nvme"), default="scsi",
                    help="the boot disk's controller in Compute Engine "
                    "mode: virtio-scsi (the default there) or NVMe")
    ap.add_argument("--only", metavar="NAMES",
                    help="run only these scenarios (comma-separated, e.g. "
                    "sharded,ha-restart); the others are skipped")
    args = ap.parse_args(argv)
    args.only = set(args.only.split(",")) if args.only else None
    if args.gce_artifact and not os.path.isfile(args.gce_artifact):
        ap.error("no file %s" % args.gce_artifact)
    return args


def main(argv=None):
    args = parse(argv)
    lock = take_lock("lab/run")
    if not lock:
        return 2
    if args.cleanup:
        cleanup_leftovers()
        return 0
    lab = Lab(args)
    try:
        # The first line names the guest.
        lab.choose_guest()
    except LabError as e:
        print("guest: %s, unavailable: %s" % (args.guest, e), flush=True)
        return 1
    t0 = now()
    failure = run_lab(lab, lab.run_scenarios, hold=args.hold)
    total = now() - t0

    print()
    if lab.results:
        print(report.table(lab.results))
    print(lab.guest_note())
    passed = sum(1 for r in lab.results if r.passed)
    failed = len(lab.results) - passed
    if failure:
        print("lab: stopped early: " + failure)
    try:
        path = os.path.join(lab.outdir, "report.md")
        os.makedirs(lab.outdir, exist_ok=True)
        write_file(path, report.markdown(lab, total))
        print("lab: report %s, console logs in %s" % (path, lab.outdir))
    except OSError as e:
        print("lab: could not write the report: %s" % e)
    print("lab: %d passed, %d failed" % (passed, failed))
    return 0 if (failure is None and failed == 0 and passed) else 1
