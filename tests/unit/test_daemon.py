"""The daemon shell with its adapters faked: which events read and write what, on a fake clock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netagent import cli
from netagent.app.daemon import Daemon
from netagent.core.errors import ExitCode
from netagent.core.events import LinkEvent
from netagent.core.healing import HealPolicy
from netagent.core.model import CheckId, InterfaceRule, Profile
from netagent.core.settings.mtu import SetMtu
from netagent.host.statusfile import write_status
from tests.unit.fakes import FakeHost


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def host() -> FakeHost:
    return FakeHost({"lab0/mtu": 9001}, links={"lab0": (3, "veth")})


@pytest.fixture
def daemon(tmp_path: Path, clock: Clock, host: FakeHost, mocker: Any) -> Daemon:
    mocker.patch.dict("os.environ", {}, clear=True)
    d = Daemon(str(tmp_path / "p.yaml"), str(tmp_path / "state"), policy=HealPolicy(), clock=clock, host=host)
    rule = InterfaceRule(index=0, match=("lab*",), settings={"mtu": 9001})
    d.profile = Profile(name="lab", path="p.yaml", interfaces=(rule,))
    d.known = {3: "lab0"}
    d.wanted = {"lab0": rule}
    return d


MTU = CheckId("lab0", "mtu")


def test_echo_of_own_write_reads_and_writes_nothing(daemon: Daemon, host: FakeHost, mocker: Any) -> None:
    read_link = mocker.spy(host, "read_link")
    daemon._on_events([LinkEvent(3, "lab0", 9001)])
    read_link.assert_not_called()
    assert host.writes == []


def test_mtu_drift_rereads_one_interface_and_applies_one_change_with_originals(
    daemon: Daemon, host: FakeHost, mocker: Any
) -> None:
    host.values["lab0/mtu"] = 1500
    read_link = mocker.spy(host, "read_link")
    daemon._on_events([LinkEvent(3, "lab0", 1400), LinkEvent(3, "lab0", 1500)])  # a burst: one look
    read_link.assert_called_once_with("lab0", ())
    assert host.writes == [SetMtu("lab0", 1500, 9001)]
    assert host.values["lab0/mtu"] == 9001
    assert daemon.state.load() == {"lab0/mtu": {"type": "mtu", "ifname": "lab0", "value": 1500}}
    assert daemon.stats.heals["lab0/mtu"].count == 1


def test_stale_event_is_not_healed_when_the_interface_is_already_right(daemon: Daemon, host: FakeHost) -> None:
    daemon._on_events([LinkEvent(3, "lab0", 1500)])  # the host says 9001 when re-read
    assert host.writes == []


def test_second_drift_within_debounce_is_deferred_then_healed(daemon: Daemon, host: FakeHost, clock: Clock) -> None:
    host.values["lab0/mtu"] = 1500
    daemon._on_events([LinkEvent(3, "lab0", 1500)])
    host.values["lab0/mtu"] = 1500  # put back at once by someone else
    clock.now += 0.2
    daemon._on_events([LinkEvent(3, "lab0", 1500)])
    assert len(host.writes) == 1
    assert daemon.pending == {MTU: 1001.0}
    daemon._run_due(1000.9)
    assert len(host.writes) == 1
    clock.now = 1001.0
    daemon._run_due(clock.now)
    assert len(host.writes) == 2
    assert daemon.pending == {}


def test_removed_interface_is_forgotten_without_error(daemon: Daemon, host: FakeHost) -> None:
    daemon.pending[MTU] = 2000.0
    daemon.pending[CheckId("lab0", "sysctl")] = 2000.0  # a sysctl keyed "lab0" is not the interface's
    daemon._on_events([LinkEvent(3, "lab0", 9001, is_removal=True)])
    assert daemon.known == {}
    assert daemon.pending == {CheckId("lab0", "sysctl"): 2000.0}
    assert host.writes == []


def test_interface_named_sysctl_is_healed_as_an_interface(daemon: Daemon, host: FakeHost) -> None:
    """The daemon parsed "sysctl/mtu" back into a sysctl check; typed ids cannot be confused (issue 12)."""
    host.values["sysctl/mtu"] = 1500  # the fake keys values by check id, as reports print them
    host.links["sysctl"] = (4, "veth")
    rule = InterfaceRule(index=0, match=("lab*", "sysctl"), settings={"mtu": 9001})
    daemon.profile = Profile(name="lab", path="p.yaml", interfaces=(rule,))
    daemon.known[4] = "sysctl"
    daemon.wanted["sysctl"] = rule
    daemon._on_events([LinkEvent(4, "sysctl", 1500)])
    assert host.writes == [SetMtu("sysctl", 1500, 9001)]


@pytest.mark.parametrize(("guard", "prepared"), [("", []), ("guard:\n  targets: [10.231.0.1]\n", [True])])
def test_reload_opens_the_route_lookup_of_a_profile_that_gains_a_guard(
    daemon: Daemon, host: FakeHost, tmp_path: Path, guard: str, prepared: list[bool]
) -> None:
    """Not in the first heal's transaction, under the state lock (pyroute2 takes ~140 ms to import)."""
    (tmp_path / "p.yaml").write_text(f"name: lab\ninterfaces:\n  - match: lab*\n    mtu: 9001\n{guard}")
    daemon._reload_profile()
    assert daemon.profile is not None
    assert bool(daemon.profile.guard) == bool(guard)
    assert host.prepared == prepared


