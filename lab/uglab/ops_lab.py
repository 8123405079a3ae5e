# SPDX-License-Identifier: MIT
"""Scenario operations: gateway 1's operations listener (ha_lab runs it
with --http 0.0.0.0:9586) seen from the VPC, where a load balancer's
health checker and a Prometheus server would reach it from.

- GET /healthz answers 200;
- Debian's Prometheus, run in the VPC's namespace with a temporary
  configuration and storage (its API on 127.0.0.1 there), scrapes
  /metrics every second while gateway 1's client c5 sends a known amount
  through the tunnel to the private host;
- the bytes Prometheus scraped as received from c5's public key grew by
  exactly what c5's own WireGuard says it sent meanwhile;
- `promtool check metrics` finds nothing to say about /metrics.

Byte counts are compared as the growth over one window, so that the
scenario means the same after gateway 1 restarted (ha-restart) as on a
fresh gateway.  Nothing leaves the lab's namespaces: every HTTP request
is made inside uglab-vpc, without any proxy."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

from . import ha_lab
from .clients import parse_ping
from .topology import HOST_IP, NS_VPC
from .util import detail, end_group, now, run, write_file

TARGET = "%s:%d" % (ha_lab.GATEWAYS[1][0], ha_lab.HTTP_PORT)
PROM_LISTEN = "127.0.0.1:9090"
SCRAPE_INTERVAL = 1
# The known amount: PINGS echo requests of PING_SIZE bytes of payload.
PINGS = 20
PING_SIZE = 1000
RX_METRIC = "uniguard_peer_received_bytes_total"

PROMETHEUS_CONFIG = """\
global:
  scrape_interval: %(i)ds
  scrape_timeout: %(i)ds
scrape_configs:
  - job_name: uniguard
    static_configs:
      - targets: ["%(target)s"]
"""

# One GET from inside a namespace: status and body as JSON on stdout.
# No proxy from the environment: the request stays in the namespace.
HTTP_GET = r"""
import json, sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    with opener.open(sys.argv[1], timeout=float(sys.argv[2])) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
except OSError as e:
    status, body = None, str(e).encode()
print(json.dumps({"status": status,
                  "body": body.decode("utf-8", "replace")}))
"""


class Failed(Exception):
    """The scenario's failure, in one line."""


def http_get(url, timeout=5):
    """GET url from the VPC's namespace: (status or None, body)."""
    cp = run([sys.executable, "-c", HTTP_GET, url, str(timeout)], ns=NS_VPC,
             timeout=timeout + 10, quiet=True)
    answer = json.loads(cp.stdout)
    return answer["status"], answer["body"]


def wire_bytes(payload):
    """Bytes of the WireGuard data message that carries one IPv4 echo
    request of payload bytes: a 16-byte header, the packet padded to a
    multiple of 16, a 16-byte tag."""
    inner = 20 + 8 + payload
    return 16 + (inner + 15) // 16 * 16 + 16


