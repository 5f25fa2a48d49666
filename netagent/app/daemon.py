"""`netagent daemon`: keep the host on its profile, event by event (the imperative shell).

Start: the same transaction as `apply` (state lock held only while writing, originals recorded,
all or nothing), then the `daemon_started` line and READY=1. Loop: one poll() over the rtnetlink link-event socket, the
ethtool netlink monitor socket (channels, rings and coalescing changes; kernel >= 5.6) and the
signal wake-up pipe, with a timeout to the next due timer (deferred heal, resync, watchdog
ping); no busy or short-interval polling. Decisions are pure (netagent.core.events classifies an
event against the profile; netagent.core.healing debounces and backs off), so the echo of the
daemon's own write, which carries the profile's value, is never drift. A heal re-reads only
the affected setting and applies that one change through `apply_plan` with originals.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import select
import signal
import socket
import time
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Callable

from netagent.app import logs
from netagent.app.apply import Guard, apply_plan
from netagent.core.diff import audit, change_order, check_link, qualify_check, wanted_by_interface
from netagent.core.diff import plan as make_plan
from netagent.core.errors import AdapterError, ApplyFailed, ApplyInterrupted, ProfileError, StateError
from netagent.core.events import (
    Action,
    LinkEvent,
    awaits_udev,
    classify,
    latest_per_index,
    udev_finished,
    udev_manages_links,
)
from netagent.core.healing import DaemonStats, Governor, HealPolicy
from netagent.core.model import AuditContext, Change, Check, CheckId, HostState, InterfaceRule, Plan, Profile, Status
from netagent.core.settings import PER_QUEUE, QUEUE_COUNT, RULE_KEY_OF_CHECK, SYSCTL, kind_of_check, kinds_to_read
from netagent.host.ethtool_monitor import EthtoolMonitor
from netagent.host.netlink import LinkMonitor
from netagent.host.sdnotify import Notifier, watchdog_interval_s
from netagent.host.statefile import LockBusy, StateDir
from netagent.host.statusfile import write_status
from netagent.host.trust import load_profile
from netagent.host.udev import Udev

if TYPE_CHECKING:
    from netagent.app.ports import Host
    from netagent.app.textfile import TextfileMetrics
    from netagent.core.events import EthtoolEvent

log = logs.get_logger()

UDEV_WAIT_S = 30.0  # at most this long for udev to finish with a new device (its own event timeout is 180 s)
DEFAULT_RESYNC_S = 60.0  # sysctls emit no event (nor ethtool settings without ethtool netlink): re-read this often
MAX_WAIT_S = 3600.0  # poll() takes a C int of milliseconds; a huge --resync-s must not overflow it
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Shutdown(BaseException):
    """Raised by the stop handler while the daemon waits outside a transaction (start-up)."""


def _utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class Daemon:
    """One daemon run: state, adapters, policy; `run()` returns the exit code."""

    def __init__(
        self,
        profile_path: str,
        state_dir: str,
        resync_s: float = DEFAULT_RESYNC_S,
        lock_timeout_s: float = 30.0,
        policy: HealPolicy | None = None,
        ctx: AuditContext | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: Host | None = None,
        textfile_dir: str | None = None,
    ) -> None:
        self.profile_path = profile_path
        self.host: Host = host if host is not None else _system_host()
        self.textfile: TextfileMetrics | None = None  # off by default; imported only when asked
        if textfile_dir:
            from netagent.app.textfile import TextfileMetrics

            self.textfile = TextfileMetrics(textfile_dir)
        self.state = StateDir(state_dir)
        self.resync_s = resync_s
        self.lock_timeout_s = lock_timeout_s
        self.clock = clock
        self.ctx = ctx or AuditContext()  # phase runtime; the instance type feeds `when:` conditions
        self.governor = Governor(policy)
        self.notifier = Notifier()
        self.watchdog_s = watchdog_interval_s(os.environ, os.getpid())
        self.profile: Profile | None = None
        self.known: dict[int, str] = {}  # matching interfaces: ifindex -> name
        self.wanted: dict[str, InterfaceRule] = {}  # matching interfaces: merged rule
        self.pending: dict[CheckId, float] = {}  # check -> when to look at it again
        # Changes the device refused as unsupported (EOPNOTSUPP): check -> the value it refused.
        # Not tried again while the profile wants that value; a reload forgets them.
        self.refused: dict[CheckId, str] = {}
        self.udev = Udev()
        self.udev_manages = False  # set at start: udev processes this namespace's new devices
        self.udev_fd: int | None = None  # its monitor, polled for "finished with a device"
        self.udev_db_fd: int | None = None  # its database directory's watch: an entry written
        self.unsettled: dict[int, float] = {}  # new devices udev has not finished with: ifindex -> give-up time
        self.stats = DaemonStats(pid=os.getpid(), started_at=_utc_now(), profile={})
        self._stop: int | None = None
        self._reload = False
        self._interruptible = True  # start-up: a stop signal aborts the wait (never a transaction)
        self._critical = False
        self._dirty = False
        self._next_resync = 0.0
        self._next_ping = 0.0
        self._woke_at = 0.0  # when the loop last woke: a heal's duration_s counts from there

    # ---------------------------------------------------------------- signals

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
            return
        self._stop = signum
        if self._interruptible and not self._critical:
            raise _Shutdown

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Let a stop signal only set a flag while kernel writes are in progress."""
        self._critical = True
        try:
            yield
        finally:
            self._critical = False

    def _install_signals(self) -> int:
        rfd, wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
        for sig in (*STOP_SIGNALS, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self._wake_fds = (rfd, wfd)
        return rfd

    def _restore_signals(self) -> None:
        signal.set_wakeup_fd(-1)
        for sig in (*STOP_SIGNALS, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        for fd in self._wake_fds:
            os.close(fd)

    # ---------------------------------------------------------------- run

    def run(self) -> int:
        """Apply the profile, tell systemd we are ready, then heal drift until stopped.

        Raises:
            ProfileError: the profile is invalid at start.
            ApplyFailed: the start-up apply failed and was rolled back.
            StateError: the state directory is unusable or locked.
        """
        self.monitor: LinkMonitor | None = None
        self.ethtool_monitor: EthtoolMonitor | None = None
        wake_fd = self._install_signals()
        try:
            try:
                log.debug("daemon_starting", pid=os.getpid(), profile=self.profile_path)
                self.profile = load_profile(self.profile_path)
                # Watch before the first read, so no change between the read and the watch is missed.
                self.monitor = LinkMonitor()
                self._watch_udev()
                self.ethtool_monitor, ethtool_events = open_ethtool_monitor()
                # Open the writer (and a guard's route lookup) now, so the first heal is as fast as the rest.
                self.host.prepare_writes(routes=bool(self.profile.guard))
                changes = self._apply_all()
            except _Shutdown:
                self._finish("stopped during start-up")
                return 0
            except ApplyInterrupted as exc:  # a stop signal mid-apply: the transaction was rolled back
                for line in exc.lines()[1:]:
                    log.error("rollback_failed", problem=line)
                self._finish(f"stopped during the start-up apply; {exc.lines()[0]}")
                return 0
            if self._stop is not None:  # the signal came during the start-up transaction, which finished
                self._finish(f"signal {signal.Signals(self._stop).name} during start-up")
                return 0
            self._interruptible = False
            now = self.clock()
            self._next_resync = now + self.resync_s
            self.stats.last_resync_at = _utc_now()
            if self.textfile is not None:
                self.textfile.audited(self._observe_and_audit())
            self._write_status(running=True)
            log.info(  # before READY=1: whoever waits for it (systemctl start) finds the line logged
                "daemon_started",
                pid=os.getpid(),
                profile=self.profile.name,
                path=self.profile_path,
                changes=changes,
                interfaces=len(self.known),
                resync_s=self.resync_s,
                watchdog_s=self.watchdog_s,
                ethtool_events=ethtool_events,
            )
            self.notifier.notify(READY="1", STATUS=self._status_line(), MAINPID=str(os.getpid()))
            self._ping(now)
            self._loop(wake_fd)
            self._finish(f"signal {signal.Signals(self._stop).name}" if self._stop else "stopped")
            return 0
        finally:
            if self.monitor is not None:
                self.monitor.close()
            if self.ethtool_monitor is not None:
                self.ethtool_monitor.close()
            self.udev.close()
            self.host.close()
            self._restore_signals()
            self.notifier.close()

    def _finish(self, reason: str) -> None:
        self._interruptible = False  # a second signal must not cut the goodbye short
        self.notifier.notify(STOPPING="1", STATUS=f"stopping: {reason}")
        self._write_status(running=False)  # logs, never raises, when the state dir cannot be written
        total = sum(r.count for r in self.stats.heals.values())
        log.info("daemon_stopped", reason=reason, heals=total)

    def _loop(self, wake_fd: int) -> None:
        assert self.monitor is not None
        poller = select.poll()
        poller.register(wake_fd, select.POLLIN)
        poller.register(self.monitor.fileno(), select.POLLIN)
        if self.ethtool_monitor is not None:
            poller.register(self.ethtool_monitor.fileno(), select.POLLIN)
        for fd in (self.udev_fd, self.udev_db_fd):
            if fd is not None:
                poller.register(fd, select.POLLIN)
        while self._stop is None:
            wait_s = min(self._next_deadline() - self.clock(), MAX_WAIT_S)
            timeout_ms = max(0, int(wait_s * 1000) + 1)
            poller.poll(timeout_ms)
            _drain(wake_fd)
            if self._stop is not None:
                break
            if self._reload:
                self._reload = False
                try:
                    self._interruptible = True  # a stop may abort the reload's lock wait, never its writes
                    self._reload_profile()
                except _Shutdown:
                    break
                finally:
                    self._interruptible = False
            events, overrun = self.monitor.read()
            now = self._woke_at = self.clock()
            if overrun:
                self.stats.overruns += 1
                self._dirty = True
                log.warning("netlink_overrun", action="resync", lost="link events")
                self._next_resync = now
            if events:
                self._on_events(events)
            if self.ethtool_monitor is not None:
                device_events, device_overrun = self.ethtool_monitor.read()
                if device_overrun:
                    self.stats.overruns += 1
                    self._dirty = True
                    log.warning("netlink_overrun", action="resync", lost="ethtool events")
                    self._next_resync = now
                    overrun = True
                if device_events:
                    self._on_ethtool_events(device_events)
            self.udev.drain()
            self._settle(self.clock())
            self._run_due(self.clock())
            if self.clock() >= self._next_resync:
                self._resync("overrun" if overrun else "timer")
            self._ping(self.clock())
            if self._dirty:
                self._write_status(running=True)

    def _next_deadline(self) -> float:
        deadline = self._next_resync
        if self.pending:
            deadline = min(deadline, min(self.pending.values()))
        if self.unsettled:
            deadline = min(deadline, min(self.unsettled.values()))
        if self.watchdog_s is not None:
            deadline = min(deadline, self._next_ping)
        return deadline

    def _ping(self, now: float) -> None:
        """Send WATCHDOG=1 from the loop, so a stalled loop stops the pings."""
        if self.watchdog_s is not None and now >= self._next_ping:
            self.notifier.notify(WATCHDOG="1")
            self._next_ping = now + self.watchdog_s

    # ---------------------------------------------------------------- apply all

    def _apply_all(self) -> int:
        """Observe everything and apply the plan as one transaction, like `netagent apply`."""
        assert self.profile is not None
        profile = self.profile
        guard = _path_guard(profile, self.host)  # imported here, at start and reload, not at a heal
        with self.state.lock(self.lock_timeout_s):
            host = self._observe(profile)
            checks = audit(profile, host, self.ctx)
            plan = make_plan(checks)
            if plan.changes:
                with self._transaction():
                    refused: list[tuple[Change, str]] = []
                    apply_plan(
                        plan,
                        self.host,
                        originals=self.state,
                        guard=guard,
                        should_stop=lambda: self._stop is not None,
                        refused=refused,
                    )
                    self._remember_refused(refused)
        self._adopt(host)
        for check in plan.unfixable:
            log.warning(
                "drift_unfixable", check=check.id, expected=check.expected, actual=check.actual, why=check.message
            )
        return len(plan.changes)

    def _observe(self, profile: Profile) -> HostState:
        globs = profile.globs()
        host = self.host.observe(globs, [s.key for s in profile.sysctls], kinds_to_read(profile.interfaces))
        if not self.unsettled:
            return host
        # A device udev has not finished with is not ours yet, in a resync either: its transient
        # name (eth0) may match the profile.
        links = {name: lk for name, lk in host.links.items() if lk.index not in self.unsettled}
        ifnames = tuple(n for n in host.ifnames if n in links or n not in host.links)
        return host.replace(ifnames=ifnames, links=links)

    def _adopt(self, host: HostState) -> None:
        """Make the observed matching interfaces the known ones; forget those that vanished."""
        assert self.profile is not None
        self.wanted = wanted_by_interface(self.profile, tuple(host.links))
        gone = set(self.known.values()) - set(host.links)
        for ifname in gone:
            self._forget(ifname)
        self.known = {lk.index: name for name, lk in host.links.items()}

    def _reload_profile(self) -> None:
        self.notifier.notify(RELOADING="1", MONOTONIC_USEC=str(time.monotonic_ns() // 1000), STATUS="reloading")
        try:
            new = load_profile(self.profile_path)
        except ProfileError as exc:
            log.error("profile_reload_failed", path=self.profile_path, problems=exc.lines(), kept=self._profile_name())
            self.stats.record_reload(_utc_now(), self.profile_path, exc.lines(), kept=self._profile_name())
            self._reload_done(ok=False)
            self._dirty = True
        else:
            old_profile, old_stats, old_wanted = self.profile, self.stats.profile, self.wanted
            self.profile = new
            if new.guard:  # its route lookup opened now, not in the first heal's transaction
                with contextlib.suppress(AdapterError):  # then the first lookup opens it, or says why
                    self.host.prepare_writes(routes=True)
            self.pending.clear()
            self.refused.clear()
            self.stats.profile = {"name": new.name, "path": self.profile_path}
            try:
                changes = self._apply_all()
                log.info("profile_reloaded", profile=new.name, path=self.profile_path, changes=changes)
                self.stats.record_reload(_utc_now(), self.profile_path)
                self._reload_done(ok=True)
            except (ApplyFailed, StateError) as exc:
                # The new profile's apply was rolled back: keep healing towards the old one.
                self.profile, self.stats.profile, self.wanted = old_profile, old_stats, old_wanted
                log.error(
                    "profile_reload_apply_failed", profile=new.name, problems=exc.lines(), kept=self._profile_name()
                )
                self.stats.record_reload(_utc_now(), self.profile_path, exc.lines(), kept=self._profile_name())
                self._reload_done(ok=False)
            self._next_resync = self.clock() + self.resync_s
            self._dirty = True
        self.notifier.notify(READY="1", STATUS=self._status_line())

    def _reload_done(self, ok: bool) -> None:
        if self.textfile is not None:
            self.textfile.reloaded(ok)
            self._dirty = True

    def _observe_and_audit(self) -> tuple[HostState, list[Check]]:
        assert self.profile is not None
        host = self._observe(self.profile)
        return host, audit(self.profile, host, self.ctx)

    def _profile_name(self) -> str:
        return self.profile.name if self.profile is not None else ""

    def _status_line(self) -> str:
        return f"profile {self._profile_name()}: watching {len(self.known)} interfaces"

    # ---------------------------------------------------------------- events

    def _watch_udev(self) -> None:
        """Decide whether new devices wait for udev, and if so watch udev's monitor for when it is done."""
        self.udev_manages = udev_manages_links(self.udev.control_exists(), self.udev.same_netns_as_init())
        if self.udev_manages:
            try:
                self.udev_fd = self.udev.open_monitor()
            except OSError as exc:
                self.udev_manages = False  # unwatchable: tune new devices at once, as without udev
                log.warning("udev_monitor_unavailable", why=str(exc))
                return
            try:
                self.udev_db_fd = self.udev.open_db_watch()
            except OSError as exc:  # the monitor still says when udev is done, only later
                log.info("udev_database_unwatched", why=str(exc))

    def _on_events(self, events: Sequence[LinkEvent]) -> None:
        for event in latest_per_index(events):
            if event.is_removal:
                self.unsettled.pop(event.index, None)
            elif event.index in self.unsettled:
                continue  # still udev's (a rename, its .link file's writes): looked at when udev is done
            elif self.udev_manages and awaits_udev(
                event, self.known, self.udev_manages, udev_finished(self.udev.entry(event.index), event.ifname)
            ):
                self.unsettled[event.index] = self.clock() + UDEV_WAIT_S
                log.debug("interface_awaits_udev", ifname=event.ifname, index=event.index)
                continue
            self._on_event(event)

    def _settle(self, now: float) -> None:
        """Take over the new devices udev has finished with (or gave up on), by their final names."""
        for index, give_up in list(self.unsettled.items()):
            try:
                ifname = socket.if_indextoname(index)
            except OSError:
                del self.unsettled[index]  # gone before udev finished: nothing to tune or forget
                continue
            done = udev_finished(self.udev.entry(index), ifname)
            if not done and now < give_up:
                continue
            del self.unsettled[index]
            if not done:
                log.warning("udev_wait_timeout", ifname=ifname, index=index, waited_s=UDEV_WAIT_S)
            self._on_event(LinkEvent(index, ifname, None))

    def _on_event(self, event: LinkEvent) -> None:
        assert self.profile is not None
        globs = self.profile.globs()
        want = self.wanted.get(event.ifname)
        action = classify(event, self.known, globs, want.settings if want is not None else None)
        if action is Action.FORGET:
            self._forget(self.known.pop(event.index))
        elif action is Action.TUNE:
            before = self.known.pop(event.index, None)
            if before is not None:
                self._forget(before)
            self._tune_new(event.index, event.ifname)
        elif action is Action.CHECK and want is not None:
            for setting in event.differs(want.settings):
                self._consider(CheckId(event.ifname, setting), "link_event")

    def _on_ethtool_events(self, events: Sequence[EthtoolEvent]) -> None:
        """Re-read each setting an ethtool notification names, once per burst, on a known interface.

        The echo of the daemon's own write re-reads a setting that is already right: no heal.
        """
        seen: set[CheckId] = set()
        for event in events:
            ifname = self.known.get(event.index)
            want = self.wanted.get(ifname) if ifname is not None else None
            if ifname is None or want is None or event.setting not in want.settings:
                continue
            cid = CheckId(ifname, event.setting)
            if cid not in seen:
                seen.add(cid)
                self._consider(cid, "ethtool_event")

    def _forget(self, ifname: str) -> None:
        self.wanted.pop(ifname, None)
        self.governor.forget(ifname)
        for check_id in [c for c in self.pending if c.subject == ifname and c.setting != SYSCTL.name]:
            del self.pending[check_id]
        log.debug("interface_forgotten", ifname=ifname)

    def _tune_new(self, index: int, ifname: str) -> None:
        assert self.profile is not None
        want = wanted_by_interface(self.profile, (ifname,)).get(ifname)
        found = self.host.read_link(ifname, kinds_to_read((want,)) if want is not None else ())
        if want is None or found is None:
            return  # vanished already
        self.known[index] = ifname
        self.wanted[ifname] = want
        log.info("interface_appeared", ifname=ifname, index=index)
        self._decide([self._qualify(c) for c in check_link(want, found)], "new_interface")

    # ---------------------------------------------------------------- checks and heals

    def _read_check(self, cid: CheckId) -> Check | None:
        """Re-read one setting and compare it with the profile; None when it is gone or not wanted."""
        assert self.profile is not None
        if cid.setting == SYSCTL.name:
            spec = next((s for s in self.profile.sysctls if s.key == cid.subject), None)
            return None if spec is None else self._qualify(SYSCTL.check(spec, self.host.read_sysctl(spec.key)))
        want, kind = self.wanted.get(cid.subject), kind_of_check(cid.setting)
        if want is None or kind is None or RULE_KEY_OF_CHECK[cid.setting] not in want.settings:
            return None
        found = self.host.read_link(cid.subject, kinds_to_read((want,)))
        if found is None:
            return None  # gone: its removal event forgets it
        check = next((c for c in kind.check(cid.subject, want.settings, found) if c.setting == cid.setting), None)
        return None if check is None else self._qualify(check)

    def _qualify(self, check: Check) -> Check:
        assert self.profile is not None
        return qualify_check(self.profile, check, self.ctx)

    def _consider(self, cid: CheckId, cause: str) -> None:
        check = self._read_check(cid)
        if check is not None:
            self._decide([check], cause)

    def _decide(self, checks: Sequence[Check], cause: str) -> None:
        """Heal the drifted checks the governor allows now (one transaction per subject); defer the rest."""
        now = self.clock()
        by_subject: dict[str, list[tuple[Check, Change]]] = {}
        for check in checks:
            if check.change is None or self.refused.get(check.cid) == check.change.new_text:
                continue  # nothing to do, or the device refused this very value as unsupported
            decision = self.governor.drift(check.cid, now)
            if decision.contest_ended:
                log.info("contest_ended", check=check.id)
                self._dirty = True
            if decision.contest_started:
                p = self.governor.policy
                log.warning(
                    "contested",
                    check=check.id,
                    heals=p.fight_heals,
                    window_s=p.fight_window_s,
                    backoff_s=self.governor.backoff_s(check.cid),
                    found=check.actual,
                    want=check.expected,
                )
                self._dirty = True
            if decision.heal_now:
                self.pending.pop(check.cid, None)
                by_subject.setdefault(check.change.cid.subject, []).append((check, check.change))
            else:
                self.pending[check.cid] = decision.not_before
                log.debug("heal_deferred", check=check.id, until_s=round(decision.not_before - now, 3))
        for items in by_subject.values():
            if any(change.kind == QUEUE_COUNT for _, change in items):
                # Per-queue settings wait until the new queue count has made its queues: re-read then.
                later = [(c, ch) for c, ch in items if ch.kind in PER_QUEUE]
                for check, _ in later:
                    self.pending[check.cid] = now + self.governor.policy.debounce_s
                items = [item for item in items if item not in later]
            self._heal(items, cause)

    def _heal(self, items: Sequence[tuple[Check, Change]], cause: str) -> None:
        assert self.profile is not None
        changes = sorted((c for _, c in items), key=change_order)  # the order `apply` uses
        now = self.clock()
        refused: list[tuple[Change, str]] = []
        try:
            with self.state.lock(0), self._transaction():
                guard = _path_guard(self.profile, self.host)
                apply_plan(Plan(tuple(changes)), self.host, originals=self.state, guard=guard, refused=refused)
        except LockBusy as exc:
            retry = now + self.governor.policy.debounce_s
            for check, _ in items:
                self.pending[check.cid] = retry
            log.warning("heal_deferred", checks=[c.id for c, _ in items], why=str(exc))
            return
        except (ApplyFailed, StateError) as exc:
            for check, _ in items:
                self.governor.healed(check.cid, now)  # an attempt: a refusal must not loop
                self.stats.record_failure(check.id)
                self.pending[check.cid] = now + self.governor.backoff_s(check.cid)
            log.error("heal_failed", checks=[c.id for c, _ in items], problems=exc.lines(), cause=cause)
            self._dirty = True
            return
        done = self.clock()  # the value is set now: the next heal of it is spaced from here
        at, took_s = _utc_now(), round(done - self._woke_at, 6)
        self._remember_refused(refused)
        for check, change in items:
            if self.refused.get(check.cid) == change.new_text:
                continue
            self.governor.healed(check.cid, done)
            found, value = change.inverse().new_text, change.new_text
            self.stats.record_heal(check.id, found, value, at)
            log.info("setting_healed", check=check.id, found=found, set=value, cause=cause, duration_s=took_s)
            if self.textfile is not None:
                self.textfile.checked(self._read_check(check.cid) or check)
        self._dirty = True

    def _remember_refused(self, refused: Sequence[tuple[Change, str]]) -> None:
        """Keep the values the device refused as unsupported, so they are not tried again (apply
        has logged each, `change_unsupported`)."""
        for change, _reason in refused:
            self.refused[change.cid] = change.new_text

    def _run_due(self, now: float) -> None:
        for cid in [c for c, due in self.pending.items() if due <= now]:
            self.pending.pop(cid, None)
            self._consider(cid, "deferred")

    def _resync(self, cause: str) -> None:
        """Re-read everything the profile names and heal what drifted (through the governor)."""
        assert self.profile is not None
        started = self.clock()
        host = self._observe(self.profile)
        self._adopt(host)
        checks = audit(self.profile, host, self.ctx)
        if self.textfile is not None:
            self.textfile.audited((host, checks))  # before the heals, which then update their checks
        self._decide([c for c in checks if c.change is not None], f"resync_{cause}")
        now = self.clock()
        self._next_resync = now + self.resync_s
        self.stats.resyncs += 1
        self.stats.last_resync_at = _utc_now()
        self._dirty = True
        counts: dict[str, int] = {s.value: 0 for s in Status}
        for c in checks:
            counts[c.status.value] += 1
        log.info("resync_finished", cause=cause, duration_s=round(now - started, 4), **counts)

    def _write_status(self, running: bool) -> None:
        self.stats.profile = {"name": self._profile_name(), "path": self.profile_path}
        self.stats.contested = self.governor.contested(self.clock())
        doc = self.stats.to_doc(running=running, updated_at=_utc_now())
        try:
            write_status(self.state.path, doc)
        except StateError as exc:
            log.warning("status_write_failed", why=str(exc))
        if self.textfile is not None and self.profile is not None:
            self.textfile.write(self.profile, self.ctx, doc)
        self._dirty = False


def _path_guard(profile: Profile, host: Host) -> Guard | None:
    """Return the path guard of a profile that has one (imported only then)."""
    if not profile.guard:
        return None
    from netagent.host.guard import PathGuard

    return PathGuard(profile.guard, host.route_dev)


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError):
        while os.read(fd, 512):
            pass


def open_ethtool_monitor() -> tuple[EthtoolMonitor | None, str]:
    """Join ethtool netlink's monitor group; without it, say why (the resync still heals)."""
    try:
        return EthtoolMonitor(), "netlink"
    except AdapterError as exc:
        log.warning("ethtool_events_unavailable", why=exc.reason, heals="at the resync only")
        return None, f"resync only: {exc.reason}"


def _system_host() -> Host:
    from netagent.host.system import SystemHost

    return SystemHost()
