"""ENA health: the ENI allowance counters out of ethtool statistics, and what they mean (pure).

The ioctls (ETHTOOL_GSSET_INFO / GSTRINGS / GSTATS) live in host/ethtool.py and return raw
buffers; this module decodes them into (name, value) pairs and picks the allowance counters.
Names and order differ between driver versions, so counters are found by name, never by
position (../shared/ENA.md §2).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

from netagent.core.value import Value, _set

ETH_GSTRING_LEN = 32  # include/uapi/linux/ethtool.h
# Cumulative since the last driver reset: packets queued or dropped because the instance went over
# an allowance (ENA.md §1, "Allowance counters"; AWS monitoring-network-performance-ena).
ALLOWANCE_EXCEEDED = {
    "bw_in_allowance_exceeded": "inbound bandwidth over the instance's allowance",
    "bw_out_allowance_exceeded": "outbound bandwidth over the instance's allowance",
    "pps_allowance_exceeded": "packets per second over the instance's allowance",
    "conntrack_allowance_exceeded": "new connections dropped: the connection-tracking table was full",
    "linklocal_allowance_exceeded": "packets to DNS, IMDS or Time Sync over the link-local PPS allowance",
}
# A gauge, not an event count: how many more connections can be tracked (Nitro, driver >= 2.8.1).
CONNTRACK_AVAILABLE = "conntrack_allowance_available"
COUNTERS = (*ALLOWANCE_EXCEEDED, CONNTRACK_AVAILABLE)
# One `ethtool -S` line: `     bw_in_allowance_exceeded: 0` (ENA.md §2).


class EnaHealth(Value):
    """The allowance counters of one ENA interface, or why they could not be read."""

    __slots__ = ("ifname", "counters", "reason")
    ifname: str
    counters: tuple[tuple[str, int], ...]
    reason: str

    def __init__(self, ifname: str, counters: tuple[tuple[str, int], ...] = (), reason: str = "") -> None:
        _set(self, "ifname", ifname)
        _set(self, "counters", counters)
        _set(self, "reason", reason)

    def exceeded(self) -> tuple[tuple[str, int], ...]:
        """Return the `*_allowance_exceeded` counters that are not zero."""
        return tuple((name, n) for name, n in self.counters if name in ALLOWANCE_EXCEEDED and n > 0)

    def to_dict(self) -> dict[str, object]:
        """Return the report's entry for this interface."""
        return {"interface": self.ifname, "counters": dict(self.counters), "reason": self.reason}

    def warnings(self) -> list[str]:
        """Return one plain sentence per non-zero counter (a warning, never drift)."""
        return [
            f"{self.ifname}: {name} = {n}: {ALLOWANCE_EXCEEDED[name]} (packets queued or dropped since the driver"
            " was last reset)"
            for name, n in self.exceeded()
        ]


def decode_gstrings(raw: bytes, count: int) -> list[str]:
    """Return the names in an ETHTOOL_GSTRINGS data area: `count` NUL-padded 32-byte strings.

    Raises:
        ValueError: the buffer is shorter than `count` strings.
    """
    if len(raw) < count * ETH_GSTRING_LEN:
        raise ValueError(f"{len(raw)} bytes hold fewer than {count} strings of {ETH_GSTRING_LEN}")
    names = []
    for i in range(count):
        cell = raw[i * ETH_GSTRING_LEN : (i + 1) * ETH_GSTRING_LEN]
        names.append(cell.split(b"\0", 1)[0].decode("ascii", "replace"))
    return names


def decode_gstats(raw: bytes, count: int) -> list[int]:
    """Return the values in an ETHTOOL_GSTATS data area: `count` native-endian u64.

    Raises:
        ValueError: the buffer is shorter than `count` values.
    """
    if len(raw) < count * 8:
        raise ValueError(f"{len(raw)} bytes hold fewer than {count} u64 values")
    return list(struct.unpack(f"={count}Q", raw[: count * 8]))


def health(ifname: str, pairs: Iterable[tuple[str, int]]) -> EnaHealth:
    """Pick the allowance counters out of an interface's statistics, in a fixed order."""
    found = dict(pairs)
    counters = tuple((name, found[name]) for name in COUNTERS if name in found)
    if not counters:
        return EnaHealth(
            ifname,
            reason="the ena driver reports no allowance counters (they need driver 2.2.10 or later)",
        )
    return EnaHealth(ifname, counters)


def warnings(healths: Sequence[EnaHealth]) -> list[str]:
    """Return the warnings of every interface, in order."""
    return [w for h in healths for w in h.warnings()]
