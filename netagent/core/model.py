"""Plain values shared by the core and the shell: profile, observed host, checks, changes."""

from __future__ import annotations

import enum

from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from typing import Union

    from netagent.core.ec2 import Ec2Lookup
    from netagent.core.ena import EnaHealth

    ChannelCount = Union[int, str]  # an int, or MAX
    Change = Union["SetMtu", "SetChannels", "SetSysctl"]
else:  # the aliases exist at run time only to be imported; annotations are never evaluated
    ChannelCount = Change = object

# `max` in a profile means the device's pre-set maximum for that channel type.
MAX = "max"
CHANNEL_KINDS = ("combined", "rx", "tx")
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


class ChannelSpec(Value):
    """Wanted queue counts; None means "leave this kind alone"."""

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

    def wanted(self) -> dict[str, ChannelCount]:
        """Return the kinds this spec sets, in a fixed order."""
        return {k: v for k in CHANNEL_KINDS if (v := getattr(self, k)) is not None}


class InterfaceRule(Value):
    """One `interfaces:` entry: which interfaces (globs) and what they should have."""

    __slots__ = (
        "index",
        "match",
        "driver",
        "driver_min_version",
        "mtu",
        "channels",
        "line",
        "severity",
        "when",
    )
    index: int
    match: tuple[str, ...]
    driver: str | None
    driver_min_version: str | None
    mtu: int | None
    channels: ChannelSpec | None
    line: int | None
    severity: Severity
    when: Condition | None

    def __init__(
        self,
        index: int,
        match: tuple[str, ...],
        driver: str | None = None,
        driver_min_version: str | None = None,
        mtu: int | None = None,
        channels: ChannelSpec | None = None,
        line: int | None = None,
        severity: Severity = Severity.REQUIRED,
        when: Condition | None = None,
    ) -> None:
        _set(self, "index", index)
        _set(self, "match", match)
        _set(self, "driver", driver)
        _set(self, "driver_min_version", driver_min_version)
        _set(self, "mtu", mtu)
        _set(self, "channels", channels)
        _set(self, "line", line)
        _set(self, "severity", severity)
        _set(self, "when", when)


class SysctlSetting(Value):
    """One `sysctl:` entry; value is normalised (single spaces)."""

    __slots__ = ("key", "value", "line", "severity", "when")
    key: str
    value: str
    line: int | None
    severity: Severity
    when: Condition | None

    def __init__(
        self,
        key: str,
        value: str,
        line: int | None = None,
        severity: Severity = Severity.REQUIRED,
        when: Condition | None = None,
    ) -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "line", line)
        _set(self, "severity", severity)
        _set(self, "when", when)


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

    __slots__ = ("name", "path", "interfaces", "sysctls", "guard")
    name: str
    path: str
    interfaces: tuple[InterfaceRule, ...]
    sysctls: tuple[SysctlSetting, ...]
    guard: GuardSpec | None

    def __init__(
        self,
        name: str,
        path: str,
        interfaces: tuple[InterfaceRule, ...] = (),
        sysctls: tuple[SysctlSetting, ...] = (),
        guard: GuardSpec | None = None,
    ) -> None:
        _set(self, "name", name)
        _set(self, "path", path)
        _set(self, "interfaces", interfaces)
        _set(self, "sysctls", sysctls)
        _set(self, "guard", guard)


# ---------------------------------------------------------------- observed host


class Unreadable(Value):
    """A value that could not be read; `unsupported` when the device or kernel lacks it."""

    __slots__ = ("reason", "unsupported")
    reason: str
    unsupported: bool

    def __init__(self, reason: str, unsupported: bool = False) -> None:
        _set(self, "reason", reason)
        _set(self, "unsupported", unsupported)


