"""Sysctls: `sysctl: {net.ipv4.tcp_rmem: 4096 131072 6291456}`, compared by meaning (pure).

Read and written under /proc/sys of the current network namespace; persisted as one
`key = value` line in a sysctl.d(5) drop-in, applied at boot by systemd-sysctl.

Bounds (`{at_least: N}` / `{at_most: N}`, netagent.core.settings.bounds) compare one number: a
key whose kernel value has several (tcp_rmem) is an error under a bound, as TuneD cannot compare
those either. A bound is not persisted: a sysctl.d line sets one value at boot, which would
lower a larger kernel default; the drop-in carries a comment and persist a note.
"""

from __future__ import annotations

import re

from netagent.core.model import Change, Check, CheckId, Severity, Status, Unreadable
from netagent.core.settings.base import Recorded
from netagent.core.settings.bounds import Bound
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Condition
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# A key is dotted words under net.; no empty parts, no '/' and no '..', so it stays under
# /proc/sys/net. The state file accepts only such keys too: a forged kernel.core_pattern entry
# is never written back (issue 9). Compiled on first use (re caches it).
KEY_PATTERN = r"net(\.[A-Za-z0-9_:@-]+)+"
# Values are integers or strings of integers (tcp_rmem's three numbers).
VALUE_PATTERN = r"-?[0-9]+(?:[ \t]+-?[0-9]+)*"
CANNOT_SET_READ_ONLY = "cannot set here: read-only"


class SysctlSetting(Value):
    """One `sysctl:` entry; value is normalised (single spaces); with a bound, value is its limit."""

    __slots__ = ("key", "value", "line", "severity", "when", "bound")
    key: str
    value: str
    line: int | None
    severity: Severity
    when: Condition | None
    bound: Bound | None

    def __init__(
        self,
        key: str,
        value: str,
        line: int | None = None,
        severity: Severity = Severity.REQUIRED,
        when: Condition | None = None,
        bound: Bound | None = None,
    ) -> None:
        _set(self, "key", key)
        _set(self, "value", str(bound.limit) if bound is not None else value)
        _set(self, "line", line)
        _set(self, "severity", severity)
        _set(self, "when", when)
        _set(self, "bound", bound)


class SetSysctl(Change):
    """Write one sysctl under /proc/sys/net."""

    __slots__ = ("key", "old", "new")
    kind = "sysctl"
    key: str
    old: str
    new: str

    def __init__(self, key: str, old: str, new: str) -> None:
        _set(self, "key", key)
        _set(self, "old", old)
        _set(self, "new", new)

    @property
    def cid(self) -> CheckId:
        """Return the typed id of the check this change fixes."""
        return CheckId(self.key, "sysctl")

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        return self.new

    @property
    def target(self) -> str:
        """Return the sysctl's key."""
        return self.key

    def inverse(self) -> SetSysctl:
        """Return the change that undoes this one."""
        return SetSysctl(self.key, old=self.new, new=self.old)

    def describe(self) -> str:
        """Return a one-line diff for people."""
        return f"{self.key} {self.old} -> {self.new}"


class Sysctl(Recorded):
    """The sysctl kind: one per host (per network namespace), not per interface."""

    name = "sysctl"
    makes_changes = True

    def valid_key(self, key: str) -> bool:
        """Tell whether a key is one a profile may name (under net., dotted words)."""
        return re.fullmatch(KEY_PATTERN, key) is not None

    def parse_value(self, w: Walker, node: Node) -> str | None:
        """Return a sysctl value node as normalised text, or None when it is not integers."""
        if w.is_int(node, decimal=True):
            return str(int(str(node.value)))
        if w.is_text(node) and re.fullmatch(VALUE_PATTERN, str(node.value).strip()):
            return normalize_sysctl(str(node.value))
        return None

    def check(self, setting: SysctlSetting, have: str | Unreadable, mode: int | None = None) -> Check:
        """Compare a sysctl by meaning: whitespace and tabs do not matter (see check_sysctl)."""
        return check_sysctl(setting, have, mode)

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the value a change replaces."""
        assert isinstance(change, SetSysctl)
        return {"type": self.name, "key": change.key, "value": change.old}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether a sysctl entry is one netagent could have written: a net. key, integer values."""
        key, value = entry.get("key"), entry.get("value")
        return (
            isinstance(key, str)
            and self.valid_key(key)
            and isinstance(value, str)
            and re.fullmatch(VALUE_PATTERN, value.strip()) is not None
        )

    def restore(self, entry: Mapping[str, object], current: object) -> SetSysctl | None:
        """Return the change back to the recorded value; None when the key has it."""
        have, value = normalize_sysctl(str(current)), str(entry["value"])
        return None if have == normalize_sysctl(value) else SetSysctl(str(entry["key"]), old=have, new=value)

    def dropin_line(self, setting: SysctlSetting) -> str:
        """Return the sysctl.d(5) line that sets this value at boot (a comment for a bound)."""
        if setting.bound is not None:
            bound = setting.bound
            return f"# {setting.key}: {bound.op} {bound.limit} is not written: a line sets one value at boot."
        return f"{setting.key} = {setting.value}"

    def persist_note(self, setting: SysctlSetting) -> str:
        """Say why a bounded sysctl is not persisted; "" for an exact value."""
        if setting.bound is None:
            return ""
        return (
            f"sysctl {setting.key}: {setting.bound.op} {setting.bound.limit} is not persisted (a sysctl.d line"
            " sets one value, which would lower a larger default); `netagent apply` or the daemon carries it"
        )


