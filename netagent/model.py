"""Plain values shared by the core and the shell: profile, observed host, checks, changes."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from netagent.ec2 import Ec2Lookup
    from netagent.ena import EnaHealth

# `max` in a profile means the device's pre-set maximum for that channel type.
MAX = "max"
ChannelCount = Union[int, str]  # an int, or MAX
CHANNEL_KINDS = ("combined", "rx", "tx")
_INTEGER = re.compile(r"[-+]?[0-9]+")
# `when: {phase: runtime}`: the one phase a condition can name; audit runs in `bake` or `runtime`.
RUNTIME, BAKE = "runtime", "bake"


# ---------------------------------------------------------------- profile


class Severity(str, enum.Enum):
    """How much a check's drift matters: `recommended` drift fails only under --strict."""

    REQUIRED = "required"
    RECOMMENDED = "recommended"


@dataclass(frozen=True)
class Condition:
    """A rule's `when:`; a check runs only when every part holds (None / () = no constraint)."""

    phase: str | None = None
    instance_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditContext:
    """What the audit knows about where it runs: the phase, and the instance type if known."""

    phase: str = RUNTIME
    instance_type: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    """Wanted queue counts; None means "leave this kind alone"."""

    combined: ChannelCount | None = None
    rx: ChannelCount | None = None
    tx: ChannelCount | None = None

    def wanted(self) -> dict[str, ChannelCount]:
        """Return the kinds this spec sets, in a fixed order."""
        return {k: v for k in CHANNEL_KINDS if (v := getattr(self, k)) is not None}


@dataclass(frozen=True)
class InterfaceRule:
    """One `interfaces:` entry: which interfaces (globs) and what they should have."""

    index: int
    match: tuple[str, ...]
    driver: str | None = None
    driver_min_version: str | None = None
    mtu: int | None = None
    channels: ChannelSpec | None = None
    line: int | None = None
    severity: Severity = Severity.REQUIRED
    when: Condition | None = None


@dataclass(frozen=True)
class SysctlSetting:
    """One `sysctl:` entry; value is normalised (single spaces)."""

    key: str
    value: str
    line: int | None = None
    severity: Severity = Severity.REQUIRED
    when: Condition | None = None


@dataclass(frozen=True)
class GuardSpec:
    """Peers that must answer at a raised MTU, else the change is rolled back."""

    targets: tuple[str, ...]
    timeout_s: float = 2.0


@dataclass(frozen=True)
class Profile:
    """A validated tuning profile."""

    name: str
    path: str
    interfaces: tuple[InterfaceRule, ...] = ()
    sysctls: tuple[SysctlSetting, ...] = ()
    guard: GuardSpec | None = None


# ---------------------------------------------------------------- observed host


@dataclass(frozen=True)
class Unreadable:
    """A value that could not be read; `unsupported` when the device or kernel lacks it."""

    reason: str
    unsupported: bool = False


@dataclass(frozen=True)
class DriverInfo:
    """What ETHTOOL_GDRVINFO reports."""

    driver: str
    version: str


@dataclass(frozen=True)
class Channels:
    """struct ethtool_channels: pre-set maxima and current counts."""

    max_rx: int
    max_tx: int
    max_other: int
    max_combined: int
    rx: int
    tx: int
    other: int
    combined: int

    def current(self, kind: str) -> int:
        """Return the current count of one kind (combined, rx, tx)."""
        return int(getattr(self, kind))

    def maximum(self, kind: str) -> int:
        """Return the pre-set maximum of one kind."""
        return int(getattr(self, "max_" + kind))


@dataclass(frozen=True)
class Link:
    """One interface as observed; driver and channels may be Unreadable."""

    name: str
    index: int
    mtu: int
    operstate: str
    driver: DriverInfo | Unreadable
    channels: Channels | Unreadable


