"""Plain values shared by the core and the shell: profile, observed host, checks, changes."""

from __future__ import annotations

import enum

from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    from netagent.core.ec2 import Ec2Lookup
    from netagent.core.ena import EnaHealth
    from netagent.core.settings.sysctl import SysctlSetting

# `max` in a profile means the device's pre-set maximum (channels; later rings).
MAX = "max"
# `when: {phase: runtime}`: the one phase a condition can name; audit runs in `bake` or `runtime`.
RUNTIME, BAKE = "runtime", "bake"


# ---------------------------------------------------------------- profile


class Severity(str, enum.Enum):
    """How much a check's drift matters: `recommended` drift fails only under --strict."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"


class Condition(Value):
    """A rule's `when:`; a check runs only when every part holds (None / () = no constraint)."""

    __slots__ = ("phase", "instance_types")
    phase: str | None
    instance_types: tuple[str, ...]

    def __init__(self, phase: str | None = None, instance_types: tuple[str, ...] = ()) -> None:
        _set(self, "phase", phase)
        _set(self, "instance_types", instance_types)


class AuditContext(Value):
    """What the audit knows about where it runs: the phase, and the instance type if known."""

    __slots__ = ("phase", "instance_type")
    phase: str
    instance_type: str | None

    def __init__(self, phase: str = RUNTIME, instance_type: str | None = None) -> None:
        _set(self, "phase", phase)
        _set(self, "instance_type", instance_type)


class InterfaceRule(Value):
    """One `interfaces:` entry: which interfaces (globs) and what they should have.

    `settings` holds the validated value of each setting key the rule sets (`mtu`, `channels`,
    `driver`, ...), keyed as in the profile; each key belongs to one kind in netagent.core.settings.
    """

    __slots__ = ("index", "match", "settings", "line", "severity", "when")
    index: int
    match: tuple[str, ...]
    settings: Mapping[str, object]
    line: int | None
    severity: Severity
    when: Condition | None

    def __init__(
        self,
        index: int,
        match: tuple[str, ...],
        settings: Mapping[str, object] | None = None,
        line: int | None = None,
        severity: Severity = Severity.REQUIRED,
        when: Condition | None = None,
    ) -> None:
        _set(self, "index", index)
        _set(self, "match", match)
        _set(self, "settings", {} if settings is None else settings)
        _set(self, "line", line)
        _set(self, "severity", severity)
        _set(self, "when", when)

    def __hash__(self) -> int:  # `settings` is a dict: hash by its items
        return hash((self.index, self.match, tuple(self.settings.items()), self.line, self.severity, self.when))

    def get(self, key: str) -> object | None:
        """Return the value this rule sets for a profile key, or None."""
        return self.settings.get(key)


class GuardSpec(Value):
    """Peers that must answer at a raised MTU, else the change is rolled back."""

    __slots__ = ("targets", "timeout_s")
    targets: tuple[str, ...]
    timeout_s: float

    def __init__(self, targets: tuple[str, ...], timeout_s: float = 2.0) -> None:
        _set(self, "targets", targets)
        _set(self, "timeout_s", timeout_s)


class Profile(Value):
    """A validated tuning profile."""

    __slots__ = ("name", "path", "interfaces", "sysctls", "guard", "host")
    name: str
    path: str
    interfaces: tuple[InterfaceRule, ...]
    sysctls: tuple[SysctlSetting, ...]
    guard: GuardSpec | None
    host: Mapping[str, object]  # host-wide kinds (`kernel`), by their top-level key

    def globs(self) -> tuple[str, ...]:
        """Return every interface-name glob the rules match, in rule order."""
        return tuple(g for rule in self.interfaces for g in rule.match)

    def __init__(
        self,
        name: str,
        path: str,
        interfaces: tuple[InterfaceRule, ...] = (),
        sysctls: tuple[SysctlSetting, ...] = (),
        guard: GuardSpec | None = None,
        host: Mapping[str, object] | None = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "path", path)
        _set(self, "interfaces", interfaces)
        _set(self, "sysctls", sysctls)
        _set(self, "guard", guard)
        _set(self, "host", {} if host is None else host)

    def __hash__(self) -> int:  # `host` is a dict: hash by its items
        return hash((self.name, self.path, self.interfaces, self.sysctls, self.guard, tuple(self.host.items())))


# ---------------------------------------------------------------- observed host


class Unreadable(Value):
    """A value that could not be read; `unsupported` when the device or kernel lacks it."""

    __slots__ = ("reason", "unsupported")
    reason: str
    unsupported: bool

    def __init__(self, reason: str, unsupported: bool = False) -> None:
        _set(self, "reason", reason)
        _set(self, "unsupported", unsupported)


