"""The JSON report: a stable, documented schema (README.md, "JSON report") (pure)."""

from __future__ import annotations

import json

from netagent.core import ec2
from netagent.core.model import Check, Owner, Plan, Report
from netagent.core.reports.names import escape_name
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any

SCHEMA_VERSION = 1


def to_dict(report: Report) -> dict[str, Any]:
    """Return the report as plain JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "profile": {"name": report.profile.name, "path": report.profile.path},
        "host": dict(report.host),
        "compliant": report.compliant,
        "summary": report.counts(),
        "checks": [check_dict(c) for c in report.checks],
        "ec2": ec2.to_dict(report.ec2),
        "ena": [h.to_dict() for h in report.ena],
        "notes": list(report.notes),
        "strict": report.strict,
        "context": {"phase": report.context.phase, "instance_type": report.context.instance_type},
        # Added fields keep schema_version 1: readers ignore what they do not know.
        "generated_at": report.generated_at or None,
    }


def check_dict(c: Check) -> dict[str, Any]:
    """Return one check as JSON-ready data."""
    return {
        "id": c.id,
        "subject": c.subject,
        "setting": c.setting,
        "status": c.status.value,
        "expected": c.expected,
        "actual": c.actual,
        "message": c.message,
        "fix": c.change.describe() if c.change else None,
        "severity": c.severity.value,
        "owners": [owner_dict(o) for o in c.owners],
    }


def owner_dict(o: Owner) -> dict[str, Any]:
    """Return one owner as JSON-ready data."""
    return {
        "source": o.source,
        "line": o.line,
        "kind": o.kind,
        "value": o.value,
        "conflicts": o.conflicts,
        "wins_at_boot": o.wins_at_boot,
        "note": o.note,
        "problem": o.problem or None,
    }


def render(report: Report, only: Collection[str] | None = None) -> str:
    """Render an audit report as indented JSON; `only` keeps the checks of those statuses
    (`summary` and `compliant` still count every check)."""
    doc = to_dict(report)
    if only is not None:
        doc["checks"] = [c for c in doc["checks"] if c["status"] in only]
    return escape_name(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def render_apply(plan: Plan, dry_run: bool, after: Report | None) -> str:
    """Render an apply: the changes (made, or that would be made) and the audit after it."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "dry_run": dry_run,
        "changes": [change.describe() for change in plan.changes],
        "unfixable": [check_dict(c) for c in plan.unfixable],
        "after": to_dict(after) if after is not None else None,
    }
    return escape_name(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
