"""Desired (Profile) vs observed (HostState) -> checks and a plan. Pure: no I/O, no clock."""

from __future__ import annotations

import re

from netagent.core.conditions import FIELD_OF_SETTING, qualify
from netagent.core.matching import matches
from netagent.core.model import (
    MAX,
    AuditContext,
    Change,
    Channels,
    Check,
    DriverInfo,
    HostState,
    InterfaceRule,
    Link,
    Plan,
    Profile,
    SetChannels,
    SetMtu,
    SetSysctl,
    Status,
    SysctlSetting,
    Unreadable,
    format_counts,
    normalize_sysctl,
)

# GitHub and old in-tree ENA drivers: 2.17.0g, 1.3.0K; newer in-tree drivers report the kernel
# release instead, which says nothing of ENA features (../shared/ENA.md, "Version string formats").
_DRIVER_VERSION = r"([0-9]+)\.([0-9]+)(?:\.([0-9]+))?[gGkK]?"  # compiled on first use (re caches it)
CANNOT_SET_READ_ONLY = "cannot set here: read-only"
_STATUS_ORDER = {Status.ERROR: 0, Status.DRIFT: 1, Status.UNSUPPORTED: 2, Status.SKIPPED: 3, Status.OK: 4}


def wanted_by_interface(profile: Profile, ifnames: tuple[str, ...]) -> dict[str, InterfaceRule]:
    """Merge the rules that match each interface; a later rule's field overrides an earlier one's."""
    merged: dict[str, InterfaceRule] = {}
    for ifname in ifnames:
        rules = _matching(profile, ifname)
        if rules:
            merged[ifname] = _merge(rules)
    return merged


def _matching(profile: Profile, ifname: str) -> tuple[InterfaceRule, ...]:
    return tuple(rule for rule in profile.interfaces if matches(ifname, rule.match))


def _merge(rules: tuple[InterfaceRule, ...]) -> InterfaceRule:
    merged = rules[0]
    for rule in rules[1:]:
        fields = {f: getattr(rule, f) for f in ("driver", "driver_min_version", "mtu", "channels")}
        merged = merged.replace(**{k: v for k, v in fields.items() if v is not None})
    return merged


def _providers(rules: tuple[InterfaceRule, ...]) -> dict[str, InterfaceRule]:
    out: dict[str, InterfaceRule] = {}
    for rule in rules:
        out.update({f: rule for f in FIELD_OF_SETTING.values() if getattr(rule, f) is not None})
    return out


def audit(profile: Profile, host: HostState, ctx: AuditContext | None = None) -> list[Check]:
    """Compare the profile with the host; failures first, then by id.

    Each check carries the severity of the rule that set its field (the last matching rule that
    sets it, as the merge keeps), and is skipped when that rule's `when:` does not hold in `ctx`.
    """
    ctx = ctx or AuditContext()
    checks: list[Check] = []
    # Interfaces matched by the same rules share the merge and its providers: with hundreds of
    # interfaces and a few rules, merging once per set of rules (issue 8).
    merged: dict[tuple[int, ...], tuple[InterfaceRule, dict[str, InterfaceRule]]] = {}
    used: set[int] = set()
    for ifname, link in host.links.items():
        rules = _matching(profile, ifname)
        if not rules:
            continue
        key = tuple(map(id, rules))  # the rules themselves would be hashed field by field
        if key not in merged:
            merged[key] = (_merge(rules), _providers(rules))
            used.update(key)
        want, by_field = merged[key]
        for check in check_link(want, link):
            rule = by_field[FIELD_OF_SETTING[check.setting]]
            checks.append(qualify(check, rule.severity, rule.when, ctx))
    for rule in profile.interfaces:
        if id(rule) not in used:
            checks.append(qualify(check_unmatched(rule), rule.severity, rule.when, ctx))
    for s in profile.sysctls:
        check = check_sysctl(s, host.sysctls.get(s.key, Unreadable("not read")), host.sysctl_modes.get(s.key))
        checks.append(qualify(check, s.severity, s.when, ctx))
    return sorted(checks, key=lambda c: (_STATUS_ORDER[c.status], c.id))


def field_providers(profile: Profile, ifname: str) -> dict[str, InterfaceRule]:
    """Return, per rule field, the last rule matching `ifname` that sets it: the one the merge keeps."""
    return _providers(_matching(profile, ifname))


def change_order(change: Change) -> tuple[bool, str]:
    """Sort key of changes: interfaces first (channels, then MTU), then sysctls by key."""
    return isinstance(change, SetSysctl), change.setting


def plan(checks: list[Check]) -> Plan:
    """Return the changes that fix the drift, and the drift no change can fix.

    Interfaces come first, one at a time (channels, then MTU), then sysctls by key: a stable
    order, so a failure at any point is rolled back the same way every time.
    """
    changes = sorted((c.change for c in checks if c.change is not None), key=change_order)
    unfixable = tuple(c for c in checks if c.is_failure and c.change is None)
    return Plan(changes=tuple(changes), unfixable=unfixable)


# ---------------------------------------------------------------- checks


def check_unmatched(rule: InterfaceRule) -> Check:
    """A rule that selects no interface is drift: the host lacks what the profile expects."""
    globs = ", ".join(rule.match)
    return Check(
        id=f"interfaces[{rule.index}]/match",
        subject=f"interfaces[{rule.index}]",
        setting="match",
        status=Status.DRIFT,
        expected=f"an interface matching {globs}",
        actual="none",
        message=f"no interface matches {globs}",
    )


