# SPDX-License-Identifier: MIT
"""A stand-in for the Compute Engine metadata server, for the integration
suite and the QEMU lab: run it in a namespace on 169.254.169.254:80 and it
answers the requests uniguard's --peers-from makes the way the real one
does (cloud.google.com/compute/docs/metadata/querying-metadata):

  - every request needs `Metadata-Flavor: Google`; without it, or with an
    X-Forwarded-For header, 403 and an HTML page that says why;
  - /computeMetadata/v1/instance/attributes/KEY and
    /computeMetadata/v1/project/attributes/KEY answer the value as
    application/text with an ETag header (a hash of the value) and
    `Metadata-Flavor: Google`; a key that is not there is 404;
  - ?wait_for_change=true holds the request until the value's ETag
    differs from last_etag (from the value's ETag at the time of the
    request, without last_etag), at most timeout_sec seconds, and then
    answers the value as it is; a last_etag that is already stale answers
    at once; a key that is not there answers 404 at once.

The values live in files, so that a test or the lab changes them from
outside: DIR/instance/KEY and DIR/project/KEY (written whole with
MetadataDir.set, removed with MetadataDir.delete). DIR/mode makes the
server misbehave on purpose: "hang" (reads the request, never answers,
holds the connection until the client closes it),
"drop" (sends the head and half the body, then closes), "garbage" (sends
bytes that are no HTTP, then closes); "normal" or no file for the real
behaviour. Every request is appended to DIR/requests.log as one JSON line.

    python3 gce_metadata.py --dir DIR [--addr 169.254.169.254] [--port 80]
"""

import argparse
import hashlib
import json
import os
import select
import socketserver
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

ADDR = "169.254.169.254"
PREFIX = "/computeMetadata/v1/"
POLL = 0.05


class MetadataDir:
    """The stand-in's state directory, as a test or the lab changes it."""

    def __init__(self, path):
        self.path = path
        for sub in ("instance", "project"):
            os.makedirs(os.path.join(path, sub), exist_ok=True)

    def file(self, scope, key):
        return os.path.join(self.path, scope, key)

    def set(self, key, value, scope="instance"):
        """Sets the attribute's value at once (a rename, never half)."""
        p = self.file(scope, key)
        with open(p + ".tmp", "wb") as f:
            f.write(value.encode() if isinstance(value, str) else value)
        os.replace(p + ".tmp", p)

    def delete(self, key, scope="instance"):
        try:
            os.unlink(self.file(scope, key))
        except FileNotFoundError:
            pass

    def mode(self, mode):
        with open(os.path.join(self.path, "mode.tmp"), "w") as f:
            f.write(mode)
        os.replace(os.path.join(self.path, "mode.tmp"),
                   os.path.join(self.path, "mode"))

    def requests(self):
        """The requests served so far, oldest first."""
        p = os.path.join(self.path, "requests.log")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(line) for line in f if line.strip()]


def etag_of(value):
    return hashlib.sha256(value).hexdigest()[:16]


class Handler(BaseHTTPRequestHandler):
    server_version = "Metadata Server for VM"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    # ----- state

    def state_dir(self):
        return self.server.state_dir

    def current_mode(self):
        try:
            with open(os.path.join(self.state_dir(), "mode")) as f:
                return f.read().strip() or "normal"
        except OSError:
            return "normal"

    def read_value(self, scope, key):
        try:
            with open(os.path.join(self.state_dir(), scope, key), "rb") as f:
                return f.read()
        except OSError:
            return None

    def note(self, **entry):
        with open(os.path.join(self.state_dir(), "requests.log"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    # ----- answers

    def answer(self, status, body, ctype="application/text", etag=None):
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-XSS-Protection", "0")
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.end_headers()
        self.wfile.write(body)

    def error_page(self, status, reason, text):
        body = ("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
                "  <title>Error %d (%s)!!1</title>\n  <p><b>%d.</b> "
                "<ins>That\u2019s an error.</ins>\n  <p>%s  <ins>That\u2019s "
                "all we know.</ins>\n" % (status, reason, status, text)
                ).encode()
        self.answer(status, body, "text/html; charset=UTF-8")

    def misbehave(self, mode, value):
        if mode == "hang":
            # Until the client gives up: the request is read whole, so
            # the socket turns readable only when the client closes.
            select.select([self.connection], [], [], 600)
            self.close_connection = True
            return
        if mode == "drop":
            body = value or b"[Peer]\n" * 64
            head = ("HTTP/1.1 200 OK\r\nMetadata-Flavor: Google\r\n"
                    "Content-Type: application/text\r\nETag: %s\r\n"
                    "Content-Length: %d\r\n\r\n" % (etag_of(body),
                                                     len(body))).encode()
            self.wfile.write(head + body[:len(body) // 2])
        elif mode == "garbage":
            self.wfile.write(os.urandom(512) + b"\r\n\r\n" + os.urandom(512))
        self.wfile.flush()
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        flavor = self.headers.get("Metadata-Flavor")
        self.note(path=self.path, flavor=flavor,
                  agent=self.headers.get("User-Agent"), t=time.time())
        if flavor != "Google" or self.headers.get("X-Forwarded-For"):
            self.error_page(403, "Forbidden", (
                "Your client does not have permission to get URL <code>%s"
                "</code> from this server. Missing Metadata-Flavor:Google "
                "header." % url.path))
            return
        parts = url.path[len(PREFIX):].split("/") \
            if url.path.startswith(PREFIX) else []
        if len(parts) != 3 or parts[0] not in ("instance", "project") or \
                parts[1] != "attributes" or not parts[2]:
            self.error_page(404, "Not Found", "The requested URL <code>%s"
                            "</code> was not found on this server."
                            % url.path)
            return
        scope, key = parts[0], parts[2]
        mode = self.current_mode()
        value = self.read_value(scope, key)
        if mode != "normal":
            self.misbehave(mode, value)
            return
        if value is None:
            self.error_page(404, "Not Found", "The requested URL <code>%s"
                            "</code> was not found on this server."
                            % url.path)
            return
        if query.get("wait_for_change", ["false"])[0].lower() == "true":
            timeout = query.get("timeout_sec", [None])[0]
            try:
                timeout = float(timeout) if timeout is not None else 3600.0
                if timeout <= 0:
                    raise ValueError
            except ValueError:
                self.error_page(400, "Bad Request", "timeout_sec must be "
                                "a positive number of seconds.")
                return
            last = query.get("last_etag", [etag_of(value)])[0]
            deadline = time.monotonic() + timeout
            while etag_of(value) == last and time.monotonic() < deadline:
                time.sleep(POLL)
                value = self.read_value(scope, key)
                if value is None:
                    self.error_page(404, "Not Found", "The requested URL "
                                    "<code>%s</code> was not found on this "
                                    "server." % url.path)
                    return
        self.answer(200, value, etag=etag_of(value))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--addr", default=ADDR)
    ap.add_argument("--port", type=int, default=80)
    args = ap.parse_args(argv)
    MetadataDir(args.dir)
    srv = Server((args.addr, args.port), Handler)
    srv.state_dir = args.dir
    print("metadata server on %s:%d, state in %s" % (args.addr, args.port,
                                                     args.dir), flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