@dataclass(frozen=True)
class HostState:
    """Everything an audit needs: every interface name, the matched links, the named sysctls."""

    ifnames: tuple[str, ...]
    links: dict[str, Link] = field(default_factory=dict)
    sysctls: dict[str, str | Unreadable] = field(default_factory=dict)


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class SetMtu:
    """Set one interface's MTU."""

    ifname: str
    old: int
    new: int

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


@dataclass(frozen=True)
class SetChannels:
    """Set one interface's queue counts; old/new are (kind, count) pairs."""

    ifname: str
    old: tuple[tuple[str, int], ...]
    new: tuple[tuple[str, int], ...]

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


@dataclass(frozen=True)
class SetSysctl:
    """Write one sysctl under /proc/sys/net."""

    key: str
    old: str
    new: str

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


Change = Union[SetMtu, SetChannels, SetSysctl]


def format_counts(counts: tuple[tuple[str, int], ...]) -> str:
    """Render channel counts as `rx=4 tx=4`."""
    return " ".join(f"{kind}={n}" for kind, n in counts)


def normalize_sysctl(value: str) -> str:
    """Return a sysctl value as the kernel means it: words separated by single spaces, integers
    without leading zeros or plus signs (`"4096\t131072  6291456"` -> `"4096 131072 6291456"`)."""
    return " ".join(_normalize_word(word) for word in value.split())


def _normalize_word(word: str) -> str:
    return str(int(word)) if _INTEGER.fullmatch(word) else word


# ---------------------------------------------------------------- checks


class Status(str, enum.Enum):
    """The verdict of one check. OK and UNSUPPORTED do not make a host non-compliant."""

    OK = "ok"
    DRIFT = "drift"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    SKIPPED = "skipped"  # not checked here: a `when:` condition does not hold (message says why)


@dataclass(frozen=True)
class Owner:
    """A persistent source that also sets a checked setting (a sysctl.d line, a .network file...).

    `value` is None and `problem` says why when the file could not be read or parsed; such an
    owner may set the setting, nobody can tell.
    """

    source: str  # the file, as a path inside the scanned root
    line: int | None
    kind: str  # sysctl.d, sysctl.conf, tuned, networkd-link (.link), networkd (.network), networkmanager
    value: str | None = None
    conflicts: bool = False  # sets a value other than the profile's
    wins_at_boot: bool = False  # its value is what the setting will have after the next boot
    note: str = ""
    problem: str = ""

    def describe(self) -> str:
        """Return one line for people: `/etc/sysctl.d/99-local.conf:3 sets 212992; wins at boot`.

        A source that a later one overrides at boot says so (`...; overridden at boot`).
        """
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.problem:
            return f"{where} unreadable: {self.problem}; it may set this"
        tail = "; wins at boot" if self.wins_at_boot else "; overridden at boot"
        note = f" ({self.note})" if self.note else ""
        return f"{where} sets {self.value}{note}{tail}"


@dataclass(frozen=True)
class Check:
    """One comparison of desired and observed state."""

    id: str
    subject: str
    setting: str
    status: Status
    expected: str | None = None
    actual: str | None = None
    message: str = ""
    change: Change | None = None
    severity: Severity = Severity.REQUIRED
    owners: tuple[Owner, ...] = ()

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
        return tuple(o for o in self.owners if o.conflicts or o.problem)


@dataclass(frozen=True)
class Report:
    """The result of one audit: what was checked, where, and the verdicts."""

    profile: Profile
    host: dict[str, str]
    checks: tuple[Check, ...]
    ec2: Ec2Lookup = None  # instance facts; Ec2Unavailable off EC2; None when not asked (--no-imds)
    ena: tuple[EnaHealth, ...] = ()  # allowance counters of each ENA interface
    notes: tuple[str, ...] = ()  # warnings for people; they never change `compliant`
    strict: bool = False
    context: AuditContext = field(default_factory=AuditContext)

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


@dataclass(frozen=True)
class Plan:
    """The changes an apply would make, in order, and the drift it cannot fix."""

    changes: tuple[Change, ...]
    unfixable: tuple[Check, ...] = ()
