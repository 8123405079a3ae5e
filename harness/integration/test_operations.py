# SPDX-License-Identifier: MIT
"""The operations listener (--http): /healthz and /metrics against a
gateway with a real client, and the bad input it must shrug off.

A uniguard gateway (a) and a wireguard-go client (b) on one veth link; the
listener is on the gateway's outer address, and every HTTP client here
(the test's own sockets, the hostile ones of ops_flood.py, Prometheus)
runs in the client's namespace, as a load balancer or a scraper would
reach it from the network.

- /healthz: 200 with a key, a bound socket and the interface up; 503 and
  the reason without a key or with the interface down.
- /metrics: what a client sent, as the gateway's own `wg show` and the
  client count it; `promtool check metrics` finds nothing to say; a real
  Prometheus server scrapes it and its query API gives the same bytes.
- Bad input: heads over every limit, requests that never finish, and a
  connection flood. Through each the tunnel keeps forwarding, the gateway's
  memory stays flat, and health checks are still answered.

Run with `pytest -s` to see the figures (the OPS: lines).
"""

import ctypes
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

import uglab
from uglab import INNER4, OUTER4, Pair
from ugtools import procstat

HERE = os.path.dirname(os.path.abspath(__file__))
FLOOD = os.path.join(HERE, "ops_flood.py")
HTTP_PORT = 9586
# What the listener holds at once and how long it waits for a request
# (daemon/ops_http.h).
CONNS_MAX = 16
READ_TIMEOUT = 5.0
# The listener's memory is fixed but for the answers in flight: a flood
# may cost it no more than this (glibc's arena for its thread included).
RSS_GROWTH_MAX_KB = 1024

_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNET = 0x40000000


def ns_socket(ns, family=socket.AF_INET):
    """A TCP socket in namespace ns, made by a thread that enters it (the
    socket stays there; the test's own thread never moves)."""
    made = {}

    def make():
        fd = os.open("/var/run/netns/" + ns.name, os.O_RDONLY)
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                made["error"] = OSError(ctypes.get_errno(), "setns")
                return
            made["sock"] = socket.socket(family, socket.SOCK_STREAM)
        finally:
            os.close(fd)
    t = threading.Thread(target=make)
    t.start()
    t.join()
    if "error" in made:
        raise made["error"]
    return made["sock"]


def http_raw(ns, addr, port, request, timeout=5):
    """Sends request whole and reads the answer to its end: (status,
    {field: value}, body)."""
    s = ns_socket(ns)
    try:
        s.settimeout(timeout)
        s.connect((addr, port))
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    assert int(fields["content-length"]) == len(body), (fields, body)
    return status, fields, body.decode()


def http_get(ns, addr, path, port=HTTP_PORT, timeout=5):
    return http_raw(ns, addr, port, ("GET %s HTTP/1.1\r\nHost: %s\r\n"
                                     "Connection: close\r\n\r\n"
                                     % (path, addr)).encode(),
                    timeout=timeout)


def parse_metrics(text):
    """{(name, ((label, value), ...)): value} of a text exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, "not a sample line: %r" % line
        labels = tuple(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def rss_kb(pid):
    return int(procstat.status(pid)["VmRSS"][0])


def sanitized(pid):
    """Whether the daemon runs under AddressSanitizer, whose quarantine
    keeps freed memory: its RSS says nothing about growth then."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def assert_rss_flat(site, before, after, summary):
    if sanitized(site.gw.process.pid):
        return
    assert after - before <= RSS_GROWTH_MAX_KB, summary


