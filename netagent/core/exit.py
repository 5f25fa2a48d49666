"""Exit codes from outcomes: one pure function each, as black's Report.return_code (pure).

Errors carry their own code (netagent.core.errors); these decide the codes of outcomes that
are not errors: drift, and originals that could not be restored.
"""

from __future__ import annotations

from netagent.core.errors import ExitCode
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.core.model import Report
    from netagent.core.restore import RestorePlan


def exit_code(report: Report) -> ExitCode:
    """0 when no check fails (required drift or errors; any drift under --strict), else 1."""
    return ExitCode.OK if report.compliant else ExitCode.DRIFT


def restore_exit_code(todo: RestorePlan | None, forget_gone: bool) -> ExitCode:
    """0 when every original was restored or forgotten, 1 when some stay recorded."""
    if todo is None:
        return ExitCode.OK
    left = todo.unreadable or (todo.gone and not forget_gone)
    return ExitCode.DRIFT if left else ExitCode.OK
