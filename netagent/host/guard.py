"""The jumbo-path guard: after raising an MTU, each declared peer must answer at the new size.

Like `netplan try` or NetworkManager checkpoints, a raised MTU is only kept when the path
carries it: an ICMP echo with the don't-fragment bit, as large as the new MTU (MTU - 28
bytes of payload for IPv4, MTU - 48 for IPv6), sent to each target routed through the
interface. A target that does not answer in time fails the change, and apply rolls back.

All targets are probed at once (one raw socket per address family), and an unanswered target
gets another echo every timeout_s / 3, so one lost packet does not roll back a good MTU and the
guard takes at most timeout_s per MTU change whatever the number of targets: the daemon must
stop within 5 s of SIGTERM, and a heal in progress finishes first (README.md, "Daemon").
`ProbeRound` decides what to send and when, and which reply answers whom, with no socket and no
clock of its own; `probe_all` is the thin shell around it.
"""

from __future__ import annotations

import ipaddress
import os
import random
import select
import socket
import struct
import time
from typing import Callable, Optional

from netagent.core.errors import AdapterError
from netagent.core.model import GuardSpec
from netagent.core.settings.mtu import SetMtu

# linux/in.h and linux/in6.h: make the kernel set DF and never fragment locally.
IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3
IPV6_MTU_DISCOVER, IPV6_DONTFRAG, IPV6_PMTUDISC_PROBE = 23, 62, 3
ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY = 8, 0
ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY = 128, 129
IPV4_OVERHEAD, IPV6_OVERHEAD = 28, 48  # IP header + ICMP echo header
# Echoes per target within timeout_s, one every timeout_s / ECHOES: a single lost packet (or
# an ARP/ND resolution that drops the first one) must not roll back an MTU the path carries.
ECHOES = 3

# route_dev(target) -> the interface the kernel would use to reach target, or None.
RouteLookup = Callable[[str], Optional[str]]


class PathGuard:
    """Checks declared targets after each MTU increase on the interface that routes to them."""

    def __init__(self, spec: GuardSpec, route_dev: RouteLookup) -> None:
        self.spec = spec
        self.route_dev = route_dev

    def check(self, change: SetMtu) -> None:
        """Probe every target routed through change.ifname at the new MTU, all at once.

        Raises:
            AdapterError: a target did not answer (names each such target and the size), or the
                raw ICMP socket could not be opened (no CAP_NET_RAW).
        """
        if change.new <= change.old:
            return
        targets = [t for t in self.spec.targets if self.route_dev(t) == change.ifname]
        if not targets:
            return
        failed = probe_all(targets, change.new, self.spec.timeout_s, what=change.target)
        if failed:
            raise AdapterError(
                change.target,
                "guard",
                None,
                "guard: "
                + "; ".join(
                    f"{target} did not answer a {change.new}-byte don't-fragment ping ({reason})"
                    for target, reason in failed.items()
                ),
            )


class ProbeRound:
    """What to send when, and which reply answers which target, for one MTU change (no I/O).

    Every time is a number the caller passes in (its monotonic clock), so the schedule is tested
    without sockets or sleeps. Sequence numbers are unique within the round and map back to the
    target they were sent to: a reply counts only from that target, with our identifier.
    """

    def __init__(self, targets: list[str], timeout_s: float, now: float, ident: int, first_seq: int) -> None:
        self.targets = [str(ipaddress.ip_address(t)) for t in targets]
        self.timeout_s = timeout_s
        self.start = now
        self.deadline = now + timeout_s
        self.ident = ident & 0xFFFF
        self._next_seq = first_seq & 0xFFFF
        self._sent: dict[int, str] = {}  # seq -> target
        self._echoes = {t: 0 for t in self.targets}
        self.answered: set[str] = set()
        self.failed: dict[str, str] = {}  # target -> why it cannot be probed (a send error)

    def _send_at(self, target: str) -> float:
        return self.start + self._echoes[target] * self.timeout_s / ECHOES

    def _waiting(self) -> list[str]:
        return [t for t in self.targets if t not in self.answered and t not in self.failed]

    def due(self, now: float) -> list[tuple[str, int]]:
        """Return the (target, seq) echoes to send now: first echoes, and retransmits to the unanswered."""
        out: list[tuple[str, int]] = []
        if now >= self.deadline:
            return out
        for target in self._waiting():
            if self._echoes[target] < ECHOES and self._send_at(target) <= now:
                seq = self._next_seq
                self._next_seq = (seq + 1) & 0xFFFF
                self._sent[seq] = target
                self._echoes[target] += 1
                out.append((target, seq))
        return out

    def send_failed(self, target: str, reason: str) -> None:
        """Record that an echo could not be sent (EMSGSIZE...): the target fails, no retransmit."""
        self.failed[target] = f"send failed: {reason}"

    def reply(self, source: str, ident: int, seq: int) -> bool:
        """Record an echo reply from `source`; return whether it answers one of our echoes."""
        target = self._sent.get(seq)
        if ident != self.ident or target is None or not _same_address(source, target):
            return False
        self.answered.add(target)
        return True

    def is_done(self, now: float) -> bool:
        """Tell whether every target answered or failed, or the deadline passed."""
        return not self._waiting() or now >= self.deadline

    def wait_s(self, now: float) -> float:
        """Return how long to wait for replies before the next echo is due or the deadline."""
        wake = [self._send_at(t) for t in self._waiting() if self._echoes[t] < ECHOES]
        return max(0.0, min([self.deadline, *wake]) - now)

    def unanswered(self) -> dict[str, str]:
        """Return {target: why} for every target that did not answer, in the profile's order."""
        late = f"no reply to {ECHOES} echoes within {self.timeout_s:g} s"
        return {t: self.failed.get(t, late) for t in self.targets if t not in self.answered}


