# SPDX-License-Identifier: MIT
"""`lab/deploy-gcp ops` writes a config.json that ops accepts.

ops decodes config.json with unknown keys refused, and current ops keeps
Klibs at the top level where the seed's older ops kept it in RunConfig:
each layout is checked against the schema of the ops version it is for
(ops_schema.py, written down from ops's types/config.go), and against the
other version's schema, which must refuse it.  No ops, no cloud, no root:
the command runs as a user would run it, with a Nanos kernel tree named by
NANOS_DIR (a real one when the environment names one, else a tree holding
the files config.json names, with the seed's IP_FORWARD change in its
sources)."""

import json
import os
import shutil
import subprocess
import sys

import pytest

import ops_schema
from deploy_support import lab_module, nanos_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEPLOY = os.path.join(REPO, "lab", "deploy-gcp")
SEED = os.path.join(REPO, "harness", "data", "seed")

CONFIG = """
[gcp]
project = my-cloud
zone = us-west2-a
bucket = my-bucket

[vpn]
server_config = {seed}/nanoswg.conf
subnet = 10.0.0.0/24
private_ranges = 10.240.0.0/16

[client utun2]
config = {seed}/utun2.conf
"""


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    """Neither root nor namespaces: the suite's session fixture does not
    apply here."""
    yield


def app():
    path = os.environ.get("UNIGUARD") or os.path.join(REPO, "build",
                                                       "uniguard")
    if not os.access(path, os.X_OK):
        pytest.skip("no uniguard binary (make)")
    if shutil.which("wg") is None:
        pytest.skip("wireguard-tools (wg) not installed")
    return path


def run_ops(tmp_path, *extra, nanos_dir=None):
    conf = tmp_path / "gcp.conf"
    conf.write_text(CONFIG.format(seed=SEED))
    out = tmp_path / "ops"
    env = dict(os.environ)
    env.pop("NANOS_DIR", None)
    # No kernel but the one named here: not the user's ~/.ops, not a
    # cached build.
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    if nanos_dir:
        env["NANOS_DIR"] = nanos_dir
    cp = subprocess.run([sys.executable, DEPLOY, "ops", "--config",
                         str(conf), "--out", str(out), "--gateway-app",
                         app()] + list(extra), capture_output=True,
                        text=True, env=env, timeout=120)
    return cp, out


def seed_config():
    with open(os.path.join(SEED, "config.json")) as f:
        return json.load(f)


# ------------------------------------------------ the schema and checker

def test_the_seeds_own_file_fits_only_the_older_ops():
    seed = seed_config()
    assert ops_schema.decode_errors(seed, "seed") == []
    errs = ops_schema.decode_errors(seed, "current")
    assert errs == ['json: unknown field "Klibs" (in RunConfig at '
                    'RunConfig)'], errs


def test_checker_refuses_as_the_go_decoder_does():
    ok = {"Program": "uniguard", "Klibs": ["tun"],
          "RunConfig": {"UDPPorts": ["51820"]}}
    assert ops_schema.decode_errors(ok, "current") == []
    # Keys match their field whatever the case, as encoding/json matches.
    assert ops_schema.decode_errors({"klibs": ["tun"], "home": "/h",
                                     "HOME": "/h"}, "current") == []
    both = dict(ok, RunConfig={"Klibs": ["tun"]})
    assert ops_schema.decode_errors(both, "current")
    assert ops_schema.decode_errors(ok, "seed") == [
        'json: unknown field "Klibs" (in Config at top level)']
    for bad in ({"Args": "-f"}, {"RunConfig": {"UDPPorts": [51820]}},
                {"RunConfig": {"CPUs": "2"}}, {"Uefi": "yes"},
                {"CloudConfig": {"Zone": "z", "Region": "r"}},
                {"CloudConfig": {"Tags": [{"key": "a", "colour": "b"}]}},
                {"RunConfig": {"VirtfsShares": {"a": "b"}}}):
        assert ops_schema.decode_errors(bad, "current"), bad
    # Fields only one version declares.
    assert ops_schema.decode_errors({"Runtime": "x"}, "seed") == []
    assert ops_schema.decode_errors({"Runtime": "x"}, "current")
    assert ops_schema.decode_errors({"TFSv4": True}, "seed")


