"""BQL: `bql: off` raises every Tx queue's byte_queue_limits/limit_min to the maximum (pure).

Byte Queue Limits cap the bytes queued to the device; AWS's ENA Express checker requires them
off and fixes it by writing `max` to each Tx queue's `byte_queue_limits/limit_min`
(amzn-ec2-ena-utilities ena-express/check-ena-express-settings.sh). A driver that never uses
BQL (the ena module parameter `enable_bql=0`) is off already. A kernel without BQL
(CONFIG_BQL unset: no byte_queue_limits directory) is `unsupported`.
"""

from __future__ import annotations

from netagent.core.model import Change, Check, InterfaceChange, Status, Unreadable
from netagent.core.settings.base import (
    UNKNOWN_TARGET,
    BootTarget,
    InterfaceKind,
    is_count,
    is_ifname,
    is_queue,
    merge_parts,
    parse_switch,
    unreadable,
)
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# include/linux/dynamic_queue_limits.h: DQL_MAX_LIMIT = (UINT_MAX / 2) - DQL_MAX_OBJECT,
# DQL_MAX_OBJECT = UINT_MAX / 16; `echo max > limit_min` stores it (net/core/net-sysfs.c bql_set).
DQL_MAX_LIMIT = (2**32 - 1) // 2 - (2**32 - 1) // 16
OFF, ON = "off", "on"


class BqlState(Value):
    """What the adapter read: the driver's `enable_bql` parameter (None: none) and each Tx queue's limit_min."""

    __slots__ = ("enable_bql", "limit_min")
    enable_bql: str | None
    limit_min: tuple[tuple[str, int], ...]

    def __init__(self, enable_bql: str | None, limit_min: tuple[tuple[str, int], ...]) -> None:
        _set(self, "enable_bql", enable_bql)
        _set(self, "limit_min", limit_min)


class SetBql(InterfaceChange):
    """Set limit_min of some Tx queues; old/new are (queue, bytes) pairs."""

    kind = "bql"
    old: tuple[tuple[str, int], ...]
    new: tuple[tuple[str, int], ...]

    def __init__(self, ifname: str, old: tuple[tuple[str, int], ...], new: tuple[tuple[str, int], ...]) -> None:
        super().__init__(ifname, old, new)

    @property
    def new_text(self) -> str:
        """Return the new limits as `tx-0=1879048192 ...`."""
        return " ".join(f"{q}={n}" for q, n in self.new)

    def text_of(self, observed: object) -> str:
        """Render the current limit_min of the queues this change sets."""
        assert isinstance(observed, BqlState)
        have = dict(observed.limit_min)
        return " ".join(f"{q}={have.get(q, 0)}" for q, _ in self.new)

    def describe(self) -> str:
        """Return `lab0 bql limit_min 0 -> max (8 queues)`."""
        old = {n for _, n in self.old}
        before = str(old.pop()) if len(old) == 1 else "mixed"
        after = "max" if all(n == DQL_MAX_LIMIT for _, n in self.new) else " ".join(str(n) for _, n in self.new)
        return f"{self.ifname} bql limit_min {before} -> {after} ({len(self.new)} queues)"


class Bql(InterfaceKind):
    """Byte Queue Limits of every Tx queue: `off` (limit_min at the maximum) or `on` (limit_min 0)."""

    name = "bql"
    makes_changes = True
    rule_keys = ("bql",)
    checks = (("bql", "bql"),)

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `bql: off|on`; YAML 1.1 reads a bare off/on (or false/true) as a boolean, which means the same."""
        return parse_switch(w, node, field)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare every Tx queue's limit_min with what off (the maximum) or on (0) means."""
        wanted = want.get("bql")
        if wanted not in (OFF, ON):
            return []
        have = link.get(self.name)
        if isinstance(have, Unreadable):
            return [unreadable(ifname, self.name, str(wanted), have)]
        assert isinstance(have, BqlState)
        if wanted == OFF and have.enable_bql == "0":
            return [Check(ifname, self.name, Status.OK, OFF, OFF, "the driver does not use BQL (enable_bql=0)")]
        target = DQL_MAX_LIMIT if wanted == OFF else 0
        old = tuple((q, n) for q, n in have.limit_min if n != target)
        actual = _state(have)
        if not old:
            return [Check(ifname, self.name, Status.OK, str(wanted), actual)]
        change = SetBql(ifname, old=old, new=tuple((q, target) for q, _ in old))
        return [Check(ifname, self.name, Status.DRIFT, str(wanted), actual, change=change)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording each queue's limit_min before the change."""
        assert isinstance(change, SetBql)
        return {"type": self.name, "ifname": change.ifname, "value": dict(change.old)}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether an entry is one netagent could have written."""
        value = entry.get("value")
        return (
            is_ifname(entry.get("ifname"))
            and isinstance(value, dict)
            and bool(value)
            and all(is_queue(q, "tx-") and is_count(n) for q, n in value.items())
        )

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Record the queues first touched now."""
        return merge_parts(have, entry)

    def restore(self, entry: Mapping[str, object], current: object) -> SetBql | None:
        """Return the change back to the recorded limits; None when every queue has its own."""
        value = entry["value"]
        assert isinstance(value, dict)
        assert isinstance(current, BqlState)
        have = dict(current.limit_min)
        # A queue that no longer exists (the queue count fell) has nothing to restore: it is gone.
        old = tuple((q, have[q]) for q, n in sorted(value.items()) if q in have and have[q] != n)
        new = tuple((q, int(value[q])) for q, _ in old)
        return SetBql(str(entry["ifname"]), old=old, new=new) if old else None

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """No boot file sets limit_min."""
        if want.get("bql") is None:
            return ""
        return "bql: no boot file sets byte_queue_limits; the daemon, or `netagent apply` at boot, sets it"


def _state(have: BqlState) -> str:
    values = {n for _, n in have.limit_min}
    if values == {DQL_MAX_LIMIT}:
        return OFF
    if values == {0}:
        return ON
    return " ".join(f"{q}={n}" for q, n in have.limit_min)


KIND = Bql()
