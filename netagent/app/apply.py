"""Run a Plan as one transaction: write, read back, and undo everything on the first failure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Protocol

from netagent.app import logs
from netagent.core.errors import AdapterError, ApplyFailed, ApplyInterrupted, NotSupported, StateError
from netagent.core.model import Change, Plan
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import normalize_sysctl

if TYPE_CHECKING:
    from netagent.app.ports import Host
    from netagent.core.ec2 import Ec2Lookup
    from netagent.core.model import Profile, Report
    from netagent.host.statefile import StateDir

log = logs.get_logger()


class Executor(Protocol):
    """What apply needs of the host: make a change, and read a setting back."""

    def execute(self, change: Change) -> None: ...

    def read_current(self, change: Change) -> str: ...


class Originals(Protocol):
    """Where pre-agent values are kept (the state directory)."""

    def record_originals(self, changes: Sequence[Change]) -> list[str]: ...

    def forget(self, settings: Sequence[str]) -> None: ...

    def load(self) -> dict[str, dict[str, Any]]: ...

    def rewind(self, previous: dict[str, dict[str, Any]]) -> None: ...


class Guard(Protocol):
    """Checks an MTU change after it is made (the jumbo-path guard)."""

    def check(self, change: SetMtu) -> None: ...


def apply_plan(
    plan: Plan,
    host: Executor,
    originals: Originals | None = None,
    guard: Guard | None = None,
    should_stop: Callable[[], bool] | None = None,
    refused: list[tuple[Change, str]] | None = None,
) -> list[Change]:
    """Make every change in order and verify each; on a failure undo this run's changes in reverse.

    The pre-change values are recorded durably before the first write, and each raised MTU
    must pass the guard. `should_stop` is asked before each change (a stop signal arrived):
    then the changes made so far are undone, so a stop never leaves a plan half-applied.
    Given a `refused` list, a change the device refuses as unsupported (EOPNOTSUPP, nothing
    changed: virtio_net and rx-usecs) is no failure: it is added there with the kernel's reason,
    and the others go on. Returns the changes made.

    Raises:
        ApplyFailed: naming the setting, the value and the kernel's reason, after rolling back.
        ApplyInterrupted: should_stop() said so; this run's changes were rolled back.
        StateError: the originals could not be recorded; nothing was changed.
    """
    previous = originals.load() if originals is not None and plan.changes else None
    if originals is not None and previous is not None:
        originals.record_originals(plan.changes)
    try:
        return _apply(plan, host, guard, should_stop, refused)
    except ApplyFailed as exc:
        if originals is not None and previous is not None and not exc.rollback_failures:
            rewind(originals, previous)
        raise


def rewind(originals: Originals, previous: dict[str, dict[str, Any]]) -> None:
    """Put the recorded originals back as they were before a run whose changes were all rolled back.

    What the run recorded, new settings and parts added to existing ones (a channel type, a
    queue), was never changed, and must not make a later restore revert an operator's own change.
    """
    try:
        originals.rewind(previous)
    except StateError as exc:  # harmless: those originals equal the current values
        log.warning("originals_kept", reason=str(exc))


def _apply(
    plan: Plan,
    host: Executor,
    guard: Guard | None,
    should_stop: Callable[[], bool] | None,
    refused: list[tuple[Change, str]] | None,
) -> list[Change]:
    done: list[Change] = []
    for change in plan.changes:
        if should_stop is not None and should_stop():
            log.warning("apply_interrupted", done=len(done), planned=len(plan.changes))
            failures = roll_back(done, host)
            raise ApplyInterrupted(
                f"interrupted by a stop signal after {len(done)} of {len(plan.changes)} changes",
                rolled_back=len(done) - len(failures),
                rollback_failures=failures,
            )
        try:
            make_change(change, host)
            if guard is not None and isinstance(change, SetMtu):
                guard.check(change)
        except AdapterError as exc:
            if isinstance(exc, NotSupported) and refused is not None and not _changed(change, host):
                log.warning("change_unsupported", setting=change.setting, value=change.new_text, reason=exc.reason)
                refused.append((change, exc.reason))
                continue
            log.error("change_failed", setting=change.setting, value=change.new_text, reason=exc.reason)
            undo = list(done)
            if _changed(change, host):  # the kernel kept part of a failed write
                undo.append(change)
            failures = roll_back(undo, host)
            raise ApplyFailed(
                f"{change.target}: {exc.reason}", rolled_back=len(undo) - len(failures), rollback_failures=failures
            ) from None
        except BaseException:
            # Anything else (a bug, KeyboardInterrupt, MemoryError) still must not leave the host
            # half-tuned: undo, then let it propagate.
            log.error("apply_aborted", setting=change.setting, done=len(done))
            roll_back([*done, change] if _changed(change, host) else done, host)
            raise
        done.append(change)
    return done


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


def apply_profile(
    host: Host, profile: Profile, ec2: Ec2Lookup, state: StateDir, lock_timeout_s: float
) -> tuple[Plan, Report]:
    """Change what drifted as one transaction under the state directory's lock; return the plan
    and the audit after it.

    Raises:
        ApplyFailed: a change failed; every change of this run was rolled back.
        ApplyInterrupted: a stop signal arrived; this run's changes were rolled back.
        StateError: the state directory is locked, unsafe or corrupt.
    """
    from netagent.app.audit import observe_and_audit
    from netagent.app.signals import StopSignals
    from netagent.core.diff import mark_refused
    from netagent.core.diff import plan as make_plan
    from netagent.host.guard import PathGuard

    refused: list[tuple[Change, str]] = []
    with state.lock(lock_timeout_s):
        plan = make_plan(list(observe_and_audit(host, profile, ec2).checks))
        if plan.changes:
            with StopSignals() as stopped:
                guard = PathGuard(profile.guard, host.route_dev) if profile.guard else None
                previous = state.load()
                done = apply_plan(
                    plan, host, originals=state, guard=guard, should_stop=lambda: bool(stopped), refused=refused
                )
                if plan.deferred:  # per-queue settings, on the queues the new count made
                    follow = make_plan(list(observe_and_audit(host, profile, ec2).checks))
                    _apply_follow_up(follow, done, previous, host, state, guard, lambda: bool(stopped), refused)
                    plan = Plan(plan.changes + follow.changes, follow.unfixable, follow.deferred)
        after = observe_and_audit(host, profile, ec2)
        after = after.replace(checks=tuple(mark_refused(list(after.checks), refused)))
    log.info("plan_applied", changes=len(plan.changes), compliant=after.compliant)
    return plan, after


def _apply_follow_up(
    follow: Plan,
    done: list[Change],
    previous: dict[str, dict[str, Any]],
    host: Host,
    state: StateDir,
    guard: Guard | None,
    should_stop: Callable[[], bool],
    refused: list[tuple[Change, str]],
) -> None:
    """Apply the second pass of a plan; if it fails, undo the first pass too, so the run stays all or nothing.

    Raises:
        ApplyFailed: a change of either pass failed; both were rolled back.
    """
    try:
        apply_plan(follow, host, originals=state, guard=guard, should_stop=should_stop, refused=refused)
    except ApplyFailed as exc:
        failures = roll_back(done, host)
        if not failures and not exc.rollback_failures:
            rewind(state, previous)
        cls = ApplyInterrupted if isinstance(exc, ApplyInterrupted) else ApplyFailed
        raise cls(
            str(exc),
            rolled_back=exc.rolled_back + len(done) - len(failures),
            rollback_failures=[*exc.rollback_failures, *failures],
        ) from None
