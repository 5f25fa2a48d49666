"""`when:` and `severity:` on checks: whether a check runs in this context, and how much it counts (pure)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from netagent.core.model import BAKE, RUNTIME, AuditContext, Check, Condition, Severity, Status


def skip_reason(when: Condition | None, ctx: AuditContext) -> str | None:
    """Return why a check with this condition does not run in this context, or None when it runs."""
    if when is None:
        return None
    if when.phase == RUNTIME and ctx.phase == BAKE:
        return "when: runtime; skipped in the bake phase"
    if when.instance_types:
        globs = ", ".join(when.instance_types)
        if ctx.instance_type is None:
            return f"when: instance_type {globs}; instance type unknown"
        if not any(fnmatchcase(ctx.instance_type, g) for g in when.instance_types):
            return f"when: instance_type {globs}; this is {ctx.instance_type}"
    return None


def qualify(check: Check, severity: Severity, when: Condition | None, ctx: AuditContext) -> Check:
    """Give a check the severity of the rule it comes from, or skip it when its condition does not hold."""
    reason = skip_reason(when, ctx)
    if reason is None:
        return check if check.severity is severity else check.replace(severity=severity)
    return Check(check.subject, check.setting, Status.SKIPPED, check.expected, None, reason, severity=severity)
