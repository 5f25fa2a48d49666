"""Channels (RSS queues): `channels: {combined: N|max, rx: N|max, tx: N|max}` on an interface rule.

Read and set with ETHTOOL_GCHANNELS/SCHANNELS; `max` is the device's pre-set maximum, resolved
on the live device; more than the maximum is an audit error, never sent. Persisted as `.link`
RxChannels=/TxChannels=/CombinedChannels= (systemd.link(5)): `max` as the literal `max` where the
image's systemd accepts it (250 and later), else left out with a note (pure).
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
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Union

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

    ChannelCount = Union[int, str]  # an int, or MAX

# The channel types a profile can set, in report order.
CHANNEL_KINDS = ("combined", "rx", "tx")
# systemd.link(5) [Link] keys for each channel type.
LINK_KEYS = {"rx": "RxChannels", "tx": "TxChannels", "combined": "CombinedChannels"}
# NetworkManager keyfile [ethtool] keys (nm-settings-keyfile(5)), for the owner scan; `other` too.
NM_KEYS = {kind: f"channels-{kind}" for kind in ("rx", "tx", "other", "combined")}
COUNT_MAX = 4096


class ChannelSpec(PartsSpec):
    """Wanted queue counts; None means "leave this type alone"."""

    __slots__ = ("combined", "rx", "tx")
    combined: ChannelCount | None
    rx: ChannelCount | None
    tx: ChannelCount | None

    def __init__(
        self, combined: ChannelCount | None = None, rx: ChannelCount | None = None, tx: ChannelCount | None = None
    ) -> None:
        _set(self, "combined", combined)
        _set(self, "rx", rx)
        _set(self, "tx", tx)


class Channels(Value):
    """struct ethtool_channels: pre-set maxima and current counts."""

    __slots__ = ("max_rx", "max_tx", "max_other", "max_combined", "rx", "tx", "other", "combined")
    max_rx: int
    max_tx: int
    max_other: int
    max_combined: int
    rx: int
    tx: int
    other: int
    combined: int

    def __init__(
        self, max_rx: int, max_tx: int, max_other: int, max_combined: int, rx: int, tx: int, other: int, combined: int
    ) -> None:
        _set(self, "max_rx", max_rx)
        _set(self, "max_tx", max_tx)
        _set(self, "max_other", max_other)
        _set(self, "max_combined", max_combined)
        _set(self, "rx", rx)
        _set(self, "tx", tx)
        _set(self, "other", other)
        _set(self, "combined", combined)

    def current(self, kind: str) -> int:
        """Return the current count of one type (combined, rx, tx)."""
        return int(getattr(self, kind))

    def maximum(self, kind: str) -> int:
        """Return the pre-set maximum of one type."""
        return int(getattr(self, "max_" + kind))


class SetChannels(PartsChange):
    """Set one interface's queue counts; old/new are (type, count) pairs."""

    kind = "channels"


