# SPDX-License-Identifier: MIT
"""lab/deploy-gcp and the Compute Engine archive, without a cloud.

The archive's format and layout are checked with the standard tools (tar,
Python's tarfile and gzip) on an archive packaged by the same code as the
real one, from a tiny raw disk made here (an MBR with one active
partition), so the test needs no kernel, no root and a fraction of a
second; an archive the lab or lab/deploy-gcp built earlier is checked too
when one is there.  The deploy plan runs against the stand-in gcloud and
gsutil in fakes/, which keep a small cloud in a JSON file and record each
call: a fresh deploy, a re-run, a failure half-way and the resumed run,
the dry run, the teardown's order, and what must stop a run.  No real
Google Cloud project is used; no network, no root."""

import base64
import gzip
import json
import os
import shlex
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile

import pytest

from deploy_support import lab_module, nanos_tree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LAB = os.path.join(REPO, "lab")
FAKES = os.path.join(HERE, "fakes")
DEPLOY = os.path.join(LAB, "deploy-gcp")
SEED = os.path.join(REPO, "harness", "data", "seed")
GIB = 1 << 30

gce = lab_module("gce")
gce_lab = lab_module("gce_lab")
deploy_config = lab_module("deploy_config")
nanos = lab_module("nanos")
LabError = lab_module("util").LabError


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    """These tests need neither root nor the daemon: the suite's
    session fixture (namespaces, binary, tools) does not apply here."""
    yield


def seed_secrets():
    """The private keys of the seed's files, base64 and hex: none may show
    up in any output or recorded call."""
    out = []
    for name in ("nanoswg.conf", "utun2.conf"):
        with open(os.path.join(SEED, name)) as f:
            for line in f:
                if line.strip().lower().startswith("privatekey"):
                    k = line.split("=", 1)[1].strip()
                    out += [k, base64.b64decode(k).hex()]
    return out


needs_wg = pytest.mark.skipif(shutil.which("wg") is None,
                              reason="wireguard-tools (wg) not installed")


# ------------------------------------------------------------ archive

def tiny_disk(path, active=True, signature=True):
    """A raw disk with an MBR: one FAT16 partition from sector 2048,
    marked active."""
    mbr = bytearray(512)
    mbr[446] = 0x80 if active else 0x00
    mbr[450] = 0x0e
    mbr[454:462] = struct.pack("<II", 2048, 8192)
    if signature:
        mbr[510:512] = b"\x55\xaa"
    with open(path, "wb") as f:
        f.write(mbr)
    return path


@pytest.fixture
def archive(tmp_path):
    d = tmp_path / "disk"
    d.mkdir()
    raw = tiny_disk(str(d / "disk.raw"))
    assert gce.pad_to_gib(raw) == GIB
    return gce.package(raw, str(tmp_path / "uniguard.tar.gz"))


def tar_listing(path):
    cp = subprocess.run(["tar", "--list", "-v", "--file", path],
                        capture_output=True, text=True, check=True)
    return [line.split() for line in cp.stdout.splitlines()]


def check_archive_with_tools(path, active=1):
    """Checks an archive with tar and gzip; active: how many partitions
    are marked active (one on the Linux disk, boot and root on Nanos's)."""
    with open(path, "rb") as f:
        assert f.read(2) == b"\x1f\x8b", "not gzip"
    subprocess.run(["gzip", "-t", path], check=True)
    rows = tar_listing(path)
    assert len(rows) == 1, rows
    perms, owner, size, name = rows[0][0], rows[0][1], int(rows[0][2]), \
        rows[0][-1]
    assert name == "disk.raw" and perms.startswith("-")
    assert owner == "0/0", "owner and group 0, not the builder's"
    assert size >= GIB and size % GIB == 0
    with gzip.open(path, "rb") as g:
        assert g.read(512)[257:265] == b"ustar  \x00", "not GNU tar magic"
    with tarfile.open(path, "r:gz") as tf:
        (m,) = tf.getmembers()
        assert m.name == "disk.raw" and m.size == size
        # A sparse member exists only in the GNU format.
        assert m.type == tarfile.GNUTYPE_SPARSE
    # Extracted by tar with its holes (-S), as the lab boots it.
    d = tempfile.mkdtemp(prefix="ug-test-")
    try:
        subprocess.run(["tar", "-xzSf", path, "-C", d, "disk.raw"],
                       check=True)
        raw = os.path.join(d, "disk.raw")
        assert os.path.getsize(raw) == size
        with open(raw, "rb") as f:
            sector = f.read(512)
    finally:
        shutil.rmtree(d)
    assert sector[510:512] == b"\x55\xaa"
    entries = [sector[446 + 16 * i:462 + 16 * i] for i in range(4)]
    used = [e for e in entries if e[4]]
    assert [e[0] for e in used].count(0x80) == active, "active partitions"
    for e in used:
        start, count = struct.unpack("<II", e[8:16])
        assert (start + count) * 512 <= size
    return size


def test_archive_layout_with_standard_tools(archive):
    size = check_archive_with_tools(archive)
    assert size == GIB
    # Holes stay holes: a 1 GiB disk in a few hundred bytes.
    assert os.path.getsize(archive) < 64 * 1024
    # The archive holds the gateway's key: owner-only.
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    info = gce.inspect(archive)
    assert info["disk_gib"] == 1 and info["sparse"]
    assert info["partitions"] == [{"active": True, "type": "0x0e",
                                   "start": 2048, "sectors": 8192}]


def test_pad_to_gib_rounds_up(tmp_path):
    p = str(tmp_path / "disk.raw")
    tiny_disk(p)
    os.truncate(p, GIB + 1)
    assert gce.pad_to_gib(p) == 2 * GIB
    assert gce.pad_to_gib(p) == 2 * GIB


def test_unpack_gives_back_the_disk(archive, tmp_path):
    raw = gce.unpack(archive, str(tmp_path / "out"))
    assert os.path.getsize(raw) == GIB
    with open(raw, "rb") as f:
        assert f.read(512)[510:] == b"\x55\xaa"
    # Sparse on disk too.
    assert os.stat(raw).st_blocks * 512 < 1 << 20


@pytest.mark.parametrize("bad", ["posix", "name", "size", "signature",
                                 "inactive", "two"])