class DriverInfo(Value):
    """What ETHTOOL_GDRVINFO reports."""

    __slots__ = ("driver", "version")
    driver: str
    version: str

    def __init__(self, driver: str, version: str) -> None:
        _set(self, "driver", driver)
        _set(self, "version", version)


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
        """Return the current count of one kind (combined, rx, tx)."""
        return int(getattr(self, kind))

    def maximum(self, kind: str) -> int:
        """Return the pre-set maximum of one kind."""
        return int(getattr(self, "max_" + kind))


class Link(Value):
    """One interface as observed; driver and channels may be Unreadable."""

    __slots__ = ("name", "index", "mtu", "operstate", "driver", "channels")
    name: str
    index: int
    mtu: int
    operstate: str
    driver: DriverInfo | Unreadable
    channels: Channels | Unreadable

    def __init__(
        self,
        name: str,
        index: int,
        mtu: int,
        operstate: str,
        driver: DriverInfo | Unreadable,
        channels: Channels | Unreadable,
    ) -> None:
        _set(self, "name", name)
        _set(self, "index", index)
        _set(self, "mtu", mtu)
        _set(self, "operstate", operstate)
        _set(self, "driver", driver)
        _set(self, "channels", channels)


class HostState(Value):
    """Everything an audit needs: every interface name, the matched links, the named sysctls."""

    __slots__ = ("ifnames", "links", "sysctls")
    ifnames: tuple[str, ...]
    links: dict[str, Link]
    sysctls: dict[str, str | Unreadable]

    def __init__(
        self,
        ifnames: tuple[str, ...],
        links: dict[str, Link] | None = None,
        sysctls: dict[str, str | Unreadable] | None = None,
    ) -> None:
        _set(self, "ifnames", ifnames)
        _set(self, "links", {} if links is None else links)
        _set(self, "sysctls", {} if sysctls is None else sysctls)


# ---------------------------------------------------------------- changes


class SetMtu(Value):
    """Set one interface's MTU."""

    __slots__ = ("ifname", "old", "new")
    ifname: str
    old: int
    new: int

    def __init__(self, ifname: str, old: int, new: int) -> None:
        _set(self, "ifname", ifname)
        _set(self, "old", old)
        _set(self, "new", new)

    @property
    def setting(self) -> str:
        """Return the check id this change fixes."""
        return f"{self.ifname}/mtu"

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        return str(self.new)

    @property
    def target(self) -> str:
        """Return the setting's name for people (`lab0 mtu`, `net.ipv4.tcp_rmem`)."""
        return f"{self.ifname} mtu"

    def inverse(self) -> SetMtu:
        """Return the change that undoes this one."""
        return SetMtu(self.ifname, old=self.new, new=self.old)

    def describe(self) -> str:
        """Return a one-line diff for people."""
        return f"{self.ifname} mtu {self.old} -> {self.new}"


class SetChannels(Value):
    """Set one interface's queue counts; old/new are (kind, count) pairs."""

    __slots__ = ("ifname", "old", "new")
    ifname: str
    old: tuple[tuple[str, int], ...]
    new: tuple[tuple[str, int], ...]

    def __init__(self, ifname: str, old: tuple[tuple[str, int], ...], new: tuple[tuple[str, int], ...]) -> None:
        _set(self, "ifname", ifname)
        _set(self, "old", old)
        _set(self, "new", new)

    @property
    def setting(self) -> str:
        """Return the check id this change fixes."""
        return f"{self.ifname}/channels"

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        return format_counts(self.new)

    @property
    def target(self) -> str:
        """Return the setting's name for people (`lab0 mtu`, `net.ipv4.tcp_rmem`)."""
        return f"{self.ifname} channels"

    def inverse(self) -> SetChannels:
        """Return the change that undoes this one."""
        return SetChannels(self.ifname, old=self.new, new=self.old)

    def describe(self) -> str:
        """Return a one-line diff for people."""
        return f"{self.ifname} channels {format_counts(self.old)} -> {format_counts(self.new)}"


