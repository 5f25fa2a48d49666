"""The fleet report: many hosts' JSON audits merged into one summary (pure).

Input is what `netagent audit --format json` writes on each host (netagent/reports/json.py,
schema_version 1), collected into a bucket or a directory by SSM, cron or anything else. The
shell (netagent/app/fleet_report.py) reads the files; this module decides:

- which documents are audits at all (anything else is *skipped*, with the reason);
- which host each one describes: the EC2 instance id, else the machine id, else the hostname;
- which report of a host is the newest: the report's own `generated_at` when it has one (audits
  since this module write it), else the file's modification time; on a tie the later file name
  wins, so the result never depends on the order the files were listed in;
- and the summary: compliance by profile, the checks that drift most, hosts by failures, the
  boot-time owners that fight the profile, and the ENA allowance hot spots.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from typing import Any

# The audit JSON this module understands (netagent/reports/json.py SCHEMA_VERSION).
AUDIT_SCHEMA_VERSIONS = (1,)
FLEET_SCHEMA_VERSION = 1
# ENA counters: cumulative `*_allowance_exceeded` and the conntrack headroom gauge (ena.py).
ALLOWANCE_EXCEEDED = (
    "bw_in_allowance_exceeded",
    "bw_out_allowance_exceeded",
    "pps_allowance_exceeded",
    "conntrack_allowance_exceeded",
    "linklocal_allowance_exceeded",
)
CONNTRACK_AVAILABLE = "conntrack_allowance_available"
FAILING = ("drift", "error")


class NotAnAudit(ValueError):
    """A document that is not a netagent JSON audit; the message says why (the file is skipped)."""


@dataclasses.dataclass(frozen=True)
class Failure:
    """One failing check of one host."""

    check: str
    status: str  # drift or error
    severity: str  # required or recommended


@dataclasses.dataclass(frozen=True)
class Fight:
    """A boot-time owner (a sysctl.d line, a .link file...) that sets another value than the profile."""

    check: str
    source: str
    kind: str
    value: str


@dataclasses.dataclass(frozen=True)
class EnaCounters:
    """One ENA interface's allowance counters."""

    ifname: str
    exceeded: tuple[tuple[str, int], ...]  # every *_allowance_exceeded counter the driver reports
    conntrack_available: int | None


@dataclasses.dataclass(frozen=True)
class HostAudit:
    """What the fleet report keeps of one host's audit."""

    host_id: str
    hostname: str
    source: str
    profile: str
    compliant: bool
    instance_type: str
    generated_at: str  # as in the report; "" for audits older than the field
    freshness: float  # seconds since the epoch: generated_at, else the file's mtime
    fresh_by: str  # "report" or "mtime"
    counts: tuple[tuple[str, int], ...]
    failures: tuple[Failure, ...]
    fights: tuple[Fight, ...]
    ena: tuple[EnaCounters, ...]

    @property
    def failed(self) -> int:
        """Return the number of checks that drifted or could not be made."""
        return len(self.failures)


@dataclasses.dataclass(frozen=True)
class Skipped:
    """A file that is not a usable audit, and why."""

    source: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Duplicate:
    """An older report of a host that another file reports more recently."""

    host_id: str
    kept: str
    dropped: str


@dataclasses.dataclass(frozen=True)
class ProfileRow:
    profile: str
    hosts: int
    compliant: int


@dataclasses.dataclass(frozen=True)
class CheckRow:
    check: str
    drift: int  # hosts where it drifted
    error: int  # hosts where it could not be checked
    required: int  # of those, hosts where it was required

    @property
    def hosts(self) -> int:
        """Return the number of hosts where the check failed."""
        return self.drift + self.error


@dataclasses.dataclass(frozen=True)
class FightRow:
    source: str
    kind: str
    check: str
    hosts: int
    values: tuple[str, ...]  # distinct values the owner sets, sorted


@dataclasses.dataclass(frozen=True)
class HotSpot:
    host_id: str
    hostname: str
    ifname: str
    exceeded: tuple[tuple[str, int], ...]  # non-zero counters only
    conntrack_available: int | None

    @property
    def total(self) -> int:
        """Return the sum of the non-zero allowance counters."""
        return sum(n for _, n in self.exceeded)


