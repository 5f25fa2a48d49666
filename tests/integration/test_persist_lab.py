"""persist's sysctl drop-in, applied inside a lab by the tool that applies it at boot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.lab import Lab

PROFILE = """\
name: bake
interfaces:
  - match: ["eth0", "ens5"]
    mtu: 9001
sysctl:
  net.ipv4.tcp_rmem: "4096 131072 8388608"
  net.ipv4.tcp_mtu_probing: 1
"""
SYSTEMD_SYSCTL = ("/lib/systemd/systemd-sysctl", "/usr/lib/systemd/systemd-sysctl")


def test_persisted_sysctl_dropin_is_applied_by_systemd_sysctl_and_persist_is_idempotent(
    lab: Lab, tmp_path: Path
) -> None:
    profile = tmp_path / "bake.yaml"
    profile.write_text(PROFILE)
    root = tmp_path / "root"
    root.mkdir()
    res = lab.netagent("persist", "--profile", str(profile), "--root", str(root))
    assert res.returncode == 0, res.stderr
    dropin = root / "etc/sysctl.d/60-netagent.conf"
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    applier = next((p for p in SYSTEMD_SYSCTL if Path(p).exists()), None)
    if applier is not None:
        lab.exec(applier, str(dropin))  # what systemd-sysctl.service does at boot, in the lab's netns
    elif shutil.which("sysctl"):
        lab.exec("sysctl", "-q", "-p", str(dropin))
    else:
        pytest.fail("neither systemd-sysctl nor sysctl to apply the drop-in")
    assert lab.sysctl("net.ipv4.tcp_rmem") == "4096 131072 8388608"
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "1"
    again = lab.netagent("persist", "--profile", str(profile), "--root", str(root))
    assert all(line.startswith(("unchanged", "note:")) for line in again.stdout.splitlines()), again.stdout
