"""What every setting kind provides; one module per kind implements it (pure).

A kind owns one tunable end to end: the profile keys it reads and validates, the check that
compares the profile with what the host adapter read, the change and its inverse, the codec of
the original recorded in the state file, and the boot-time rendering (a `.link` line or a note
why it cannot persist). Adding a tunable is one module here, its registry entry in
`netagent.core.settings`, and one adapter method in `netagent.host`.
"""

from __future__ import annotations

from types import MappingProxyType

from netagent.core.model import Check, InterfaceChange, Status, Unreadable
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from netagent.core.model import Change, Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node


# systemd NEWS, "CHANGES WITH 250": the .link ring buffer settings accept "max", and .link files
# can set NIC coalescing (UseAdaptiveRxCoalesce=, RxCoalesceSec=, ...). The channel counts share
# that parser (src/shared/ethtool-util.c, config_parse_ring_buffer_or_channel): `RxChannels=max`
# is refused by 249 (Ubuntu 22.04) and accepted by 252 (AL2023, Debian 12; ../shared/VMLAB.md).
SYSTEMD_LINK_MAX = 250
SYSTEMD_LINK_COALESCE = 250


class BootTarget(Value):
    """What the image's boot-time tools accept: its systemd version, None when unknown."""

    __slots__ = ("systemd_version",)
    systemd_version: int | None

    def __init__(self, systemd_version: int | None = None) -> None:
        _set(self, "systemd_version", systemd_version)

    def has(self, since: int) -> bool:
        """Tell whether the target's systemd is at least `since` (False when its version is unknown)."""
        return self.systemd_version is not None and self.systemd_version >= since

    def describe(self) -> str:
        """Name the target's systemd for a note (`systemd 249`, or `an unknown systemd`)."""
        return "an unknown systemd" if self.systemd_version is None else f"systemd {self.systemd_version}"


UNKNOWN_TARGET = BootTarget()  # persist without a known systemd: only what every version accepts


class Recorded:
    """A kind whose changes netagent makes, so their originals go into the state file."""

    name = ""
    makes_changes = False

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the value a change replaces."""
        raise NotImplementedError(f"{self.name} makes no changes")

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether a recorded entry is one netagent could have written (restore writes it as root)."""
        return False

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Fold a later change's original into an existing entry; True when the entry grew.

        The first value recorded for a setting is kept for good; only kinds with parts (channel
        types, rings, queues) record the parts first touched by a later change (merge_parts).
        """
        return False

    def restore(self, entry: Mapping[str, object], current: object) -> Change | None:
        """Return the change that puts the recorded original back, None when it is already there."""
        raise NotImplementedError(f"{self.name} makes no changes")


class InterfaceKind(Recorded):
    """A setting of one interface (MTU, channels, ...); subclasses fill in what they support.

    `name` is the setting in check ids (`lab0/mtu`) and the key in the state file; `rule_keys`
    are the keys of an `interfaces:` rule it reads; `checks` pairs each check setting it
    produces with the rule key it comes from (whose rule lends its severity and `when:`).
    `reads` tells the host adapters to read this kind for a matched interface.
    """

    name = ""
    rule_keys: tuple[str, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()
    reads = True
    # Keys other tools use for this setting, for the owner scan and for people:
    link_key = ""  # systemd.link(5) [Link] key, "" when a .link file cannot set it

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate one rule key's value; report problems on `w` and return None when invalid."""
        raise NotImplementedError

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare the merged rule values (`want`, by rule key) with what was read for `link`."""
        raise NotImplementedError

    # ---------------------------------------------------------------- boot

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return the `.link` [Link] lines (and `#` comments) for these merged rule values."""
        return []

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """Say what of one rule's values a boot-time file cannot carry; "" when it all persists."""
        return ""


def unreadable(ifname: str, setting: str, expected: str, value: Unreadable) -> Check:
    """Return the check of a setting that could not be read: unsupported or an error."""
    status = Status.UNSUPPORTED if value.unsupported else Status.ERROR
    return Check(ifname, setting, status, expected, None, value.reason)