def check_link(want: InterfaceRule, link: Link) -> list[Check]:
    """Return the checks of one interface for the fields its rules set."""
    out = []
    if want.driver is not None:
        out.append(check_driver(link.name, want.driver, link.driver))
    if want.driver_min_version is not None:
        out.append(check_driver_version(link.name, want.driver_min_version, link.driver, want.driver))
    if want.mtu is not None:
        out.append(check_mtu(link.name, want.mtu, link.mtu))
    if want.channels is not None:
        out.append(check_channels(link.name, want.channels.wanted(), link.channels))
    return out


def _unreadable(ifname: str, setting: str, expected: str, value: Unreadable) -> Check:
    status = Status.UNSUPPORTED if value.unsupported else Status.ERROR
    return Check(f"{ifname}/{setting}", ifname, setting, status, expected, None, value.reason)


def check_driver(ifname: str, want: str, have: DriverInfo | Unreadable) -> Check:
    """Compare the bound driver by name."""
    if isinstance(have, Unreadable):
        return _unreadable(ifname, "driver", want, have)
    status = Status.OK if have.driver == want else Status.DRIFT
    message = "" if status is Status.OK else f"driver is {have.driver}, the profile expects {want}"
    return Check(f"{ifname}/driver", ifname, "driver", status, want, have.driver, message)


def check_driver_version(ifname: str, want: str, have: DriverInfo | Unreadable, driver: str | None = None) -> Check:
    """Compare the driver version with a minimum, when it is the expected driver's version at all."""
    expected = f">= {want}" if driver is None else f"{driver} >= {want}"
    if isinstance(have, Unreadable):
        return _unreadable(ifname, "driver_version", expected, have)
    if driver is not None and have.driver != driver:
        message = f"not comparable: the bound driver is {have.driver}, not {driver}"
        actual = f"{have.driver} {have.version}"
        return Check(
            f"{ifname}/driver_version", ifname, "driver_version", Status.UNSUPPORTED, expected, actual, message
        )
    have_v, want_v = parse_driver_version(have.version), parse_driver_version(want)
    if have_v is None or want_v is None:
        message = (
            f"{have.driver} version {have.version!r} is not a driver version"
            " (an in-tree driver reports the kernel release)"
        )
        return Check(
            f"{ifname}/driver_version", ifname, "driver_version", Status.UNSUPPORTED, expected, have.version, message
        )
    status = Status.OK if have_v >= want_v else Status.DRIFT
    message = "" if status is Status.OK else f"{have.driver} {have.version} is older than {want}"
    return Check(f"{ifname}/driver_version", ifname, "driver_version", status, expected, have.version, message)


def parse_driver_version(text: str) -> tuple[int, int, int] | None:
    """Parse `2.17.0g`, `1.3.0K` or `2.8` into a comparable triple; None for anything else."""
    m = re.fullmatch(_DRIVER_VERSION, text.strip())
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def check_mtu(ifname: str, want: int, have: int) -> Check:
    """Compare one interface's MTU."""
    if have == want:
        return Check(f"{ifname}/mtu", ifname, "mtu", Status.OK, str(want), str(have))
    return Check(
        f"{ifname}/mtu", ifname, "mtu", Status.DRIFT, str(want), str(have), change=SetMtu(ifname, old=have, new=want)
    )


def check_channels(ifname: str, wanted: dict[str, int | str], have: Channels | Unreadable) -> Check:
    """Compare queue counts; `max` resolves to the device's pre-set maximum."""
    cid = f"{ifname}/channels"
    spec = " ".join(f"{k}={v}" for k, v in wanted.items())
    if isinstance(have, Unreadable):
        return _unreadable(ifname, "channels", spec, have)
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
            return Check(cid, ifname, "channels", Status.ERROR, spec, _counts(have, wanted), message)
        else:
            target[kind] = int(count)
    note = f"the device has no {'/'.join(absent)} queues to set" if absent else ""
    if not target:
        return Check(cid, ifname, "channels", Status.UNSUPPORTED, spec, _counts(have, wanted), note)
    old = tuple((k, have.current(k)) for k in target)
    new = tuple(target.items())
    expected, actual = format_counts(new), format_counts(old)
    if old == new:
        return Check(cid, ifname, "channels", Status.OK, expected, actual, note)
    change = SetChannels(ifname, old=old, new=new)
    return Check(cid, ifname, "channels", Status.DRIFT, expected, actual, note, change)


def _counts(have: Channels, wanted: dict[str, int | str]) -> str:
    return format_counts(tuple((k, have.current(k)) for k in wanted))


def check_sysctl(setting: SysctlSetting, have: str | Unreadable, mode: int | None = None) -> Check:
    """Compare a sysctl by meaning: whitespace and tabs do not matter.

    `mode` is the permission bits of its /proc/sys file: drift in a key nobody may write here
    (0444, as net.core.rmem_max shows in a child network namespace; root is held to the mode
    too) is drift without a change, so no plan promises a write that must fail (issue 15).
    """
    cid = f"sysctl/{setting.key}"
    if isinstance(have, Unreadable):
        return Check(cid, setting.key, "sysctl", Status.ERROR, setting.value, None, have.reason)
    actual = normalize_sysctl(have)
    if actual == setting.value:
        return Check(cid, setting.key, "sysctl", Status.OK, setting.value, actual)
    if mode is not None and is_read_only(mode):
        message = f"{CANNOT_SET_READ_ONLY} (/proc/sys mode {mode:04o}, for root too)"
        return Check(cid, setting.key, "sysctl", Status.DRIFT, setting.value, actual, message)
    change = SetSysctl(setting.key, old=actual, new=setting.value)
    return Check(cid, setting.key, "sysctl", Status.DRIFT, setting.value, actual, change=change)


def is_read_only(mode: int) -> bool:
    """Tell whether a /proc/sys file with these permission bits refuses every writer, root included:
    proc_sys_permission applies the owner (root's) bits to root, with no capability override."""
    return not mode & 0o200