# ------------------------------------------------- what deploy-gcp writes

@pytest.mark.parametrize("layout", ["current", "seed"])
def test_ops_config_fits_its_ops_version(tmp_path, layout):
    tree = nanos_tree(str(tmp_path / "nanos"))
    extra = [] if layout == "current" else ["--ops-layout", "seed"]
    cp, out = run_ops(tmp_path, *extra, nanos_dir=tree)
    assert cp.returncode == 0, cp.stderr
    cfg = json.loads((out / "config.json").read_text())
    assert ops_schema.decode_errors(cfg, layout) == []
    other = "seed" if layout == "current" else "current"
    assert ops_schema.decode_errors(cfg, other), \
        "one file cannot suit both versions: Klibs has moved"
    if layout == "current":
        assert cfg["Klibs"] == ["tun"] and "Klibs" not in cfg["RunConfig"]
    else:
        assert cfg["RunConfig"]["Klibs"] == ["tun"] and "Klibs" not in cfg
    # The forwarding kernel, not the seed's placeholder paths.
    out_dir = os.path.join(tree, "output", "platform", "pc")
    assert cfg["Boot"] == os.path.join(out_dir, "boot", "boot.img")
    assert cfg["Kernel"] == os.path.join(out_dir, "bin", "kernel.img")
    assert cfg["KlibDir"] == os.path.join(out_dir, "bin")
    for f in ("Boot", "Kernel"):
        assert os.path.isfile(cfg[f])
    assert os.path.isfile(os.path.join(cfg["KlibDir"], "tun"))
    # What ops copies into the image is all there.
    assert cfg["Dirs"] == seed_config()["Dirs"]
    for d in cfg["Dirs"]:
        assert (out / d).is_dir(), d
    for f in cfg["Files"] + [cfg["Program"]]:
        assert (out / f).is_file(), f
    # The tunnel fits a VPC of MTU 1460 with WireGuard's 60 bytes over
    # IPv4 and room for IPv6's 20 more.
    tun = cfg["ManifestPassthrough"]["tun"]["wg"]
    assert tun["mtu"] == "1380" and tun["ipaddress"] == "10.0.0.1"
    assert "IPAddress" not in cfg["RunConfig"], "the NIC takes DHCP"


def test_no_kernel_fails_and_says_why(tmp_path):
    cp, out = run_ops(tmp_path)
    assert cp.returncode == 1
    assert "a stock ops kernel does not forward" in cp.stderr, cp.stderr
    assert "NANOS_DIR" in cp.stderr and "make nanos" in cp.stderr
    assert not (out / "config.json").exists()


def test_kernel_without_forwarding_fails(tmp_path):
    tree = nanos_tree(str(tmp_path / "nanos"), forward=False)
    cp, out = run_ops(tmp_path, nanos_dir=tree)
    assert cp.returncode == 1
    assert "does not enable IP_FORWARD" in cp.stderr, cp.stderr
    assert "a stock ops kernel does not forward" in cp.stderr
    assert not (out / "config.json").exists()


def test_lab_config_json_is_current_layout():
    """The config.json the lab writes beside its Nanos image, for a user
    who builds the same image with ops."""
    nanos = lab_module("nanos")
    kernel = {"boot": "/k/boot.img", "kernel": "/k/kernel.img",
              "klib_dir": "/k"}
    for layout in ("current", "seed"):
        cfg = json.loads(nanos.config_json(kernel, "10.240.0.10",
                                           "255.255.0.0", "10.240.0.1",
                                           layout=layout))
        assert ops_schema.decode_errors(cfg, layout) == [], layout
    assert json.loads(nanos.config_json(kernel, None, None, None))[
        "Klibs"] == ["tun"]