@dataclasses.dataclass(frozen=True)
class FleetSummary:
    """The merged view of a fleet."""

    hosts: tuple[HostAudit, ...]  # most failures first
    skipped: tuple[Skipped, ...]
    duplicates: tuple[Duplicate, ...]
    profiles: tuple[ProfileRow, ...]
    checks: tuple[CheckRow, ...]  # most hosts first
    fights: tuple[FightRow, ...]  # most hosts first
    hot_spots: tuple[HotSpot, ...]  # largest counters first
    counters: tuple[tuple[str, int], ...]  # per allowance counter: hosts with it non-zero

    @property
    def compliant(self) -> int:
        """Return the number of compliant hosts."""
        return sum(1 for h in self.hosts if h.compliant)


def _field(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise NotAnAudit(f"{where}{key}: expected {_article(expected)}, got {_json_type(value)}")
    return value


def _article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


_JSON_TYPES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "a string",
    list: "an array",
    dict: "an object",
}


def parse_timestamp(text: str) -> float | None:
    """Return an ISO-8601 time with a UTC offset as seconds since the epoch; None if it is not one."""
    try:
        when = datetime.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None  # a local time names no instant
    return when.timestamp()


def _foreign(doc: Mapping[str, Any]) -> str | None:
    """Say what a netagent document that is not an audit is, or None."""
    if doc.get("format") == "netagent-status":
        return "a netagent daemon status file, not an audit"
    if "dry_run" in doc and "changes" in doc:
        return "a netagent apply report, not an audit"
    if "changes" in doc and "checks" not in doc:
        return "a netagent plan, not an audit"
    return None


def parse_audit(doc: object, source: str, mtime: float) -> HostAudit:
    """Return what the report keeps of one JSON audit.

    Raises:
        NotAnAudit: the document is not a netagent JSON audit this version reads.
    """
    if not isinstance(doc, dict):
        raise NotAnAudit(f"not a netagent audit: the document is {_json_type(doc)}, not an object")
    foreign = _foreign(doc)
    if foreign:
        raise NotAnAudit(foreign)
    if "schema_version" not in doc or "checks" not in doc:
        raise NotAnAudit("not a netagent audit: no schema_version or checks")
    version = doc["schema_version"]
    if version not in AUDIT_SCHEMA_VERSIONS or isinstance(version, bool):
        raise NotAnAudit(f"schema_version {version!r}: this netagent reads {list(AUDIT_SCHEMA_VERSIONS)}")
    profile = _field(doc, "profile", dict)
    host = _field(doc, "host", dict)
    compliant = _field(doc, "compliant", bool)
    checks = _field(doc, "checks", list)
    ec2: dict[str, Any] = doc["ec2"] if isinstance(doc.get("ec2"), dict) else {}
    context: dict[str, Any] = doc["context"] if isinstance(doc.get("context"), dict) else {}
    ena = doc.get("ena", [])
    if not isinstance(ena, list):
        raise NotAnAudit(f"ena: expected an array, got {_json_type(ena)}")
    instance_id = ec2.get("instance_id") if ec2.get("status") == "available" else None
    hostname = host.get("hostname") if isinstance(host.get("hostname"), str) else ""
    host_id = next(
        (v for v in (instance_id, host.get("machine_id"), hostname) if isinstance(v, str) and v),
        None,
    )
    if host_id is None:
        raise NotAnAudit("host: no instance_id, machine_id or hostname to tell the host by")
    generated_at = doc.get("generated_at")
    stamp = parse_timestamp(generated_at) if isinstance(generated_at, str) else None
    if generated_at is not None and stamp is None:
        raise NotAnAudit(f"generated_at: expected an ISO-8601 time with a UTC offset, got {generated_at!r}")
    failures, fights, counts = _checks(checks)
    return HostAudit(
        host_id=host_id,
        hostname=hostname,
        source=source,
        profile=str(profile.get("name") or "?"),
        compliant=compliant,
        instance_type=str(ec2.get("instance_type") or context.get("instance_type") or ""),
        generated_at=generated_at or "",
        freshness=stamp if stamp is not None else mtime,
        fresh_by="report" if stamp is not None else "mtime",
        counts=counts,
        failures=failures,
        fights=fights,
        ena=tuple(_ena(i, entry) for i, entry in enumerate(ena)),
    )