def test_inspect_refuses_what_gce_would_not_import(tmp_path, bad):
    d = tmp_path / "d"
    d.mkdir()
    raw = str(d / "disk.raw")
    tiny_disk(raw, active=bad != "inactive", signature=bad != "signature")
    if bad != "size":
        gce.pad_to_gib(raw)
    else:
        os.truncate(raw, GIB - 512)
    out = str(tmp_path / "a.tar.gz")
    members = ["disk.raw"]
    if bad == "name":
        os.rename(raw, str(d / "root.img"))
        members = ["root.img"]
    if bad == "two":
        (d / "extra").write_text("x")
        members.append("extra")
    fmt = "posix" if bad == "posix" else "oldgnu"
    subprocess.run(["tar", "--format=" + fmt, "-Sczf", out, "-C", str(d)]
                   + members, check=True)
    with pytest.raises(LabError):
        gce.inspect(out)


def real_archives():
    found = []
    for d in (os.path.join(LAB, "work", "gce"),
              os.path.join(LAB, "work", "images", "gce")):
        # The build directory is private (0700) to whoever built it.
        if os.path.isdir(d) and os.access(d, os.R_OK | os.X_OK):
            found += [os.path.join(d, f) for f in sorted(os.listdir(d))
                      if f.endswith(".tar.gz")]
    return found


@pytest.mark.skipif(not real_archives(), reason="no archive built yet "
                    "(lab/deploy-gcp image or lab/run --gce builds one)")
def test_built_archive_if_present():
    for path in real_archives():
        man = gce.read_manifest(path)
        guest = gce.archive_guest(man)
        check_archive_with_tools(path, 2 if guest == "nanos" else 1)
        assert gce.inspect(path)["disk_gib"] >= 1
        if man:
            assert man["guest_os_features"] == \
                gce.GUEST_OS_FEATURES[guest]
            text = json.dumps(man)
            assert not any(s in text for s in seed_secrets())
            assert man["sha256"] == gce.sha256_file(path)


def test_nanos_manifest_leaves_the_nic_to_dhcp():
    kernel = {"klib_dir": "/k"}
    text = nanos.manifest("/b/uniguard", "/b/boringtun.conf", kernel, None,
                          None, None, "10.0.0.1", "255.255.255.0",
                          tun_mtu=1380)
    for key in ("ipaddr:", "netmask:", "gateway:"):
        assert "\n    " + key not in text, key
    assert "wg:(ipaddress:10.0.0.1 netmask:255.255.255.0 up:true " \
        "mtu:1380)" in text
    assert "tun:(contents:(host:/k/tun))" in text
    # The lab's own Nanos image keeps its static address.
    static = nanos.manifest("/b/uniguard", "/b/boringtun.conf", kernel,
                            "10.240.0.10", "255.255.0.0", "10.240.0.1",
                            "10.0.0.1", "255.255.255.0")
    assert "\n    ipaddr:10.240.0.10\n" in static
    assert "mtu:" not in static


def forwarding_tree():
    tree = os.environ.get("NANOS_DIR")
    if not tree or not os.path.exists(os.path.join(
            tree, "output", "tools", "bin", "mkfs")):
        return None
    return tree


@needs_wg
@pytest.mark.skipif(not forwarding_tree(), reason="no built Nanos tree in "
                    "NANOS_DIR")
def test_nanos_archive_from_a_built_kernel(tmp_path):
    app = os.environ.get("UNIGUARD") or os.path.join(REPO, "build",
                                                     "uniguard")
    if not os.access(app, os.X_OK):
        pytest.skip("no uniguard binary (make)")
    with open(os.path.join(SEED, "nanoswg.conf")) as f:
        ini, desc = gce.gateway_ini(f.read(), "10.0.0.1/24", gce.DEFAULT_MTU,
                                    [])
    kernel = nanos.find_kernel()
    out = str(tmp_path / "nanos.tar.gz")
    man, note = gce.build_artifact(app, ini, desc, out, kernel=kernel)
    assert "tun 10.0.0.1/24 mtu 1380, the NIC by DHCP" in note
    check_archive_with_tools(out, active=2)
    assert man["guest"] == "nanos" and man["disk_gib"] == 1
    assert man["guest_os_features"] == ["GVNIC"]
    assert man["tun_mtu"] == 1380 and man["addressing"] == "dhcp"
    assert gce.read_manifest(out) == man
    text = json.dumps(man)
    assert not any(s in text for s in seed_secrets())
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_clients_get_the_tunnel_mtu_unless_they_name_one():
    with open(os.path.join(SEED, "utun2.conf")) as f:
        seed = f.read()
    text = gce.with_mtu(seed, 1380)
    assert text.startswith("[Interface]\nMTU = 1380\n")
    assert text.replace("MTU = 1380\n", "", 1) == seed.rstrip("\n") + "\n"
    own = "[Interface]\nMTU = 1280\nAddress = 10.0.0.3/32\n"
    assert gce.with_mtu(own, 1380) == own


@pytest.mark.parametrize("guest, console, log, ok", [
    ("nanos", "[1.966580] en1: assigned 10.240.0.10\n",
     "udhcpd: sending ACK to 10.240.0.10\n", True),
    # An address from the image, not from the lab's DHCP server.
    ("nanos", "[1.966580] en1: assigned 10.240.0.10\n", "", False),
    ("nanos", "", "udhcpd: sending ACK to 10.240.0.10\n", False),
    ("linux", "uglab: [2.1] network eth0 10.240.0.10/32 via dhcp mtu 1460",
     "udhcpd: sending ACK to 10.240.0.10\n", True),
    ("linux", "uglab: [2.1] network eth0 10.240.0.10/16 via dhcp mtu 1460",
     "udhcpd: sending ACK to 10.240.0.10\n", False),
])
def test_lease_check(tmp_path, guest, console, log, ok):
    (tmp_path / "udhcpd.log").write_text(log)
    if ok:
        assert "10.240.0.10" in gce_lab.check_lease(
            guest, console, str(tmp_path), "10.240.0.10")
    else:
        with pytest.raises(LabError):
            gce_lab.check_lease(guest, console, str(tmp_path), "10.240.0.10")


# ------------------------------------------------------------- deploy

CONFIG = """
[gcp]
project = my-cloud
zone = us-west2-a
bucket = my-bucket
network = uniguard-vpc
subnet = uniguard-private
machine_type = e2-micro
name = uniguard
artifact = {artifact}

[vpn]
server_config = {seed}/nanoswg.conf
subnet = 10.0.0.0/24
address = 10.0.0.1/24
private_ranges = 10.240.0.0/16

[client utun2]
config = {seed}/utun2.conf

[client laptop]
public_key = {laptop}
address = 10.0.0.4/32
keepalive = 25
"""

