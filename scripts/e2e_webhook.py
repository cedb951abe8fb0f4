#!/usr/bin/env python3
"""Alertmanager webhook receiver for scripts/e2e.sh (stdlib only).

Listens on 127.0.0.1 (a free port, written to PORT_FILE once listening) and appends every
notification to OUT_FILE as one JSON line: {"received": unix_time, "payload": <webhook body>}.

Usage: e2e_webhook.py OUT_FILE PORT_FILE
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def main():
    out_file, port_file = sys.argv[1], sys.argv[2]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {"unparsed": body.decode("utf-8", "replace")}
            with open(out_file, "a", encoding="utf-8") as f:
                f.write(json.dumps({"received": time.time(), "payload": payload}) + "\n")
            self.send_response(200)
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stderr.write("webhook: " + (fmt % args) + "\n")

    server = HTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    # rename: the port file appears whole or not at all.
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