_NOT_READ = Unreadable("not read")  # what Link.get returns for a kind that was not read


class Link(Value):
    """One interface as observed: its identity and MTU, and what each device setting kind read.

    `values` maps a kind's name (`driver`, `channels`, ...) to what the adapter read for it, or
    to Unreadable; only the kinds the profile asks for are read.
    """

    __slots__ = ("name", "index", "mtu", "operstate", "values")
    name: str
    index: int
    mtu: int
    operstate: str
    values: Mapping[str, object]

    def __init__(
        self, name: str, index: int, mtu: int, operstate: str, values: Mapping[str, object] | None = None
    ) -> None:
        _set(self, "name", name)
        _set(self, "index", index)
        _set(self, "mtu", mtu)
        _set(self, "operstate", operstate)
        _set(self, "values", {} if values is None else values)

    def __hash__(self) -> int:  # `values` is a dict: hash by its items
        return hash((self.name, self.index, self.mtu, self.operstate, tuple(self.values.items())))

    def get(self, kind: str) -> object:
        """Return what was read for one kind, or Unreadable when it was not read."""
        return self.values.get(kind, _NOT_READ)


class HostState(Value):
    """Everything an audit needs: every interface name, the matched links, the named sysctls
    and the permission bits of their /proc/sys files (absent where unknown)."""

    __slots__ = ("ifnames", "links", "sysctls", "kernel", "sysctl_modes")
    ifnames: tuple[str, ...]
    links: dict[str, Link]
    sysctls: dict[str, str | Unreadable]
    kernel: str | Unreadable  # the running kernel's release (uname -r)
    sysctl_modes: dict[str, int]

    def __init__(
        self,
        ifnames: tuple[str, ...],
        links: dict[str, Link] | None = None,
        sysctls: dict[str, str | Unreadable] | None = None,
        kernel: str | Unreadable | None = None,
        sysctl_modes: dict[str, int] | None = None,
    ) -> None:
        _set(self, "ifnames", ifnames)
        _set(self, "links", {} if links is None else links)
        _set(self, "sysctls", {} if sysctls is None else sysctls)
        _set(self, "kernel", Unreadable("not read") if kernel is None else kernel)
        _set(self, "sysctl_modes", {} if sysctl_modes is None else sysctl_modes)


# ---------------------------------------------------------------- changes


class Change(Value):
    """One write a setting kind makes; each kind (netagent.core.settings) defines its own.

    A change knows the check it fixes, its new value as the kernel shows it, and its inverse;
    `kind` names the setting kind, so the host adapters know which write to make.
    """

    __slots__ = ()
    kind = ""  # the setting kind's name; set by each subclass

    @property
    def cid(self) -> CheckId:
        """Return the typed id of the check this change fixes."""
        raise NotImplementedError

    @property
    def setting(self) -> str:
        """Return the id of the check this change fixes (`lab0/mtu`)."""
        return str(self.cid)

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        raise NotImplementedError

    def text_of(self, observed: object) -> str:
        """Render a value the host adapter read for this setting in the terms of `new_text`."""
        return str(observed)

    @property
    def target(self) -> str:
        """Return the setting's name for people (`lab0 mtu`, `net.ipv4.tcp_rmem`)."""
        raise NotImplementedError

    def inverse(self) -> Change:
        """Return the change that undoes this one."""
        raise NotImplementedError

    def describe(self) -> str:
        """Return a one-line diff for people (`lab0 mtu 1500 -> 9001`)."""
        raise NotImplementedError


class InterfaceChange(Change):
    """A change to one interface's setting: `ifname`, and the old and new values."""

    __slots__ = ("ifname", "old", "new")
    ifname: str
    old: Any  # each kind's own value type
    new: Any

    def __init__(self, ifname: str, old: object, new: object) -> None:
        _set(self, "ifname", ifname)
        _set(self, "old", old)
        _set(self, "new", new)

    @property
    def cid(self) -> CheckId:
        """Return the typed id of the check this change fixes."""
        return CheckId(self.ifname, self.kind)

    @property
    def target(self) -> str:
        """Return the setting's name for people (`lab0 mtu`)."""
        return f"{self.ifname} {self.kind}"

    def inverse(self) -> InterfaceChange:
        """Return the change that undoes this one."""
        return self.__class__(self.ifname, old=self.new, new=self.old)

    def describe(self) -> str:
        """Return a one-line diff for people (`lab0 mtu 1500 -> 9001`)."""
        return f"{self.ifname} {self.kind} {self.inverse().new_text} -> {self.new_text}"


