"""fleet/prometheus/netagent.rules.yml checked and unit-tested by Debian's real promtool (issue 14)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.fleet_tools import need

pytestmark = pytest.mark.integration

RULES_DIR = Path(__file__).resolve().parents[2] / "fleet" / "prometheus"
RULES, TESTS = RULES_DIR / "netagent.rules.yml", RULES_DIR / "netagent.tests.yml"


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([need("promtool", "prometheus"), *args], capture_output=True, text=True, timeout=60)


def test_promtool_check_rules_accepts_every_rule() -> None:
    proc = _promtool("check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = [r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert f"SUCCESS: {len(names)} rules found" in proc.stdout


def test_promtool_test_rules_has_a_firing_and_a_quiet_case_for_every_alert() -> None:
    proc = _promtool("test", "rules", str(TESTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    tested = {t["alertname"]: t for g in yaml.safe_load(TESTS.read_text())["tests"] for t in g["alert_rule_test"]}
    names = {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    required = {"NetagentRequiredDrift", "NetagentSettingContested", "NetagentTextfileStale", "NetagentDaemonDown"}
    required |= {"NetagentReloadFailed", "NetagentConntrackHeadroomLow", "NetagentEnaPpsAllowanceExceeded"}
    assert required <= set(tested) <= names
    cases = yaml.safe_load(TESTS.read_text())["tests"]
    for name in required - {"NetagentEnaPpsAllowanceExceeded"}:
        outcomes = {bool(t["exp_alerts"]) for g in cases for t in g["alert_rule_test"] if t["alertname"] == name}
        assert outcomes == {True, False}, name


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("for: 15m", "for: 25m"),  # required drift would fire too late
        ("netagent_check_required == 1", "netagent_check_required >= 0"),  # recommended drift would page
        ("> 300", "> 900"),  # a stale textfile would go unnoticed
        ("rate(netagent_ena_pps_allowance_exceeded_total[5m]) > 0", "netagent_ena_pps_allowance_exceeded_total > 0"),
    ],
)
def test_promtool_tests_catch_a_broken_rule(tmp_path: Path, old: str, new: str) -> None:
    text = RULES.read_text()
    assert old in text
    (tmp_path / RULES.name).write_text(text.replace(old, new, 1))
    shutil.copy(TESTS, tmp_path / TESTS.name)
    proc = _promtool("test", "rules", str(tmp_path / TESTS.name))
    assert proc.returncode != 0, f"the tests did not notice {old!r} -> {new!r}"


def test_promtool_check_metrics_accepts_the_daemons_textfile() -> None:
    from netagent.core.daemon_metrics import render_textfile
    from netagent.core.ena import EnaHealth
    from netagent.core.model import Check, Profile, Report, Status

    ena = EnaHealth("eth0", (("pps_allowance_exceeded", 3), ("conntrack_allowance_available", 90)))
    checks = (Check("eth0", "mtu", Status.DRIFT, "9001", "1500"),)
    status = {"running": True, "heals": {"eth0/mtu": {"count": 2}}, "contested": ["eth0/mtu"], "resyncs": 3}
    text = render_textfile(Report(Profile("web", "p.yaml"), {}, checks, ena=(ena,)), status, 1, True)
    proc = subprocess.run(
        [need("promtool", "prometheus"), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr  # naming and type lint of the exposition
    assert "netagent_ena_pps_allowance_exceeded_total" in text