class Site:
    """The gateway with its listener, and the client that reaches both."""

    def __init__(self, lab, extra_args=()):
        self.lab = lab
        self.pair = Pair(lab, "uniguard", "wireguard-go",
                         args_a=["--http", "%s:%d" % (OUTER4[0], HTTP_PORT)]
                         + list(extra_args))
        self.gw = self.pair.a
        self.client_ns = self.pair.nsb
        self.gw_ns = self.pair.nsa

    def get(self, path, timeout=5):
        return http_get(self.client_ns, OUTER4[0], path, timeout=timeout)

    def metrics(self):
        status, fields, body = self.get("/metrics")
        assert status == 200, (status, body)
        assert fields["content-type"].startswith(
            "text/plain; version=0.0.4"), fields
        return body

    def hostile(self, mode, *args):
        return self.client_ns.popen(
            "ops-" + mode, [sys.executable, FLOOD, mode, "--addr", OUTER4[0],
                            "--port", HTTP_PORT] + [str(a) for a in args])

    def rss(self):
        return rss_kb(self.gw.process.pid)

    def warm_up(self):
        """Every page served a few times, so that what is measured next is
        growth, not the first allocations."""
        for _ in range(5):
            self.metrics()
            assert self.get("/healthz")[0] == 200
        self.client_ns.ping_ok(INNER4[0])


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory):
    """One gateway and client for the bad-input tests, which leave them as
    they found them (each measures its own RSS before and after); set up
    once to keep the suite short."""
    the_lab = uglab.Lab(tmp_path_factory.mktemp("ops"))
    site = None
    try:
        site = Site(the_lab)
        site.warm_up()
        start_iperf_server(site)
        yield site
        assert site.gw.process.alive(), site.gw.process.log()[-8000:]
    finally:
        leaks = uglab.leaked_secrets(site.gw.process.log()) if site else []
        the_lab.close()
        uglab.SECRETS.clear()
    assert not leaks, "keys in the log: %s" % leaks


def result_of(proc, timeout=60):
    """The JSON line a helper prints when it ends."""
    rc = proc.popen.wait(timeout=timeout)
    lines = [line for line in proc.log().splitlines() if line.startswith("{")]
    assert rc == 0 and lines, "%s failed (%s):\n%s" % (proc.name, rc,
                                                       proc.log())
    return json.loads(lines[-1])


def ping_during(ns, seconds):
    """Pings the gateway's inner address every 0.1 s for seconds; the
    number (sent, received)."""
    count = int(seconds / 0.1)
    res = ns.exec("ping", "-n", "-q", "-c", count, "-i", "0.1", "-W", 1,
                  INNER4[0], check=False, timeout=seconds + 30)
    m = re.search(r"(\d+) packets transmitted, (\d+) received", res.stdout)
    assert m, res.stdout + res.stderr
    return int(m.group(1)), int(m.group(2))


def iperf_mbit(site, seconds=2):
    """TCP throughput client -> gateway through the tunnel, Mbit/s."""
    res = site.client_ns.exec("iperf3", "-c", INNER4[0], "-p", 5201, "-t",
                              seconds, "-J", check=False,
                              timeout=seconds + 60)
    try:
        return json.loads(res.stdout)["end"]["sum_received"][
            "bits_per_second"] / 1e6
    except (ValueError, KeyError):
        raise AssertionError("iperf3 failed: %s%s" % (res.stdout[-2000:],
                                                       res.stderr))


def start_iperf_server(site):
    site.gw_ns.popen("iperf3-server", ["iperf3", "-s", "-p", 5201])
    uglab.wait_until(lambda: site.client_ns.exec(
        "iperf3", "-c", INNER4[0], "-p", 5201, "-t", 1,
        check=False).returncode == 0, timeout=20, what="the iperf3 server")


def client_sent_all(site):
    """Waits until the gateway has received all the client sent, and
    stays so; (gateway's view of the client, client's view of the
    gateway)."""
    pair = site.pair
    last = []

    def settled():
        views = pair.counters()
        last.append((views[0].rx, views[1].tx, views[0].tx))
        if len(last) >= 3 and last[-1] == last[-2] == last[-3] and \
                views[0].rx == views[1].tx:
            return views
        return None
    return uglab.wait_until(settled, timeout=10, interval=0.2,
                            what="the client's bytes to arrive (%s)" % last)


PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: uniguard
    static_configs:
      - targets: ["%s:%d"]
"""


def start_prometheus(site, tmp_path):
    """Debian's Prometheus in the client's namespace, scraping the
    gateway every second; its API on 127.0.0.1:9090 there."""
    assert uglab.which("prometheus"), "Debian's prometheus missing"
    conf = site.lab.write_file("prometheus.yml", PROMETHEUS_CONFIG
                               % (OUTER4[0], HTTP_PORT), mode=0o644)
    return site.client_ns.popen("prometheus", [
        "prometheus", "--config.file", conf,
        "--storage.tsdb.path", str(tmp_path / "tsdb"),
        "--web.listen-address", "127.0.0.1:9090", "--log.level", "warn"])


def prometheus_query(site, expr):
    """The result list of an instant query, or None while it cannot
    answer."""
    try:
        status, _, body = http_get(site.client_ns, "127.0.0.1",
                                   "/api/v1/query?query=" + expr, port=9090)
    except OSError:
        return None
    if status != 200:
        return None
    return json.loads(body)["data"]["result"]


def test_metrics_count_what_the_client_sent(lab, tmp_path):
    site = Site(lab)
    # First, as its discovery hands the target over after about 5 s.
    prom = start_prometheus(site, tmp_path)
    status, _, body = site.get("/healthz")
    assert (status, body) == (200, "ok\n")

    # A known amount each way, then nothing in flight: what the client
    # sent has all arrived. (Not the other way: the client may drop some
    # of what the gateway sends it, and then counts it nowhere.)
    uglab.tcp_transfer(site.gw_ns, site.client_ns, INNER4[0], up=1 << 20,
                       down=1 << 16)
    gw_view, client_view = client_sent_all(site)
    text = site.metrics()
    m = parse_metrics(text)
    key = (("public_key", site.pair.b.public_key),)
    received = m[("uniguard_peer_received_bytes_total", key)]
    sent = m[("uniguard_peer_sent_bytes_total", key)]
    summary = "metrics rx %d tx %d, wg show rx %d tx %d, client tx %d rx " \
              "%d" % (received, sent, gw_view.rx, gw_view.tx, client_view.tx,
                      client_view.rx)
    print("OPS: " + summary)
    assert received == gw_view.rx == client_view.tx, summary
    assert sent == gw_view.tx >= client_view.rx, summary
    assert received > 1 << 20 and sent > 1 << 16, summary
    assert m[("uniguard_peer_handshakes_total", key)] >= 1
    assert m[("uniguard_peer_last_handshake_timestamp_seconds", key)] == \
        gw_view.latest_handshake
    assert m[("uniguard_peers", ())] == 1
    assert m[("uniguard_sessions", ())] == 1
    assert m[("uniguard_build_info", (("version", "0.1.0"),))] == 1
    assert m[("uniguard_uptime_seconds", ())] >= 0
    stats = site.gw.stats()
    assert m[("uniguard_handshakes_completed_total", ())] == \
        stats["handshakes_completed"]
    assert m[("uniguard_packets_dropped_total", (("reason", "replay"),))] == \
        stats["drop_replay"]
    assert m[("uniguard_handshakes_shed_total", ())] == \
        stats["handshakes_shed"]
    # Labelled by public key only: no endpoint, no allowed IPs.
    assert OUTER4[1] not in text and INNER4[1] not in text

    assert uglab.which("promtool"), "promtool (Debian's prometheus) missing"
    res = subprocess.run(["promtool", "check", "metrics"], input=text,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and not res.stdout.strip() and \
        not res.stderr.strip(), res.stdout + res.stderr

    # A real Prometheus server scraped the same bytes.
    seen = []

    def scraped():
        assert prom.alive(), prom.log()
        result = prometheus_query(site, "uniguard_peer_received_bytes_total")
        seen[:] = [result]
        for series in result or ():
            if series["metric"].get("public_key") == \
                    site.pair.b.public_key and \
                    int(float(series["value"][1])) == received:
                return series
        return None
    t0 = time.monotonic()
    try:
        series = uglab.wait_until(scraped, timeout=20, interval=0.5,
                                  what="Prometheus to scrape %d bytes"
                                  % received)
    except AssertionError as e:
        raise AssertionError("%s; it answered %s" % (e, seen)) from None
    print("OPS: Prometheus had the %d bytes %.1f s after our scrape"
          % (received, time.monotonic() - t0))
    assert series["metric"]["job"] == "uniguard"
    up = prometheus_query(site, "up")
    assert up and up[0]["value"][1] == "1", up


def test_healthz_says_why_not(lab):
    ns = lab.netns("gw")
    peer_ns = lab.netns("hc")
    lab.veth(ns, peer_ns, [OUTER4[0] + "/24"], [OUTER4[1] + "/24"])
    gw = lab.uniguard(ns, args=["--http", "%s:%d" % (OUTER4[0], HTTP_PORT)])

    def health():
        status, _, body = http_get(peer_ns, OUTER4[0], "/healthz")
        return status, body.strip()

    assert health() == (503, "no private key")
    gw.configure()
    assert health() == (503, "the interface is down")
    gw.up(INNER4[0] + "/24")
    assert health() == (200, "ok")
    gw.link_ns.ip("link", "set", gw.ifname, "down")
    assert health() == (503, "the interface is down")
    gw.link_ns.ip("link", "set", gw.ifname, "up")
    assert health() == (200, "ok")
    gw.set("private-key", "/dev/null")
    assert health() == (503, "no private key")


def test_config_file_keys_and_counters_line(lab):
    ns = lab.netns("gw")
    peer_ns = lab.netns("hc")
    lab.veth(ns, peer_ns, [OUTER4[0] + "/24"], [OUTER4[1] + "/24"])
    conf = lab.write_file("gw.conf", "[Interface]\nPrivateKey = %s\n"
                          "Address = %s/24\nHTTP = %s:%d\nLogCounters = 1\n"
                          % (uglab.genkey(), INNER4[0], OUTER4[0], HTTP_PORT))
    gw = lab.uniguard(ns, config=conf)
    status, _, body = http_get(peer_ns, OUTER4[0], "/healthz")
    assert (status, body) == (200, "ok\n")
    uglab.wait_until(lambda: gw.process.log().count("counters: peers=0 "
                                                    "sessions=0") >= 2,
                     timeout=5, what="two counters lines, a second apart")

    # The command line wins over the file: no line for a while.
    gw.stop()
    gw = lab.uniguard(ns, config=conf, args=["--log-counters", "0",
                                             "--http", "%s:%d" % (
                                                 OUTER4[0], HTTP_PORT + 1)])
    status, _, _ = http_get(peer_ns, OUTER4[0], "/healthz",
                            port=HTTP_PORT + 1)
    assert status == 200
    time.sleep(1.5)
    assert "counters:" not in gw.process.log()

    # A bad value names its line and key; nothing starts.
    bad = lab.write_file("bad.conf", "[Interface]\nPrivateKey = %s\n"
                         "HTTP = localhost:http\n" % uglab.genkey())
    res = ns.exec(uglab.uniguard_binary(), "-f", "-c", bad, lab.ifname(),
                  check=False, timeout=10)
    assert res.returncode == 1, res
    assert "bad.conf:3: HTTP: `localhost:http' is not a numeric ADDR:PORT" \
        in res.stderr, res.stderr
    res = ns.exec(uglab.uniguard_binary(), "-f", "--http", "9586",
                  lab.ifname(), check=False, timeout=10)
    assert res.returncode == 2 and "--http" in res.stderr, res


def test_requests_over_the_limits(bad_site):
    site = bad_site
    rss_before = site.rss()
    answers = result_of(site.hostile("oversized", "--seconds", 1))
    rss_after = site.rss()
    print("OPS: oversized: %s, RSS %d -> %d kB" % (answers, rss_before,
                                                   rss_after))
    assert answers["request_line"] == "HTTP/1.1 414 URI Too Long"
    assert answers["field"] == "HTTP/1.1 431 Request Header Fields Too Large"
    assert answers["fields"] == "HTTP/1.1 431 Request Header Fields Too Large"
    assert answers["body"] == "HTTP/1.1 405 Method Not Allowed"
    assert answers["get_body"] == "HTTP/1.1 413 Content Too Large"
    assert answers["binary"] == "HTTP/1.1 400 Bad Request"
    assert answers["rounds"] >= 1
    assert_rss_flat(site, rss_before, rss_after, (rss_before, rss_after))

    status, fields, _ = http_raw(site.client_ns, OUTER4[0], HTTP_PORT,
                                 b"DELETE /metrics HTTP/1.1\r\nHost: x\r\n"
                                 b"\r\n")
    assert status == 405 and fields["allow"] == "GET"
    assert site.get("/")[0] == 404
    assert site.get("/metrics/../healthz")[0] == 404
    site.client_ns.ping_ok(INNER4[0])
    assert site.gw.process.alive()


def test_requests_that_never_finish(bad_site):
    site = bad_site
    rss_before = site.rss()
    conns = 4 * CONNS_MAX
    slow = site.hostile("slowloris", "--conns", conns, "--seconds",
                        READ_TIMEOUT + 1.5, "--interval", 0.5)
    # The slots are full of unfinished requests: health checks still get
    # through (each takes the slot of the one waiting longest), and so
    # does the tunnel.
    time.sleep(1)
    answered = 0
    for _ in range(5):
        status, _, _ = site.get("/healthz")
        answered += status == 200
        time.sleep(0.2)
    sent, received = ping_during(site.client_ns, 2)
    result = result_of(slow)
    rss_after = site.rss()
    summary = "slowloris %s, health checks %d/5, pings %d/%d, RSS %d -> " \
              "%d kB" % (result, answered, received, sent, rss_before,
                         rss_after)
    print("OPS: " + summary)
    # Every one of them was cut off by its deadline or by eviction.
    assert result["still_open"] == 0, summary
    assert result["timed_out"] + result["closed"] == conns, summary
    assert answered == 5, summary
    assert received >= 0.9 * sent, summary
    assert_rss_flat(site, rss_before, rss_after, summary)


def test_connection_flood(bad_site):
    site = bad_site
    before_mbit = iperf_mbit(site)
    rss_before = site.rss()
    flood = site.hostile("flood", "--seconds", 6, "--idle", 200)
    time.sleep(0.5)
    during_mbit = iperf_mbit(site)
    sent, received = ping_during(site.client_ns, 2)
    checks = []
    for _ in range(5):
        try:
            checks.append(site.get("/healthz", timeout=2)[0])
        except OSError as e:
            checks.append(str(e))
    flooding = flood.alive()
    answered = checks.count(200)
    result = result_of(flood)
    rss_after = site.rss()
    after_checks = [site.get("/healthz")[0] for _ in range(3)]
    summary = "flood %s; iperf3 %.0f Mbit/s before, %.0f during; pings " \
              "%d/%d; health checks during %s, after %s; RSS %d -> %d kB" % (
                  result, before_mbit, during_mbit, received, sent, checks,
                  after_checks, rss_before, rss_after)
    print("OPS: " + summary)
    assert flooding, "the flood ended before the checks: " + summary
    # Many times the slots, however busy the machine is.
    assert result["connections"] > 60 * CONNS_MAX, summary
    assert site.gw.process.alive(), summary
    assert during_mbit >= 0.1 * before_mbit, summary
    assert received >= 0.9 * sent, summary
    # A health check may lose its slot to the flood (it is the newest
    # connection then, not the oldest), but not every time.
    assert answered >= 1, summary
    assert after_checks == [200, 200, 200], summary
    assert_rss_flat(site, rss_before, rss_after, summary)