def is_ifname(name: object) -> bool:
    """Tell whether a recorded interface name is one the kernel could have (1..15 bytes, no '/')."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name:
        return False
    return len(name.encode("utf-8", "surrogateescape")) < IFNAMSIZ


def is_queue(name: object, prefix: str) -> bool:
    """Tell whether a recorded queue name is one of an interface's queues of one direction (`rx-3`)."""
    if not isinstance(name, str) or not name.startswith(prefix):
        return False
    number = name[len(prefix) :]
    return number.isdigit() and number.isascii() and len(number) <= 5  # at most 65535 queues


def is_count(n: object) -> bool:
    """Tell whether a recorded number is a plain unsigned 32-bit integer."""
    return isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**32


IFNAMSIZ = 16  # include/uapi/linux/if.h: names are 1..15 bytes


def merge_parts(have: dict[str, object], entry: Mapping[str, object]) -> bool:
    """Record in an existing original the parts a later change touches first (rx earlier, tx now);
    a part already recorded keeps its first value. True when the entry grew."""
    recorded, value = have["value"], entry["value"]
    assert isinstance(recorded, dict)
    assert isinstance(value, dict)
    new = {part: v for part, v in value.items() if part not in recorded}
    recorded.update(new)
    return bool(new)


class PartsChange(InterfaceChange):
    """A change to some parts of one interface's setting (channel types, rings, moderation fields);
    old/new are (part, value) pairs, and what the adapter reads has a `current(part)`."""

    old: tuple[tuple[str, int], ...]
    new: tuple[tuple[str, int], ...]

    def __init__(self, ifname: str, old: tuple[tuple[str, int], ...], new: tuple[tuple[str, int], ...]) -> None:
        super().__init__(ifname, old, new)

    def format(self, parts: tuple[tuple[str, int], ...]) -> str:
        """Render parts as `rx=4 tx=4`."""
        return format_parts(parts)

    @property
    def new_text(self) -> str:
        """Return the new values of the parts this change sets."""
        return self.format(self.new)

    def text_of(self, observed: object) -> str:
        """Render the device's current values of the parts this change sets."""
        current = observed.current  # type: ignore[attr-defined]  # Channels, Rings, Coalesce
        return self.format(tuple((part, current(part)) for part, _ in self.new))


class PartsSpec(Value):
    """What a profile wants of some parts of one device setting (channel types, rings,
    moderation fields); a part set to None is left alone. A subclass lists its parts, in a fixed
    order, as its `__slots__` (its fields).

    The spec is checked against every interface its rule matches, so what the check asks of it
    (the parts it sets, their text) is derived once and kept (issue 13: 256 interfaces).
    """

    __slots__ = ("_derived",)
    _derived: tuple[Mapping[str, Any], str]

    def part_value(self, part: str, value: Any) -> Any:
        """Return one part's wanted value as the check compares it (as written, by default)."""
        return value

    def part_text(self, part: str, value: Any) -> str:
        """Return one part as the report shows what is expected: `rx=4`."""
        return f"{part}={value}"

    def _derive(self) -> tuple[Mapping[str, Any], str]:
        try:
            return self._derived
        except AttributeError:
            wanted = {}
            for part in self._fields:
                value = getattr(self, part)
                if value is not None:
                    wanted[part] = self.part_value(part, value)
            text = " ".join(self.part_text(part, v) for part, v in wanted.items())
            _set(self, "_derived", (MappingProxyType(wanted), text))
            return self._derived

    def wanted(self) -> Mapping[str, Any]:
        """Return the parts this spec sets and their values, in the parts' order (read-only)."""
        return self._derive()[0]

    def text(self) -> str:
        """Return what the spec expects as a report shows it: `rx=4 tx=max`."""
        return self._derive()[1]


def format_parts(parts: tuple[tuple[str, int], ...]) -> str:
    """Render (part, value) pairs as `rx=4 tx=4`."""
    return " ".join(f"{part}={n}" for part, n in parts)


def parse_switch(w: Walker, node: Node, field: str) -> str | None:
    """Validate `off` or `on`; YAML 1.1 reads a bare off/on (or false/true) as a boolean, which means the same."""
    if w.is_text(node) and node.value in ("off", "on"):
        return str(node.value)
    if w.is_scalar(node) and node.tag.endswith(":bool"):
        return "on" if str(node.value).lower() in ("on", "true", "yes", "y") else "off"
    w.problem(node, field, f"expected off or on, got {w.describe(node)}")
    return None
