"""When the daemon may heal a setting: debounce, fight detection, exponential back-off (pure).

Every method takes the time (`now`, monotonic seconds) as an argument, so the policy is tested
with a fake clock and no sleeps.

- Debounce: a setting is healed at most once per `debounce_s` (1 s). A flapping link or a burst
  of events costs one heal; drift seen inside the interval is healed when it ends.
- Fight: more than `fight_heals` heals (5) of one check within `fight_window_s` (60 s) means
  something keeps reverting it. The check becomes contested: the wait before each further heal
  doubles from `backoff_base_s` (2 s) up to `backoff_max_s` (300 s).
- Resume: when no drift of a contested check is seen for `fight_window_s`, the fight is over and
  the check is healed at once again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from netagent.core.model import CheckId
from netagent.core.value import Value, _set


class HealPolicy(Value):
    """The daemon's limits on healing (defaults documented in README.md, "Daemon")."""

    __slots__ = ("debounce_s", "fight_heals", "fight_window_s", "backoff_base_s", "backoff_max_s")
    debounce_s: float
    fight_heals: int
    fight_window_s: float
    backoff_base_s: float
    backoff_max_s: float

    def __init__(
        self,
        debounce_s: float = 1.0,
        fight_heals: int = 5,
        fight_window_s: float = 60.0,
        backoff_base_s: float = 2.0,
        backoff_max_s: float = 300.0,
    ) -> None:
        _set(self, "debounce_s", debounce_s)
        _set(self, "fight_heals", fight_heals)
        _set(self, "fight_window_s", fight_window_s)
        _set(self, "backoff_base_s", backoff_base_s)
        _set(self, "backoff_max_s", backoff_max_s)

    def backoff_s(self, level: int) -> float:
        """Return the wait before a heal at back-off level `level` (1, 2, ...)."""
        return float(min(self.backoff_base_s * 2 ** (level - 1), self.backoff_max_s))


class Decision(Value):
    """The verdict on one drift: heal now, or not before `not_before`; and what changed."""

    __slots__ = ("heal_now", "not_before", "contest_started", "contest_ended")
    heal_now: bool
    not_before: float
    contest_started: bool
    contest_ended: bool

    def __init__(
        self, heal_now: bool, not_before: float, contest_started: bool = False, contest_ended: bool = False
    ) -> None:
        _set(self, "heal_now", heal_now)
        _set(self, "not_before", not_before)
        _set(self, "contest_started", contest_started)
        _set(self, "contest_ended", contest_ended)


class _CheckState:
    """The governor's mutable record of one check."""

    __slots__ = ("heals", "last_heal", "last_drift", "level")

    def __init__(self) -> None:
        self.heals: deque[float] = deque()  # heal times within the fight window
        self.last_heal: float | None = None
        self.last_drift: float | None = None
        self.level = 0  # 0: not contested; n: the next heal waits backoff_s(n) after the last