def test_refused_heal_is_counted_and_retried_later_not_in_a_loop(daemon: Daemon, tmp_path: Path) -> None:
    daemon.host = FakeHost({"lab0/mtu": 1500}, links={"lab0": (3, "veth")}, fail_on_write=1)
    daemon._on_events([LinkEvent(3, "lab0", 1500)])
    assert daemon.stats.failures == {"lab0/mtu": 1}
    assert daemon.pending[MTU] >= 1001.0


def test_gone_interface_is_not_an_error_when_reread(daemon: Daemon, host: FakeHost) -> None:
    del host.links["lab0"], host.values["lab0/mtu"]
    daemon._on_events([LinkEvent(3, "lab0", 1500)])  # an event raced the removal
    assert host.writes == []
    assert daemon.stats.failures == {}


def test_status_command_prints_the_daemon_status(tmp_path: Path, capsys: Any) -> None:
    from netagent.core.healing import DaemonStats

    stats = DaemonStats(pid=2**22 + 1, started_at="t0", profile={"name": "lab", "path": "p.yaml"})
    stats.record_heal("lab0/mtu", "1500", "9001", "t1")
    write_status(str(tmp_path), stats.to_doc(running=True, updated_at="t2"))
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == ExitCode.DRIFT  # that pid does not run
    out = capsys.readouterr().out
    assert out.startswith("daemon: not running")
    assert "lab0/mtu" in out
    assert "1500 -> 9001" in out
    assert cli.main(["status", "--state-dir", str(tmp_path), "--format", "json"]) == ExitCode.DRIFT
    doc = json.loads(capsys.readouterr().out)
    assert doc["heals"]["lab0/mtu"]["count"] == 1
    assert doc["alive"] is False


def test_status_command_without_a_status_file(tmp_path: Path, capsys: Any) -> None:
    assert cli.main(["status", "--state-dir", str(tmp_path)]) == ExitCode.DRIFT
    assert "no daemon status" in capsys.readouterr().out


def test_stop_signal_inside_a_transaction_only_sets_a_flag(daemon: Daemon) -> None:
    import signal

    from netagent.app.daemon import _Shutdown

    with daemon._transaction():
        daemon._on_signal(signal.SIGTERM, None)  # the writes in progress finish (or roll back) first
    assert daemon._stop == signal.SIGTERM
    with pytest.raises(_Shutdown):
        daemon._on_signal(signal.SIGTERM, None)  # start-up, outside a transaction: stop waiting at once
    daemon._interruptible = False
    daemon._on_signal(signal.SIGINT, None)  # the main loop sees the flag after poll() wakes
    assert daemon._stop == signal.SIGINT


def test_sighup_only_asks_for_a_reload(daemon: Daemon) -> None:
    import signal

    daemon._on_signal(signal.SIGHUP, None)
    assert daemon._reload
    assert daemon._stop is None


def test_drift_of_a_rule_whose_when_does_not_hold_is_not_healed(tmp_path: Path, clock: Clock, mocker: Any) -> None:
    from netagent.core.model import AuditContext, Condition

    mocker.patch.dict("os.environ", {}, clear=True)
    ctx = AuditContext(instance_type="m5.large")
    host = FakeHost({"lab0/mtu": 1500}, links={"lab0": (3, "veth")})
    d = Daemon(str(tmp_path / "p.yaml"), str(tmp_path / "state"), clock=clock, ctx=ctx, host=host)
    rule = InterfaceRule(settings={"mtu": 9001}, index=0, match=("lab*",), when=Condition(instance_types=("c5n.*",)))
    d.profile = Profile(name="lab", path="p.yaml", interfaces=(rule,))
    d.known, d.wanted = {3: "lab0"}, {"lab0": rule}
    d._on_events([LinkEvent(3, "lab0", 1500)])
    assert host.writes == []


@pytest.fixture
def udev_daemon(daemon: Daemon, mocker: Any) -> Daemon:
    """The daemon on a host where udev manages new devices (none initialized until a test says so)."""
    daemon.profile = Profile(
        name="lab", path="p.yaml", interfaces=(InterfaceRule(index=0, match=("eth*", "ens*"), settings={"mtu": 9001}),)
    )
    daemon.udev_manages = True
    mocker.patch.object(daemon.udev, "entry", return_value=None)
    return daemon


