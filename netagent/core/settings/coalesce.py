"""Interrupt moderation: `coalesce: {adaptive_rx: bool, adaptive_tx: bool, rx_usecs: N, tx_usecs: N}` (pure).

Read and set with ETHTOOL_GCOALESCE/SCOALESCE (struct ethtool_coalesce); only the four fields
named are compared and changed, the others are written back as read. A device that refuses
(EOPNOTSUPP: veth, QEMU's virtio-net; some ENA types, amzn-drivers#159) is `unsupported`, not an
error. ENA: Tx moderation is static (64 us by default); the latency recipe is adaptive Rx off,
rx-usecs 0, tx-usecs 0 (../shared/ENA.md section 9). Persisted as `.link` UseAdaptiveRxCoalesce=,
UseAdaptiveTxCoalesce=, RxCoalesceSec=, TxCoalesceSec= (systemd.link(5), from systemd 250: NEWS,
"CHANGES WITH 250"); the *Sec= keys take a time span, so microseconds are written as `64us`
(a bare number would be seconds: parse_sec() in config_parse_coalesce_sec).
"""

from __future__ import annotations

from netagent.core.model import Change, Check, Status, Unreadable
from netagent.core.settings.base import (
    SYSTEMD_LINK_COALESCE,
    UNKNOWN_TARGET,
    BootTarget,
    InterfaceKind,
    PartsChange,
    PartsSpec,
    is_count,
    is_ifname,
    merge_parts,
    unreadable,
)
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# The fields a profile can set, in report order; the two adaptive ones are booleans.
FIELDS = ("adaptive_rx", "adaptive_tx", "rx_usecs", "tx_usecs")
FLAGS = ("adaptive_rx", "adaptive_tx")
# systemd.link(5) [Link] keys of each field.
LINK_KEYS = {
    "adaptive_rx": "UseAdaptiveRxCoalesce",
    "adaptive_tx": "UseAdaptiveTxCoalesce",
    "rx_usecs": "RxCoalesceSec",
    "tx_usecs": "TxCoalesceSec",
}
# NetworkManager's keyfile [ethtool] keys (nm-settings-nmcli(5), ethtool.coalesce-*), for the owner scan.
NM_KEYS = {
    "adaptive_rx": "coalesce-adaptive-rx",
    "adaptive_tx": "coalesce-adaptive-tx",
    "rx_usecs": "coalesce-rx-usecs",
    "tx_usecs": "coalesce-tx-usecs",
}
# A .link time span (systemd.time(7)) in the units moderation uses: 64us, 1ms, 0; a bare number is seconds.
_SPAN_UNITS = {"us": 1, "usec": 1, "ms": 1000, "msec": 1000, "s": 1000000, "sec": 1000000, "": 1000000}
# The usecs fields are u32; 100000 (100 ms) is far above any useful moderation (ENA ignores
# rx-usecs above 64, amzn-drivers#290) and keeps typos out.
USECS_MAX = 100000


class Coalesce(Value):
    """The four fields of struct ethtool_coalesce that netagent compares (flags as 0/1), and
    which of them the driver supports (None: not known, so all count as settable)."""

    __slots__ = ("adaptive_rx", "adaptive_tx", "rx_usecs", "tx_usecs", "supported")
    adaptive_rx: int
    adaptive_tx: int
    rx_usecs: int
    tx_usecs: int
    supported: frozenset[str] | None

    def __init__(
        self,
        adaptive_rx: int,
        adaptive_tx: int,
        rx_usecs: int,
        tx_usecs: int,
        supported: frozenset[str] | None = None,
    ) -> None:
        _set(self, "adaptive_rx", adaptive_rx)
        _set(self, "adaptive_tx", adaptive_tx)
        _set(self, "rx_usecs", rx_usecs)
        _set(self, "tx_usecs", tx_usecs)
        _set(self, "supported", supported)

    def current(self, field: str) -> int:
        """Return one field's value (a flag as 0/1)."""
        return int(getattr(self, field))


class CoalesceSpec(PartsSpec):
    """Wanted fields; None means "leave this field alone"."""

    __slots__ = FIELDS
    adaptive_rx: bool | None
    adaptive_tx: bool | None
    rx_usecs: int | None
    tx_usecs: int | None

    def __init__(
        self,
        adaptive_rx: bool | None = None,
        adaptive_tx: bool | None = None,
        rx_usecs: int | None = None,
        tx_usecs: int | None = None,
    ) -> None:
        _set(self, "adaptive_rx", adaptive_rx)
        _set(self, "adaptive_tx", adaptive_tx)
        _set(self, "rx_usecs", rx_usecs)
        _set(self, "tx_usecs", tx_usecs)

    def part_value(self, part: str, value: Any) -> Any:
        """Return a field as the kernel's integer (flags 0/1)."""
        return int(value)  # bool or int, as parsed

    def part_text(self, part: str, value: Any) -> str:
        """Return a field as ethtool shows it: `adaptive_rx=off`, `rx_usecs=0`."""
        return format_fields(((part, int(value)),))


class SetCoalesce(PartsChange):
    """Set some interrupt moderation fields of one interface; old/new are (field, value) pairs."""

    kind = "coalesce"

    def format(self, parts: tuple[tuple[str, int], ...]) -> str:
        """Render moderation fields as ethtool does: `adaptive_rx=off rx_usecs=0`."""
        return format_fields(parts)


