# SPDX-License-Identifier: MIT
"""make lab-bench without QEMU: the kernel-WireGuard gateway's wg-quick
file written from the gateway configuration the lab gives uniguard (read
back by the real wg-quick), the report's medians, ratios and the verdict
on issue 18's lab target, and the iperf3 measures it shares with make
bench (ugtools.iperf) against a real iperf3 in a namespace."""

import os
import re
import shutil
import subprocess

import pytest

from deploy_support import lab_module
from ugtools import iperf, keys, wgquick

images = lab_module("images")
bench_report = lab_module("bench_report")
LabError = lab_module("util").LabError


@pytest.fixture(scope="session", autouse=True)
def lab_session():
    """Only the iperf3 test needs root and namespaces; it says so."""
    yield


def gateway_file(pub, extra_keys=()):
    """The uniguard gateway's file as the lab writes it, with the client
    pub, and the gateway's own keys when asked."""
    text = images.gateway_ini([(pub, "10.0.0.30/32")])
    return wgquick.add_to_interface(text, list(extra_keys))


def wg_quick_strip(tmp_path, text):
    """What wg-quick itself hands to `wg setconf` for the file."""
    if not shutil.which("wg-quick"):
        pytest.skip("wg-quick (wireguard-tools) is missing")
    path = tmp_path / "wg0.conf"
    path.write_text(text)
    path.chmod(0o600)
    cp = subprocess.run(["wg-quick", "strip", str(path)],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    return cp.stdout


def test_kernel_gateway_file_is_the_gateway_file_less_uniguards_keys(
        tmp_path):
    _, pub = keys.keypair()
    plain = gateway_file(pub)
    full = gateway_file(pub, [("HTTP", "0.0.0.0:9586"),
                              ("PeersFrom", "gce-metadata"),
                              ("logcounters", "60")])
    kernel = images.kernel_gateway_ini(full)
    iface = wgquick.interface(kernel)
    assert [k for k, _ in iface] == ["Address", "PrivateKey", "ListenPort"]
    assert wgquick.get(iface, "Address") == "10.0.0.1/24"
    assert wgquick.get(iface, "PrivateKey") == wgquick.get(
        wgquick.interface(full), "PrivateKey")
    peers = [p for s, p in wgquick.sections(kernel) if s == "peer"]
    assert peers == [p for s, p in wgquick.sections(full) if s == "peer"]
    # The seed's two peers and the lab's client.
    assert len(peers) == 3 and wgquick.get(peers[-1], "PublicKey") == pub
    # Without uniguard's keys the file is the same as the plain one.
    assert kernel == images.kernel_gateway_ini(plain)
    # wg-quick reads it, and hands the kernel exactly the key, port and
    # peers of the gateway's file; uniguard's keys would reach `wg setconf`
    # (which refuses them) if they were left in.
    stripped = wg_quick_strip(tmp_path, kernel)
    assert "HTTP" not in stripped and "PeersFrom" not in stripped
    assert stripped == wg_quick_strip(tmp_path, plain)
    assert "HTTP" in wg_quick_strip(tmp_path, full)
    assert stripped.count("[Peer]") == 3
    assert "ListenPort = 51820" in stripped


def test_kernel_gateway_file_leaves_out_every_key_only_uniguard_reads():
    """The keys dropped are the configuration parser's own list of
    uniguard's keys (core/wgconf.c), so a new one cannot slip through."""
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "core", "wgconf.c")) as f:
        found = re.findall(r'\{ "(\w+)", IFACE, OWNER_GATEWAY', f.read())
    assert found and sorted(found) == sorted(images.GATEWAY_ONLY_KEYS)


@pytest.mark.parametrize("text", [
    "[Peer]\nPublicKey = x\n",
    "[Interface]\nListenPort = 1\n",
])
def test_kernel_gateway_file_needs_an_interface_with_a_key(text):
    with pytest.raises(LabError):
        images.kernel_gateway_ini(text)


