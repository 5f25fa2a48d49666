"""A table for people: one row per check, failures first, then a summary line (pure)."""

from __future__ import annotations

from netagent.core import ec2
from netagent.core.model import STATUS_TEXT, Change, Check, Plan, Report, Severity
from netagent.core.reports.colour import paint
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection
from netagent.core.reports.names import escape_name

_HEADERS = ("STATUS", "CHECK", "EXPECTED", "ACTUAL", "NOTE")


def render(report: Report, colour: bool = False, only: Collection[str] | None = None) -> str:
    """Render an audit report as an aligned table and a summary line; `colour` paints the statuses,
    and `only` keeps the rows of those statuses (the summary still counts every check)."""
    checks = report.checks if only is None else tuple(c for c in report.checks if STATUS_TEXT[c.status] in only)
    rows = [(STATUS_TEXT[c.status], c.id, c.expected or "-", c.actual or "-", _note(c)) for c in checks]
    if rows:
        table = _table([_HEADERS, *rows])
    elif report.checks:
        table = [f"(no check is {' or '.join(sorted(only or ()))})"]
    else:
        table = ["(the profile has no checks)"]
    # Owner warnings go under their check's row; they never change the verdict or the exit code.
    lines = table[:1]
    hidden = len(report.checks) - len(checks)
    for row, check in zip(table[1:], checks):
        if colour:
            status = STATUS_TEXT[check.status]  # padded first, painted after: escapes take no columns
            row = paint(status, colour) + row[len(status) :]
        lines.append(row)
        if check.owners:
            lines += [f"    owner: {o.describe()}" for o in check.conflicting_owners]
    extra = [f"({hidden} check{'s' if hidden != 1 else ''} not shown: --only {','.join(sorted(only or ()))})"]
    extra = extra if hidden else []
    extra.append(f"ec2: {ec2.describe(report.ec2)}")
    extra += [f"ena {h.ifname}: " + " ".join(f"{k}={n}" for k, n in h.counters) for h in report.ena if h.counters]
    extra += [f"note: {note}" for note in report.notes]
    return escape_name("\n".join([*lines, "", *extra, summary(report, colour)])) + "\n"


def change_line(change: Change, dry_run: bool = True) -> str:
    """Return one change as apply says it: `would set lab0 mtu 1500 -> 9001` (or `set ...`)."""
    return f"{'would set' if dry_run else 'set'} {change.describe()}"


def plan_tail(plan: Plan) -> list[str]:
    """Return the lines every rendering of a plan ends with: nothing to change, and what it cannot fix."""
    lines = [] if plan.changes else ["nothing to change"]
    lines += [
        f"then, on the queues {c.subject}'s new queue count makes: {change_line(c.change) if c.change else c.id}"
        for c in plan.deferred
    ]
    lines += [f"cannot fix {c.id}: {c.message or f'expected {c.expected}, found {c.actual}'}" for c in plan.unfixable]
    return lines


def _note(c: Check) -> str:
    note = c.message or (change_line(c.change) if c.change else "")
    if c.severity is Severity.RECOMMENDED and c.is_failure:
        return f"recommended: {note}" if note else "recommended"
    return note


def summary(report: Report, colour: bool = False) -> str:
    """Return the one-line verdict of a report."""
    counts = report.counts()
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    verdict = "compliant" if report.compliant else "NOT compliant"
    extras = []
    recommended = report.recommended_unmet
    if recommended:
        extras.append(f"{recommended} recommended not met (fails only with --strict)")
    warnings = sum(len(c.conflicting_owners) for c in report.checks if c.owners)
    if warnings:
        extras.append(f"{warnings} owner warning{'s' if warnings != 1 else ''}")
    tail = f"; {'; '.join(extras)}" if extras else ""
    return f"{paint(verdict, colour)}: profile {report.profile.name!r} ({report.profile.path}): {parts}{tail}"


def render_plan(plan: Plan, dry_run: bool) -> str:
    """Render what apply will do (or, with dry_run, would do), and the drift it cannot fix."""
    lines = [change_line(change, dry_run) for change in plan.changes]
    return escape_name("\n".join([*lines, *plan_tail(plan)])) + "\n"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    # One format string for every row: a third of the cost of ljust-and-join per cell (issue 8).
    widths = [max(map(len, column)) for column in list(zip(*rows))[:-1]]
    row_format = "".join(f"{{:<{w}}}  " for w in widths) + "{}"
    return [row_format.format(*r).rstrip() for r in rows]