LAPTOP = base64.b64encode(bytes(range(1, 33))).decode()


class Cloud:
    """A stand-in cloud in a directory, and lab/deploy-gcp run against
    it."""

    def __init__(self, tmp_path, archive):
        self.dir = tmp_path / "cloud"
        self.dir.mkdir()
        self.state = {"resources": {"networks/global/uniguard-vpc": {
            "name": "uniguard-vpc"}}, "buckets": ["my-bucket"]}
        self.save()
        self.config = str(tmp_path / "gcp.conf")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(artifact=archive, seed=SEED,
                                  laptop=LAPTOP))
        # The archive's manifest, as lab/deploy-gcp image writes it.
        cfg = deploy_config.Config(self.config).resolve()
        gce.write_manifest(archive, cfg.gateway, "nanos")
        self.outputs = []
        # The fakes first; /usr/bin before shims so their start is quick.
        path = os.pathsep.join([FAKES, "/usr/bin", "/bin",
                                os.environ.get("PATH", "")])
        self.env = dict(os.environ, PATH=path, FAKE_GCP_DIR=str(self.dir),
                        GCLOUD=os.path.join(FAKES, "gcloud"),
                        GSUTIL=os.path.join(FAKES, "gsutil"),
                        # Were a real gcloud ever reached: no login here.
                        CLOUDSDK_CONFIG=str(tmp_path / "no-gcloud-login"))
        for k in ("FAKE_GCP_FAIL_CREATE", "FAKE_GCP_FAIL_DESCRIBE"):
            self.env.pop(k, None)

    def save(self):
        with open(self.dir / "state.json", "w") as f:
            json.dump(self.state, f)

    def load(self):
        with open(self.dir / "state.json") as f:
            return json.load(f)

    def run(self, *args, **env):
        e = dict(self.env)
        e.update({k: str(v) for k, v in env.items()})
        cp = subprocess.run([sys.executable, DEPLOY] + list(args) +
                            ["--config", self.config], capture_output=True,
                            text=True, env=e, timeout=120)
        self.outputs.append(cp.stdout + cp.stderr)
        return cp

    def calls(self):
        p = self.dir / "calls.jsonl"
        if not p.exists():
            return []
        return [json.loads(l) for l in p.read_text().splitlines()]

    def verbs(self, verb):
        """(collection, name) of each call of a verb, in order."""
        out = []
        for c in self.calls():
            a = c["argv"]
            if c["tool"] == "gcloud" and len(a) > 3 and a[2] == verb:
                out.append((a[1], a[3], c["rc"]))
            elif c["tool"] == "gsutil" and verb == "create" and a[0] == "cp":
                out.append(("objects", a[2], c["rc"]))
            elif c["tool"] == "gsutil" and verb == "delete" and a[0] == "rm":
                out.append(("objects", a[1], c["rc"]))
        return out

    def no_secrets(self):
        text = "\n".join(self.outputs) + json.dumps(self.calls())
        leaked = [s for s in seed_secrets() if s in text]
        assert not leaked, "private keys in the output or the calls"


ORDER = [("objects", "gs://my-bucket/uniguard.tar.gz"),
         ("images", "uniguard"), ("addresses", "uniguard-ip"),
         ("firewall-rules", "uniguard-allow-wg"),
         ("firewall-rules", "uniguard-allow-vpn"),
         ("firewall-rules", "uniguard-allow-fwd"),
         ("instances", "uniguard"), ("routes", "uniguard-route-vpn")]


@pytest.fixture
def cloud(tmp_path, archive):
    if shutil.which("wg") is None:
        pytest.skip("wireguard-tools (wg) not installed")
    return Cloud(tmp_path, archive)


@pytest.mark.parametrize("guest", ["linux", "nanos"])
def test_dry_run_prints_the_whole_plan_and_calls_nothing(cloud, guest):
    cp = cloud.run("deploy", "--dry-run", "--guest", guest)
    assert cp.returncode == 0, cp.stderr
    assert cloud.calls() == [], "a dry run must not call gcloud or gsutil"
    cmds = [shlex.split(l) for l in cp.stdout.splitlines()
            if l.startswith(("gcloud ", "gsutil "))]
    made = [(c[2], c[4]) if c[0] == "gcloud" and c[3] == "create"
            else ("objects", c[3]) for c in cmds
            if c[0] == "gsutil" or c[3] == "create"]
    assert made == ORDER
    flat = {c[2] if c[0] == "gcloud" else "gsutil": c for c in cmds}
    img = [c for c in cmds if c[:4] == ["gcloud", "compute", "images",
                                        "create"]][0]
    assert "--source-uri=gs://my-bucket/uniguard.tar.gz" in img
    if guest == "linux":
        assert "--guest-os-features=VIRTIO_SCSI_MULTIQUEUE" in img
    else:
        assert "--guest-os-features=GVNIC" in img
    inst = [c for c in cmds if c[:4] == ["gcloud", "compute", "instances",
                                         "create"]][0]
    for flag in ("--can-ip-forward", "--tags=uniguard",
                 "--address=uniguard-ip", "--network=uniguard-vpc",
                 "--subnet=uniguard-private", "--image=uniguard",
                 "--zone=us-west2-a", "--project=my-cloud"):
        assert flag in inst, flag
    wg = [c for c in cmds if "uniguard-allow-wg" in c and "create" in c][0]
    assert "--rules=udp:51820" in wg and "--target-tags=uniguard" in wg
    route = [c for c in cmds if c[2] == "routes"][0]
    assert "--destination-range=10.0.0.0/24" in route
    assert "--next-hop-instance=uniguard" in route
    assert "--next-hop-instance-zone=us-west2-a" in route
    assert any("natIP" in a for a in cmds[-1]) and "instances" in flat
    assert "Endpoint = EXTERNAL_IP:51820" in cp.stdout
    cloud.no_secrets()