def runs(**figures):
    """runs[gateway][measure] from gateway=(tcp1, tcp4, udp) lists; the
    UDP search's full-speed probe delivered twice the loss-free rate."""
    r = bench_report.new_runs()
    for g, (t1, t4, u) in figures.items():
        r[g]["tcp1"], r[g]["tcp4"], r[g]["udp1400"] = t1, t4, u
        r[g]["udp1400_top"] = [x and 2 * x for x in u]
    return r


def test_medians_with_min_max_and_ratios_to_the_kernel_gateway():
    s = bench_report.summarize(runs(
        nanos=([40, 60, 50], [30, 30, 33], [20, 25, 21]),
        linux=([80, 90, 100], [60, 70, 80], [40, 50, 60]),
        kernel=([100, 95, 105], [60, 61, 59], [50, 50, 50])))
    assert s["nanos"]["tcp1"]["median"] == 50
    assert (s["nanos"]["tcp1"]["min"], s["nanos"]["tcp1"]["max"]) == (40, 60)
    assert bench_report.ratio(s["nanos"]["tcp1"], s["kernel"]["tcp1"]) == 0.5
    assert bench_report.ratio(s["linux"]["udp1400"],
                              s["kernel"]["udp1400"]) == 1.0
    table = bench_report.table(s).splitlines()
    assert table[0] == ("| measure | uniguard on Nanos | uniguard on the "
                        "Linux guest | kernel WireGuard on the Linux guest |")
    assert table[1] == "|---|---|---|---|"
    assert table[2] == ("| TCP, 1 stream (Mbit/s) | 50 (40–60), ×0.50 | "
                        "90 (80–100), ×0.90 | 100 (95–105), ×1.00 |")
    assert table[4].startswith("| UDP 1400 B loss-free (Mbit/s) | "
                               "21 (20–25), ×0.42 |")
    assert table[5].startswith("| UDP 1400 B at full speed, delivered "
                               "(Mbit/s) | 42 (40–50), ×0.42 |")
    assert len(table) == 6


def test_target_met_only_when_nanos_is_at_least_the_kernel_on_each():
    met = bench_report.target(bench_report.summarize(runs(
        nanos=([100], [60], [50]), linux=([1], [1], [1]),
        kernel=([100], [59], [40]))))
    assert met["met"] is True
    line = bench_report.target_line(met)
    assert ": MET;" in line
    assert "TCP, 1 stream: Nanos 100, kernel 100 Mbit/s (×1.00)" in line
    missed = bench_report.target(bench_report.summarize(runs(
        nanos=([100], [60], [39]), linux=([1], [1], [1]),
        kernel=([100], [59], [40]))))
    assert missed["met"] is False
    assert ": NOT MET;" in bench_report.target_line(missed)
    assert "UDP 1400 B loss-free: Nanos 39, kernel 40 Mbit/s (×0.97)" in \
        bench_report.target_line(missed)
    # What the full-speed probe got through is shown, not judged.
    assert "full speed" not in bench_report.target_line(missed)
    r = runs(nanos=([100], [60], [50]), linux=([1], [1], [1]),
             kernel=([100], [59], [40]))
    r["nanos"]["udp1400_top"] = [1]
    assert bench_report.target(bench_report.summarize(r))["met"] is True


def test_a_missing_figure_is_neither_met_nor_not_met():
    r = runs(nanos=([100], [60], []), linux=([1], [1], [1]),
             kernel=([10], [10], [10]))
    s = bench_report.summarize(r)
    t = bench_report.target(s)
    assert t["met"] is None
    assert "UDP 1400 B loss-free: not measured" in \
        bench_report.target_line(t)
    assert "| UDP 1400 B loss-free (Mbit/s) | - |" in bench_report.table(s)
    assert "**not measured**" in bench_report.markdown(s, {"rounds": 1})


