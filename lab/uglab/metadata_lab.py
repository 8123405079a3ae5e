# SPDX-License-Identifier: MIT
"""Scenario peer-added-live: the Compute Engine metadata server's
stand-in (harness/ugtools/gce_metadata.py) on 169.254.169.254 in the
VPC's namespace, which the gateway VM reaches through its VPC router as a
Compute Engine VM reaches the real one; the gateway image runs with
--peers-from gce-metadata.  A client whose key is not in the image is
let in through the attribute, pings the private host, and is cut off when
the attribute no longer names it, while the seed's client pings on with
its session."""

import os
import re
import signal
import subprocess
import sys
import time

from ugtools import gce_metadata, keys

from . import images
from .topology import HOST_IP, NS_VPC
from .util import LabError, detail, now, run

ADDR = gce_metadata.ADDR
ATTR = "uniguard-peers"
SOURCE = "gce-metadata"
STANDIN = gce_metadata.__file__
# Beside the sharded scenarios' c5 and c6 (ha_lab.CLIENTS), in the main
# gateway's part of the VPN subnet.
CLIENT = ("c7", "198.51.100.17", "ugc7", "10.0.0.17")


class MetadataLab:
    def __init__(self, lab, server_pub):
        self.lab = lab
        self.proc = None
        self.dir = None
        priv, self.public_key = keys.keypair()
        name, addr, ifname, vpn = CLIENT
        self.spec = (name, addr, ifname,
                     images.client_ini(priv, vpn + "/32", server_pub), vpn)

    def client_spec(self):
        return self.spec

    def start(self):
        """The stand-in, with an empty attribute: the gateway long-polls
        it from its start."""
        from .lab import RUN_DIR
        self.dir = gce_metadata.MetadataDir(os.path.join(RUN_DIR,
                                                         "metadata"))
        self.dir.set(ATTR, "")
        run(["ip", "addr", "add", ADDR + "/32", "dev", "lo"], ns=NS_VPC)
        log = open(os.path.join(RUN_DIR, "metadata.log"), "wb")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS_VPC, sys.executable, STANDIN,
             "--dir", self.dir.path], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        t = now()
        while now() - t < 10:
            with open(os.path.join(RUN_DIR, "metadata.log")) as f:
                if "metadata server on" in f.read():
                    detail("serving %s's attribute %s from %s"
                           % (ADDR, ATTR, self.dir.path))
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise LabError("the metadata stand-in did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def wait_console(self, pattern, after, timeout=30):
        """Seconds until the gateway's console shows pattern past offset
        after, or None."""
        rx = re.compile(pattern)
        t = now()
        while now() - t < timeout:
            if rx.search(self.lab.gw.console_text(), after):
                return now() - t
            time.sleep(0.05)
        return None

    def s_peer_added_live(self):
        lab = self.lab
        seed = lab.clients["c1"]
        c = lab.clients[CLIENT[0]]
        console = lab.gw.console_text()
        if not re.search(r"peers from the metadata attribute %s" % ATTR,
                         console):
            return False, "the gateway does not follow the metadata " \
                "attribute (no --peers-from on its console)"
        seed_hs = seed.handshake_age()
        background = seed.ping_async(HOST_IP, 150, interval=0.2)
        notes = []
        try:
            # Added: the peer's section in the attribute, then the client
            # comes up.
            mark = len(console)
            t0 = now()
            self.dir.set(ATTR, "# peer: c7\n[Peer]\nPublicKey = %s\n"
                         "AllowedIPs = %s/32\n" % (self.public_key,
                                                    CLIENT[3]))
            applied = self.wait_console(
                r"metadata instance attribute %s: 1 peer, 1 added" % ATTR,
                mark)
            if applied is None:
                return False, "the gateway did not take the new attribute " \
                    "within 30 s"
            c.up()
            first = c.wait_reply(HOST_IP, 30)
            if first is None:
                return False, "c7 got no reply from %s within 30 s of " \
                    "being added" % HOST_IP
            through = now() - t0
            lab.metrics.setdefault("metadata", {})["added"] = (applied,
                                                               through)
            sent, got, _ = c.ping(HOST_IP, 5)
            notes.append("added: applied %.2fs after the attribute "
                         "changed, c7's first reply from 10.240.0.2 %.1fs "
                         "after it (wg-quick up included); %d/%d" % (
                             applied, through, got, sent))
            if got < sent * 0.8:
                return False, "; ".join(notes)

            # Removed: cut off at once.
            mark = len(lab.gw.console_text())
            self.dir.set(ATTR, "")
            removed = self.wait_console(r"removed: its sessions and queued "
                                        r"packets dropped", mark)
            if removed is None:
                return False, "; ".join(notes + [
                    "the gateway did not remove c7 within 30 s"])
            sent, got, _ = c.ping(HOST_IP, 5, interval=0.3)
            lab.metrics["metadata"]["removed"] = removed
            notes.append("removed: %.2fs after the attribute changed; c7 "
                         "then %d/%d" % (removed, got, sent))
            c.down()
            if got:
                return False, "; ".join(notes)
        finally:
            # ping prints its summary on SIGINT.
            background.send_signal(signal.SIGINT)
            out, _ = background.communicate(timeout=30)
        from .clients import parse_ping
        s_sent, s_got, _ = parse_ping(out)
        hs = seed.handshake_age()
        # The seed's peer is the image's: never removed or replaced, so
        # its pings go on throughout (a rekey that WireGuard's timers
        # start on their own is said, not counted against it).
        notes.append("c1 (seed) meanwhile %d/%d, %s" % (
            s_got, s_sent, "the same handshake" if seed_hs is not None and
            hs is not None and hs >= seed_hs else
            "rekeyed by its timers (%s -> %s s ago)" % (seed_hs, hs)))
        ok = s_sent > 0 and s_got >= s_sent * 0.9
        return ok, "; ".join(notes)