def test_fresh_deploy_creates_each_resource_once_in_order(cloud):
    cp = cloud.run("deploy")
    assert cp.returncode == 0, cp.stderr
    creates = cloud.verbs("create")
    assert [(c, n) for c, n, _ in creates] == ORDER
    assert all(rc == 0 for _, _, rc in creates)
    # Each create comes after the describe (or stat) that found nothing.
    seen = []
    for c in cloud.calls():
        a = c["argv"]
        if c["tool"] == "gcloud" and a[2] == "describe":
            seen.append(("describe", a[1], a[3], c["rc"]))
        if c["tool"] == "gcloud" and a[2] == "create":
            assert ("describe", a[1], a[3], 1) in seen, a
    st = cloud.load()["resources"]
    inst = st["instances/us-west2-a/uniguard"]
    assert inst["canIpForward"] and inst["tags"]["items"] == ["uniguard"]
    assert st["routes/global/uniguard-route-vpn"]["nextHopInstance"] \
        .endswith("/zones/us-west2-a/instances/uniguard")
    ip = inst["networkInterfaces"][0]["accessConfigs"][0]["natIP"]
    # The client files, with the instance's external address.
    assert cp.stdout.count("Endpoint = %s:51820" % ip) == 2
    assert "# ---- client utun2" in cp.stdout
    assert "# ---- client laptop" in cp.stdout
    assert "PostUp = wg set %i private-key /etc/wireguard/laptop.key" \
        in cp.stdout
    assert "PersistentKeepalive = 25" in cp.stdout
    assert "MTU = 1380" in cp.stdout
    cloud.no_secrets()


def test_rerun_creates_nothing(cloud):
    assert cloud.run("deploy").returncode == 0
    n = len(cloud.verbs("create"))
    cp = cloud.run("deploy")
    assert cp.returncode == 0, cp.stderr
    assert len(cloud.verbs("create")) == n
    assert cp.stderr.count(": exists") == len(ORDER) - 1
    assert "not needed, the image exists" in cp.stderr


@pytest.mark.parametrize("fail_at", [2, 7])
def test_failure_half_way_then_resume(cloud, fail_at):
    cp = cloud.run("deploy", FAKE_GCP_FAIL_CREATE=fail_at)
    assert cp.returncode == 1
    assert "run the same command again" in cp.stderr
    first = cloud.verbs("create")
    assert [(c, n) for c, n, _ in first] == ORDER[:fail_at]
    assert first[-1][2] == 1 and all(rc == 0 for _, _, rc in first[:-1])
    assert "Endpoint" not in cp.stdout
    cp = cloud.run("deploy")
    assert cp.returncode == 0, cp.stderr
    resumed = cloud.verbs("create")[len(first):]
    # Picks up at the step that failed; nothing made twice.
    assert [(c, n) for c, n, _ in resumed] == ORDER[fail_at - 1:]
    assert not any(c.get("duplicate") for c in cloud.calls())
    ok = [(c, n) for c, n, rc in cloud.verbs("create") if rc == 0]
    assert sorted(ok) == sorted(ORDER)
    assert "Endpoint = 203.0.113.7:51820" in cp.stdout


def test_describe_failure_is_not_taken_for_absence(cloud):
    cp = cloud.run("deploy", FAKE_GCP_FAIL_DESCRIBE=1)
    assert cp.returncode == 1
    assert "gcloud auth login" in cp.stderr or "active account" in cp.stderr
    assert cloud.verbs("create") == []


def test_missing_bucket_stops_before_anything(cloud):
    cloud.state["buckets"] = []
    cloud.save()
    cp = cloud.run("deploy")
    assert cp.returncode == 1 and "gsutil mb" in cp.stderr
    assert cloud.verbs("create") == []


def test_instance_without_forwarding_stops_the_run(cloud):
    cloud.state["resources"]["instances/us-west2-a/uniguard"] = {
        "name": "uniguard", "canIpForward": False,
        "tags": {"items": ["uniguard"]}}
    cloud.save()
    cp = cloud.run("deploy")
    assert cp.returncode == 1 and "IP forwarding" in cp.stderr
    made = [(c, n) for c, n, _ in cloud.verbs("create")]
    assert ("instances", "uniguard") not in made
    assert ("routes", "uniguard-route-vpn") not in made


def test_image_from_another_archive_stops_before_upload(cloud):
    cloud.state["resources"]["images/global/uniguard"] = {
        "name": "uniguard", "labels": {"uniguard-artifact": "0" * 40},
        "description": "uniguard deploy-gcp: older"}
    cloud.save()
    cp = cloud.run("deploy")
    assert cp.returncode == 1 and "another archive" in cp.stderr
    assert cloud.verbs("create") == []


def test_teardown_reverses_deploy(cloud):
    assert cloud.run("deploy").returncode == 0
    cp = cloud.run("teardown", "--dry-run")
    assert cp.returncode == 0
    n_calls = len(cloud.calls())
    cp = cloud.run("teardown")
    assert cp.returncode == 0, cp.stderr
    deletes = [(c, n) for c, n, rc in cloud.verbs("delete") if rc == 0]
    assert deletes == list(reversed(ORDER))
    st = cloud.load()
    assert list(st["resources"]) == ["networks/global/uniguard-vpc"]
    assert st["objects"] == {} and st["buckets"] == ["my-bucket"]
    cp = cloud.run("teardown")
    assert cp.returncode == 0
    assert len(cloud.verbs("delete")) == len(ORDER)
    assert n_calls < len(cloud.calls())
    cloud.no_secrets()


def test_teardown_dry_run_order_and_no_calls(cloud):
    cp = cloud.run("teardown", "--dry-run")
    assert cp.returncode == 0 and cloud.calls() == []
    cmds = [shlex.split(l) for l in cp.stdout.splitlines()
            if l.startswith(("gcloud ", "gsutil "))]
    got = [(c[2], c[4]) if c[0] == "gcloud" else ("objects", c[2])
           for c in cmds]
    assert got == list(reversed(ORDER))
    assert all("--quiet" in c for c in cmds if c[0] == "gcloud")


def test_teardown_leaves_what_it_did_not_make(cloud):
    cloud.state["resources"]["firewall-rules/global/uniguard-allow-wg"] = {
        "name": "uniguard-allow-wg", "description": "the user's own"}
    cloud.save()
    cp = cloud.run("teardown")
    assert cp.returncode == 0
    assert "left alone" in cp.stderr
    assert cloud.verbs("delete") == []
    assert "firewall-rules/global/uniguard-allow-wg" in \
        cloud.load()["resources"]


def test_client_files_are_private_when_written(cloud, tmp_path):
    d = tmp_path / "clients"
    cp = cloud.run("deploy", "--client-dir", str(d))
    assert cp.returncode == 0, cp.stderr
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    for name in ("utun2", "laptop"):
        p = d / (name + ".conf")
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    utun2 = (d / "utun2.conf").read_text()
    # The user's own file, its key included, with the new Endpoint.
    assert "PrivateKey = 6G5U9fOiA5qVbWMlJ0wx05RiJhfvFj+b2Diit+EKW2o=" \
        in utun2
    assert "Endpoint = 203.0.113.7:51820" in utun2
    assert "34.35.212.58" not in utun2
    assert "PrivateKey" not in (d / "laptop.conf").read_text().replace(
        "private-key", "")
    assert "PrivateKey = " not in cp.stdout


