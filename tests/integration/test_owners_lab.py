"""Owners, severities, phases and `plan` end to end: the real CLI in a namespace lab, owner files under --root."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.integration.lab import Lab

LAYERED = Path(__file__).resolve().parents[1] / "data" / "roots" / "layered"
PROFILE = """\
name: owners
interfaces:
  - match: "lab*"
    mtu: 9001
  - match: "lab*"
    channels: {rx: 4, tx: 4}
    when: runtime
  - match: lab0
    driver: ena
    when: {instance_type: "c6in.*"}
sysctl:
  net.ipv4.tcp_mtu_probing: 1
  net.ipv4.tcp_slow_start_after_idle: {value: 0, severity: recommended}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return str(path)


def image_root(tmp_path: Path) -> str:
    """A copy of the layered fixture tree, symlinks (the /dev/null mask, 99-sysctl.conf) kept as links."""
    root = tmp_path / "image"
    shutil.copytree(LAYERED, root, symlinks=True)
    return str(root)


def test_audit_root_names_owners_without_changing_the_verdict(lab: Lab, tmp_path: Path) -> None:
    profile, root = write(tmp_path, PROFILE), image_root(tmp_path)
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    lab.set_sysctl("net.ipv4.tcp_slow_start_after_idle", "1")
    applied = lab.netagent("apply", "--profile", profile)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    out = lab.netagent("audit", "--profile", profile, "--root", root, "--format", "json")
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.loads(out.stdout)
    assert doc["compliant"] is True
    checks = {c["id"]: c for c in doc["checks"]}
    winners = {cid: [o for o in c["owners"] if o["wins_at_boot"]] for cid, c in checks.items()}
    assert [(o["source"], o["value"]) for o in winners["lab0/mtu"]] == [
        ("/etc/systemd/network/20-lab0.network", "9216")
    ]
    assert [(o["kind"], o["value"]) for o in winners["lab1/mtu"]] == [("networkmanager", "1500")]
    assert [(o["kind"], o["value"]) for o in winners["lab2/mtu"]] == [("tuned", "1400")]
    assert [(o["source"], o["line"]) for o in winners["sysctl/net.ipv4.tcp_mtu_probing"]] == [
        ("/etc/sysctl.d/99-local.conf", 2)
    ]
    assert winners["sysctl/net.ipv4.tcp_mtu_probing"][0]["conflicts"] is False
    assert checks["lab0/driver"]["status"] == "skipped"
    assert checks["lab0/driver"]["message"] == "when: instance_type c6in.*; instance type unknown"

    text = lab.netagent("audit", "--profile", profile, "--root", root)
    assert text.returncode == 0
    assert "    owner: /etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot" in text.stdout
    # Issue 16: TuneD >= 2.13 reapplies /run and /etc sysctl.d only: its 0 beats /usr/lib's 1.
    assert "    owner: /usr/lib/sysctl.d/50-default.conf:5 sets 1; overridden at boot" in text.stdout


def test_plan_lists_changes_and_reverting_owners_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    profile, root = write(tmp_path, PROFILE), image_root(tmp_path)
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    before = lab.snapshot()
    out = lab.netagent("plan", "--profile", profile, "--root", root)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    i = lines.index("lab0 mtu 1500 -> 9001")
    assert lines[i + 1] == (
        "    reverted at boot by /etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot"
    )
    assert "lab1 channels rx=8 tx=8 -> rx=4 tx=4" in lines
    assert "net.ipv4.tcp_mtu_probing 0 -> 1" in lines
    assert lab.snapshot() == before

    doc = json.loads(lab.netagent("plan", "--profile", profile, "--root", root, "--format", "json").stdout)
    changes = {c["id"]: c for c in doc["changes"]}
    assert changes["lab2/mtu"]["reverted_by"][0]["source"] == "/etc/tuned/netagent-lab/tuned.conf"
    assert changes["sysctl/net.ipv4.tcp_mtu_probing"]["reverted_by"] == []
    assert lab.snapshot() == before


def test_bake_phase_skips_runtime_checks_and_strict_fails_recommended_drift(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, PROFILE)
    for i in range(3):
        lab.set_mtu(f"lab{i}", 9001)
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "1")
    lab.set_sysctl("net.ipv4.tcp_slow_start_after_idle", "1")  # recommended 0: drift that passes

    bake = lab.netagent("audit", "--profile", profile, "--phase", "bake", "--format", "json")
    assert bake.returncode == 0, bake.stdout
    checks = {c["id"]: c for c in json.loads(bake.stdout)["checks"]}
    assert checks["lab0/channels"]["status"] == "skipped"
    assert checks["lab0/channels"]["message"] == "when: runtime; skipped in the bake phase"
    assert checks["sysctl/net.ipv4.tcp_slow_start_after_idle"]["status"] == "drift"
    assert checks["sysctl/net.ipv4.tcp_slow_start_after_idle"]["severity"] == "recommended"

    assert lab.netagent("audit", "--profile", profile, "--phase", "bake", "--strict").returncode == 1
    runtime = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert runtime.returncode == 1  # the channels (8 queues, the profile wants 4) count at runtime
    assert {c["id"]: c["status"] for c in json.loads(runtime.stdout)["checks"]}["lab0/channels"] == "drift"