class Governor:
    """Tracks heals per check id and decides when the next heal of each may happen."""

    def __init__(self, policy: HealPolicy | None = None) -> None:
        self.policy = policy or HealPolicy()
        self._checks: dict[CheckId, _CheckState] = {}

    def drift(self, check_id: CheckId, now: float) -> Decision:
        """Note that a check drifted at `now`; return whether to heal it now or when."""
        p = self.policy
        st = self._checks.setdefault(check_id, _CheckState())
        ended = False
        if st.level and st.last_drift is not None and now - st.last_drift >= p.fight_window_s:
            st.level = 0  # quiet for a whole window: the fight is over
            st.heals.clear()
            ended = True
        st.last_drift = now
        while st.heals and now - st.heals[0] >= p.fight_window_s:
            st.heals.popleft()
        started = False
        if not st.level and len(st.heals) >= p.fight_heals:
            st.level = 1  # one more heal would be more than fight_heals in the window
            started = True
        earliest = now
        if st.last_heal is not None:
            wait = p.backoff_s(st.level) if st.level else p.debounce_s
            earliest = max(now, st.last_heal + max(wait, p.debounce_s))
        return Decision(now >= earliest, earliest, contest_started=started, contest_ended=ended)

    def healed(self, check_id: CheckId, now: float) -> None:
        """Record a heal (or a failed attempt: it counts the same, so a refusal cannot loop)."""
        st = self._checks.setdefault(check_id, _CheckState())
        st.heals.append(now)
        st.last_heal = now
        if st.level:
            st.level += 1

    def is_contested(self, check_id: CheckId, now: float) -> bool:
        """Tell whether a check is in a fight (contested and drift seen within the window)."""
        st = self._checks.get(check_id)
        if st is None or not st.level or st.last_drift is None:
            return False
        return now - st.last_drift < self.policy.fight_window_s

    def contested(self, now: float) -> list[str]:
        """Return the check ids in a fight, sorted."""
        return sorted(str(c) for c in self._checks if self.is_contested(c, now))

    def backoff_s(self, check_id: CheckId) -> float:
        """Return the current wait between heals of a check (debounce when not contested)."""
        st = self._checks.get(check_id)
        if st is None or not st.level:
            return self.policy.debounce_s
        return self.policy.backoff_s(st.level)

    def forget(self, subject: str) -> None:
        """Drop every check of an interface that vanished (`lab0` drops `lab0/mtu`, ...)."""
        for check_id in [c for c in self._checks if c.subject == subject and c.setting != "sysctl"]:
            del self._checks[check_id]


class HealRecord:
    """What `netagent status` shows of one check (mutable: counted as heals happen)."""

    __slots__ = ("count", "last_at", "found", "set")

    def __init__(self) -> None:
        self.count = 0
        self.last_at = ""
        self.found = ""
        self.set = ""


class DaemonStats:
    """Counters the daemon keeps and writes to its status file (mutable); times are ISO-8601 UTC strings."""

    __slots__ = (
        "pid",
        "started_at",
        "profile",
        "last_resync_at",
        "resyncs",
        "overruns",
        "heals",
        "failures",
        "contested",
        "last_reload",
    )

    def __init__(self, pid: int, started_at: str, profile: dict[str, str]) -> None:
        self.pid = pid
        self.started_at = started_at
        self.profile = profile
        self.last_resync_at = ""
        self.resyncs = 0
        self.overruns = 0
        self.heals: dict[str, HealRecord] = {}
        self.failures: dict[str, int] = {}
        self.contested: list[str] = []
        self.last_reload: dict[str, Any] | None = None  # the last SIGHUP: when, and its problems if it failed

    def record_reload(self, at: str, path: str, problems: Sequence[str] = (), kept: str = "") -> None:
        """Remember the last SIGHUP reload: failed when it has problems (file:line: field: message),
        in which case the profile `kept` stays in force (issue 15)."""
        self.last_reload = {"at": at, "ok": not problems, "path": path, "problems": list(problems), "kept": kept}

    def record_heal(self, check_id: str, found: str, value: str, at: str) -> None:
        """Count one heal of a check, with the value found and the value set."""
        rec = self.heals.setdefault(check_id, HealRecord())
        rec.count += 1
        rec.last_at, rec.found, rec.set = at, found, value

    def record_failure(self, check_id: str) -> None:
        """Count one heal the kernel refused (rolled back)."""
        self.failures[check_id] = self.failures.get(check_id, 0) + 1

    def to_doc(self, running: bool, updated_at: str) -> dict[str, Any]:
        """Return the status document (schema_version 1; fields are only ever added)."""
        return {
            "format": "netagent-status",
            "schema_version": 1,
            "running": running,
            "pid": self.pid,
            "started_at": self.started_at,
            "updated_at": updated_at,
            "profile": dict(self.profile),
            "last_resync_at": self.last_resync_at,
            "resyncs": self.resyncs,
            "netlink_overruns": self.overruns,
            "heals_total": sum(r.count for r in self.heals.values()),
            "heals": {
                c: {"count": r.count, "last_at": r.last_at, "found": r.found, "set": r.set}
                for c, r in sorted(self.heals.items())
            },
            "failures": dict(sorted(self.failures.items())),
            "contested": list(self.contested),
            "last_reload": None if self.last_reload is None else dict(self.last_reload),
        }