def test_ops_config_for_the_same_binary(cloud, tmp_path):
    app = os.environ.get("UNIGUARD") or os.path.join(REPO, "build",
                                                     "uniguard")
    if not os.access(app, os.X_OK):
        pytest.skip("no uniguard binary (make)")
    out = tmp_path / "ops"
    cp = cloud.run("ops", "--out", str(out), "--gateway-app", app,
                   NANOS_DIR=nanos_tree(str(tmp_path / "nanos")))
    assert cp.returncode == 0, cp.stderr
    cfg = json.loads((out / "config.json").read_text())
    with open(os.path.join(SEED, "config.json")) as f:
        seed = json.load(f)
    assert cfg["CloudConfig"] == {"ProjectID": "my-cloud",
                                  "Zone": "us-west2-a",
                                  "BucketName": "my-bucket"}
    assert cfg["Args"] == seed["Args"] and cfg["Files"] == seed["Files"]
    assert cfg["RunConfig"]["UDPPorts"] == ["51820"]
    assert cfg["ManifestPassthrough"]["tun"]["wg"]["ipaddress"] == \
        "10.0.0.1"
    conf = out / "boringtun.conf"
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    # The seed's gateway plus the laptop: the seed's UAPI file, then one
    # more peer.
    with open(os.path.join(SEED, "boringtun.conf")) as f:
        want = f.read().rstrip("\n")
    got = conf.read_text()
    assert got.startswith(want)
    assert base64.b64decode(LAPTOP).hex() in got
    assert os.access(out / "uniguard", os.X_OK)
    assert cloud.calls() == []


def test_archive_of_another_guest_is_stale(cloud):
    cp = cloud.run("image", "--dry-run")
    assert cp.returncode == 0 and "up to date" in cp.stdout, cp.stdout
    cp = cloud.run("image", "--dry-run", "--guest", "linux")
    assert cp.returncode == 0
    assert "built for the nanos guest, not linux" in cp.stdout


def test_nanos_image_without_forwarding_kernel_fails(cloud, tmp_path):
    cp = cloud.run("image", "--rebuild", NANOS_DIR="",
                   HOME=str(tmp_path / "home"),
                   XDG_CACHE_HOME=str(tmp_path / "cache"))
    assert cp.returncode == 1
    assert "a stock ops kernel does not forward" in cp.stderr, cp.stderr
    assert cloud.calls() == []


@pytest.mark.parametrize("edit, why", [
    (("zone = us-west2-a", "zone = west"), "not a Compute Engine zone"),
    (("subnet = 10.0.0.0/24", "subnet = 10.0.0.0/24\nport = 51821"),
     "differs from ListenPort"),
    (("name = uniguard", "name = Uniguard_GW"), "not a valid resource"),
    (("address = 10.0.0.4/32", "address = 10.9.0.4/32"),
     "outside the VPN subnet"),
])
def test_config_mistakes_are_named(cloud, edit, why):
    with open(cloud.config) as f:
        text = f.read()
    with open(cloud.config, "w") as f:
        f.write(text.replace(*edit, 1))
    cp = cloud.run("deploy", "--dry-run")
    assert cp.returncode == 1 and why in cp.stderr, cp.stderr
    assert cloud.calls() == []


def set_machine_type(cloud, machine_type):
    with open(cloud.config) as f:
        text = f.read()
    assert "machine_type = e2-micro" in text
    with open(cloud.config, "w") as f:
        f.write(text.replace("machine_type = e2-micro",
                             "machine_type = " + machine_type, 1))


@pytest.mark.parametrize("guest, why", [
    ("nanos", "does not boot from NVMe in the lab"),
    ("linux", "has no gVNIC driver"),
])
def test_nvme_machine_type_is_refused_unless_asked_for(cloud, guest, why):
    set_machine_type(cloud, "c3-standard-4")
    cp = cloud.run("deploy", "--dry-run", "--guest", guest)
    assert cp.returncode == 1, cp.stdout
    assert "c3-standard-4 (series C3) attaches its boot disk over NVMe" \
        in cp.stderr, cp.stderr
    assert why in cp.stderr and "--allow-untested-machine-type" in cp.stderr
    assert cloud.calls() == []
    cp = cloud.run("deploy", "--dry-run", "--guest", guest,
                   "--allow-untested-machine-type")
    assert cp.returncode == 0, cp.stderr
    assert "warning: machine type c3-standard-4" in cp.stderr
    assert "--machine-type=c3-standard-4" in cp.stdout
    assert cloud.calls() == []


def test_nvme_machine_type_stops_a_real_deploy_before_any_call(cloud):
    set_machine_type(cloud, "n4-standard-2")
    cp = cloud.run("deploy")
    assert cp.returncode == 1 and "over NVMe" in cp.stderr, cp.stderr
    assert cloud.calls() == []


def test_arm_machine_type_is_refused_even_when_asked_for(cloud):
    set_machine_type(cloud, "t2a-standard-1")
    cp = cloud.run("deploy", "--dry-run", "--allow-untested-machine-type")
    assert cp.returncode == 1 and "is Arm" in cp.stderr, cp.stderr


@pytest.mark.parametrize("machine_type, warned", [
    ("e2-micro", False), ("n2-standard-2", False),
    ("custom-2-4096", False), ("a2-highgpu-1g", True)])
def test_tested_series_pass_unknown_ones_warn(cloud, machine_type, warned):
    set_machine_type(cloud, machine_type)
    cp = cloud.run("deploy", "--dry-run")
    assert cp.returncode == 0, cp.stderr
    assert ("warning: machine type %s: series" % machine_type
            in cp.stderr) == warned, cp.stderr


# ------------------------------------------ managed instance groups

def group_cmds(cp):
    """The commands of a dry run's plan, split."""
    return [shlex.split(l) for l in cp.stdout.splitlines()
            if l.startswith(("gcloud ", "gsutil "))]


