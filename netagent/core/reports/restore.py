"""`netagent restore` for people: what was (or would be) restored, and what was left (pure)."""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.core.restore import RestorePlan


def render_restore(todo: RestorePlan | None, state_dir: str, dry_run: bool, forget_gone: bool) -> str:
    """Render a restore's outcome, one line per setting."""
    if todo is None:
        return f"nothing to restore: no originals recorded in {state_dir}\n"
    would = "would " if dry_run else ""
    lines = [f"{would}restore{'' if dry_run else 'd'} {change.describe()}" for change in todo.changes]
    lines += [f"{setting}: already at its original value" for setting in todo.already]
    for setting in todo.gone:
        fate = f"{would}forget its original (--forget-gone)" if forget_gone else "its original stays recorded"
        lines.append(f"{setting}: not restored: the interface or key is gone; {fate}")
    for setting, reason in todo.unreadable:
        lines.append(f"{setting}: not restored: cannot read it ({reason}); its original stays recorded")
    return "".join(line + "\n" for line in lines)