def _same_address(a: str, b: str) -> bool:
    return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b)


def parse_reply(data: bytes, v6: bool) -> tuple[int, int] | None:
    """Return (ident, seq) of an ICMP echo reply as a raw socket reads it, else None (pure)."""
    if not v6:  # raw IPv4 sockets receive the IP header too
        if not data:
            return None
        data = data[(data[0] & 0x0F) * 4 :]
    if len(data) < 8:
        return None
    kind, _code, _sum, ident, seq = struct.unpack("!BBHHH", data[:8])
    if kind != (ICMP6_ECHO_REPLY if v6 else ICMP_ECHO_REPLY):
        return None
    return ident, seq


def probe_all(targets: list[str], size: int, timeout_s: float, what: str = "guard") -> dict[str, str]:
    """Send echoes of `size` bytes (IP packet) with DF to every target at once; return {target: why} for silent ones.

    Takes at most timeout_s: each unanswered target gets an echo every timeout_s / ECHOES.

    Raises:
        AdapterError: a raw ICMP socket could not be opened (no CAP_NET_RAW: EPERM).
    """
    now = time.monotonic()
    rnd = ProbeRound(targets, timeout_s, now, ident=os.getpid(), first_seq=random.getrandbits(16))
    families = {ipaddress.ip_address(t).version == 6 for t in rnd.targets}
    socks: dict[bool, socket.socket] = {}
    try:
        for v6 in sorted(families):
            socks[v6] = _open(v6, what)
        packets = {v6: _payload(size, v6) for v6 in families}
        while not rnd.is_done(now):
            for target, seq in rnd.due(now):
                v6 = ipaddress.ip_address(target).version == 6
                try:
                    socks[v6].sendto(_echo_packet(v6, rnd.ident, seq, packets[v6]), (target, 0))
                except OSError as exc:
                    rnd.send_failed(target, exc.strerror or str(exc))
            if rnd.is_done(now):
                break
            ready, _, _ = select.select(list(socks.values()), [], [], rnd.wait_s(now))
            for v6, sock in socks.items():
                if sock in ready:
                    _receive(sock, v6, rnd)
            now = time.monotonic()
    finally:
        for sock in socks.values():
            sock.close()
    return rnd.unanswered()


def _open(v6: bool, what: str) -> socket.socket:
    family, proto = (socket.AF_INET6, socket.IPPROTO_ICMPV6) if v6 else (socket.AF_INET, socket.IPPROTO_ICMP)
    try:
        sock = socket.socket(family, socket.SOCK_RAW | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK, proto)
    except OSError as exc:
        raise AdapterError(
            what, "guard", exc.errno, f"guard: cannot open a raw ICMP socket (needs CAP_NET_RAW): {exc.strerror or exc}"
        ) from None
    if v6:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE)
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
    return sock


def _payload(size: int, v6: bool) -> bytes:
    payload_len = size - (IPV6_OVERHEAD if v6 else IPV4_OVERHEAD)
    return (b"netagent-guard" * (payload_len // 14 + 1))[:payload_len]


def _echo_packet(v6: bool, ident: int, seq: int, payload: bytes) -> bytes:
    if v6:
        return _echo(ICMP6_ECHO_REQUEST, ident, seq, payload, checksum=False)  # the kernel sums ICMPv6
    return _echo(ICMP_ECHO_REQUEST, ident, seq, payload, checksum=True)


def _receive(sock: socket.socket, v6: bool, rnd: ProbeRound) -> None:
    """Read every datagram queued on a non-blocking raw socket into the round."""
    while True:
        try:
            data, addr = sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # a queued socket error (an ICMP error for an echo): the target stays unanswered
        parsed = parse_reply(data, v6)
        if parsed is not None:
            rnd.reply(addr[0], *parsed)


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
