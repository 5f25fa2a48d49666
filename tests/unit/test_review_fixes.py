"""Regression tests for the review of the redesign (each named for what it found)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netagent.app.apply import apply_plan
from netagent.app.restore import restore
from netagent.core.diff import audit, plan
from netagent.core.errors import ApplyFailed, StateError
from netagent.core.model import InterfaceRule, Plan, Profile, Status
from netagent.core.originals import record, valid_entry
from netagent.core.restore import restore_changes
from netagent.core.settings.channels import Channels, ChannelSpec, SetChannels
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.rps import CpuSpec, QueueMasks, SetRps
from netagent.core.settings.sysctl import SetSysctl, SysctlSetting, check_sysctl
from netagent.host.statefile import StateDir, netns_id
from tests.unit.fakes import FakeHost


class QueueHost(FakeHost):
    """A FakeHost whose Rx queues follow the channel count, as the kernel's do: a changed count
    adds or removes queues/rx-N (new ones with an empty mask), and a write to a removed queue fails."""

    def execute(self, change):  # type: ignore[no-untyped-def]
        if isinstance(change, SetRps):
            have = dict(self.values[change.setting].masks)  # type: ignore[attr-defined]
            missing = [q for q, _ in change.new if q not in have]
            if missing:
                import errno

                from netagent.core.errors import AdapterError

                self.writes.append(change)
                raise AdapterError(change.target, "write", errno.ENODEV, f"no such queue {missing[0]}")
        super().execute(change)
        if isinstance(change, SetChannels):
            count = dict(change.new)["combined"]
            masks = self.values["lab0/rps"]
            assert isinstance(masks, QueueMasks)
            have = dict(masks.masks)
            self.values["lab0/rps"] = masks.replace(
                masks=tuple((f"rx-{i}", have.get(f"rx-{i}", 0)) for i in range(count))
            )


def host(combined: int) -> QueueHost:
    return QueueHost(
        {
            "lab0/channels": Channels(0, 0, 0, 8, 0, 0, 0, combined),
            "lab0/rps": QueueMasks(0xF, tuple((f"rx-{i}", 0) for i in range(combined))),
        }
    )


PROFILE = Profile(
    "q", "q.yaml", (InterfaceRule(0, ("lab0",), settings={"channels": ChannelSpec(combined=4), "rps": CpuSpec("all")}),)
)


def run_apply(fake: QueueHost, state: StateDir) -> None:
    """What apply_profile does: plan, apply, and plan the deferred per-queue drift again."""
    kinds = ("channels", "rps")
    first = plan(audit(PROFILE, fake.observe(("lab0",), [], kinds)))
    apply_plan(first, fake, originals=state)
    if first.deferred:
        apply_plan(plan(audit(PROFILE, fake.observe(("lab0",), [], kinds))), fake, originals=state)


@pytest.mark.parametrize("before", [8, 2])
def test_review_rps_is_planned_on_the_queues_the_new_channel_count_makes(before: int, tmp_path: Path) -> None:
    """Finding 1: RPS was planned on the old queue set and written before channels (by name)."""
    fake, state = host(before), StateDir(str(tmp_path))
    first = plan(audit(PROFILE, fake.observe(("lab0",), [], ("channels", "rps"))))
    assert [c.kind for c in first.changes] == ["channels"]
    assert [c.setting for c in first.deferred] == ["rps"]
    run_apply(fake, state)
    assert fake.values["lab0/rps"] == QueueMasks(0xF, tuple((f"rx-{i}", 0xF) for i in range(4)))
    todo = restore(fake, state, dry_run=False, forget_gone=False, lock_timeout_s=1)
    assert todo is not None
    assert [c.kind for c in todo.changes] == ["rps", "channels"]  # undone in reverse
    assert fake.values["lab0/channels"] == Channels(0, 0, 0, 8, 0, 0, 0, before)
    assert state.load() == {}


def test_review_restore_of_queues_that_are_gone_skips_them() -> None:
    originals = {"lab0/rps": {"type": "rps", "ifname": "lab0", "value": {"rx-0": "0", "rx-5": "0"}}}
    current = {"lab0/rps": QueueMasks(0xF, (("rx-0", 0xF),))}
    todo = restore_changes(originals, current)
    assert todo.changes == (SetRps("lab0", old=(("rx-0", 0xF),), new=(("rx-0", 0),)),)


def test_review_a_non_integer_sysctl_is_an_error_never_planned() -> None:
    """Finding 2: `cubic` was planned as an original the state file then refused to load."""
    check = check_sysctl(SysctlSetting("net.ipv4.tcp_congestion_control", "1"), "cubic")
    assert (check.status, check.change) == (Status.ERROR, None)
    assert "not integers" in check.message


def test_review_an_original_the_state_file_would_refuse_is_never_recorded() -> None:
    with pytest.raises(StateError, match="cannot record 'cubic'"):
        record({}, [SetSysctl("net.ipv4.tcp_congestion_control", old="cubic", new="1")])


def test_review_an_entry_under_another_id_makes_the_state_file_untrusted(tmp_path: Path) -> None:
    """Finding 6: lab0/mtu holding lab1's MTU was restored to lab1 and never forgotten."""
    entry = {"type": "mtu", "ifname": "lab1", "value": 1500}
    assert valid_entry(entry, "lab1/mtu")
    assert not valid_entry(entry, "lab0/mtu")
    doc = {"format": "netagent-originals", "version": 1, "netns": netns_id(), "originals": {"lab0/mtu": entry}}
    (tmp_path / "originals.json").write_text(json.dumps(doc))
    with pytest.raises(StateError, match="malformed originals"):
        StateDir(str(tmp_path)).load()


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "bql", "ifname": "lab0", "value": {"tx-0/../../../../sys/class/net/eth0/queues/tx-0": 5}},
        {"type": "rps", "ifname": "lab0", "value": {"tx-0": "ff"}},  # RPS is on Rx queues
        {"type": "xps", "ifname": "lab0", "value": {"rx-0": "ff"}},  # XPS is on Tx queues
        {"type": "rps", "ifname": "lab0", "value": {"rx-0": "f" * 100_000}},
        {"type": "channels", "ifname": "lab0", "value": {"other": 1}},  # netagent never sets `other`
    ],
)
def test_review_entries_netagent_never_writes_are_refused(entry: dict[str, object]) -> None:
    """Finding 5: restore writes entries back as root; a path or a huge mask must never pass."""
    assert not valid_entry(entry)