def check_sysctl(setting: SysctlSetting, have: str | Unreadable, mode: int | None = None) -> Check:
    """Compare a sysctl by meaning: whitespace and tabs do not matter.

    `mode` is the permission bits of its /proc/sys file: drift in a key nobody may write here
    (0444, as net.core.rmem_max shows in a child network namespace; root is held to the mode
    too) is drift without a change, so no plan promises a write that must fail (issue 15).
    """
    if isinstance(have, Unreadable):
        expected = setting.bound.text() if setting.bound is not None else setting.value
        return Check(setting.key, "sysctl", Status.ERROR, expected, None, have.reason)
    actual = normalize_sysctl(have)
    if not re.fullmatch(VALUE_PATTERN, actual):
        # netagent writes integers only: it could neither record this value as an original nor
        # put it back (a profile naming tcp_congestion_control, say: its value is `cubic`).
        message = f"the kernel's value {actual!r} is not integers: netagent sets only integer sysctls"
        expected = setting.bound.text() if setting.bound is not None else setting.value
        return Check(setting.key, "sysctl", Status.ERROR, expected, actual, message)
    if setting.bound is not None:
        return _check_bound(setting, setting.bound, actual, mode)
    if actual == setting.value:
        return Check(setting.key, "sysctl", Status.OK, setting.value, actual)
    if mode is not None and is_read_only(mode):
        message = f"{CANNOT_SET_READ_ONLY} (/proc/sys mode {mode:04o}, for root too)"
        return Check(setting.key, "sysctl", Status.DRIFT, setting.value, actual, message)
    change = SetSysctl(setting.key, old=actual, new=setting.value)
    return Check(setting.key, "sysctl", Status.DRIFT, setting.value, actual, change=change)


def is_read_only(mode: int) -> bool:
    """Tell whether a /proc/sys file with these permission bits refuses every writer, root included:
    proc_sys_permission applies the owner (root's) bits to root, with no capability override."""
    return not mode & 0o200


def _check_bound(setting: SysctlSetting, bound: Bound, actual: str, mode: int | None) -> Check:
    """A value on the right side of the bound is ok and left alone; else the bound itself is set."""
    expected = bound.text()
    words = actual.split()
    if len(words) != 1 or not _is_integer(words[0]):
        message = f"a bound compares one integer, and the kernel's value has {len(words)} words"
        return Check(setting.key, "sysctl", Status.ERROR, expected, actual, message)
    if bound.holds(int(words[0])):
        return Check(setting.key, "sysctl", Status.OK, expected, actual)
    if mode is not None and is_read_only(mode):
        message = f"{CANNOT_SET_READ_ONLY} (/proc/sys mode {mode:04o}, for root too)"
        return Check(setting.key, "sysctl", Status.DRIFT, expected, actual, message)
    change = SetSysctl(setting.key, old=actual, new=setting.value)
    return Check(setting.key, "sysctl", Status.DRIFT, expected, actual, change=change)


def _is_integer(word: str) -> bool:
    digits = word[1:] if word[:1] == "-" else word
    return digits.isdigit() and digits.isascii()


def normalize_sysctl(value: str) -> str:
    """Return a sysctl value as the kernel means it: words separated by single spaces, integers
    without leading zeros or plus signs (`"4096\t131072  6291456"` -> `"4096 131072 6291456"`)."""
    return " ".join(_normalize_word(word) for word in value.split())


def _normalize_word(word: str) -> str:
    digits = word[1:] if word[:1] in ("-", "+") else word
    return str(int(word)) if digits.isdigit() and digits.isascii() else word  # [-+]?[0-9]+


KIND = Sysctl()
