"""Rings: `rings: {rx: N|max|{at_least: N}|{at_most: N}, tx: ...}` on an interface rule (pure).

Read and set with ETHTOOL_GRINGPARAM/SRINGPARAM (struct ethtool_ringparam). `max` is the
device's pre-set maximum; a number above the maximum is an audit error and never sent;
`at_least: N` means at least min(N, maximum), as AWS's check-ena-express-settings.sh does. A
device without ring control (veth) is `unsupported`. ENA: 1K entries each by default, Rx up to
16K and Tx up to 1K by instance type, powers of 2 (../shared/ENA.md section 9). Persisted as
`.link` RxBufferSize=/TxBufferSize= (systemd.link(5)); `max` as the literal `max` from systemd
250 on; a bound is not persisted (a .link file sets one value, and would lower a larger one).
"""

from __future__ import annotations

from netagent.core.model import MAX, Change, Check, Status, Unreadable
from netagent.core.settings.base import (
    SYSTEMD_LINK_MAX,
    UNKNOWN_TARGET,
    BootTarget,
    InterfaceKind,
    PartsChange,
    PartsSpec,
    format_parts,
    is_count,
    is_ifname,
    merge_parts,
    unreadable,
)
from netagent.core.settings.bounds import Bound, parse_bound
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Union

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

    RingSize = Union[int, str, Bound]  # an int, MAX or a bound

# The rings a profile can size, in report order (the mini and jumbo rings stay as they are).
RING_KINDS = ("rx", "tx")
# systemd.link(5) [Link] keys of each ring, and NetworkManager's keyfile [ethtool] keys
# (nm-settings-nmcli(5): ethtool.ring-rx, ethtool.ring-tx), for the owner scan.
LINK_KEYS = {"rx": "RxBufferSize", "tx": "TxBufferSize"}
NM_KEYS = {"rx": "ring-rx", "tx": "ring-tx"}
# struct ethtool_ringparam counts are u32; 65536 is above any NIC's ring (ENA: 16K) and below
# what a typo (an extra digit) would give.
SIZE_MAX = 65536


class Rings(Value):
    """struct ethtool_ringparam: pre-set maxima and current sizes (include/uapi/linux/ethtool.h)."""

    __slots__ = ("max_rx", "max_rx_mini", "max_rx_jumbo", "max_tx", "rx", "rx_mini", "rx_jumbo", "tx")
    max_rx: int
    max_rx_mini: int
    max_rx_jumbo: int
    max_tx: int
    rx: int
    rx_mini: int
    rx_jumbo: int
    tx: int

    def __init__(
        self,
        max_rx: int,
        max_rx_mini: int,
        max_rx_jumbo: int,
        max_tx: int,
        rx: int,
        rx_mini: int,
        rx_jumbo: int,
        tx: int,
    ) -> None:
        _set(self, "max_rx", max_rx)
        _set(self, "max_rx_mini", max_rx_mini)
        _set(self, "max_rx_jumbo", max_rx_jumbo)
        _set(self, "max_tx", max_tx)
        _set(self, "rx", rx)
        _set(self, "rx_mini", rx_mini)
        _set(self, "rx_jumbo", rx_jumbo)
        _set(self, "tx", tx)

    def current(self, kind: str) -> int:
        """Return the current size of one ring (rx, tx)."""
        return int(getattr(self, kind))

    def maximum(self, kind: str) -> int:
        """Return the pre-set maximum of one ring."""
        return int(getattr(self, "max_" + kind))


class RingSpec(PartsSpec):
    """Wanted ring sizes; None means "leave this ring alone"."""

    __slots__ = ("rx", "tx")
    rx: RingSize | None
    tx: RingSize | None

    def __init__(self, rx: RingSize | None = None, tx: RingSize | None = None) -> None:
        _set(self, "rx", rx)
        _set(self, "tx", tx)

    def part_text(self, part: str, value: Any) -> str:
        """Return one ring as expected: `rx=1024`, or a bound as `rx>=1024`."""
        return f"{part}{value.text()}" if isinstance(value, Bound) else f"{part}={value}"


class SetRings(PartsChange):
    """Set one interface's ring sizes; old/new are (ring, size) pairs."""

    kind = "rings"


