# SPDX-License-Identifier: MIT
"""The README is the user's first page: it links every document in docs/,
and every make target it tells the reader to run exists."""

import os
import re

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def read(name):
    with open(os.path.join(ROOT, name)) as f:
        return f.read()


def test_readme_links_every_doc():
    readme = read("README.md")
    missing = [name for name in sorted(os.listdir(os.path.join(ROOT, "docs")))
               if "docs/" + name not in readme]
    assert not missing, missing


def test_readme_make_targets_exist():
    readme = read("README.md")
    targets = set(re.findall(r"^([a-z][-a-z0-9]*):", read("Makefile"), re.M))
    # In commands: a line or a `code` span that starts with make.
    named = set(re.findall(r"(?:^|`)make ([a-z][-a-z0-9]*)", readme, re.M))
    assert named, "no make command in the README"
    assert named <= targets, sorted(named - targets)