# ---------------------------------------------------------------- checks


class Status(str, enum.Enum):
    """The verdict of one check. OK and UNSUPPORTED do not make a host non-compliant."""

    OK = "ok"
    DRIFT = "drift"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    SKIPPED = "skipped"  # not checked here: a `when:` condition does not hold (message says why)


# A status's text, by status: enum's `.value` is a property lookup, and reports ask it of every check.
STATUS_TEXT = {s: s.value for s in Status}
_FAILURES = frozenset((Status.DRIFT, Status.ERROR))


class Owner(Value):
    """A persistent source that also sets a checked setting (a sysctl.d line, a .network file...).

    `value` is None and `problem` says why when the file could not be read or parsed; such an
    owner may set the setting, nobody can tell.
    """

    __slots__ = ("source", "line", "kind", "value", "conflicts", "wins_at_boot", "note", "problem")
    source: str  # the file, as a path inside the scanned root
    line: int | None
    kind: str  # sysctl.d, sysctl.conf, tuned, networkd-link (.link), networkd (.network), networkmanager
    value: str | None
    conflicts: bool  # sets a value other than the profile's
    wins_at_boot: bool  # its value is what the setting will have after the next boot
    note: str
    problem: str

    def __init__(
        self,
        source: str,
        line: int | None,
        kind: str,
        value: str | None = None,
        conflicts: bool = False,
        wins_at_boot: bool = False,
        note: str = "",
        problem: str = "",
    ) -> None:
        _set(self, "source", source)
        _set(self, "line", line)
        _set(self, "kind", kind)
        _set(self, "value", value)
        _set(self, "conflicts", conflicts)
        _set(self, "wins_at_boot", wins_at_boot)
        _set(self, "note", note)
        _set(self, "problem", problem)

    def describe(self) -> str:
        """Return one line for people: `/etc/sysctl.d/99-local.conf:3 sets 212992; wins at boot`.

        A source that a later one overrides at boot says so (`...; overridden at boot`); one whose
        effect cannot be known (its note says "may apply" or "no boot winner") claims neither.
        """
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.problem:
            return f"{where} unreadable: {self.problem}; it may set this"
        tail = "; wins at boot" if self.wins_at_boot else "; overridden at boot"
        if not self.wins_at_boot and ("may apply" in self.note or "no boot winner" in self.note):
            tail = ""  # issue 16: never claim what is not knowable
        note = f" ({self.note})" if self.note else ""
        return f"{where} sets {self.value}{note}{tail}"


class CheckId(Value):
    """What a check is about: a subject (an interface, a sysctl key, a profile rule) and a setting.

    Code compares these values; people and reports see the text form, `lab0/mtu` or
    `sysctl/net.ipv4.tcp_rmem`, which is never parsed back (an interface may be named `sysctl`).
    """

    __slots__ = ("subject", "setting")
    subject: str
    setting: str

    def __init__(self, subject: str, setting: str) -> None:
        _set(self, "subject", subject)
        _set(self, "setting", setting)

    def __str__(self) -> str:
        return id_text(self.subject, self.setting)


def id_text(subject: str, setting: str) -> str:
    """Return a check id as people see it: `lab0/mtu`, or `sysctl/KEY` for a sysctl."""
    return f"sysctl/{subject}" if setting == "sysctl" else f"{subject}/{setting}"


class Check(Value):
    """One comparison of desired and observed state."""

    __slots__ = ("subject", "setting", "status", "expected", "actual", "message", "change", "severity", "owners")
    subject: str
    setting: str
    status: Status
    expected: str | None
    actual: str | None
    message: str
    change: Change | None
    severity: Severity
    owners: tuple[Owner, ...]

    def __init__(
        self,
        subject: str,
        setting: str,
        status: Status,
        expected: str | None = None,
        actual: str | None = None,
        message: str = "",
        change: Change | None = None,
        severity: Severity = Severity.REQUIRED,
        owners: tuple[Owner, ...] = (),
    ) -> None:
        _set(self, "subject", subject)
        _set(self, "setting", setting)
        _set(self, "status", status)
        _set(self, "expected", expected)
        _set(self, "actual", actual)
        _set(self, "message", message)
        _set(self, "change", change)
        _set(self, "severity", severity)
        _set(self, "owners", owners)

    @property
    def cid(self) -> CheckId:
        """Return the typed id of this check."""
        return CheckId(self.subject, self.setting)

    @property
    def id(self) -> str:
        """Return the id people and reports see (`lab0/mtu`, `sysctl/net.ipv4.tcp_rmem`)."""
        return id_text(self.subject, self.setting)  # no CheckId made: sorting and reports ask every check

    @property
    def is_failure(self) -> bool:
        """Tell whether this check found drift or could not be checked (whatever its severity)."""
        return self.status in _FAILURES

    def fails(self, strict: bool = False) -> bool:
        """Tell whether this check fails the audit: required failures, and any failure under --strict."""
        return self.is_failure and (strict or self.severity is Severity.REQUIRED)

    @property
    def conflicting_owners(self) -> tuple[Owner, ...]:
        """Return the owners that set another value or cannot be read: the warnings of this check."""
        if not self.owners:  # most checks: renderers ask for every check (issue 8)
            return ()
        return tuple(o for o in self.owners if o.conflicts or o.problem)


