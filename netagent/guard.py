"""The jumbo-path guard: after raising an MTU, each declared peer must answer at the new size.

Like `netplan try` or NetworkManager checkpoints, a raised MTU is only kept when the path
carries it: an ICMP echo with the don't-fragment bit, as large as the new MTU (MTU - 28
bytes of payload for IPv4, MTU - 48 for IPv6), sent to each target routed through the
interface. A target that does not answer in time fails the change, and apply rolls back.
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import struct
import time
from typing import Any, Callable, Optional

from netagent.errors import AdapterError
from netagent.model import GuardSpec, SetMtu

# linux/in.h and linux/in6.h: make the kernel set DF and never fragment locally.
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3
IPV6_MTU_DISCOVER, IPV6_DONTFRAG, IPV6_PMTUDISC_PROBE = 23, 62, 3
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY = 128, 129
IPV4_OVERHEAD, IPV6_OVERHEAD = 28, 48  # IP header + ICMP echo header

# route_dev(target) -> the interface the kernel would use to reach target, or None.
RouteLookup = Callable[[str], Optional[str]]


class PathGuard:
    """Checks declared targets after each MTU increase on the interface that routes to them."""

    def __init__(self, spec: GuardSpec, route_dev: RouteLookup) -> None:
        self.spec = spec
        self.route_dev = route_dev

    def check(self, change: SetMtu) -> None:
        """Probe every target routed through change.ifname at the new MTU.

        Raises:
            AdapterError: a target did not answer; names the target and the size.
        """
        if change.new <= change.old:
            return
        for target in self.spec.targets:
            if self.route_dev(target) != change.ifname:
                continue
            reason = probe(target, change.new, self.spec.timeout_s)
            if reason is not None:
                raise AdapterError(
                    change.target,
                    "guard",
                    None,
                    f"guard: {target} did not answer a {change.new}-byte don't-fragment ping ({reason})",
                )


def probe(target: str, size: int, timeout_s: float) -> str | None:
    """Send one echo of `size` bytes (IP packet) with DF to target; None if answered, else why not."""
    v6 = ipaddress.ip_address(target).version == 6
    family, proto = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if v6 else (socket.AF_INET, socket.IPPROTO_ICMP)
    payload_len = size - (IPV6_OVERHEAD if v6 else IPV4_OVERHEAD)
    ident, seq = os.getpid() & 0xFFFF, int(time.monotonic() * 1000) & 0xFFFF
    payload = (b"netagent-guard" * (payload_len // 14 + 1))[:payload_len]
    with socket.socket(family, socket.SOCK_RAW | socket.SOCK_CLOEXEC, proto) as sock:
        if v6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
            packet = _echo(ICMP6_ECHO_REQUEST, ident, seq, payload, checksum=False)  # kernel sums ICMPv6
        else:
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
            packet = _echo(ICMP_ECHO_REQUEST, ident, seq, payload, checksum=True)
        try:
            sock.sendto(packet, (target, 0))
        except OSError as exc:
            return f"send failed: {exc.strerror}"
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            data, addr = sock.recvfrom(65535)
            if _is_reply(data, addr, target, ident, seq, v6):
                return None
    return f"no reply within {timeout_s:g} s"


def _echo(kind: int, ident: int, seq: int, payload: bytes, checksum: bool) -> bytes:
    header = struct.pack("!BBHHH", kind, 0, 0, ident, seq)
    if not checksum:
        return header + payload
    total = _inet_checksum(header + payload)
    return struct.pack("!BBHHH", kind, 0, total, ident, seq) + payload


def _inet_checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _is_reply(data: bytes, addr: Any, target: str, ident: int, seq: int, v6: bool) -> bool:
    if ipaddress.ip_address(addr[0].split("%")[0]) != ipaddress.ip_address(target):
        return False
    if not v6:  # raw IPv4 sockets receive the IP header too
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return False
    kind, _code, _sum, r_ident, r_seq = struct.unpack("!BBHHH", data[:8])
    want = ICMP6_ECHO_REPLY if v6 else ICMP_ECHO_REPLY
    return kind == want and r_ident == ident and r_seq == seq
