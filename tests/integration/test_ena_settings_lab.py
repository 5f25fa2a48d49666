"""Rings, coalescing and bounds with the real ioctls, and ethtool-netlink heals, in a namespace lab (issue 13).

veth has no ring or coalescing control (EOPNOTSUPP), so here those are `unsupported` for real; ring
sizes on a device that has them are the VM lab's (tests/vm). Timing: the heal latency is printed,
never asserted; the wait is a poll of kernel state with a deadline far below the 300 s resync.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.integration.lab import Lab, run
from tests.integration.test_daemon_lab import DaemonProc, wait_until

pytestmark = pytest.mark.integration

PROFILE = """\
name: ena-lab
interfaces:
  - match: "lab*"
    channels: {rx: 4, tx: 4}
    rings: {rx: {at_least: 8192}, tx: max}
    coalesce: {adaptive_rx: false, rx_usecs: 0}
sysctl:
  net.core.somaxconn: {at_least: 1024}
  net.ipv4.tcp_limit_output_bytes: {at_least: 4194304}
  net.ipv4.tcp_rmem: {at_least: 4096}
"""


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    return str(path)


def checks(result: Any) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in json.loads(result.stdout)["checks"]}


def test_veth_rings_and_coalesce_are_unsupported_and_bounds_apply_and_restore(lab: Lab, profile: str) -> None:
    lab.set_sysctl("net.ipv4.tcp_limit_output_bytes", "262144")
    somaxconn = lab.sysctl("net.core.somaxconn")  # 4096 by default: already above the bound
    audit = lab.netagent("audit", "--profile", profile, "--format", "json")
    assert audit.returncode == 1, audit.stderr  # the sysctl bound drifts; a multi-number key is an error
    found = checks(audit)
    for i in range(3):
        assert found[f"lab{i}/rings"]["status"] == "unsupported"
        assert found[f"lab{i}/coalesce"]["status"] == "unsupported"
    assert found["sysctl/net.core.somaxconn"]["status"] == "ok"
    assert found["sysctl/net.ipv4.tcp_limit_output_bytes"]["status"] == "drift"
    assert found["sysctl/net.ipv4.tcp_rmem"]["status"] == "error"

    applied = lab.netagent("apply", "--profile", profile, "--format", "json")
    assert applied.returncode == 1, applied.stderr  # tcp_rmem's error stays: no change can fix it
    assert lab.sysctl("net.ipv4.tcp_limit_output_bytes") == "4194304"  # exactly the bound
    assert lab.sysctl("net.core.somaxconn") == somaxconn  # above the bound: never lowered
    assert lab.channels("lab0")["rx"] == "4"

    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert lab.sysctl("net.ipv4.tcp_limit_output_bytes") == "262144"
    assert lab.channels("lab0")["rx"] == "8"


@pytest.fixture
def start(lab: Lab, profile: str, tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """Start daemons in the lab; every one is killed in teardown, even when the test fails."""
    started: list[DaemonProc] = []

    def _start(*args: str) -> DaemonProc:
        daemon = DaemonProc(lab, profile, tmp_path, *args)
        started.append(daemon)
        return daemon

    try:
        yield _start
    finally:
        for daemon in started:
            daemon.kill()


def test_daemon_heals_a_channel_count_changed_by_hand_from_its_ethtool_notification(
    lab: Lab, start: Callable[..., DaemonProc]
) -> None:
    daemon = start("--resync-s", "300")
    started = daemon.wait_event("daemon_started")
    assert started["ethtool_events"] == "netlink"
    assert lab.channels("lab1")["rx"] == "4"
    latencies = []
    for ifname in ("lab0", "lab1", "lab2"):
        lab.exec("ethtool", "-L", ifname, "rx", "2")
        changed = time.monotonic()
        wait_until(lambda n=ifname: lab.channels(n)["rx"] == "4", deadline_s=10.0, what=f"{ifname} channels healed")
        latencies.append((time.monotonic() - changed) * 1000)
    print(f"\nchannel heal latency (ethtool -L returned -> ethtool -l shows 4), ms: {[round(x, 1) for x in latencies]}")
    healed = daemon.events("setting_healed")
    assert {e["check"] for e in healed} == {"lab0/channels", "lab1/channels", "lab2/channels"}
    assert {e["cause"] for e in healed} == {"ethtool_event"}  # not the resync (300 s away)
    assert not daemon.events("resync_finished")
    assert daemon.stop() == 0


def test_persist_reads_systemd_252_from_a_real_debian_12_root_and_writes_max(tmp_path: Path) -> None:
    """The debootstrapped bookworm root of the container tests (read only here: --dry-run)."""
    from netagent.host.systemd_version import systemd_version
    from tests.integration import container

    rootfs = container.ensure_rootfs()
    assert systemd_version(rootfs) == 252  # usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so
    profile = tmp_path / "max.yaml"
    profile.write_text("name: m\ninterfaces:\n  - match: eth0\n    channels: {combined: max}\n    rings: {rx: max}\n")
    cli = [sys.executable, "-m", "netagent", "persist", "--insecure-profile", "--profile", str(profile), "--dry-run"]
    image = run([*cli, "--root", rootfs], check=False)
    assert image.returncode == 0, image.stderr
    assert "would write etc/systemd/network/60-netagent-00-eth0.link" in image.stdout
    assert "max is not persisted" not in image.stdout
    assert "unknown" not in image.stdout
    empty = tmp_path / "root"
    empty.mkdir()
    bare = run([*cli, "--root", str(empty)], check=False)
    assert bare.returncode == 0, bare.stderr
    assert "systemd version under the root is unknown" in bare.stdout
    assert "channels combined: max is not persisted" in bare.stdout
