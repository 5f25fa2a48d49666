"""Issue 15: a sysctl whose /proc/sys file nobody may write is drift without a promised change."""

from __future__ import annotations

import os
from pathlib import Path

from netagent.core.diff import audit, plan
from netagent.core.model import HostState, Profile, Report, Status
from netagent.core.reports import plan as plan_report
from netagent.core.reports import text
from netagent.core.settings.sysctl import SysctlSetting, check_sysctl, is_read_only
from netagent.host import sysctl

RMEM = SysctlSetting("net.core.rmem_max", "8388608")


def test_issue15_read_only_sysctl_drift_has_no_change_and_says_why() -> None:
    check = check_sysctl(RMEM, "212992", mode=0o444)
    assert check.status is Status.DRIFT
    assert check.change is None
    assert check.message.startswith("cannot set here: read-only")
    assert "0444" in check.message


def test_writable_or_unknown_mode_sysctl_drift_is_a_change() -> None:
    for mode in (0o644, 0o600, None):
        assert check_sysctl(RMEM, "212992", mode=mode).change is not None


def test_read_only_means_roots_write_bit_is_clear() -> None:
    assert is_read_only(0o444)
    assert is_read_only(0o044)
    assert not is_read_only(0o644)
    assert not is_read_only(0o200)


def test_issue15_plan_and_audit_text_say_cannot_set_not_would_set() -> None:
    profile = Profile("p", "p.yaml", sysctls=(RMEM, SysctlSetting("net.ipv4.tcp_mtu_probing", "1")))
    host = HostState(
        (),
        sysctls={"net.core.rmem_max": "212992", "net.ipv4.tcp_mtu_probing": "0"},
        sysctl_modes={"net.core.rmem_max": 0o444, "net.ipv4.tcp_mtu_probing": 0o644},
    )
    checks = audit(profile, host)
    the_plan = plan(checks)
    assert [c.setting for c in the_plan.changes] == ["sysctl/net.ipv4.tcp_mtu_probing"]
    assert [c.id for c in the_plan.unfixable] == ["sysctl/net.core.rmem_max"]
    report = Report(profile, {}, tuple(checks))
    planned = plan_report.render_text(report, the_plan)
    assert "cannot set here: read-only" in planned
    assert "net.core.rmem_max 212992 -> 8388608" not in planned
    dry = text.render_plan(the_plan, dry_run=True)
    assert "would set net.ipv4.tcp_mtu_probing 0 -> 1" in dry
    assert "cannot set here: read-only" in dry
    row = next(line for line in text.render(report).splitlines() if "rmem_max" in line)
    assert "cannot set here: read-only" in row
    assert "would set" not in row


def test_read_sysctl_and_mode_gives_the_files_permission_bits(tmp_path: Path) -> None:
    path = tmp_path / "net" / "core" / "rmem_max"
    path.parent.mkdir(parents=True)
    path.write_text("212992\n")
    os.chmod(path, 0o444)
    assert sysctl.read_sysctl_and_mode("net.core.rmem_max", root=str(tmp_path)) == ("212992", 0o444)
