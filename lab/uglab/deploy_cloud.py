# SPDX-License-Identifier: MIT
"""Runs gcloud and gsutil for lab/deploy-gcp and reads their answers: a
describe tells "absent" from any other failure."""

import json
import os
import re
import shlex
import shutil
import subprocess

from .deploy_config import DeployError

# What gcloud and gsutil say when the thing asked for does not exist;
# any other failure of a describe (no login, no permission, no API) stops
# the run instead of leading to a create.
ABSENT_RX = re.compile(r"was not found|No URLs matched|"
                       r"BucketNotFoundException|bucket does not exist")


def quote(argv):
    return " ".join(shlex.quote(a) for a in argv)


class Cloud:
    """Runs gcloud and gsutil (GCLOUD and GSUTIL name other binaries);
    every command is echoed to the log stream first."""

    def __init__(self, log):
        self.log = log
        self.bins = {"gcloud": os.environ.get("GCLOUD") or "gcloud",
                     "gsutil": os.environ.get("GSUTIL") or "gsutil"}

    def run(self, argv):
        print("$ " + quote(argv), file=self.log, flush=True)
        exe = self.bins[argv[0]]
        if not shutil.which(exe):
            raise DeployError("%s not found: install the Google Cloud CLI "
                              "(docs/deploy-gcp.md)" % argv[0])
        cp = subprocess.run([exe] + argv[1:], capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
        return cp

    def describe(self, argv):
        """Returns the resource (a dict) or None when it does not exist;
        any other failure raises."""
        cp = self.run(argv)
        if cp.returncode == 0:
            if argv[0] == "gsutil":
                return parse_stat(cp.stdout)
            try:
                return json.loads(cp.stdout or "{}")
            except ValueError:
                raise DeployError("%s: unreadable answer: %s"
                                  % (quote(argv[:4]), cp.stdout[:200]))
        if ABSENT_RX.search(cp.stderr):
            return None
        raise DeployError("%s failed (%d): %s" % (
            quote(argv[:4]), cp.returncode, first_lines(cp.stderr)))

    def must(self, argv, what):
        cp = self.run(argv)
        if cp.returncode != 0:
            raise DeployError("%s failed (exit %d): %s" % (
                what, cp.returncode, first_lines(cp.stderr or cp.stdout)))
        return cp


def first_lines(text, n=4):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " / ".join(lines[:n]) or "no message"


def parse_stat(text):
    """gsutil stat's metadata lines, as a dict; the MD5 under "md5"."""
    obj = {}
    for line in text.splitlines():
        m = re.match(r"^\s+([^:]+):\s+(.*)$", line)
        if m:
            obj[m.group(1).strip()] = m.group(2).strip()
    obj["md5"] = obj.get("Hash (md5)")
    return obj
