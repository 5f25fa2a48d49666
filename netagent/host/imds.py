"""IMDSv2 client over http.client: token PUT, GETs with the token, short timeouts, never IMDSv1.

After cloud-init's DataSourceEc2 IMDSv2 path and amazon-ec2-net-utils' lib.sh (../shared/STYLE.md §1):
- the token comes from `PUT /latest/api/token` with a TTL header, and every GET carries it;
- a 401 on a GET means the token went stale: drop it, fetch one new token, retry once;
- a 403 on the PUT means IMDS is disabled (or the PUT came through a proxy): stop at once;
- there is no IMDSv1 fallback: no token means no metadata.
http.client reads no proxy settings, so HTTP(S)_PROXY never diverts a request (IMDS rejects a PUT
carrying X-Forwarded-For anyway, ENA.md §6). The token is never logged, put in an error or repr'd.
Off EC2 nothing answers at 169.254.169.254: the whole lookup is bounded by one deadline
(`budget_s`), and the first connect by `connect_timeout_s`, so an audit stays fast.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
from typing import Callable, Protocol
from urllib.parse import urlsplit

from netagent.core.ec2 import Ec2Lookup, Ec2Unavailable, EniFacts, InstanceFacts

DEFAULT_ENDPOINT = "http://169.254.169.254"
# A token only has to outlive one lookup; 1..21600 s are valid (ENA.md §6).
TOKEN_TTL_S = 60
# amazon-ec2-net-utils asks for its token with a 0.15 s connect timeout; IMDS answers a local
# connect in well under a millisecond, so 0.25 s is generous on EC2 and short off it.
CONNECT_TIMEOUT_S = 0.25
# IMDS answers in well under a millisecond; an endpoint that took the connection and has not
# answered a request in 0.5 s will not. Without this cap a silent endpoint held the audit for the
# whole budget, 1.08 s more than without IMDS (issue 9).
ANSWER_TIMEOUT_S = 0.5
# Deadline for the whole lookup (token + every GET). The issue allows an audit 1 s more off EC2,
# and starting the client (import, connect) costs ~0.1 s of that, so the lookup gets 0.75 s.
BUDGET_S = 0.75
# botocore's switch to turn IMDS off (ENA.md §6); netagent honours it like --no-imds.
DISABLE_ENV = "AWS_EC2_METADATA_DISABLED"
_TOKEN_PATH = "/latest/api/token"
_META = "/latest/meta-data/"


class ImdsUnavailable(Exception):
    """IMDS did not answer usefully; the message is safe to print (it never holds the token)."""


class Connection(Protocol):
    """The part of http.client.HTTPConnection the client uses (a fake in unit tests)."""

    sock: socket.socket | None

    def connect(self) -> None: ...
    def request(self, method: str, url: str, body: None = None, headers: dict[str, str] = ...) -> None: ...
    def getresponse(self) -> http.client.HTTPResponse: ...
    def close(self) -> None: ...


ConnectionFactory = Callable[[str, int, float], Connection]


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """Return (host, port) of `http://HOST[:PORT]`; an IPv6 host is written in brackets.

    Raises:
        ValueError: not such a URL.
    """
    url = urlsplit(endpoint)
    try:
        port = url.port or 80
    except ValueError:
        port = 0
    if url.scheme != "http" or not url.hostname or not port or url.path not in ("", "/"):
        raise ValueError(f"IMDS endpoint {endpoint!r} is not http://HOST[:PORT] (e.g. http://[fd00:ec2::254])")
    return url.hostname, port


def _http_connection(host: str, port: int, timeout_s: float) -> Connection:
    # The port is passed explicitly, so an IPv6 literal (fd00:ec2::254) is not split at a colon;
    # http.client brackets it in the Host header itself.
    return http.client.HTTPConnection(host, port, timeout=timeout_s)


class ImdsClient:
    """One IMDSv2 session: a token, then GETs, all within one deadline."""

    def __init__(
        self,
        endpoint: str = DEFAULT_ENDPOINT,
        budget_s: float = BUDGET_S,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        connection_factory: ConnectionFactory | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            self._host, self._port = parse_endpoint(endpoint)
        except ValueError as exc:
            raise ImdsUnavailable(str(exc)) from None
        self.endpoint = endpoint
        self._clock = clock
        self._deadline = clock() + budget_s
        self._budget_s = budget_s
        self._connect_timeout_s = connect_timeout_s
        self._factory = connection_factory or _http_connection
        self._conn: Connection | None = None
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"ImdsClient({self.endpoint!r})"  # never the token

    def close(self) -> None:
        """Close the connection, if open."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _remaining_s(self) -> float:
        left = self._deadline - self._clock()
        if left <= 0:
            raise ImdsUnavailable(f"no complete answer from {self.endpoint} within {self._budget_s:g} s")
        return left

    def _request(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
        left = self._remaining_s()
        try:
            if self._conn is None:
                self._conn = self._factory(self._host, self._port, min(left, self._connect_timeout_s))
                self._conn.connect()
            if self._conn.sock is not None:
                self._conn.sock.settimeout(min(self._remaining_s(), ANSWER_TIMEOUT_S))
            self._conn.request(method, path, headers=headers)
            response = self._conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            if response.will_close:
                self.close()
            return response.status, body
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            if isinstance(exc, socket.timeout):
                raise ImdsUnavailable(f"no answer from {self.endpoint} within the timeout") from None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise ImdsUnavailable(f"{self.endpoint}: {reason}") from None

    def token(self) -> str:
        """Return a session token, fetching one with a PUT when there is none.

        Raises:
            ImdsUnavailable: no token: off EC2, IMDS disabled (403), or no answer in time.
        """
        if self._token is None:
            status, body = self._request("PUT", _TOKEN_PATH, {"X-aws-ec2-metadata-token-ttl-seconds": str(TOKEN_TTL_S)})
            if status == 403:
                raise ImdsUnavailable(f"{self.endpoint} refused a token (403): IMDS is disabled on this instance")
            if status != 200 or not body.strip():
                raise ImdsUnavailable(f"{self.endpoint} gave no IMDSv2 token (HTTP {status})")
            self._token = body.strip()
        return self._token

    def get(self, path: str) -> str | None:
        """Return the text at a metadata path, or None when IMDS has no such item (404).

        Raises:
            ImdsUnavailable: no token, the token was refused twice, or no answer in time.
        """
        for attempt in (1, 2):
            status, body = self._request("GET", path, {"X-aws-ec2-metadata-token": self.token()})
            if status == 200:
                return body
            if status == 404:
                return None
            if status == 401 and attempt == 1:
                self._token = None  # stale or expired: one fresh token, as cloud-init does
                continue
            raise ImdsUnavailable(f"{self.endpoint}{path}: HTTP {status}")
        raise AssertionError("unreachable")  # the loop returns or raises


def fetch_instance_facts(client: ImdsClient) -> InstanceFacts:
    """Read the instance's id, type, placement and ENIs through an IMDSv2 session.

    Raises:
        ImdsUnavailable: IMDS did not answer, or lacks the instance id or type.
    """
    instance_id = client.get(_META + "instance-id")
    itype = client.get(_META + "instance-type")
    if not instance_id or not itype:
        raise ImdsUnavailable(f"{client.endpoint} has no instance-id or instance-type")
    zone = client.get(_META + "placement/availability-zone")
    # placement/region exists since 2020-08-24; Local Zone names do not end in one letter, so
    # the region is not derived from the zone (ENA.md §6).
    region = client.get(_META + "placement/region")
    listing = client.get(_META + "network/interfaces/macs/") or ""
    enis = []
    for line in listing.splitlines():
        mac = line.strip().rstrip("/")
        if mac:
            enis.append(_eni(client, mac))
    return InstanceFacts(
        instance_id=instance_id.strip(),
        instance_type=itype.strip(),
        region=_strip(region),
        availability_zone=_strip(zone),
        enis=tuple(enis),
    )


def _eni(client: ImdsClient, mac: str) -> EniFacts:
    base = f"{_META}network/interfaces/macs/{mac}/"
    number = _strip(client.get(base + "device-number"))
    return EniFacts(
        mac=mac,
        device_number=int(number) if number is not None and number.isdigit() else None,
        interface_id=_strip(client.get(base + "interface-id")),
        vpc_ipv4_cidr_block=_strip(client.get(base + "vpc-ipv4-cidr-block")),
    )


def _strip(text: str | None) -> str | None:
    return (text.strip() or None) if text is not None else None


def lookup(endpoint: str | None = None, enabled: bool = True, budget_s: float = BUDGET_S) -> Ec2Lookup:
    """Return the instance facts, Ec2Unavailable when IMDS does not answer, or None when disabled."""
    if not enabled or os.environ.get(DISABLE_ENV, "").lower() == "true":
        return None
    try:
        client = ImdsClient(endpoint or DEFAULT_ENDPOINT, budget_s=budget_s)
    except ImdsUnavailable as exc:
        return Ec2Unavailable(str(exc))
    try:
        return fetch_instance_facts(client)
    except ImdsUnavailable as exc:
        return Ec2Unavailable(str(exc))
    finally:
        client.close()