class CoalesceKind(InterfaceKind):
    """Interrupt moderation of one interface."""

    name = "coalesce"
    makes_changes = True
    rule_keys = ("coalesce",)
    checks = (("coalesce", "coalesce"),)

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `coalesce`: adaptive_rx/adaptive_tx true or false, rx_usecs/tx_usecs 0..100000."""
        items = w.mapping(node, field)
        if items is None:
            return None
        w.known_keys(items, field, FIELDS)
        values: dict[str, object] = {}
        for name in FIELDS:
            if name not in items:
                continue
            value_node, sub = items[name][1], f"{field}.{name}"
            found = w.boolean(value_node, sub) if name in FLAGS else w.integer(value_node, sub, 0, USECS_MAX)
            if found is not None:
                values[name] = found
        if not items:
            w.problem(node, field, f"expected at least one of {', '.join(FIELDS)}")
        return CoalesceSpec(**values)  # type: ignore[arg-type]

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare the moderation fields the profile names."""
        spec = want.get("coalesce")
        if not isinstance(spec, CoalesceSpec):
            return []
        have = link.get(self.name)
        assert isinstance(have, (Coalesce, Unreadable))
        return [check_coalesce(ifname, spec, have)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the values a change replaces."""
        assert isinstance(change, SetCoalesce)
        return {"type": self.name, "ifname": change.ifname, "value": dict(change.old)}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether a coalesce entry is one netagent could have written."""
        value = entry.get("value")
        return (
            is_ifname(entry.get("ifname"))
            and isinstance(value, dict)
            and bool(value)
            and all(k in FIELDS and is_count(n) and (k not in FLAGS or n in (0, 1)) for k, n in value.items())
        )

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Record the fields first touched now."""
        return merge_parts(have, entry)

    def restore(self, entry: Mapping[str, object], current: object) -> SetCoalesce | None:
        """Return the change back to the recorded values; None when the device has them."""
        value = entry["value"]
        assert isinstance(value, dict)
        fields = [f for f in FIELDS if f in value]
        old = tuple((f, current.current(f) if isinstance(current, Coalesce) else 0) for f in fields)
        new = tuple((f, int(value[f])) for f in fields)
        return None if old == new else SetCoalesce(str(entry["ifname"]), old=old, new=new)

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return UseAdaptive*Coalesce=/*CoalesceSec= lines where the target's systemd has them."""
        wanted = _wanted(want)
        if not wanted:
            return []
        if not target.has(SYSTEMD_LINK_COALESCE):
            return [f"# coalesce is not written: {target.describe()} has no coalescing keys in .link files."]
        return [f"{LINK_KEYS[f]}={_link_value(f, n)}" for f, n in wanted.items()]

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """Say that coalescing is not persisted where the target's systemd lacks the keys."""
        if not _wanted(want) or target.has(SYSTEMD_LINK_COALESCE):
            return ""
        return (
            f"coalesce is not persisted ({target.describe()}: .link files set coalescing from systemd"
            f" {SYSTEMD_LINK_COALESCE}); `netagent apply` or the daemon carries it"
        )


def owner_value(part: str, raw: str, link_file: bool) -> str:
    """Return a moderation value another tool's file sets, as checks show it (`on`/`off`, usecs).

    .link files take booleans and time spans (`64us`; a bare number is seconds), NetworkManager
    keyfiles booleans and plain microseconds; a value that cannot be read is returned as written.
    """
    text = raw.strip().lower()
    if part in FLAGS:
        if text in ("1", "yes", "true", "on", "y", "t"):
            return "on"
        return "off" if text in ("0", "no", "false", "off", "n", "f") else raw.strip()
    if not link_file:
        return str(int(text)) if text.isdigit() else raw.strip()
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(digits) :].strip()
    if digits.strip().isdigit() and unit in _SPAN_UNITS:
        return str(int(digits) * _SPAN_UNITS[unit])
    return raw.strip()


def _wanted(want: Mapping[str, object]) -> Mapping[str, int]:
    spec = want.get("coalesce")
    return spec.wanted() if isinstance(spec, CoalesceSpec) else {}


def _link_value(field: str, n: int) -> str:
    if field in FLAGS:
        return "yes" if n else "no"
    return f"{n}us" if n else "0"


def check_coalesce(ifname: str, want: CoalesceSpec, have: Coalesce | Unreadable) -> Check:
    """Compare the moderation fields the profile names; a device without moderation, or without
    any of the named fields, is `unsupported`; fields it lacks are named in the note, never set."""
    wanted, spec = want.wanted(), want.text()
    if isinstance(have, Unreadable):
        return unreadable(ifname, "coalesce", spec, have)
    absent = [f for f in wanted if have.supported is not None and f not in have.supported]
    note = f"the device does not support {', '.join(absent)}" if absent else ""
    new = tuple((f, n) for f, n in wanted.items() if f not in absent)
    if not new:
        return Check(ifname, "coalesce", Status.UNSUPPORTED, spec, None, note)
    old = tuple((f, have.current(f)) for f, _ in new)
    actual = format_fields(old)
    if old == new:
        return Check(ifname, "coalesce", Status.OK, spec, actual, note)
    changed = tuple((f, n) for f, n in new if have.current(f) != n)
    change = SetCoalesce(ifname, old=tuple((f, have.current(f)) for f, _ in changed), new=changed)
    return Check(ifname, "coalesce", Status.DRIFT, spec, actual, note, change)


def format_fields(values: tuple[tuple[str, int], ...]) -> str:
    """Render moderation fields as ethtool does: `adaptive_rx=off rx_usecs=0`."""
    return " ".join(f"{f}={('on' if n else 'off') if f in FLAGS else n}" for f, n in values)


KIND = CoalesceKind()
