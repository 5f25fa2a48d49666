"""The apply transaction against an in-memory host: all or nothing, verified, rolled back."""

from __future__ import annotations

import errno

import pytest

from netagent.app.apply import apply_plan
from netagent.core.errors import AdapterError, ApplyFailed, ApplyInterrupted
from netagent.core.model import Change, Plan
from netagent.core.settings.channels import Channels, SetChannels
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import SetSysctl
from tests.unit.fakes import FakeHost

CHANGES: tuple[Change, ...] = (
    SetChannels("lab0", old=(("rx", 8),), new=(("rx", 4),)),
    SetMtu("lab0", old=1500, new=9001),
    SetSysctl("net.ipv4.tcp_rmem", old="4096 131072 6291456", new="4096 131072 8388608"),
    SetSysctl("net.ipv4.tcp_mtu_probing", old="0", new="1"),
)
BEFORE = {c.setting: c.inverse().new_text for c in CHANGES}
AFTER = {c.setting: c.new_text for c in CHANGES}
VALUES = {
    "lab0/channels": Channels(8, 8, 0, 0, rx=8, tx=8, other=0, combined=0),
    "lab0/mtu": 1500,
    "sysctl/net.ipv4.tcp_rmem": "4096 131072 6291456",
    "sysctl/net.ipv4.tcp_mtu_probing": "0",
}


def fake(fail_on_write: int = 0, clamp: dict[tuple[str, str], object] | None = None) -> FakeHost:
    host = FakeHost(VALUES, fail_on_write=fail_on_write, clamp=clamp)
    assert host.texts(CHANGES) == BEFORE
    return host


def test_all_changes_made_and_verified() -> None:
    host = fake()
    done = apply_plan(Plan(CHANGES), host)
    assert done == list(CHANGES)
    assert host.texts(CHANGES) == AFTER


@pytest.mark.parametrize("k", range(1, len(CHANGES) + 1))
def test_failure_at_every_position_leaves_host_as_before(k: int) -> None:
    host = fake(fail_on_write=k)
    with pytest.raises(ApplyFailed) as info:
        apply_plan(Plan(CHANGES), host)
    assert host.texts(CHANGES) == BEFORE
    assert info.value.rolled_back == k - 1
    assert str(info.value).startswith(CHANGES[k - 1].target + ": the kernel refused")


def test_value_the_kernel_did_not_keep_is_a_failure_and_is_undone() -> None:
    host = fake(clamp={("sysctl/net.ipv4.tcp_mtu_probing", "1"): "2"})
    with pytest.raises(ApplyFailed, match="wrote 1 but the kernel kept 2") as info:
        apply_plan(Plan(CHANGES), host)
    assert host.texts(CHANGES) == BEFORE
    assert info.value.rolled_back == len(CHANGES)


def test_rollback_step_that_fails_is_reported_loudly() -> None:
    class StuckHost(FakeHost):
        def execute(self, change: Change) -> None:
            if change == CHANGES[1].inverse():
                raise AdapterError("lab0 mtu", "write", errno.EBUSY, "busy")
            super().execute(change)

    host = StuckHost(VALUES, fail_on_write=3)
    with pytest.raises(ApplyFailed) as info:
        apply_plan(Plan(CHANGES), host)
    assert info.value.rollback_failures == ["lab0 mtu: could not restore 1500: busy"]
    assert info.value.rolled_back == 1
    assert any(line.startswith("ROLLBACK FAILED: lab0 mtu") for line in info.value.lines())


def test_apply_uses_mocked_writes_in_order(mocker) -> None:  # type: ignore[no-untyped-def]
    host = mocker.Mock()
    host.read_current.side_effect = [c.new_text for c in CHANGES]
    apply_plan(Plan(CHANGES), host)
    assert host.execute.call_args_list == [mocker.call(c) for c in CHANGES]


@pytest.mark.parametrize("k", range(len(CHANGES)))
def test_stop_request_before_change_k_rolls_back_the_first_k(k: int) -> None:
    host = fake()
    asked = iter([False] * k + [True])
    with pytest.raises(ApplyInterrupted) as info:
        apply_plan(Plan(CHANGES), host, should_stop=lambda: next(asked))
    assert host.texts(CHANGES) == BEFORE
    assert info.value.rolled_back == k
    assert f"after {k} of {len(CHANGES)} changes" in str(info.value)


def test_unexpected_exception_mid_plan_rolls_back_then_propagates() -> None:
    class BuggyHost(FakeHost):
        def execute(self, change: Change) -> None:
            if change == CHANGES[2]:
                raise RuntimeError("a bug in an adapter")
            super().execute(change)

    host = BuggyHost(VALUES)
    with pytest.raises(RuntimeError, match="a bug"):
        apply_plan(Plan(CHANGES), host)
    assert host.texts(CHANGES) == BEFORE


def test_clean_rollback_forgets_the_originals_this_run_recorded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Review finding: a fully rolled-back run left "originals" that a later restore would enforce."""
    from netagent.host.statefile import StateDir

    state = StateDir(str(tmp_path))
    state.record_originals([CHANGES[0]])  # recorded by an earlier, successful run: kept
    with pytest.raises(ApplyFailed):
        apply_plan(Plan(CHANGES), fake(fail_on_write=3), originals=state)
    assert list(state.load()) == [CHANGES[0].setting]