def test_results_file_says_how_it_was_measured():
    s = bench_report.summarize(runs(
        nanos=([50], [50], [50]), linux=([60], [60], [60]),
        kernel=([40], [40], [40])))
    text = bench_report.markdown(s, {
        "date": "2026-12-06 11:00", "qemu": "7.2.19", "rounds": 3,
        "client": "wg-quick + wireguard-go", "cpu": "a CPU", "cpus": 2,
        "load_start": [1.0, 1.0, 1.0], "load_end": [2.0, 2.0, 2.0],
        "seconds": 600, "notes": ["uniguard on Nanos: the seed's Args"]})
    assert text.startswith("# make lab-bench, 2026-12-06 11:00\n")
    assert "QEMU 7.2.19, TCG" in text and "3 rounds" in text
    assert "load average 1.00 1.00 1.00 at the start and 2.00 2.00 " \
        "2.00 at the end; 600 s in all." in text
    assert bench_report.table(s) in text
    assert "**met**" in text
    assert "Gateways: uniguard on Nanos: the seed's Args." in text
    assert "Left out" not in text
    text = bench_report.markdown(s, {"left_out": [
        "round 2, uniguard on Nanos, UDP 1400 B: timed out"]})
    assert "\n- round 2, uniguard on Nanos, UDP 1400 B: timed out\n" in text


def test_a_left_out_figure_leaves_the_median_to_the_other_rounds():
    s = bench_report.summarize(runs(
        nanos=([40, None, 60], [None, None, None], [1, 2, 3]),
        linux=([1], [1], [1]), kernel=([50], [50], [50])))
    assert s["nanos"]["tcp1"] == {"median": 50, "min": 40, "max": 60,
                                  "runs": [40, 60]}
    assert s["nanos"]["tcp4"] is None
    assert bench_report.target(s)["met"] is None


class Spawner:
    """The integration lab as ugtools.iperf.Iperf starts its server."""

    def __init__(self, lab, ns):
        self.lab, self.ns = lab, ns

    def spawn(self, ns_name, name, argv):
        assert ns_name == self.ns.name
        return self.lab.spawn(self.ns, name, argv)

    def stop(self, proc):
        proc.stop()


class Quick:
    udp_secs = 1
    udp_steps = 2


def test_shared_iperf_measures_against_a_real_iperf3(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root for a network namespace")
    if not shutil.which("iperf3"):
        pytest.skip("iperf3 is missing")
    import uglab
    lab = uglab.Lab(tmp_path)
    try:
        ns = lab.netns("iperf")
        server = iperf.Iperf(Spawner(lab, ns), ns.name, "127.0.0.1")
        try:
            tcp = iperf.tcp_run(server, ns.name, 2, 1, [])
            assert tcp["gbps"] > 0 and tcp["bytes"] > 0
            udp = iperf.udp_search(server, ns.name, 1400, Quick)
            assert udp["mbps"] > 0 and udp["pps"] > 0
            # The full-speed probe first, then the bisection's, if any.
            assert udp["probes"][0]["rate"] == 0
            assert len(udp["probes"]) in (1, 1 + Quick.udp_steps)
            probe = iperf.udp_probe(server, ns.name, 1400, 10e6, 1)
            # 10 Mbit/s of 1372-byte payloads for a second: about 911.
            assert 800 <= probe["packets"] <= 1000, probe
            assert probe["loss"] <= iperf.LOSS_FREE
        finally:
            server.close()
    finally:
        lab.close()


def test_every_lab_vm_has_one_vcpu_and_room_for_a_second(monkeypatch):
    """With one possible vCPU, QEMU before 8.1 drops the guest's memory
    barriers and the Nanos gateway's NIC stalls under load (docs/lab.md,
    "The Nanos receive stall")."""
    vm = lab_module("vm")
    monkeypatch.setattr(vm, "qemu_binary", lambda: "qemu-system-x86_64")
    # VM.argv builds -smp once, for whatever disk, NIC or machine.
    v = vm.VM("gateway", "ns", "/d/gw.img", "gw0", "52:54:00:0a:f0:0a",
              "/run")
    v.console = "/run/console.log"  # VM.start names it
    argv = v.argv()
    assert argv.count("-smp") == 1
    assert argv[argv.index("-smp") + 1] == "1,maxcpus=2", argv