class ChannelsKind(InterfaceKind):
    """RSS queue counts of one interface."""

    name = "channels"
    makes_changes = True
    rule_keys = ("channels",)
    checks = (("channels", "channels"),)

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `channels`: a mapping of combined/rx/tx to 1..4096 or `max`."""
        items = w.mapping(node, field)
        if items is None:
            return None
        w.known_keys(items, field, CHANNEL_KINDS)
        counts: dict[str, ChannelCount] = {}
        for kind in CHANNEL_KINDS:
            if kind not in items:
                continue
            value_node, sub = items[kind][1], f"{field}.{kind}"
            if w.is_text(value_node, MAX):
                counts[kind] = MAX
            elif w.is_int(value_node):
                n = w.integer(value_node, sub, 1, COUNT_MAX)
                if n is not None:
                    counts[kind] = n
            else:
                w.problem(value_node, sub, f"expected an integer 1..{COUNT_MAX} or 'max', got {w.describe(value_node)}")
        if not items:
            w.problem(node, field, "expected at least one of combined, rx, tx")
        return ChannelSpec(**counts)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare queue counts; `max` resolves to the device's pre-set maximum."""
        spec = want.get("channels")
        if not isinstance(spec, ChannelSpec):
            return []
        have = link.get(self.name)
        assert isinstance(have, (Channels, Unreadable))
        return [check_channels(ifname, spec, have)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the counts a change replaces."""
        assert isinstance(change, SetChannels)
        return {"type": self.name, "ifname": change.ifname, "value": dict(change.old)}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether a channels entry is one netagent could have written."""
        value = entry.get("value")
        return (
            is_ifname(entry.get("ifname"))
            and isinstance(value, dict)
            and bool(value)
            and all(k in CHANNEL_KINDS and is_count(n) for k, n in value.items())
        )

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Record the channel types first touched now (rx earlier, combined now)."""
        return merge_parts(have, entry)

    def restore(self, entry: Mapping[str, object], current: object) -> SetChannels | None:
        """Return the change back to the recorded counts; None when the device has them."""
        value = entry["value"]
        assert isinstance(value, dict)
        kinds = sorted(value)
        old = tuple((k, current.current(k) if isinstance(current, Channels) else 0) for k in kinds)
        new = tuple((k, int(value[k])) for k in kinds)
        return None if old == new else SetChannels(str(entry["ifname"]), old=old, new=new)

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return RxChannels=/TxChannels=/CombinedChannels= lines; `max` as is where systemd takes it."""
        spec = want.get("channels")
        lines = []
        for kind, count in (spec.wanted() if isinstance(spec, ChannelSpec) else {}).items():
            if count == MAX and not target.has(SYSTEMD_LINK_MAX):
                lines.append(f"# channels {kind}: max is not written: {target.describe()} takes only a number here.")
            else:
                lines.append(f"{LINK_KEYS[kind]}={count}")
        return lines

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """Say which channel types are `max` where the target's systemd cannot hold it."""
        spec = want.get("channels")
        kinds = [k for k, n in (spec.wanted() if isinstance(spec, ChannelSpec) else {}).items() if n == MAX]
        if not kinds or target.has(SYSTEMD_LINK_MAX):
            return ""
        return (
            f"channels {'/'.join(kinds)}: max is not persisted ({target.describe()}: a .link file takes `max`"
            f" from systemd {SYSTEMD_LINK_MAX}); the driver's default count applies at boot and `netagent apply`"
            " sets the maximum"
        )


def check_channels(ifname: str, want: ChannelSpec, have: Channels | Unreadable) -> Check:
    """Compare queue counts; `max` resolves to the device's pre-set maximum."""
    wanted, spec = want.wanted(), want.text()
    if isinstance(have, Unreadable):
        return unreadable(ifname, "channels", spec, have)
    target: dict[str, int] = {}
    absent: list[str] = []
    for kind, count in wanted.items():
        maximum = have.maximum(kind)
        if maximum == 0:
            absent.append(kind)
        elif count == MAX:
            target[kind] = maximum
        elif isinstance(count, int) and count > maximum:
            message = f"{kind}={count} is more than the device's maximum of {maximum}"
            return Check(ifname, "channels", Status.ERROR, spec, _counts(have, wanted), message)
        else:
            target[kind] = int(count)
    note = f"the device has no {'/'.join(absent)} queues to set" if absent else ""
    if not target:
        return Check(ifname, "channels", Status.UNSUPPORTED, spec, _counts(have, wanted), note)
    old = tuple((k, have.current(k)) for k in target)
    new = tuple(target.items())
    expected, actual = format_parts(new), format_parts(old)
    if old == new:
        return Check(ifname, "channels", Status.OK, expected, actual, note)
    return Check(ifname, "channels", Status.DRIFT, expected, actual, note, SetChannels(ifname, old=old, new=new))


def _counts(have: Channels, wanted: Mapping[str, ChannelCount]) -> str:
    return format_parts(tuple((k, have.current(k)) for k in wanted))


KIND = ChannelsKind()
