# SPDX-License-Identifier: MIT
"""What the deploy tests share: the lab's Python package, and a Nanos tree
for NANOS_DIR."""

import importlib
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "lab")


def lab_module(sub):
    """lab/uglab/SUB.py, from the lab's package loaded under a name of its
    own: this suite's helper module is also called uglab."""
    name = "uniguard_lab"
    if name not in sys.modules:
        pkg = os.path.join(LAB, "uglab")
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(pkg, "__init__.py"),
            submodule_search_locations=[pkg])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return importlib.import_module(name + "." + sub)


def nanos_tree(root, forward=True):
    """A Nanos tree as NANOS_DIR names one: the real one in $NANOS_DIR
    when it is built and forwarding is asked for, else one made in root
    holding the built files config.json points ops at (empty: ops is not
    run) and src/net/lwipopts.h with or without the seed's change."""
    real = os.environ.get("NANOS_DIR")
    if forward and real and os.path.exists(os.path.join(
            real, "output", "platform", "pc", "bin", "kernel.img")):
        return real
    out = os.path.join(root, "output")
    for f in ("tools/bin/mkfs", "platform/pc/boot/boot.img",
              "platform/pc/bin/kernel.img", "platform/pc/bin/tun"):
        p = os.path.join(out, f)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").close()
    opts = os.path.join(root, "src", "net", "lwipopts.h")
    os.makedirs(os.path.dirname(opts), exist_ok=True)
    with open(opts, "w") as f:
        f.write("#define LWIP_IPV4 1\n")
        if forward:
            f.write("#define IP_FORWARD 1\n")
    return root