class SetSysctl(Value):
    """Write one sysctl under /proc/sys/net."""

    __slots__ = ("key", "old", "new")
    key: str
    old: str
    new: str

    def __init__(self, key: str, old: str, new: str) -> None:
        _set(self, "key", key)
        _set(self, "old", old)
        _set(self, "new", new)

    @property
    def setting(self) -> str:
        """Return the check id this change fixes."""
        return f"sysctl/{self.key}"

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        return self.new

    @property
    def target(self) -> str:
        """Return the setting's name for people (`lab0 mtu`, `net.ipv4.tcp_rmem`)."""
        return self.key

    def inverse(self) -> SetSysctl:
        """Return the change that undoes this one."""
        return SetSysctl(self.key, old=self.new, new=self.old)

    def describe(self) -> str:
        """Return a one-line diff for people."""
        return f"{self.key} {self.old} -> {self.new}"


def format_counts(counts: tuple[tuple[str, int], ...]) -> str:
    """Render channel counts as `rx=4 tx=4`."""
    return " ".join(f"{kind}={n}" for kind, n in counts)


def normalize_sysctl(value: str) -> str:
    """Return a sysctl value as the kernel means it: words separated by single spaces, integers
    without leading zeros or plus signs (`"4096\t131072  6291456"` -> `"4096 131072 6291456"`)."""
    return " ".join(_normalize_word(word) for word in value.split())


def _normalize_word(word: str) -> str:
    digits = word[1:] if word[:1] in ("-", "+") else word
    return str(int(word)) if digits.isdigit() and digits.isascii() else word  # [-+]?[0-9]+


# ---------------------------------------------------------------- checks


class Status(str, enum.Enum):
    """The verdict of one check. OK and UNSUPPORTED do not make a host non-compliant."""

    OK = "ok"
    DRIFT = "drift"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    SKIPPED = "skipped"  # not checked here: a `when:` condition does not hold (message says why)


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


class Check(Value):
    """One comparison of desired and observed state."""

    __slots__ = (
        "id",
        "subject",
        "setting",
        "status",
        "expected",
        "actual",
        "message",
        "change",
        "severity",
        "owners",
    )
    id: str
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
        id: str,
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
        _set(self, "id", id)
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
    def is_failure(self) -> bool:
        """Tell whether this check found drift or could not be checked (whatever its severity)."""
        return self.status in (Status.DRIFT, Status.ERROR)

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

    __slots__ = ("profile", "host", "checks", "ec2", "ena", "notes", "strict", "context")
    profile: Profile
    host: dict[str, str]
    checks: tuple[Check, ...]
    ec2: Ec2Lookup  # instance facts; Ec2Unavailable off EC2; None when not asked (--no-imds)
    ena: tuple[EnaHealth, ...]  # allowance counters of each ENA interface
    notes: tuple[str, ...]  # warnings for people; they never change `compliant`
    strict: bool
    context: AuditContext

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
    ) -> None:
        _set(self, "profile", profile)
        _set(self, "host", host)
        _set(self, "checks", checks)
        _set(self, "ec2", ec2)
        _set(self, "ena", ena)
        _set(self, "notes", notes)
        _set(self, "strict", strict)
        _set(self, "context", AuditContext() if context is None else context)

    @property
    def compliant(self) -> bool:
        """Tell whether no check fails: no required drift or error (no drift at all under --strict)."""
        return not any(c.fails(self.strict) for c in self.checks)

    def counts(self) -> dict[str, int]:
        """Return the number of checks per status, every status present."""
        out = {s.value: 0 for s in Status}
        for c in self.checks:
            out[c.status.value] += 1
        return out


class Plan(Value):
    """The changes an apply would make, in order, and the drift it cannot fix."""

    __slots__ = ("changes", "unfixable")
    changes: tuple[Change, ...]
    unfixable: tuple[Check, ...]

    def __init__(self, changes: tuple[Change, ...], unfixable: tuple[Check, ...] = ()) -> None:
        _set(self, "changes", changes)
        _set(self, "unfixable", unfixable)
