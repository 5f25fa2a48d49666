"""A stand-in IMDSv2 (HttpTokens=required) for tests; run it inside a test's network namespace.

    python imds_server.py LOGFILE ADDRESS [ADDRESS ...]

With IMDS_FAULT=stale-tokens in the environment, every token it hands out is already expired:
each GET gets 401, as after a token's TTL ran out.

Listens on port 80 of each address (169.254.169.254, fd00:ec2::254), prints `ready` once all are
bound, and appends one JSON line per request to LOGFILE: method, path, whether a valid token
came with it, and the status returned (never the token itself). Behaviour after ENA.md §6:
PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds (400) and no X-Forwarded-For
(403); a GET without a valid token gets 401, so IMDSv1 is refused; unknown paths get 404.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAC0, MAC1 = "0e:11:22:33:44:55", "0e:11:22:33:44:66"
META = {
    "instance-id": "i-0fedcba9876543210",
    "instance-type": "c6in.8xlarge",
    "placement/availability-zone": "eu-west-1b",
    "placement/region": "eu-west-1",
    "network/interfaces/macs/": f"{MAC0}/\n{MAC1}/",
    f"network/interfaces/macs/{MAC0}/device-number": "0",
    f"network/interfaces/macs/{MAC0}/interface-id": "eni-0123",
    f"network/interfaces/macs/{MAC0}/vpc-ipv4-cidr-block": "172.31.0.0/16",
    f"network/interfaces/macs/{MAC1}/device-number": "1",
    f"network/interfaces/macs/{MAC1}/interface-id": "eni-0456",
    f"network/interfaces/macs/{MAC1}/vpc-ipv4-cidr-block": "172.31.0.0/16",
}
TOKENS: set[str] = set()
STALE = os.environ.get("IMDS_FAULT") == "stale-tokens"
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like IMDS
    log_path = ""

    def _send(self, status: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _log(self, status: int, token_ok: bool) -> None:
        entry = {"method": self.command, "path": self.path, "token_ok": token_ok, "status": status}
        with LOCK, open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def do_PUT(self) -> None:
        if self.path != "/latest/api/token" or "X-Forwarded-For" in self.headers:
            status, body = 403, ""
        elif not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
            status, body = 400, ""
        else:
            body = "TKN-" + secrets.token_hex(16)
            TOKENS.add(body)
            status = 200
        self._log(status, False)
        self._send(status, body)

    def do_GET(self) -> None:
        token_ok = self.headers.get("X-aws-ec2-metadata-token") in TOKENS and not STALE
        prefix = "/latest/meta-data/"
        if not token_ok:
            status, body = 401, ""
        elif self.path.startswith(prefix) and self.path[len(prefix) :] in META:
            status, body = 200, META[self.path[len(prefix) :]]
        else:
            status, body = 404, ""
        self._log(status, token_ok)
        self._send(status, body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the JSON log above is the record


class Server(ThreadingHTTPServer):
    daemon_threads = True


class Server6(Server):
    address_family = socket.AF_INET6


def main() -> None:
    Handler.log_path = sys.argv[1]
    servers = [(Server6 if ":" in addr else Server)((addr, 80), Handler) for addr in sys.argv[2:]]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
