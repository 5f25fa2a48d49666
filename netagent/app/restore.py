"""The restore use case: put every recorded original back as one transaction, then forget it."""

from __future__ import annotations

from netagent.app import logs
from netagent.core.restore import RestorePlan, restore_changes
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.app.ports import Host
    from netagent.host.statefile import StateDir

log = logs.get_logger()


def restore(host: Host, state: StateDir, dry_run: bool, forget_gone: bool, lock_timeout_s: float) -> RestorePlan | None:
    """Restore every recorded original (dry_run: only say what would be); None when none are recorded.

    Originals restored, already in place, or (with forget_gone) of settings that are gone are
    forgotten; those that could not be read stay recorded.

    Raises:
        ApplyFailed: a restore step failed; this run's changes were rolled back.
        StateError: the state directory is locked, unsafe or corrupt.
    """
    if dry_run:
        return _plan(host, state)
    with state.lock(lock_timeout_s):
        todo = _plan(host, state)
        if todo is None:
            return None
        if todo.changes:
            from netagent.app.apply import apply_plan
            from netagent.app.signals import StopSignals
            from netagent.core.model import Plan

            with StopSignals() as stopped:
                apply_plan(Plan(todo.changes), host, should_stop=lambda: bool(stopped))
        state.forget([c.setting for c in todo.changes] + list(todo.already) + (list(todo.gone) if forget_gone else []))
    log.info("restore_finished", restored=len(todo.changes), already=len(todo.already), gone=len(todo.gone))
    return todo


def _plan(host: Host, state: StateDir) -> RestorePlan | None:
    originals = state.load()
    if not originals:
        return None
    return restore_changes(originals, host.read_recorded(originals))
