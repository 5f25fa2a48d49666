"""Run a Plan as one transaction: write, read back, and undo everything on the first failure."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator, Sequence
from typing import Protocol

from netagent import logs
from netagent.errors import AdapterError, ApplyFailed
from netagent.model import Change, Plan, SetMtu, normalize_sysctl

log = logs.get_logger()


class Executor(Protocol):
    """What apply needs of the host: make a change, and read a setting back."""

    def execute(self, change: Change) -> None: ...

    def read_current(self, change: Change) -> str: ...


class Originals(Protocol):
    """Where pre-agent values are kept (the state directory)."""

    def record_originals(self, changes: Sequence[Change]) -> int: ...


class Guard(Protocol):
    """Checks an MTU change after it is made (the jumbo-path guard)."""

    def check(self, change: SetMtu) -> None: ...


def apply_plan(
    plan: Plan, host: Executor, originals: Originals | None = None, guard: Guard | None = None
) -> list[Change]:
    """Make every change in order and verify each; on a failure undo this run's changes in reverse.

    The pre-change values are recorded durably before the first write, and each raised MTU
    must pass the guard. Returns the changes made.

    Raises:
        ApplyFailed: naming the setting, the value and the kernel's reason, after rolling back.
        StateError: the originals could not be recorded; nothing was changed.
    """
    if originals is not None and plan.changes:
        originals.record_originals(plan.changes)
    done: list[Change] = []
    for change in plan.changes:
        try:
            make_change(change, host)
            if guard is not None and isinstance(change, SetMtu):
                guard.check(change)
        except AdapterError as exc:
            log.error("change_failed", setting=change.setting, value=change.new_text, reason=exc.reason)
            raise _undo_run(change, exc.reason, done, host) from None
        except KeyboardInterrupt:
            # SIGINT, or SIGTERM (the CLI turns it into KeyboardInterrupt): an interrupted apply
            # used to exit 130 half-applied; it is a failure like any other (issue 9).
            log.error("apply_interrupted", setting=change.setting, value=change.new_text)
            raise _undo_run(change, "interrupted by a signal", done, host) from None
        done.append(change)
    return done


def _undo_run(change: Change, reason: str, done: Sequence[Change], host: Executor) -> ApplyFailed:
    """Roll back this run's changes (and whatever the kernel kept of the failed one) with SIGINT and
    SIGTERM held, so a second signal cannot cut the rollback short; return the error to raise."""
    with _signals_held():
        undo = list(done)
        if _changed(change, host):  # the kernel kept part of a failed or interrupted write
            undo.append(change)
        failures = roll_back(undo, host)
    return ApplyFailed(f"{change.target}: {reason}", rolled_back=len(undo) - len(failures), rollback_failures=failures)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block; they are delivered when it ends."""
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def make_change(change: Change, host: Executor) -> None:
    """Make one change and check that the kernel kept exactly the new value.

    Raises:
        AdapterError: the write failed, or the value read back differs.
    """
    host.execute(change)
    want = normalize_sysctl(change.new_text)
    have = normalize_sysctl(host.read_current(change))
    if have != want:
        raise AdapterError(change.setting, "verify", None, f"wrote {want} but the kernel kept {have}")
    log.info("setting_changed", setting=change.setting, old=change.inverse().new_text, new=want)


def roll_back(changes: Sequence[Change], host: Executor) -> list[str]:
    """Undo changes in reverse order; return a message per step that failed (and keep going)."""
    failures = []
    for change in reversed(changes):
        undo = change.inverse()
        try:
            make_change(undo, host)
            log.info("change_rolled_back", setting=change.setting, value=undo.new_text)
        except AdapterError as exc:
            failures.append(f"{change.target}: could not restore {undo.new_text}: {exc.reason}")
            log.error("rollback_failed", setting=change.setting, value=undo.new_text, reason=exc.reason)
    return failures


def _changed(change: Change, host: Executor) -> bool:
    try:
        return normalize_sysctl(host.read_current(change)) != normalize_sysctl(change.inverse().new_text)
    except AdapterError:
        return False