def _checks(checks: list[Any]) -> tuple[tuple[Failure, ...], tuple[Fight, ...], tuple[tuple[str, int], ...]]:
    failures: list[Failure] = []
    fights: list[Fight] = []
    counts: dict[str, int] = {}
    for i, c in enumerate(checks):
        if not isinstance(c, dict):
            raise NotAnAudit(f"checks[{i}]: expected an object, got {_json_type(c)}")
        cid, status = c.get("id"), c.get("status")
        if type(cid) is not str or type(status) is not str:  # the common case costs two lookups (bench)
            cid, status = _field(c, "id", str, f"checks[{i}]."), _field(c, "status", str, f"checks[{i}].")
        counts[status] = counts.get(status, 0) + 1
        if status in FAILING:
            failures.append(Failure(cid, status, str(c.get("severity") or "required")))
        owners = c.get("owners") or ()
        if not isinstance(owners, (list, tuple)):
            raise NotAnAudit(f"checks[{i}].owners: expected an array, got {_json_type(owners)}")
        for o in owners:
            if isinstance(o, dict) and o.get("conflicts") is True and isinstance(o.get("source"), str):
                fights.append(Fight(cid, o["source"], str(o.get("kind") or ""), str(o.get("value"))))
    return tuple(failures), tuple(fights), tuple(sorted(counts.items()))


def _ena(i: int, entry: object) -> EnaCounters:
    if not isinstance(entry, dict):
        raise NotAnAudit(f"ena[{i}]: expected an object, got {_json_type(entry)}")
    ifname = _field(entry, "interface", str, f"ena[{i}].")
    counters = entry.get("counters") or {}
    if not isinstance(counters, dict):
        raise NotAnAudit(f"ena[{i}].counters: expected an object, got {_json_type(counters)}")
    for name, n in counters.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise NotAnAudit(f"ena[{i}].counters.{name}: expected a count, got {n!r}")
    exceeded = tuple((name, counters[name]) for name in ALLOWANCE_EXCEEDED if name in counters)
    return EnaCounters(ifname, exceeded, counters.get(CONNTRACK_AVAILABLE))


def newest(hosts: Iterable[HostAudit]) -> tuple[list[HostAudit], list[Duplicate]]:
    """Keep one report per host, the newest (freshness, then the later source name on a tie)."""
    best: dict[str, HostAudit] = {}
    dropped: list[tuple[str, str]] = []
    for h in hosts:
        held = best.get(h.host_id)
        if held is None:
            best[h.host_id] = h
            continue
        if (h.freshness, h.source) > (held.freshness, held.source):
            best[h.host_id], h = h, held
        dropped.append((h.host_id, h.source))
    duplicates = [Duplicate(hid, best[hid].source, src) for hid, src in dropped]
    return list(best.values()), sorted(duplicates, key=lambda d: (d.host_id, d.dropped))


def merge(hosts: Iterable[HostAudit], skipped: Iterable[Skipped] = ()) -> FleetSummary:
    """Merge host audits (any order, duplicates allowed) into the fleet summary."""
    kept, duplicates = newest(hosts)
    profiles: dict[str, list[int]] = {}
    checks: dict[str, list[int]] = {}
    fights: dict[tuple[str, str, str], tuple[set[str], set[str]]] = {}
    hot: list[HotSpot] = []
    counter_hosts: dict[str, int] = dict.fromkeys(ALLOWANCE_EXCEEDED, 0)
    for h in kept:
        row = profiles.setdefault(h.profile, [0, 0])
        row[0] += 1
        row[1] += h.compliant
        for f in h.failures:
            crow = checks.setdefault(f.check, [0, 0, 0])
            crow[0 if f.status == "drift" else 1] += 1
            crow[2] += f.severity == "required"
        for fight in h.fights:
            hosts_seen, values = fights.setdefault((fight.source, fight.kind, fight.check), (set(), set()))
            hosts_seen.add(h.host_id)
            values.add(fight.value)
        exceeded_here: set[str] = set()
        for iface in h.ena:
            nonzero = tuple((name, n) for name, n in iface.exceeded if n > 0)
            exceeded_here.update(name for name, _ in nonzero)
            if nonzero:
                hot.append(HotSpot(h.host_id, h.hostname, iface.ifname, nonzero, iface.conntrack_available))
        for name in exceeded_here:
            counter_hosts[name] += 1
    return FleetSummary(
        hosts=tuple(sorted(kept, key=lambda h: (-h.failed, h.compliant, h.host_id))),
        skipped=tuple(sorted(skipped, key=lambda s: s.source)),
        duplicates=tuple(duplicates),
        profiles=tuple(ProfileRow(p, n, ok) for p, (n, ok) in sorted(profiles.items())),
        checks=tuple(
            sorted(
                (CheckRow(cid, d, e, r) for cid, (d, e, r) in checks.items()),
                key=lambda c: (-c.hosts, c.check),
            )
        ),
        fights=tuple(
            sorted(
                (FightRow(src, kind, cid, len(hs), tuple(sorted(vs))) for (src, kind, cid), (hs, vs) in fights.items()),
                key=lambda f: (-f.hosts, f.source, f.check),
            )
        ),
        hot_spots=tuple(sorted(hot, key=lambda s: (-s.total, s.host_id, s.ifname))),
        counters=tuple(counter_hosts.items()),
    )