def test_hotplugged_device_is_left_to_udev_then_tuned_by_its_final_name(
    udev_daemon: Daemon, clock: Clock, mocker: Any
) -> None:
    tune = mocker.patch.object(udev_daemon, "_tune_new")
    mocker.patch("netagent.app.daemon.socket.if_indextoname", return_value="eth0")
    udev_daemon._on_events([LinkEvent(7, "eth0", 1500)])  # registered under the kernel's name
    udev_daemon._on_events([LinkEvent(7, "ens7", 1500)])  # udev renames it
    udev_daemon._on_events([LinkEvent(7, "ens7", 9001)])  # udev applies its .link file
    udev_daemon._settle(clock.now)
    tune.assert_not_called()
    assert udev_daemon.unsettled == {7: clock.now + 30.0}
    mocker.patch.object(udev_daemon.udev, "entry", return_value={"ID_NET_NAME": "ens7"})  # udev wrote n7
    mocker.patch("netagent.app.daemon.socket.if_indextoname", return_value="ens7")
    clock.now += 0.2
    udev_daemon._settle(clock.now)
    tune.assert_called_once_with(7, "ens7")
    assert udev_daemon.unsettled == {}


def test_device_udev_never_finishes_with_is_tuned_after_the_wait(
    udev_daemon: Daemon, clock: Clock, mocker: Any
) -> None:
    tune = mocker.patch.object(udev_daemon, "_tune_new")
    mocker.patch("netagent.app.daemon.socket.if_indextoname", return_value="eth0")
    udev_daemon._on_events([LinkEvent(7, "eth0", 1500)])
    clock.now += 29.9
    udev_daemon._settle(clock.now)
    tune.assert_not_called()
    clock.now += 0.1
    udev_daemon._settle(clock.now)
    tune.assert_called_once_with(7, "eth0")


def test_device_removed_before_udev_finished_is_dropped_without_error(udev_daemon: Daemon, mocker: Any) -> None:
    tune = mocker.patch.object(udev_daemon, "_tune_new")
    mocker.patch("netagent.app.daemon.socket.if_indextoname", side_effect=OSError(6, "No such device or address"))
    log = mocker.patch("netagent.app.daemon.log")
    udev_daemon._on_events([LinkEvent(7, "eth0", 1500)])
    udev_daemon._on_events([LinkEvent(7, "eth0", 1500, is_removal=True)])
    udev_daemon._settle(udev_daemon.clock() + 60)
    assert udev_daemon.unsettled == {}
    tune.assert_not_called()
    log.debug.assert_called_once_with("interface_awaits_udev", ifname="eth0", index=7)
    log.warning.assert_not_called()
    log.error.assert_not_called()


def test_without_udev_a_new_device_is_tuned_at_once(udev_daemon: Daemon, mocker: Any) -> None:
    udev_daemon.udev_manages = False  # a netns lab or a container: udev never sees these devices
    tune = mocker.patch.object(udev_daemon, "_tune_new")
    udev_daemon._on_events([LinkEvent(7, "eth0", 1500)])
    tune.assert_called_once_with(7, "eth0")
    assert udev_daemon.unsettled == {}


def test_resync_leaves_a_device_udev_has_not_finished_with(udev_daemon: Daemon, host: FakeHost) -> None:
    host.links.clear()
    host.values.clear()
    host.links.update({"ens5": (3, "virtio_net"), "eth0": (7, "virtio_net"), "lo": (1, "")})
    host.values.update({"ens5/mtu": 9001, "eth0/mtu": 1500})
    udev_daemon.unsettled = {7: 1030.0}  # eth0 is being renamed by udev
    seen = udev_daemon._observe(udev_daemon.profile)
    assert list(seen.links) == ["ens5"]
    assert seen.ifnames == ("ens5", "lo")


def test_a_value_the_device_refuses_as_unsupported_is_not_tried_again(
    daemon: Daemon, host: FakeHost, clock: Clock
) -> None:
    from netagent.core.settings.coalesce import Coalesce, CoalesceSpec

    rule = InterfaceRule(index=0, match=("lab*",), settings={"mtu": 9001, "coalesce": CoalesceSpec(rx_usecs=64)})
    daemon.profile = Profile(name="lab", path="p.yaml", interfaces=(rule,))
    daemon.wanted = {"lab0": rule}
    host.values["lab0/coalesce"] = Coalesce(0, 0, 0, 0)
    host.refuse.add("lab0/coalesce")
    daemon._consider(CheckId("lab0", "coalesce"), "resync_timer")
    assert [c.setting for c in host.writes] == ["lab0/coalesce"]  # tried once, refused
    assert daemon.refused == {CheckId("lab0", "coalesce"): "rx_usecs=64"}
    assert "lab0/coalesce" not in daemon.stats.heals
    assert daemon.stats.failures == {}
    clock.now += 3600
    daemon._consider(CheckId("lab0", "coalesce"), "resync_timer")
    assert len(host.writes) == 1  # the same value is not tried again
