"""The core end to end: the real CLI and the real adapters in a namespace lab."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.lab import Lab

PROFILE = """\
name: lab
interfaces:
  - match: "lab*"
    mtu: 9001
    channels: {rx: 4, tx: 4}
sysctl:
  net.ipv4.tcp_rmem: "4096 131072 8388608"
  net.ipv4.tcp_mtu_probing: 1
"""


def write(tmp_path: Path, text: str, name: str = "profile.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_audit_apply_audit_converges_and_tools_agree(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, PROFILE)
    lab.set_sysctl("net.ipv4.tcp_rmem", "4096 131072 6291456")
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")

    before = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert before.returncode == 1, before.stderr
    report = json.loads(before.stdout)
    assert report["compliant"] is False
    drifted = {c["id"] for c in report["checks"] if c["status"] == "drift"}
    assert drifted == {
        *(f"lab{i}/mtu" for i in range(3)),
        *(f"lab{i}/channels" for i in range(3)),
        "sysctl/net.ipv4.tcp_rmem",
        "sysctl/net.ipv4.tcp_mtu_probing",
    }
    assert report["profile"]["name"] == "lab"
    assert set(report["host"]) >= {"hostname", "kernel"}

    applied = lab.netagent("apply", "--profile", profile)
    assert applied.returncode == 0, applied.stderr
    assert "set lab0 mtu 1500 -> 9001" in applied.stdout

    after = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert after.returncode == 0, after.stdout
    assert json.loads(after.stdout)["compliant"] is True
    for i in range(3):
        assert lab.mtu(f"lab{i}") == 9001
        assert lab.channels(f"lab{i}")["rx"] == "4"
        assert lab.channels(f"lab{i}")["tx"] == "4"
    assert lab.sysctl("net.ipv4.tcp_rmem") == "4096 131072 8388608"
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "1"


def test_second_apply_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, PROFILE)
    assert lab.netagent("apply", "--profile", profile).returncode == 0
    again = lab.netagent("apply", "--profile", profile, "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["changes"] == []


def test_dry_run_prints_the_plan_and_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, PROFILE)
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", profile, "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "would set lab1 mtu 1500 -> 9001" in out.stdout
    assert "would set lab1 channels rx=8 tx=8 -> rx=4 tx=4" in out.stdout
    assert lab.snapshot() == before


def test_wrong_driver_is_drift_naming_both_drivers(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, "name: ena\ninterfaces:\n  - match: lab0\n    driver: ena\n")
    out = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert out.returncode == 1
    (check,) = [c for c in json.loads(out.stdout)["checks"] if c["id"] == "lab0/driver"]
    assert check["status"] == "drift"
    assert (check["expected"], check["actual"]) == ("ena", "veth")
    assert "ena" in check["message"]
    assert "veth" in check["message"]


def test_bad_mtu_exits_2_naming_the_field_without_traceback(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, "name: bad\ninterfaces:\n  - match: lab0\n    mtu: jumbo\n")
    before = lab.snapshot()
    for cmd in (["validate", profile], ["audit", "--profile", profile], ["apply", "--profile", profile]):
        out = lab.netagent(*cmd)
        assert out.returncode == 2
        assert f"{profile}:4: interfaces[0].mtu: expected an integer 68..9216, got 'jumbo'" in out.stderr
        assert "Traceback" not in out.stderr
    assert lab.snapshot() == before


def test_rule_matching_nothing_is_a_failed_check(lab: Lab, tmp_path: Path) -> None:
    profile = write(tmp_path, "name: x\ninterfaces:\n  - match: ens5\n    mtu: 9001\n")
    out = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert out.returncode == 1
    (check,) = json.loads(out.stdout)["checks"]
    assert check["id"] == "interfaces[0]/match"
    assert check["status"] == "drift"


def test_missing_and_read_only_sysctls_are_reported_as_errors(lab: Lab, tmp_path: Path) -> None:
    profile = write(
        tmp_path,
        "name: ns\nsysctl:\n  net.core.netdev_max_backlog: 30000\n  net.core.rmem_max: 12345678\n",
    )
    out = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert out.returncode == 1
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["sysctl/net.core.netdev_max_backlog"]["status"] == "error"
    assert "no such key" in checks["sysctl/net.core.netdev_max_backlog"]["message"]
    # rmem_max is readable but read-only in a child namespace: audit shows drift that apply cannot fix,
    # and apply says so instead of attempting the write (issue 15: it used to fail with exit 3).
    assert checks["sysctl/net.core.rmem_max"]["status"] == "drift"
    assert checks["sysctl/net.core.rmem_max"]["fix"] is None
    profile2 = write(tmp_path, "name: ns\nsysctl:\n  net.core.rmem_max: 12345678\n", "p2.yaml")
    applied = lab.netagent("apply", "--profile", profile2)
    assert applied.returncode == 1
    assert "cannot fix sysctl/net.core.rmem_max: cannot set here: read-only" in applied.stdout
    assert "Traceback" not in applied.stderr


def test_refused_sysctl_names_the_key_value_and_reason(lab: Lab, tmp_path: Path) -> None:
    # ip_default_ttl is validated by the kernel (1..255): writing 0 fails with EINVAL.
    profile = write(tmp_path, PROFILE.replace("sysctl:\n", "sysctl:\n  net.ipv4.ip_default_ttl: 0\n"))
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", profile)
    assert out.returncode == 3, out.stdout + out.stderr
    # Six interface changes ran before it (channels and MTU of lab0..lab2), then ip_default_ttl sorts first.
    assert "net.ipv4.ip_default_ttl: the kernel refused 0 (Invalid argument); rolled back 6 changes" in out.stderr
    assert "Traceback" not in out.stderr
    assert lab.snapshot() == before


def test_refused_write_last_in_plan_rolls_everything_back(lab: Lab, tmp_path: Path) -> None:
    # The plan runs interfaces first, then sysctls by key: net.ipv6.* comes after every other
    # change, and the kernel refuses hop_limit 0 (range 1..255).
    profile = write(tmp_path, PROFILE + "  net.ipv6.conf.all.hop_limit: 0\n")
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", profile)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "net.ipv6.conf.all.hop_limit: the kernel refused 0 (Invalid argument); rolled back 8 changes" in out.stderr
    assert lab.snapshot() == before
