"""Concurrency: applies started together run one at a time; a killed lock holder frees the lock at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.integration.lab import Lab

APPLIES = 10
PROFILE = """\
name: p{i}
interfaces:
  - match: "lab*"
    mtu: {mtu}
    channels: {{rx: {rx}, tx: {rx}}}
sysctl:
  net.ipv4.tcp_rmem: "4096 131072 {rmem}"
  net.ipv4.tcp_mtu_probing: {probing}
"""


def _values(i: int) -> dict[str, object]:
    """What profile p{i} sets; every field differs from every other profile's."""
    return {"mtu": 2000 + 100 * i, "rx": i % 8 + 1, "rmem": 4194304 + i, "probing": i % 3}


def _lab_values(lab: Lab) -> list[tuple[object, ...]]:
    """Each setting of the lab, as the profile values it would correspond to."""
    rows: list[tuple[object, ...]] = []
    for ifname in lab.ifnames:
        ch = lab.channels(ifname)
        rows.append((ifname, lab.mtu(ifname), int(ch["rx"]), int(ch["tx"])))
    rows.append(("rmem", lab.sysctl("net.ipv4.tcp_rmem")))
    rows.append(("probing", lab.sysctl("net.ipv4.tcp_mtu_probing")))
    return rows


def _expected(lab: Lab, i: int) -> list[tuple[object, ...]]:
    v = _values(i)
    rows: list[tuple[object, ...]] = [(name, v["mtu"], v["rx"], v["rx"]) for name in lab.ifnames]
    return [*rows, ("rmem", f"4096 131072 {v['rmem']}"), ("probing", str(v["probing"]))]


def _wait_until(pred: Callable[[], bool], deadline_s: float = 10.0) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_ten_applies_started_together_end_in_exactly_one_profile(lab: Lab, tmp_path: Path) -> None:
    original = lab.snapshot()
    paths = []
    for i in range(APPLIES):
        path = tmp_path / f"p{i}.yaml"
        path.write_text(PROFILE.format(i=i, **_values(i)))
        paths.append(str(path))
    base = ["ip", "netns", "exec", lab.name, sys.executable, "-m", "netagent", "apply", "--state-dir", lab.state_dir]
    procs = [
        subprocess.Popen(
            [*base, "--profile", p, "--lock-timeout-s", "120"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for p in paths
    ]
    results = [(proc.wait(timeout=180), proc.communicate()) for proc in procs]
    assert all(code == 0 for code, _ in results), [(code, err.decode()[-400:]) for code, (_, err) in results]
    final = _lab_values(lab)
    winners = [i for i in range(APPLIES) if final == _expected(lab, i)]
    assert len(winners) == 1, f"a mix of profiles: {final}"
    # Every apply ran whole and alone: the originals are the pre-agent values, whoever came first.
    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert lab.snapshot() == original


def test_sigkilled_lock_holder_mid_apply_frees_the_lock_at_once(lab: Lab, tmp_path: Path) -> None:
    # A real apply holds the lock while its jumbo-path guard waits (5 s, the most a profile
    # allows) for a peer that never answers; kill it there, after it raised lab0's MTU.
    original = lab.snapshot()
    lab.exec("ip", "addr", "add", "10.231.9.1/24", "dev", "lab0")
    held = tmp_path / "held.yaml"
    held.write_text(
        "name: held\ninterfaces:\n  - match: lab0\n    mtu: 9001\nguard:\n  targets: [10.231.9.99]\n  timeout_s: 5\n"
    )
    cmd = ["ip", "netns", "exec", lab.name, sys.executable, "-m", "netagent", "apply", "--state-dir", lab.state_dir]
    holder = subprocess.Popen([*cmd, "--profile", str(held)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = Path(lab.state_dir, "lock")
        assert _wait_until(
            lambda: lock.exists() and lock.read_text().strip() == str(holder.pid) and lab.mtu("lab0") == 9001
        )
        busy = lab.netagent("apply", "--profile", str(held), "--lock-timeout-s", "0")
        assert busy.returncode == 4
        assert f"another netagent (pid {holder.pid}) holds" in busy.stderr
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    other = tmp_path / "other.yaml"
    other.write_text("name: other\ninterfaces:\n  - match: lab0\n    mtu: 4000\n")
    start = time.monotonic()
    now = lab.netagent("apply", "--profile", str(other), "--lock-timeout-s", "0")  # no wait at all
    assert now.returncode == 0, now.stderr
    print(f"apply after the kill took {time.monotonic() - start:.2f} s with --lock-timeout-s 0")
    assert lab.mtu("lab0") == 4000
    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert lab.snapshot() == original
