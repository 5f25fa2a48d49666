"""`netagent plan`: the changes apply would make, each with the owners that would revert it at boot (pure)."""

from __future__ import annotations

import json
from typing import Any

from netagent.core.model import Change, Owner, Plan, Report
from netagent.core.owners import reverted_by
from netagent.core.reports.json import SCHEMA_VERSION, check_dict, owner_dict
from netagent.core.reports.names import escape_name
from netagent.core.reports.text import plan_tail


def reverters(report: Report, plan: Plan) -> list[tuple[Change, tuple[Owner, ...]]]:
    """Pair each change with the owners that would revert it: those of the check it fixes (same id)."""
    by_id = {c.id: c for c in report.checks}
    return [(ch, reverted_by(by_id[ch.setting]) if ch.setting in by_id else ()) for ch in plan.changes]


def render_text(report: Report, plan: Plan) -> str:
    """Render the plan as a diff, one change a line, the owners that would revert it indented below."""
    lines: list[str] = []
    reverted = 0
    for change, owners in reverters(report, plan):
        lines.append(change.describe())
        reverted += bool(owners)
        lines += [f"    reverted at boot by {o.describe()}" for o in owners]
    lines += plan_tail(plan)
    n = len(plan.changes)
    lines += ["", f"{n} change{'s' if n != 1 else ''}; {reverted} would be reverted at the next boot"]
    return escape_name("\n".join(lines)) + "\n"


def render_json(report: Report, plan: Plan) -> str:
    """Render the plan as JSON: each change with old, new and the owners that would revert it."""
    changes: list[dict[str, Any]] = []
    for change, owners in reverters(report, plan):
        changes.append(
            {
                "id": change.setting,
                "target": change.target,
                "change": change.describe(),
                "new": change.new_text,
                "reverted_by": [owner_dict(o) for o in owners],
            }
        )
    doc = {
        "schema_version": SCHEMA_VERSION,
        "profile": {"name": report.profile.name, "path": report.profile.path},
        "changes": changes,
        "unfixable": [check_dict(c) for c in plan.unfixable],
    }
    return escape_name(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
