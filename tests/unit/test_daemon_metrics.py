"""The daemon's textfile metrics and the typed ENA counters (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pytest_mock import MockerFixture

from netagent.app.textfile import TEXTFILE_NAME, TextfileMetrics
from netagent.core.daemon_metrics import render_health, render_textfile, unix_seconds
from netagent.core.ena import EnaHealth
from netagent.core.model import AuditContext, Check, HostState, Profile, Report, Status
from netagent.core.reports import prometheus

PROFILE = Profile("web", "/etc/netagent/profile.yaml")
ENA = EnaHealth(
    "eth0",
    (
        ("bw_in_allowance_exceeded", 0),
        ("bw_out_allowance_exceeded", 7),
        ("pps_allowance_exceeded", 42),
        ("conntrack_allowance_exceeded", 0),
        ("linklocal_allowance_exceeded", 1),
        ("conntrack_allowance_available", 1234),
    ),
)
STATUS = {
    "format": "netagent-status",
    "running": True,
    "started_at": "2026-12-04T10:00:00.000+00:00",
    "last_resync_at": "2026-12-04T10:05:00.500+00:00",
    "resyncs": 5,
    "netlink_overruns": 1,
    "heals": {"eth0/mtu": {"count": 3, "last_at": "x", "found": "1500", "set": "9001"}},
    "failures": {"sysctl/net.core.rmem_max": 2},
    "contested": ["eth0/mtu"],
}


def _families(text: str) -> dict[str, tuple[str, dict[tuple[tuple[str, str], ...], float]]]:
    out = {}
    for fam in text_string_to_metric_families(text):
        out[fam.name] = (fam.type, {tuple(sorted(s.labels.items())): s.value for s in fam.samples})
    return out


def test_ena_allowance_counters_are_typed_counters_per_interface() -> None:
    report = Report(PROFILE, {}, (), ena=(ENA,))
    fams = _families(prometheus.render(report))
    assert fams["netagent_ena_pps_allowance_exceeded"] == ("counter", {(("interface", "eth0"),): 42.0})
    assert fams["netagent_ena_bw_out_allowance_exceeded"] == ("counter", {(("interface", "eth0"),): 7.0})
    assert fams["netagent_ena_bw_in_allowance_exceeded"][1] == {(("interface", "eth0"),): 0.0}
    assert fams["netagent_ena_conntrack_allowance_available"] == ("gauge", {(("interface", "eth0"),): 1234.0})
    assert "netagent_ena_allowance_exceeded" in fams  # the two-label family stays for existing rules


def test_no_ena_interface_means_no_ena_family() -> None:
    assert "netagent_ena_" not in prometheus.render(Report(PROFILE, {}, ()))


def test_health_metrics_from_the_status_document() -> None:
    fams = _families(render_health(STATUS, reload_failures=2, reload_failed=True))
    assert fams["netagent_daemon_running"] == ("gauge", {(): 1.0})
    assert fams["netagent_daemon_last_resync_timestamp_seconds"][1][()] == pytest.approx(1796378700.5)
    assert fams["netagent_daemon_start_time_seconds"][1][()] == 1796378400.0
    assert fams["netagent_daemon_resyncs"] == ("counter", {(): 5.0})
    assert fams["netagent_daemon_heals"] == ("counter", {(("check", "eth0/mtu"),): 3.0})
    assert fams["netagent_daemon_heal_failures"][1] == {(("check", "sysctl/net.core.rmem_max"),): 2.0}
    assert fams["netagent_daemon_contested"] == ("gauge", {(("check", "eth0/mtu"),): 1.0})
    assert fams["netagent_daemon_contested_checks"][1] == {(): 1.0}
    assert fams["netagent_daemon_reload_failed"][1] == {(): 1.0}
    assert fams["netagent_daemon_reload_failures"] == ("counter", {(): 2.0})
    assert fams["netagent_daemon_netlink_overruns"][1] == {(): 1.0}


def test_health_of_a_stopped_daemon_without_a_resync() -> None:
    fams = _families(render_health({"running": False, "last_resync_at": ""}, 0, False))
    assert fams["netagent_daemon_running"][1] == {(): 0.0}
    assert "netagent_daemon_last_resync_timestamp_seconds" not in fams
    assert fams["netagent_daemon_heals"][1] == {}
    assert fams["netagent_daemon_contested_checks"][1] == {(): 0.0}


def test_unix_seconds_refuses_local_and_bad_times() -> None:
    assert unix_seconds("1970-01-01T00:00:10+00:00") == 10.0
    assert unix_seconds("1970-01-01T00:00:10") is None
    assert unix_seconds("") is None
    assert unix_seconds(None) is None


def test_textfile_holds_the_audit_then_the_health() -> None:
    checks = (Check("eth0", "mtu", Status.DRIFT, "9001", "1500"),)
    text = render_textfile(Report(PROFILE, {}, checks, ena=(ENA,)), STATUS, 0, False)
    fams = _families(text)
    assert fams["netagent_check_drift"][1] == {(("check", "eth0/mtu"), ("interface", "eth0")): 1.0}
    assert fams["netagent_compliant"][1] == {(("profile", "web"),): 0.0}
    assert fams["netagent_daemon_running"][1] == {(): 1.0}


def test_textfile_metrics_write_the_latest_checks_atomically(tmp_path: Path) -> None:
    metrics = TextfileMetrics(str(tmp_path))
    drift = Check("net.core.rmem_max", "sysctl", Status.DRIFT, "16777216", "212992")
    metrics.audited((HostState(ifnames=()), [drift]))
    metrics.checked(Check(drift.subject, drift.setting, Status.OK, "16777216", "16777216"))
    metrics.reloaded(ok=False)
    metrics.write(PROFILE, AuditContext(), STATUS)
    assert [p.name for p in tmp_path.iterdir()] == [TEXTFILE_NAME]  # no temp file left behind
    fams = _families((tmp_path / TEXTFILE_NAME).read_text())
    assert fams["netagent_check_drift"][1] == {(("check", "sysctl/net.core.rmem_max"), ("interface", "")): 0.0}
    assert fams["netagent_compliant"][1] == {(("profile", "web"),): 1.0}
    assert fams["netagent_daemon_reload_failed"][1] == {(): 1.0}
    metrics.reloaded(ok=True)
    metrics.write(PROFILE, AuditContext(), STATUS)
    fams = _families((tmp_path / TEXTFILE_NAME).read_text())
    assert fams["netagent_daemon_reload_failed"][1] == {(): 0.0}
    assert fams["netagent_daemon_reload_failures"][1] == {(): 1.0}


def test_textfile_write_failure_is_a_warning_not_a_crash(tmp_path: Path, mocker: MockerFixture) -> None:
    log = mocker.patch("netagent.app.textfile.log")
    metrics = TextfileMetrics(str(tmp_path / "gone"))
    metrics.write(PROFILE, AuditContext(), STATUS)
    log.warning.assert_called_once()
    assert log.warning.call_args.args == ("textfile_write_failed",)
    assert "No such file or directory" in log.warning.call_args.kwargs["why"]
