"""Desired (Profile) vs observed (HostState) -> checks and a plan. Pure: no I/O, no clock.

The checks themselves belong to the setting kinds (netagent.core.settings); this module matches
rules to interfaces, merges them, asks each kind for its checks and orders the result.
"""

from __future__ import annotations

from netagent.core.conditions import qualify
from netagent.core.matching import matches
from netagent.core.model import (
    AuditContext,
    Change,
    Check,
    HostState,
    InterfaceRule,
    Link,
    Plan,
    Profile,
    Status,
    Unreadable,
)
from netagent.core.settings import (
    APPLY_ORDER,
    PER_QUEUE,
    QUEUE_COUNT,
    RULE_KEY_OF_CHECK,
    SYSCTL,
    host_kind,
    interface_kinds,
)
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.core.settings.base import InterfaceKind

_STATUS_ORDER = {Status.ERROR: 0, Status.DRIFT: 1, Status.UNSUPPORTED: 2, Status.SKIPPED: 3, Status.OK: 4}


def wanted_by_interface(profile: Profile, ifnames: tuple[str, ...]) -> dict[str, InterfaceRule]:
    """Merge the rules that match each interface; a later rule's value of a key overrides an earlier one's.

    Interfaces matched by the same rules share one merge (the daemon keeps these for every interface).
    """
    merges: dict[tuple[int, ...], _Merge] = {}
    wanted: dict[str, InterfaceRule] = {}
    for ifname in ifnames:
        rules = _matching(profile, ifname)
        if rules:
            wanted[ifname] = _merge_once(merges, rules)[0]
    return wanted


# A merged rule, the kinds of its keys, and the rule that provides each key (its severity and `when:`).
_Merge = tuple[InterfaceRule, tuple["InterfaceKind", ...], dict[str, InterfaceRule]]


def _merge_once(merges: dict[tuple[int, ...], _Merge], rules: tuple[InterfaceRule, ...]) -> _Merge:
    """Return the merge of these matching rules, made once per set of rules: with hundreds of
    interfaces and a few rules, merging per interface would repeat the same work (issue 8)."""
    key = tuple(map(id, rules))  # the rules themselves would be hashed field by field
    found = merges.get(key)
    if found is None:
        want = merge_rules(rules)
        found = merges[key] = (want, interface_kinds(want.settings), _providers(rules))
    return found


def _matching(profile: Profile, ifname: str) -> tuple[InterfaceRule, ...]:
    return tuple(rule for rule in profile.interfaces if matches(ifname, rule.match))


def merge_rules(rules: tuple[InterfaceRule, ...] | list[InterfaceRule]) -> InterfaceRule:
    """Merge rules in order: the first rule's identity, each key's value from the last rule that sets it."""
    settings: dict[str, object] = {}
    for rule in rules:
        settings.update(rule.settings)
    return rules[0].replace(settings=settings)


def _providers(rules: tuple[InterfaceRule, ...]) -> dict[str, InterfaceRule]:
    out: dict[str, InterfaceRule] = {}
    for rule in rules:
        out.update(dict.fromkeys(rule.settings, rule))
    return out


def audit(profile: Profile, host: HostState, ctx: AuditContext | None = None) -> list[Check]:
    """Compare the profile with the host; failures first, then by id.

    Each check carries the severity of the rule that set its key (the last matching rule that
    sets it, as the merge keeps), and is skipped when that rule's `when:` does not hold in `ctx`.
    """
    ctx = ctx or AuditContext()
    checks: list[Check] = []
    merges: dict[tuple[int, ...], _Merge] = {}
    for ifname, link in host.links.items():
        rules = _matching(profile, ifname)
        if not rules:
            continue
        want, kinds, by_key = _merge_once(merges, rules)
        for kind in kinds:
            for check in kind.check(ifname, want.settings, link):
                rule = by_key[RULE_KEY_OF_CHECK[check.setting]]
                checks.append(qualify(check, rule.severity, rule.when, ctx))
    used = {rule_id for key in merges for rule_id in key}  # the rules that matched an interface
    for rule in profile.interfaces:
        if id(rule) not in used:
            checks.append(qualify(check_unmatched(rule), rule.severity, rule.when, ctx))
    for s in profile.sysctls:
        check = SYSCTL.check(s, host.sysctls.get(s.key, Unreadable("not read")), host.sysctl_modes.get(s.key))
        checks.append(qualify(check, s.severity, s.when, ctx))
    checks += [host_kind(key).check(want, host) for key, want in profile.host.items()]
    return sorted(checks, key=lambda c: (_STATUS_ORDER[c.status], c.id))