def made(cloud):
    """(what, name) of each successful create of the group commands."""
    out = []
    for c in cloud.calls():
        a = c["argv"]
        if c["rc"] != 0:
            continue
        if c["tool"] == "gsutil" and a[0] == "cp":
            out.append(("objects", a[2]))
        elif a[:3] == ["compute", "health-checks", "create"]:
            out.append(("health-checks", a[4]))
        elif a[:4] == ["compute", "instance-groups", "managed", "create"]:
            out.append(("groups", a[4]))
        elif a[:4] == ["compute", "instance-groups", "managed",
                       "create-instance"]:
            out.append(("instances", [x for x in a if x.startswith(
                "--instance=")][0].split("=", 1)[1]))
        elif a[:4] == ["compute", "instance-groups", "managed",
                       "rolling-action"]:
            out.append(("rolling-update", a[5]))
        elif c["tool"] == "gcloud" and len(a) > 3 and a[2] == "create":
            out.append((a[1], a[3]))
    return out


def sha12(cloud):
    man = gce.read_manifest(cloud.load_config().artifact)
    return man["sha256"][:12]


def group_order(v, n):
    order = [("objects", "gs://my-bucket/uniguard-%s.tar.gz" % v),
             ("images", "uniguard-" + v),
             ("instance-templates", "uniguard-" + v)]
    order += [("addresses", "uniguard-ip-%d" % i) for i in range(n)]
    order += [("firewall-rules", "uniguard-allow-" + r)
              for r in ("wg", "vpn", "fwd", "hc")]
    order += [("health-checks", "uniguard-hc"), ("groups", "uniguard-group")]
    order += [("instances", "uniguard-%d" % i) for i in range(n)]
    order += [("routes", "uniguard-route-%d" % i) for i in range(n)]
    return order


def version_of(cloud):
    cfg = deploy_config.Config(cloud.config).resolve()
    return gce.read_manifest(cfg.artifact)["sha256"][:12]


LISTEN = "0.0.0.0:9586"


@pytest.fixture
def group_cloud(cloud):
    """The stand-in cloud with an archive built for a group: its gateway
    runs the operations listener the health check probes."""
    cfg = deploy_config.Config(cloud.config).resolve()
    gce.write_manifest(cfg.artifact, cfg.gateway, "nanos",
                       extra={"http": LISTEN})
    return cloud


@pytest.mark.parametrize("flags, n", [(["--ha"], 1),
                                      (["--gateways", "3"], 3)])
def test_group_dry_run_plan(group_cloud, flags, n):
    cloud = group_cloud
    cp = cloud.run("deploy", "--dry-run", *flags)
    assert cp.returncode == 0, cp.stderr
    assert cloud.calls() == [], "a dry run must not call gcloud or gsutil"
    cmds = group_cmds(cp)
    v = version_of(cloud)
    tpl = [c for c in cmds if c[:4] == ["gcloud", "compute",
                                        "instance-templates", "create"]][0]
    for flag in ("--can-ip-forward", "--tags=uniguard",
                 "--image=uniguard-" + v, "--network=uniguard-vpc",
                 "--subnet=uniguard-private", "--no-service-account"):
        assert flag in tpl, flag
    assert any(a.startswith("--metadata-from-file=uniguard-peers=")
               for a in tpl)
    hc = [c for c in cmds if c[:5] == ["gcloud", "compute", "health-checks",
                                       "create", "http"]][0]
    assert "--request-path=/healthz" in hc and "--port=9586" in hc
    grp = [c for c in cmds if c[:5] == ["gcloud", "compute",
                                        "instance-groups", "managed",
                                        "create"]][0]
    assert "--health-check=uniguard-hc" in grp
    assert "--template=uniguard-" + v in grp and "--size=0" in grp
    assert any(a.startswith("--initial-delay=") for a in grp)
    inst = [c for c in cmds if c[4:5] == ["create-instance"]]
    assert len(inst) == n
    for i, c in enumerate(inst):
        assert "--instance=uniguard-%d" % i in c
        assert ("--stateful-external-ip=address=projects/my-cloud/regions/"
                "us-west2/addresses/uniguard-ip-%d,interface-name=nic0,"
                "auto-delete=never" % i) in c
    routes = [c for c in cmds if c[2:4] == ["routes", "create"]]
    want = {1: ["10.0.0.0/24"],
            3: ["10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26"]}[n]
    assert [[a for a in r if a.startswith("--destination-range=")][0]
            .split("=")[1] for r in routes] == want
    assert ["--next-hop-instance=uniguard-%d" % i for i in range(n)] == [
        [a for a in r if a.startswith("--next-hop-instance=")][0]
        for r in routes]
    fw = [c for c in cmds if "uniguard-allow-hc" in c][0]
    assert "--rules=tcp:9586" in fw
    assert "--source-ranges=35.191.0.0/16,130.211.0.0/22" in fw
    # Every command is explained.
    assert cp.stdout.count("\n#    ") >= len([c for c in cmds
                                              if "create" in c[:5]])
    cloud.no_secrets()


