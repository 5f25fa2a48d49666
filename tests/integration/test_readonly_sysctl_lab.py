"""Issue 15: a sysctl that is read-only here (net.core.rmem_max in a child network namespace,
/proc/sys mode 0444) is drift that audit, plan and apply --dry-run say they cannot fix, never a
promised change that the apply then fails on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.lab import Lab

pytestmark = pytest.mark.integration


def test_issue15_read_only_sysctl_is_not_promised_by_audit_plan_or_dry_run(lab: Lab, tmp_path: Path) -> None:
    mode = lab.exec("stat", "-c", "%a", "/proc/sys/net/core/rmem_max").stdout.strip()
    if mode != "444":
        pytest.fail(f"this kernel shows net.core.rmem_max as {mode} in a child netns; the test needs 444")
    current = int(lab.sysctl("net.core.rmem_max"))
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    profile = tmp_path / "profile.yaml"
    profile.write_text(f"name: ro\nsysctl:\n  net.core.rmem_max: {current + 4096}\n  net.ipv4.tcp_mtu_probing: 1\n")

    audit = lab.netagent("audit", "--profile", str(profile), "--format", "json")
    assert audit.returncode == 1, audit.stderr
    checks = {c["id"]: c for c in json.loads(audit.stdout)["checks"]}
    ro = checks["sysctl/net.core.rmem_max"]
    assert ro["status"] == "drift"
    assert ro["fix"] is None
    assert "cannot set here: read-only" in ro["message"]
    assert checks["sysctl/net.ipv4.tcp_mtu_probing"]["fix"] == "net.ipv4.tcp_mtu_probing 0 -> 1"

    text = lab.netagent("audit", "--profile", str(profile)).stdout
    row = next(line for line in text.splitlines() if "net.core.rmem_max" in line)
    assert "cannot set here: read-only" in row
    assert "would set" not in row

    for argv in (["plan"], ["apply", "--dry-run"]):
        out = lab.netagent(*argv, "--profile", str(profile))
        assert out.returncode == 0, out.stderr
        assert "cannot set here: read-only" in out.stdout, out.stdout
        assert f"net.core.rmem_max {current} -> " not in out.stdout
        assert "net.ipv4.tcp_mtu_probing 0 -> 1" in out.stdout

    # The apply makes the change it can, as one transaction, and leaves the read-only drift: exit 1, not 3.
    applied = lab.netagent("apply", "--profile", str(profile))
    assert applied.returncode == 1, applied.stderr + applied.stdout
    assert "cannot set here: read-only" in applied.stdout
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "1"
    assert int(lab.sysctl("net.core.rmem_max")) == current