def qualify_check(profile: Profile, check: Check, ctx: AuditContext) -> Check:
    """Give one re-read check the severity and `when:` that `audit` would give it (the daemon's heals)."""
    if check.setting == SYSCTL.name:
        spec = next((s for s in profile.sysctls if s.key == check.subject), None)
        return check if spec is None else qualify(check, spec.severity, spec.when, ctx)
    rule = field_providers(profile, check.subject).get(RULE_KEY_OF_CHECK.get(check.setting, ""))
    return check if rule is None else qualify(check, rule.severity, rule.when, ctx)


def field_providers(profile: Profile, ifname: str) -> dict[str, InterfaceRule]:
    """Return, per rule key, the last rule matching `ifname` that sets it: the one the merge keeps."""
    return _providers(_matching(profile, ifname))


def change_order(change: Change) -> tuple[bool, str, int]:
    """Sort key of changes: interfaces first, by name, each in APPLY_ORDER (the queue count first,
    per-queue settings last); then sysctls by key."""
    rank = APPLY_ORDER.index(change.kind) if change.kind in APPLY_ORDER else len(APPLY_ORDER)
    return change.kind == SYSCTL.name, change.cid.subject, rank


def undo_order(change: Change) -> tuple[bool, str, int]:
    """Sort key of restore's changes: each interface's in the reverse of the order apply made them."""
    is_sysctl, subject, rank = change_order(change)
    return is_sysctl, subject, -rank


def plan(checks: list[Check]) -> Plan:
    """Return the changes that fix the drift, and the drift no change can fix.

    Interfaces come first, one at a time (change_order), then sysctls by key: a stable order, so a
    failure at any point is rolled back the same way every time. Per-queue drift on an interface
    whose queue count changes is `deferred`: apply plans it again once the count is set.
    """
    fixable = [c for c in checks if c.change is not None]
    requeued = {c.change.cid.subject for c in fixable if c.change is not None and c.change.kind == QUEUE_COUNT}
    deferred = tuple(c for c in fixable if c.setting in PER_QUEUE and c.subject in requeued)
    changes = sorted((c.change for c in fixable if c not in deferred and c.change is not None), key=change_order)
    unfixable = tuple(c for c in checks if c.is_failure and c.change is None)
    return Plan(changes=tuple(changes), unfixable=unfixable, deferred=deferred)


def mark_refused(checks: list[Check], refused: list[tuple[Change, str]]) -> list[Check]:
    """Return the checks with each drift whose change the device refused as unsupported (apply's
    `refused`: EOPNOTSUPP, nothing changed) made `unsupported`, saying what was refused and why."""
    why = {change.cid: f"the device refused {change.new_text}: {reason}" for change, reason in refused}
    return [
        c.replace(status=Status.UNSUPPORTED, change=None, message=why[c.cid])
        if c.status is Status.DRIFT and c.cid in why
        else c
        for c in checks
    ]


def check_unmatched(rule: InterfaceRule) -> Check:
    """A rule that selects no interface is drift: the host lacks what the profile expects."""
    globs = ", ".join(rule.match)
    return Check(
        subject=f"interfaces[{rule.index}]",
        setting="match",
        status=Status.DRIFT,
        expected=f"an interface matching {globs}",
        actual="none",
        message=f"no interface matches {globs}",
    )


def check_link(want: InterfaceRule, link: Link) -> list[Check]:
    """Return the checks of one interface for the keys its rules set, kind by kind."""
    out: list[Check] = []
    for kind in interface_kinds(want.settings):
        out += kind.check(link.name, want.settings, link)
    return out