class Report(Value):
    """The result of one audit: what was checked, where, and the verdicts."""

    __slots__ = ("profile", "host", "checks", "ec2", "ena", "notes", "strict", "context", "generated_at", "_tally")
    profile: Profile
    host: dict[str, str]
    checks: tuple[Check, ...]
    ec2: Ec2Lookup  # instance facts; Ec2Unavailable off EC2; None when not asked (--no-imds)
    ena: tuple[EnaHealth, ...]  # allowance counters of each ENA interface
    notes: tuple[str, ...]  # warnings for people; they never change `compliant`
    strict: bool
    context: AuditContext
    _tally: _Tally | None  # the counts of the checks, made on first use
    generated_at: str  # ISO-8601 UTC time of the audit ("" when not stamped); the fleet report's "newest"

    def __init__(
        self,
        profile: Profile,
        host: dict[str, str],
        checks: tuple[Check, ...],
        ec2: Ec2Lookup = None,
        ena: tuple[EnaHealth, ...] = (),
        notes: tuple[str, ...] = (),
        strict: bool = False,
        context: AuditContext | None = None,
        generated_at: str = "",
    ) -> None:
        _set(self, "profile", profile)
        _set(self, "host", host)
        _set(self, "checks", checks)
        _set(self, "ec2", ec2)
        _set(self, "ena", ena)
        _set(self, "notes", notes)
        _set(self, "strict", strict)
        _set(self, "context", AuditContext() if context is None else context)
        _set(self, "generated_at", generated_at)
        _set(self, "_tally", None)

    def _count(self) -> _Tally:
        """Count the checks once: the verdict, the summary and the exit code all ask (issue 13:
        three passes over 1,285 checks at 256 interfaces cost more than reading one interface)."""
        tally = self._tally
        if tally is None:
            by_status = dict.fromkeys(Status, 0)
            failing = recommended = 0
            for c in self.checks:
                by_status[c.status] += 1
                if c.status in _FAILURES:
                    if self.strict or c.severity is Severity.REQUIRED:
                        failing += 1
                    else:
                        recommended += 1
            tally = _Tally({STATUS_TEXT[s]: n for s, n in by_status.items()}, failing, recommended)
            _set(self, "_tally", tally)
        return tally

    @property
    def compliant(self) -> bool:
        """Tell whether no check fails: no required drift or error (no drift at all under --strict)."""
        return self._count().failing == 0

    @property
    def recommended_unmet(self) -> int:
        """Return the number of failed checks that are only recommended (they fail only with --strict)."""
        return self._count().recommended

    def counts(self) -> dict[str, int]:
        """Return the number of checks per status, every status present."""
        return dict(self._count().by_status)


class _Tally:
    """What a Report counts of its checks (computed once)."""

    __slots__ = ("by_status", "failing", "recommended")

    def __init__(self, by_status: dict[str, int], failing: int, recommended: int) -> None:
        self.by_status = by_status
        self.failing = failing
        self.recommended = recommended


class Plan(Value):
    """The changes an apply would make, in order, and the drift it cannot fix."""

    __slots__ = ("changes", "unfixable", "deferred")
    changes: tuple[Change, ...]
    unfixable: tuple[Check, ...]
    # Drift on per-queue settings of an interface whose queue count changes in this plan: planned
    # again on the new queues once the count is set (the kernel adds or removes queues/rx-N).
    deferred: tuple[Check, ...]

    def __init__(
        self, changes: tuple[Change, ...], unfixable: tuple[Check, ...] = (), deferred: tuple[Check, ...] = ()
    ) -> None:
        _set(self, "changes", changes)
        _set(self, "unfixable", unfixable)
        _set(self, "deferred", deferred)