def percent(part: int, whole: int) -> str:
    """Return part/whole as a percentage with one decimal ("-" for an empty whole)."""
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def to_dict(summary: FleetSummary, top: int | None = None) -> dict[str, Any]:
    """Return the summary as JSON-ready data (every host; `top` bounds the host list if given)."""
    n = len(summary.hosts)
    hosts = summary.hosts if top is None else summary.hosts[:top]
    return {
        "format": "netagent-fleet-report",
        "schema_version": FLEET_SCHEMA_VERSION,
        "hosts_total": n,
        "hosts_compliant": summary.compliant,
        "hosts_noncompliant": n - summary.compliant,
        "profiles": [
            {"profile": p.profile, "hosts": p.hosts, "compliant": p.compliant, "noncompliant": p.hosts - p.compliant}
            for p in summary.profiles
        ],
        "checks": [
            {"check": c.check, "hosts": c.hosts, "drift": c.drift, "error": c.error, "required": c.required}
            for c in summary.checks
        ],
        "hosts": [
            {
                "host_id": h.host_id,
                "hostname": h.hostname,
                "profile": h.profile,
                "compliant": h.compliant,
                "failures": h.failed,
                "failing_checks": [f.check for f in h.failures],
                "instance_type": h.instance_type,
                "generated_at": h.generated_at or None,
                "newest_by": h.fresh_by,
                "source": h.source,
            }
            for h in hosts
        ],
        "owners_fighting": [
            {"source": f.source, "kind": f.kind, "check": f.check, "hosts": f.hosts, "values": list(f.values)}
            for f in summary.fights
        ],
        "ena_hot_spots": [
            {
                "host_id": s.host_id,
                "hostname": s.hostname,
                "interface": s.ifname,
                "exceeded": dict(s.exceeded),
                "total": s.total,
                "conntrack_allowance_available": s.conntrack_available,
            }
            for s in summary.hot_spots
        ],
        "ena_hosts_exceeding": dict(summary.counters),
        "skipped": [{"source": s.source, "reason": s.reason} for s in summary.skipped],
        "duplicates": [{"host_id": d.host_id, "kept": d.kept, "dropped": d.dropped} for d in summary.duplicates],
    }


def render_text(summary: FleetSummary, top: int = 20) -> str:
    """Render the summary for people; long lists stop at `top` rows."""
    n = len(summary.hosts)
    out = [f"fleet: {n} host{'' if n == 1 else 's'}, {summary.compliant} compliant ({percent(summary.compliant, n)})"]
    out.append("")
    out.append("compliance by profile:")
    for p in summary.profiles:
        out.append(f"  {p.profile}: {p.compliant}/{p.hosts} compliant ({percent(p.compliant, p.hosts)})")
    out += _section(
        "checks that drift most (hosts):",
        [f"  {c.check}: {c.hosts} ({c.drift} drift, {c.error} error)" for c in summary.checks],
        top,
    )
    failing = [h for h in summary.hosts if h.failed]
    out += _section(
        "hosts by failures:",
        [f"  {h.host_id} ({h.hostname or '?'}, {h.profile}): {h.failed}" for h in failing],
        top,
    )
    out += _section(
        "owners that fight the profile (hosts):",
        [f"  {f.source} ({f.kind}) on {f.check}: {f.hosts}, sets {', '.join(f.values)}" for f in summary.fights],
        top,
    )
    out += _section(
        "ENA allowance hot spots:",
        [f"  {s.host_id} {s.ifname}: " + ", ".join(f"{name} {v}" for name, v in s.exceeded) for s in summary.hot_spots],
        top,
    )
    out += _section("skipped files:", [f"  {s.source}: {s.reason}" for s in summary.skipped], top)
    if summary.duplicates:
        out.append("")
        out.append(f"older reports of the same host ignored: {len(summary.duplicates)} (the newest report wins)")
    return "\n".join(out) + "\n"


def _section(title: str, rows: list[str], top: int) -> list[str]:
    if not rows:
        return []
    more = [f"  ... and {len(rows) - top} more"] if len(rows) > top else []
    return ["", title, *rows[:top], *more]