class RingsKind(InterfaceKind):
    """Rx and Tx ring sizes of one interface."""

    name = "rings"
    makes_changes = True
    rule_keys = ("rings",)
    checks = (("rings", "rings"),)

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `rings`: a mapping of rx/tx to 1..65536, `max`, or `{at_least: N}`/`{at_most: N}`."""
        items = w.mapping(node, field)
        if items is None:
            return None
        w.known_keys(items, field, RING_KINDS)
        sizes: dict[str, RingSize] = {}
        for kind in RING_KINDS:
            if kind not in items:
                continue
            value_node, sub = items[kind][1], f"{field}.{kind}"
            found: RingSize | None = None
            if w.is_text(value_node, MAX):
                found = MAX
            elif w.is_int(value_node):
                found = w.integer(value_node, sub, 1, SIZE_MAX)
            elif not w.is_scalar(value_node):
                found = parse_bound(w, value_node, sub, 1, SIZE_MAX)
            else:
                w.problem(
                    value_node,
                    sub,
                    f"expected an integer 1..{SIZE_MAX}, 'max', or {{at_least: N}} / {{at_most: N}},"
                    f" got {w.describe(value_node)}",
                )
            if found is not None:
                sizes[kind] = found
        if not items:
            w.problem(node, field, "expected at least one of rx, tx")
        return RingSpec(**sizes)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare ring sizes; `max` and bounds resolve against the device's maxima."""
        spec = want.get("rings")
        if not isinstance(spec, RingSpec):
            return []
        have = link.get(self.name)
        assert isinstance(have, (Rings, Unreadable))
        return [check_rings(ifname, spec, have)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the sizes a change replaces."""
        assert isinstance(change, SetRings)
        return {"type": self.name, "ifname": change.ifname, "value": dict(change.old)}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether a rings entry is one netagent could have written."""
        value = entry.get("value")
        return (
            is_ifname(entry.get("ifname"))
            and isinstance(value, dict)
            and bool(value)
            and all(k in RING_KINDS and is_count(n) and n > 0 for k, n in value.items())
        )

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Record the rings first touched now (rx earlier, tx now)."""
        return merge_parts(have, entry)

    def restore(self, entry: Mapping[str, object], current: object) -> SetRings | None:
        """Return the change back to the recorded sizes; None when the device has them."""
        value = entry["value"]
        assert isinstance(value, dict)
        kinds = sorted(value)
        old = tuple((k, current.current(k) if isinstance(current, Rings) else 0) for k in kinds)
        new = tuple((k, int(value[k])) for k in kinds)
        return None if old == new else SetRings(str(entry["ifname"]), old=old, new=new)

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return RxBufferSize=/TxBufferSize= lines; `max` where systemd takes it; bounds as comments."""
        lines = []
        for kind, size in _wanted(want).items():
            if isinstance(size, Bound):
                lines.append(f"# rings {kind}: {size.op} {size.limit} is not written: a .link file sets one size.")
            elif size == MAX and not target.has(SYSTEMD_LINK_MAX):
                lines.append(f"# rings {kind}: max is not written: {target.describe()} takes only a number here.")
            else:
                lines.append(f"{LINK_KEYS[kind]}={size}")
        return lines

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """Say which ring sizes a .link file cannot hold: bounds, and `max` before systemd 250."""
        wanted = _wanted(want)
        bounds = [k for k, n in wanted.items() if isinstance(n, Bound)]
        maxed = [k for k, n in wanted.items() if n == MAX] if not target.has(SYSTEMD_LINK_MAX) else []
        parts = []
        if bounds:
            parts.append(
                f"rings {'/'.join(bounds)}: a bound is not persisted (a .link file sets one size, which would"
                " lower a larger ring); `netagent apply` or the daemon carries it"
            )
        if maxed:
            parts.append(
                f"rings {'/'.join(maxed)}: max is not persisted ({target.describe()}: a .link file takes `max`"
                f" from systemd {SYSTEMD_LINK_MAX}); the driver's default size applies at boot and `netagent apply`"
                " sets the maximum"
            )
        return "; ".join(parts)


def owner_value(part: str, raw: str, link_file: bool) -> str:
    """Return a ring size another tool's file sets, as checks show it (a number, or `max`)."""
    return raw.strip()


def _wanted(want: Mapping[str, object]) -> Mapping[str, RingSize]:
    spec = want.get("rings")
    return spec.wanted() if isinstance(spec, RingSpec) else {}


def check_rings(ifname: str, want: RingSpec, have: Rings | Unreadable) -> Check:
    """Compare ring sizes; `max` is the device maximum, `at_least` is capped at it."""
    wanted, spec = want.wanted(), want.text()
    if isinstance(have, Unreadable):
        return unreadable(ifname, "rings", spec, have)
    target: dict[str, int] = {}
    expected: list[str] = []
    absent: list[str] = []
    for kind, size in wanted.items():
        maximum, current = have.maximum(kind), have.current(kind)
        if maximum == 0:
            absent.append(kind)
        elif size == MAX:
            target[kind] = maximum
            expected.append(f"{kind}={maximum}")
        elif isinstance(size, Bound):
            limit = min(size.limit, maximum)
            # Already on the right side: ok as it is, and never moved towards the bound.
            target[kind] = current if size.holds(current, limit) else limit
            expected.append(f"{kind}{size.text(limit)}")
        elif isinstance(size, int) and size > maximum:
            message = f"{kind}={size} is more than the device's maximum of {maximum}"
            return Check(ifname, "rings", Status.ERROR, spec, _sizes(have, wanted), message)
        else:
            target[kind] = int(size)
            expected.append(f"{kind}={size}")
    note = f"the device has no {'/'.join(absent)} ring to size" if absent else ""
    if not target:
        return Check(ifname, "rings", Status.UNSUPPORTED, spec, _sizes(have, wanted), note)
    old = tuple((k, have.current(k)) for k in target)
    new = tuple(target.items())
    actual = format_parts(old)
    if old == new:
        return Check(ifname, "rings", Status.OK, " ".join(expected), actual, note)
    changed = tuple((k, n) for k, n in new if have.current(k) != n)
    change = SetRings(ifname, old=tuple((k, have.current(k)) for k, _ in changed), new=changed)
    return Check(ifname, "rings", Status.DRIFT, " ".join(expected), actual, note, change)


def _sizes(have: Rings, wanted: Mapping[str, RingSize]) -> str:
    return format_parts(tuple((k, have.current(k)) for k in wanted))


KIND = RingsKind()