def test_group_deploy_creates_each_once_and_prints_gateways(group_cloud):
    cloud = group_cloud
    cp = cloud.run("deploy", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    v = version_of(cloud)
    assert made(cloud) == group_order(v, 3)
    st = cloud.load()["resources"]
    grp = st["instance-groups/us-west2-a/uniguard-group"]
    assert grp["autoHealingPolicies"][0]["healthCheck"].endswith(
        "/healthChecks/uniguard-hc")
    assert grp["targetSize"] == 3
    for i in range(3):
        inst = st["instances/us-west2-a/uniguard-%d" % i]
        assert inst["canIpForward"] and inst["tags"]["items"] == ["uniguard"]
        assert inst["_address"] == "uniguard-ip-%d" % i
        peers = inst["metadata"]["items"][0]
        assert peers["key"] == "uniguard-peers"
        assert "PublicKey = " + LAPTOP in peers["value"]
        assert "PrivateKey" not in peers["value"]
    # Both clients lie in slice 0 (10.0.0.0/26): gateway 0's Endpoint.
    ip0 = st["addresses/us-west2/uniguard-ip-0"]["address"]
    assert cp.stdout.count("Endpoint = %s:51820" % ip0) == 2
    assert cp.stdout.count("(gateway uniguard-0)") == 2
    cp = cloud.run("deploy", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert made(cloud) == group_order(v, 3), "a re-run makes nothing"
    cloud.no_secrets()


@pytest.mark.parametrize("fail_at", [3, 10, 12])
def test_group_deploy_failure_half_way_then_resume(group_cloud, fail_at):
    cloud = group_cloud
    cp = cloud.run("deploy", "--gateways", "2",
                   FAKE_GCP_FAIL_CREATE=fail_at)
    assert cp.returncode == 1
    assert "run the same command again" in cp.stderr
    v = version_of(cloud)
    order = group_order(v, 2)
    assert made(cloud) == order[:fail_at - 1]
    assert "Endpoint" not in cp.stdout
    cp = cloud.run("deploy", "--gateways", "2")
    assert cp.returncode == 0, cp.stderr
    assert made(cloud) == order
    assert not any(c.get("duplicate") for c in cloud.calls())


def test_client_outside_every_slice_is_refused(group_cloud):
    cloud = group_cloud
    with open(cloud.config) as f:
        text = f.read()
    with open(cloud.config, "w") as f:
        f.write(text.replace("address = 10.0.0.4/32",
                             "address = 10.0.0.200/32"))
    cp = cloud.run("deploy", "--dry-run", "--gateways", "3")
    assert cp.returncode == 1
    assert "lies in no gateway's slice" in cp.stderr
    cp = cloud.run("deploy", "--dry-run", "--gateways", "4")
    assert cp.returncode == 0, cp.stderr


def rebuild_archive(cloud, tag):
    """A different archive for the same configuration: what a new
    uniguard binary gives."""
    cfg = deploy_config.Config(cloud.config).resolve()
    d = tempfile.mkdtemp(prefix="ug-test-")
    try:
        raw = tiny_disk(os.path.join(d, "disk.raw"))
        with open(raw, "r+b") as f:
            f.seek(4096)
            f.write(tag.encode())
        gce.pad_to_gib(raw)
        gce.package(raw, cfg.artifact)
    finally:
        shutil.rmtree(d)
    gce.write_manifest(cfg.artifact, cfg.gateway, "nanos",
                       extra={"http": LISTEN})


def test_update_dry_run_plan(group_cloud):
    cloud = group_cloud
    cp = cloud.run("update", "--dry-run", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert cloud.calls() == []
    cmds = group_cmds(cp)
    ru = [c for c in cmds if c[4:6] == ["rolling-action", "start-update"]]
    assert len(ru) == 1
    v = version_of(cloud)
    for flag in ("--version=template=uniguard-" + v, "--max-unavailable=1",
                 "--max-surge=0", "--replacement-method=recreate"):
        assert flag in ru[0], flag
    assert not [c for c in cmds if c[4:5] == ["create-instance"]]


def test_update_rolls_one_at_a_time_and_resumes(group_cloud):
    cloud = group_cloud
    assert cloud.run("deploy", "--gateways", "3").returncode == 0
    old = version_of(cloud)
    ips = {k: v["networkInterfaces"][0]["accessConfigs"][0]["natIP"]
           for k, v in cloud.load()["resources"].items()
           if k.startswith("instances/")}
    # Nothing new: the group runs this archive already.
    cp = cloud.run("update", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert "already set to uniguard-" + old in cp.stderr
    assert not [m for m in made(cloud) if m[0] == "rolling-update"]
    rebuild_archive(cloud, "new uniguard")
    new = version_of(cloud)
    assert new != old
    before = len(made(cloud))
    # Fails half-way: the image is made, its template is not.
    cp = cloud.run("update", "--gateways", "3",
                   FAKE_GCP_FAIL_CREATE=len(group_order(old, 3)) + 3)
    assert cp.returncode == 1 and "run the same command again" in cp.stderr
    assert made(cloud)[before:] == [
        ("objects", "gs://my-bucket/uniguard-%s.tar.gz" % new),
        ("images", "uniguard-" + new)]
    st = cloud.load()
    assert st["resources"]["instance-groups/us-west2-a/uniguard-group"][
        "instanceTemplate"].endswith("/uniguard-" + old)
    cp = cloud.run("update", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert made(cloud)[before:] == [
        ("objects", "gs://my-bucket/uniguard-%s.tar.gz" % new),
        ("images", "uniguard-" + new),
        ("instance-templates", "uniguard-" + new),
        ("rolling-update", "uniguard-group")]
    assert not any(c.get("duplicate") for c in cloud.calls())
    st = cloud.load()
    grp = st["resources"]["instance-groups/us-west2-a/uniguard-group"]
    assert grp["instanceTemplate"].endswith("/uniguard-" + new)
    assert grp["updatePolicy"]["maxUnavailable"] == {"fixed": 1}
    assert grp["updatePolicy"]["maxSurge"] == {"fixed": 0}
    assert st["recreated"] == ["uniguard-0", "uniguard-1", "uniguard-2"]
    for k, v in st["resources"].items():
        if k.startswith("instances/"):
            # Recreated from the new template, same name, same address.
            assert v["_template"] == "uniguard-" + new and v["_created"] == 2
            assert v["networkInterfaces"][0]["accessConfigs"][0][
                "natIP"] == ips[k]
    # The old template stays (a rollback is one more update away).
    assert "instance-templates/global/uniguard-" + old in st["resources"]


def test_update_needs_the_group(group_cloud):
    cloud = group_cloud
    cp = cloud.run("update", "--ha")
    assert cp.returncode == 1 and "deploy --ha" in cp.stderr
    assert made(cloud) == []


def test_group_teardown_removes_every_version(group_cloud):
    cloud = group_cloud
    assert cloud.run("deploy", "--gateways", "2").returncode == 0
    rebuild_archive(cloud, "new uniguard")
    assert cloud.run("update", "--gateways", "2").returncode == 0
    cp = cloud.run("teardown", "--gateways", "2")
    assert cp.returncode == 0, cp.stderr
    st = cloud.load()
    assert list(st["resources"]) == ["networks/global/uniguard-vpc"]
    assert st["objects"] == {}


@pytest.mark.parametrize("command", ["deploy", "update"])
def test_group_refuses_nvme_machine_types_too(group_cloud, command):
    cloud = group_cloud
    set_machine_type(cloud, "c3-standard-4")
    cp = cloud.run(command, "--dry-run", "--gateways", "2")
    assert cp.returncode == 1 and "over NVMe" in cp.stderr, cp.stderr
    assert cloud.calls() == []


def test_group_needs_a_gateway_with_the_listener(cloud, tmp_path):
    """An archive without the operations listener is rebuilt for a
    group, and a uniguard without --http is refused before any call:
    autohealing would recreate its gateways for ever."""
    old = tmp_path / "uniguard-old"
    old.write_text("#!/bin/sh\necho 'usage: uniguard [-f] [-c FILE] "
                   "IFNAME'\n")
    old.chmod(0o755)
    cp = cloud.run("deploy", "--dry-run", "--ha")
    assert cp.returncode == 0, cp.stderr
    assert "built without the operations listener" in cp.stdout
    cp = cloud.run("deploy", "--ha", "--gateway-app", str(old))
    assert cp.returncode == 1
    assert "need the operations listener" in cp.stderr, cp.stderr
    assert cloud.calls() == []


# ------------------------------------------------------- peers in metadata

def with_peers_attribute(cloud):
    """The configuration with [vpn] peers_attribute, and the archive's
    manifest as an image built for it (--peers-from) would have."""
    with open(cloud.config) as f:
        text = f.read()
    text = text.replace("private_ranges = 10.240.0.0/16\n",
                        "private_ranges = 10.240.0.0/16\n"
                        "peers_attribute = uniguard-peers\n")
    with open(cloud.config, "w") as f:
        f.write(text)
    cfg = deploy_config.Config(cloud.config).resolve()
    gce.write_manifest(cfg.artifact, cfg.gateway, "nanos",
                       {"peers_from": "gce-metadata:uniguard-peers"})
    return cfg


def attribute(cloud):
    inst = cloud.load()["resources"]["instances/us-west2-a/uniguard"]
    items = {i["key"]: i["value"] for i in
             inst.get("metadata", {}).get("items", [])}
    return items.get("uniguard-peers")


def wg_pubkey(private):
    return subprocess.run(["wg", "pubkey"], input=private + "\n",
                          capture_output=True, text=True,
                          check=True).stdout.strip()


def test_peer_add_list_remove_edit_the_attribute(cloud):
    cfg = with_peers_attribute(cloud)
    cp = cloud.run("peer", "list")
    assert cp.returncode == 1 and "does not exist" in cp.stderr
    assert cloud.run("deploy").returncode == 0

    cp = cloud.run("peer", "add", "alice")
    assert cp.returncode == 0, cp.stderr
    conf = cp.stdout
    priv = [l.split("=", 1)[1].strip() for l in conf.splitlines()
            if l.startswith("PrivateKey")][0]
    pub = wg_pubkey(priv)
    # The first free address: 10.0.0.1 is the gateway's, 10.0.0.3 the
    # seed client's, 10.0.0.4 the laptop's.
    assert "Address = 10.0.0.2/32" in conf
    assert "PublicKey = %s" % cfg.gateway["public_key"] in conf
    assert "Endpoint = 203.0.113.7:51820" in conf
    assert "AllowedIPs = 10.0.0.0/24,10.240.0.0/16" in conf
    text = attribute(cloud)
    assert "# peer: alice\n[Peer]\nPublicKey = %s\nAllowedIPs = " \
        "10.0.0.2/32\n" % pub in text
    # The private key stays here: in no call, in no state.
    assert priv not in json.dumps(cloud.calls())
    assert priv not in json.dumps(cloud.load())
    adds = [c for c in cloud.calls() if c["argv"][:3] ==
            ["compute", "instances", "add-metadata"]]
    assert len(adds) == 1 and any(a.startswith(
        "--metadata-from-file=uniguard-peers=") for a in adds[0]["argv"])

    cp = cloud.run("peer", "add", "bob")
    assert cp.returncode == 0 and "Address = 10.0.0.5/32" in cp.stdout
    assert cloud.run("peer", "add", "bob").returncode == 1
    assert cloud.run("peer", "add", "laptop").returncode == 1
    assert cloud.run("peer", "add", "no/such").returncode == 1
    cp = cloud.run("peer", "list")
    assert cp.returncode == 0
    names = [l.split()[0] for l in cp.stdout.splitlines()
             if not l.startswith("#")]
    assert names == ["alice", "bob"]

    assert cloud.run("peer", "remove", "alice").returncode == 0
    text = attribute(cloud)
    assert pub not in text and "# peer: bob" in text
    assert cloud.run("peer", "remove", "alice").returncode == 1
    # The gateway's parser takes what is left.
    assert "[Interface]" not in text and "PrivateKey" not in text
    cloud.no_secrets()


def test_peer_needs_the_attribute_configured(cloud):
    assert cloud.run("deploy").returncode == 0
    cp = cloud.run("peer", "add", "alice")
    assert cp.returncode == 1 and "peers_attribute" in cp.stderr
    cp = cloud.run("deploy", "alice")
    assert cp.returncode == 2


def test_group_peer_add_goes_to_the_least_loaded_gateway(group_cloud):
    cloud = group_cloud
    cfg = with_peers_attribute(cloud)
    gce.write_manifest(cfg.artifact, cfg.gateway, "nanos",
                       {"peers_from": "gce-metadata:uniguard-peers",
                        "http": LISTEN})
    cp = cloud.run("deploy", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    st = cloud.load()
    tpl = [v for k, v in st["resources"].items()
           if k.startswith("instance-templates/")][0]
    # The group's peers live in the project's attribute: the template
    # sets none that would shadow it.
    assert tpl["properties"]["metadata"]["items"] == []
    ip = {i: st["resources"]["addresses/us-west2/uniguard-ip-%d" % i][
        "address"] for i in range(3)}
    # utun2 and laptop are both in slice 0: loads 2/0/0.
    want = [("a", 1, "10.0.0.65"), ("b", 2, "10.0.0.129"),
            ("c", 1, "10.0.0.66")]
    keys_seen = []
    for name, gi, addr in want:
        cp = cloud.run("peer", "add", name, "--gateways", "3")
        assert cp.returncode == 0, cp.stderr
        assert "Address = %s/32" % addr in cp.stdout
        assert "Endpoint = %s:51820" % ip[gi] in cp.stdout
        assert "(gateway uniguard-%d;" % gi in cp.stdout
        keys_seen.append([l.split("=", 1)[1].strip() for l in
                          cp.stdout.splitlines()
                          if l.startswith("PrivateKey")][0])
    attr = cloud.load()["project_metadata"]["uniguard-peers"]
    assert attr.count("[Peer]") == 3 and "# peer: b" in attr
    cp = cloud.run("peer", "list", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert "uniguard-0 2, uniguard-1 2, uniguard-2 1" in cp.stdout
    assert cloud.run("peer", "remove", "b", "--gateways",
                     "3").returncode == 0
    cp = cloud.run("peer", "add", "d", "--gateways", "3")
    assert cp.returncode == 0, cp.stderr
    assert "Address = 10.0.0.129/32" in cp.stdout
    calls = json.dumps(cloud.calls())
    assert not any(k in calls for k in keys_seen), "a private key left"
