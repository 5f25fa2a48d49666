"""Debounce, fight detection and back-off, on a fake clock (no sleeps)."""

from __future__ import annotations

from netagent.core.healing import DaemonStats, Governor, HealPolicy
from netagent.core.model import CheckId

CHECK = CheckId("lab0", "mtu")


def heal_if_allowed(gov: Governor, now: float, check: CheckId = CHECK) -> bool:
    decision = gov.drift(check, now)
    if decision.heal_now:
        gov.healed(check, now)
    return decision.heal_now


def test_first_drift_is_healed_at_once() -> None:
    assert Governor().drift(CHECK, 100.0).heal_now


def test_debounce_allows_one_heal_per_interval_and_says_when() -> None:
    gov = Governor(HealPolicy(debounce_s=1.0))
    assert heal_if_allowed(gov, 10.0)
    later = gov.drift(CHECK, 10.3)
    assert not later.heal_now
    assert later.not_before == 11.0
    assert gov.drift(CHECK, 11.0).heal_now


def test_checks_are_independent() -> None:
    gov = Governor()
    assert heal_if_allowed(gov, 0.0, "lab0/mtu")
    assert heal_if_allowed(gov, 0.1, "lab1/mtu")


def test_flapping_link_costs_at_most_one_heal_per_second() -> None:
    gov = Governor(HealPolicy(debounce_s=1.0, fight_heals=1000))
    heals = [t / 100 for t in range(1000) if heal_if_allowed(gov, t / 100)]  # drift every 10 ms for 10 s
    assert len(heals) == 10
    assert all(b - a >= 1.0 for a, b in zip(heals, heals[1:]))


def test_fight_backs_off_exponentially_and_warns_once() -> None:
    policy = HealPolicy(debounce_s=1.0, fight_heals=5, fight_window_s=60.0, backoff_base_s=2.0, backoff_max_s=16.0)
    gov = Governor(policy)
    heals: list[float] = []
    started = 0
    now = 0.0
    while now < 60.0:  # something resets the MTU every 100 ms
        decision = gov.drift(CHECK, now)
        started += decision.contest_started
        if decision.heal_now:
            gov.healed(CHECK, now)
            heals.append(now)
        now = round(now + 0.1, 1)
    assert started == 1
    gaps = [round(b - a, 1) for a, b in zip(heals, heals[1:])]
    assert gaps[:4] == [1.0, 1.0, 1.0, 1.0]  # five heals, debounced
    assert gaps[4:8] == [2.0, 4.0, 8.0, 16.0]  # then contested: doubling
    assert set(gaps[8:]) == {16.0}  # capped
    assert gov.contested(now) == [str(CHECK)]


def test_fight_ends_after_a_quiet_window_and_heals_resume_at_once() -> None:
    policy = HealPolicy(fight_heals=2, fight_window_s=60.0, backoff_base_s=2.0)
    gov = Governor(policy)
    for t in (0.0, 1.0):
        assert heal_if_allowed(gov, t)
    contest = gov.drift(CHECK, 2.0)
    assert contest.contest_started
    assert not contest.heal_now
    assert contest.not_before == 3.0
    assert heal_if_allowed(gov, 3.0)
    assert gov.is_contested(CHECK, 30.0)
    assert not gov.is_contested(CHECK, 63.0)  # no drift seen for a whole window
    resumed = gov.drift(CHECK, 100.0)
    assert resumed.contest_ended
    assert resumed.heal_now


def test_forget_drops_every_check_of_an_interface() -> None:
    gov = Governor(HealPolicy(fight_heals=1))
    heal_if_allowed(gov, 0.0, CheckId("lab0", "mtu"))
    heal_if_allowed(gov, 0.0, CheckId("lab0", "channels"))
    heal_if_allowed(gov, 0.0, CheckId("lab10", "mtu"))
    heal_if_allowed(gov, 0.0, CheckId("lab0", "sysctl"))  # a sysctl whose key is "lab0": not the interface's
    gov.forget("lab0")
    assert gov.drift(CheckId("lab0", "mtu"), 0.1).heal_now  # a new lab0 starts with a clean record
    assert not gov.drift(CheckId("lab10", "mtu"), 0.1).heal_now
    assert not gov.drift(CheckId("lab0", "sysctl"), 0.1).heal_now


def test_stats_document_counts_heals_and_failures() -> None:
    stats = DaemonStats(pid=42, started_at="t0", profile={"name": "lab", "path": "p.yaml"})
    stats.record_heal("lab0/mtu", "1500", "9001", "t1")
    stats.record_heal("lab0/mtu", "1400", "9001", "t2")
    stats.record_failure("sysctl/net.ipv4.ip_default_ttl")
    doc = stats.to_doc(running=True, updated_at="t3")
    assert doc["heals_total"] == 2
    assert doc["heals"]["lab0/mtu"] == {"count": 2, "last_at": "t2", "found": "1400", "set": "9001"}
    assert doc["failures"] == {"sysctl/net.ipv4.ip_default_ttl": 1}
    assert doc["format"] == "netagent-status"