class Prometheus:
    """Debian's Prometheus in the VPC's namespace, scraping gateway 1's
    listener; its configuration and storage in a directory of the run
    that stop() removes."""

    def __init__(self, rundir):
        self.dir = tempfile.mkdtemp(prefix="prometheus-", dir=rundir)
        self.proc = None
        self.log = os.path.join(self.dir, "prometheus.log")

    def start(self):
        conf = os.path.join(self.dir, "prometheus.yml")
        write_file(conf, PROMETHEUS_CONFIG % {"i": SCRAPE_INTERVAL,
                                              "target": TARGET})
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", NS_VPC, "prometheus",
                 "--config.file", conf,
                 "--storage.tsdb.path", os.path.join(self.dir, "tsdb"),
                 "--web.listen-address", PROM_LISTEN, "--log.level", "warn"],
                stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)

    def log_tail(self):
        try:
            with open(self.log, errors="replace") as f:
                lines = f.read().strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:])

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        end_group(self.proc, 10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def api(self, path, **params):
        """The data of an API answer, or None while it cannot answer."""
        url = "http://%s%s?%s" % (PROM_LISTEN, path,
                                  urllib.parse.urlencode(params))
        status, body = http_get(url)
        if status != 200:
            return None
        answer = json.loads(body)
        return answer["data"] if answer.get("status") == "success" else None

    def wait(self, what, check, timeout):
        """Polls check() until it returns something; raises with what
        when it does not within timeout."""
        end = now() + timeout
        while now() < end:
            if not self.alive():
                raise Failed("Prometheus exited (log: %s)" % self.log_tail())
            got = check()
            if got is not None:
                return got
            time.sleep(0.2)
        raise Failed("no %s within %ds%s" % (what, timeout, self.why()))

    def why(self):
        """The target's last scrape error and the log's last lines."""
        notes = []
        data = self.api("/api/v1/targets")
        for t in (data or {}).get("activeTargets", ()):
            if t.get("lastError"):
                notes.append("last scrape: %s" % t["lastError"])
        if self.log_tail():
            notes.append("log: %s" % self.log_tail())
        return (" (%s)" % "; ".join(notes)) if notes else ""

    def ready(self):
        return True if http_get("http://%s/-/ready" % PROM_LISTEN)[0] == 200 \
            else None

    def target_up(self):
        data = self.api("/api/v1/query", query='up{job="uniguard"}')
        if data and data["result"] and data["result"][0]["value"][1] == "1":
            return True
        return None

    def sample_after(self, expr, t):
        """The first sample of expr scraped after Unix time t: (value,
        its timestamp), or None while there is none.  Prometheus may move
        a sample's timestamp by up to 2 ms to align it with the interval:
        later than t by more than that is after t."""
        data = self.api("/api/v1/query", query="%s[60s]" % expr)
        for series in (data or {}).get("result", ()):
            for ts, value in series["values"]:
                if ts > t + 0.005:
                    return int(float(value)), ts
        return None


def check_healthz():
    status, body = http_get("http://%s/healthz" % TARGET)
    if status != 200:
        raise Failed("GET /healthz on %s: %s %s" % (TARGET, status,
                                                    body.strip()))
    return "GET /healthz %d %s" % (status, body.strip())


def check_promtool():
    """/metrics fetched once, checked by promtool."""
    status, text = http_get("http://%s/metrics" % TARGET)
    if status != 200:
        raise Failed("GET /metrics on %s: %s" % (TARGET, status))
    cp = run(["promtool", "check", "metrics"], input=text, check=False,
             timeout=30)
    said = (cp.stdout + cp.stderr).strip()
    if cp.returncode != 0 or said:
        raise Failed("promtool check metrics: exit %d: %s" % (
            cp.returncode, " / ".join(said.splitlines()[:5])))
    return len(text.splitlines())


def s_operations(shards):
    if shards.mode != "http":
        return False, "the daemon has no operations listener (--http)"
    lab = shards.lab
    from .lab import RUN_DIR
    prom = Prometheus(RUN_DIR)
    try:
        # First: static targets reach the scrape loop after about 5 s.
        prom.start()
        shards.bring_up()
        c5 = lab.clients["c5"]
        if c5.wait_reply(HOST_IP, 60) is None:
            return False, "c5 got no reply from %s within 60 s" % HOST_IP
        notes = [check_healthz()]
        lines = check_promtool()
        notes.append("promtool check metrics: nothing to say (%d lines)"
                     % lines)
        prom.wait("answer from Prometheus's /-/ready", prom.ready, 30)
        prom.wait("successful scrape of gateway 1", prom.target_up, 30)
        notes.append(measure(prom, c5))
        return True, "; ".join(notes)
    except Failed as e:
        return False, str(e)
    finally:
        prom.stop()
        detail("Prometheus stopped, %s removed" % prom.dir)


def measure(prom, c5):
    """c5 sends the known amount; the growth of what Prometheus scraped
    as received from c5's key must be the growth of c5's sent bytes."""
    expr = '%s{public_key="%s"}' % (RX_METRIC, c5.public_key())
    # The window opens on a quiet tunnel: c5's sent bytes the same for
    # half a second before, so that nothing is on its way, and until the
    # scrape that gives the gateway's side.
    for _ in range(5):
        _, quiet = c5.transfer()
        time.sleep(0.5)
        _, sent0 = c5.transfer()
        t0 = time.time()
        if sent0 != quiet:
            continue
        first = prom.wait("scrape of %s" % expr,
                          lambda: prom.sample_after(expr, t0), 10)
        if c5.transfer()[1] == sent0:
            break
    else:
        raise Failed("c5's tunnel never stayed quiet over one scrape")
    cp = run(["ping", "-n", "-q", "-c", str(PINGS), "-i", "0.2", "-W", "2",
              "-s", str(PING_SIZE), HOST_IP], ns=c5.ns, check=False,
             timeout=PINGS + 30)
    t_end = time.time()
    _, sent1 = c5.transfer()
    pinged, answered, _ = parse_ping(cp.stdout)
    # ping waits 2 s for the last reply: by t_end the gateway has
    # counted every request, whether or not its reply came back.
    if pinged != PINGS or answered < PINGS * 0.9:
        raise Failed("c5's %d pings of %d bytes: %d/%d answered" % (
            PINGS, PING_SIZE, answered, pinged))
    last = prom.wait("scrape after the traffic",
                     lambda: prom.sample_after(expr, t_end),
                     5 * SCRAPE_INTERVAL + 10)
    t_query = time.time()
    if c5.transfer()[1] != sent1:
        raise Failed("c5 sent more after its pings, before the scrape: "
                     "the window did not close")
    client = sent1 - sent0
    gateway = last[0] - first[0]
    known = PINGS * wire_bytes(PING_SIZE)
    figures = ("c5 sent %d bytes by its wg (%d pings of %d bytes, %d "
               "answered: %d x %d%s); Prometheus: %d bytes received from "
               "c5's key (%d -> %d), scraped %.1f s after the traffic "
               "ended, queried at %.1f s" % (
                   client, PINGS, PING_SIZE, answered, PINGS,
                   wire_bytes(PING_SIZE),
                   (" + %d of handshakes or keepalives" % (client - known))
                   if client != known else "",
                   gateway, first[0], last[0], last[1] - t_end,
                   t_query - t_end))
    if gateway != client or client < known:
        raise Failed("bytes differ: " + figures)
    return figures