def test_review_a_rolled_back_run_takes_back_the_parts_it_added_to_an_original(tmp_path: Path) -> None:
    """Finding 4: a rolled-back run left `combined` in lab0's channels original."""
    state = StateDir(str(tmp_path))
    state.record_originals([SetChannels("lab0", old=(("rx", 8),), new=(("rx", 4),))])
    before = state.load()
    fake = FakeHost({"lab0/channels": Channels(8, 8, 0, 8, 4, 4, 0, 2), "lab0/mtu": 1500}, fail_on_write=2)
    changes = (SetChannels("lab0", old=(("combined", 2),), new=(("combined", 8),)), SetMtu("lab0", 1500, 9001))
    with pytest.raises(ApplyFailed):
        apply_plan(Plan(changes), fake, originals=state)
    assert state.load() == before


def test_review_an_apply_whose_second_pass_fails_undoes_the_first(tmp_path: Path) -> None:
    from netagent.app.apply import apply_profile

    class Failing(QueueHost):
        def execute(self, change):  # type: ignore[no-untyped-def]
            if isinstance(change, SetRps):
                import errno

                from netagent.core.errors import AdapterError

                raise AdapterError(change.target, "write", errno.EINVAL, "refused")
            super().execute(change)

    fake = Failing(host(8).values)
    with pytest.raises(ApplyFailed) as info:
        apply_profile(fake, PROFILE, None, StateDir(str(tmp_path)), 1)
    assert info.value.rolled_back == 1  # the channel change of the first pass
    assert fake.values["lab0/channels"] == Channels(0, 0, 0, 8, 0, 0, 0, 8)
    assert StateDir(str(tmp_path)).load() == {}
