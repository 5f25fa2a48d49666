"""A synthetic fleet of JSON audits, rendered by netagent's own JSON renderer (so the shape is real).

Used by the fleet-report tests and by `scripts/bench --fleet`. Deterministic: host i of a given
seed is always the same report. `expected(n, seed)` recomputes, independently of the merge, the
numbers the fleet report must show.
"""

from __future__ import annotations

import datetime
import json
import os
import random
from typing import Any

from netagent.core.ec2 import InstanceFacts
from netagent.core.ena import EnaHealth
from netagent.core.model import AuditContext, Check, Owner, Profile, Report, Severity, Status
from netagent.core.reports import json as json_report

PROFILES = ("web", "batch", "db")
SYSCTLS = (
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_mtu_probing",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.core.netdev_max_backlog",
    "net.ipv4.tcp_fastopen",
)
EPOCH = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


def host_plan(i: int, seed: int = 0) -> dict[str, Any]:
    """Decide host i's facts: profile, failing checks, fights, ENA counters (no rendering)."""
    rng = random.Random(seed * 1_000_003 + i)
    plan: dict[str, Any] = {
        "instance_id": f"i-{seed:02x}{i:015x}",
        "hostname": f"ip-10-{(i >> 16) & 255}-{(i >> 8) & 255}-{i & 255}",
        "profile": PROFILES[i % len(PROFILES)],
        "minutes": rng.randrange(0, 24 * 60),
    }
    drift = {}
    if rng.random() < 0.06:
        drift["eth0/mtu"] = ("9001", "1500")
    for key in SYSCTLS:
        if rng.random() < 0.005 + 0.004 * SYSCTLS.index(key):
            drift[f"sysctl/{key}"] = ("16777216", "212992")
    plan["drift"] = drift
    plan["error"] = ["eth0/channels"] if rng.random() < 0.01 else []
    plan["fight"] = "sysctl/net.core.rmem_max" in drift or rng.random() < 0.01
    plan["pps"] = rng.randrange(1, 5000) if rng.random() < 0.04 else 0
    plan["conntrack_available"] = rng.randrange(100, 200_000)
    return plan


def make_report(i: int, seed: int = 0, minutes: int | None = None) -> dict[str, Any]:
    """Return host i's audit as `netagent audit --format json` writes it (parsed)."""
    p = host_plan(i, seed)
    checks = [
        _check("eth0/mtu", "eth0", "mtu", p["drift"].get("eth0/mtu")),
        Check(
            "eth0",
            "channels",
            Status.ERROR if p["error"] else Status.OK,
            message="ETHTOOL_GCHANNELS: Operation not supported" if p["error"] else "",
        ),
    ]
    for key in SYSCTLS:
        owners: tuple[Owner, ...] = ()
        if key == "net.core.rmem_max" and p["fight"]:
            vendor = "/etc/sysctl.d/99-vendor.conf"
            owners = (Owner(vendor, 3, "sysctl.d", "212992", conflicts=True, wins_at_boot=True),)
        checks.append(_check(f"sysctl/{key}", key, "sysctl", p["drift"].get(f"sysctl/{key}"), owners))
    when = EPOCH + datetime.timedelta(minutes=p["minutes"] if minutes is None else minutes)
    report = Report(
        profile=Profile(p["profile"], f"/etc/netagent/{p['profile']}.yaml"),
        host={"hostname": p["hostname"], "kernel": "6.1.0-28-cloud-amd64", "machine_id": f"{i:032x}"},
        checks=tuple(checks),
        ec2=InstanceFacts(p["instance_id"], "c6in.4xlarge", "eu-west-1", "eu-west-1a"),
        ena=(
            EnaHealth(
                "eth0",
                (
                    ("bw_in_allowance_exceeded", 0),
                    ("bw_out_allowance_exceeded", 0),
                    ("pps_allowance_exceeded", p["pps"]),
                    ("conntrack_allowance_exceeded", 0),
                    ("linklocal_allowance_exceeded", 0),
                    ("conntrack_allowance_available", p["conntrack_available"]),
                ),
            ),
        ),
        context=AuditContext(instance_type="c6in.4xlarge"),
        generated_at=when.isoformat(timespec="milliseconds"),
    )
    return json_report.to_dict(report)


def _check(cid: str, subject: str, setting: str, drift: Any, owners: tuple[Owner, ...] = ()) -> Check:
    if drift is None:
        return Check(subject, setting, Status.OK, owners=owners)
    want, have = drift
    return Check(subject, setting, Status.DRIFT, want, have, severity=Severity.REQUIRED, owners=owners)


def write_fleet(directory: str, n: int, seed: int = 0) -> list[str]:
    """Write n audits as <directory>/<instance id>.json; return the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for i in range(n):
        doc = make_report(i, seed)
        path = os.path.join(directory, f"{doc['ec2']['instance_id']}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
        paths.append(path)
    return paths


def expected(n: int, seed: int = 0) -> dict[str, Any]:
    """Recompute the fleet's numbers from the host plans, without the merge."""
    plans = [host_plan(i, seed) for i in range(n)]
    failing = [len(p["drift"]) + len(p["error"]) for p in plans]
    by_profile: dict[str, list[int]] = {}
    checks: dict[str, int] = {}
    for p, f in zip(plans, failing):
        row = by_profile.setdefault(p["profile"], [0, 0])
        row[0] += 1
        row[1] += f == 0
        for cid in [*p["drift"], *p["error"]]:
            checks[cid] = checks.get(cid, 0) + 1
    return {
        "hosts": n,
        "compliant": sum(1 for f in failing if f == 0),
        "profiles": {k: tuple(v) for k, v in by_profile.items()},
        "checks": checks,
        "fight_hosts": sum(1 for p in plans if p["fight"]),
        "pps_hosts": sum(1 for p in plans if p["pps"]),
        "max_failures": max(failing) if failing else 0,
    }
