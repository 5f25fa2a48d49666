"""Safe apply in namespace labs: originals, restore, the lock, crash safety, the jumbo-path guard."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lab import Lab, run

BASE = """\
name: {name}
interfaces:
  - match: "lab*"
    mtu: {mtu}
    channels: {{rx: {rx}, tx: {rx}}}
sysctl:
  net.ipv4.tcp_rmem: "{rmem}"
  net.ipv4.tcp_mtu_probing: {probing}
"""


def profile(tmp_path: Path, name: str, mtu: int, rx: int, rmem: str, probing: int) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(BASE.format(name=name, mtu=mtu, rx=rx, rmem=rmem, probing=probing))
    return str(path)


def test_restore_after_two_different_applies_returns_the_originals(lab: Lab, tmp_path: Path) -> None:
    original = lab.snapshot()
    first = profile(tmp_path, "a", 9001, 4, "4096 131072 8388608", 1)
    second = profile(tmp_path, "b", 4000, 2, "4096 65536 4194304", 2)
    assert lab.netagent("apply", "--profile", first).returncode == 0
    assert lab.netagent("apply", "--profile", second).returncode == 0
    assert lab.mtu("lab0") == 4000

    dry = lab.netagent("restore", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would restore lab0 mtu 4000 -> 1500" in dry.stdout
    assert lab.mtu("lab0") == 4000

    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert "restored lab0 mtu 4000 -> 1500" in restored.stdout
    assert lab.snapshot() == original
    assert not os.path.exists(os.path.join(lab.state_dir, "originals.json"))
    again = lab.netagent("restore")
    assert again.returncode == 0
    assert "nothing to restore" in again.stdout


def test_corrupt_state_file_stops_apply_and_is_kept(lab: Lab, tmp_path: Path) -> None:
    state = Path(lab.state_dir) / "originals.json"
    state.write_text("{not json")
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", profile(tmp_path, "a", 9001, 4, "4096 131072 8388608", 1))
    assert out.returncode == 4
    assert "corrupt state file" in out.stderr
    assert "Traceback" not in out.stderr
    assert state.read_text() == "{not json"
    assert lab.snapshot() == before


@pytest.fixture
def lock_holder(lab: Lab) -> Iterator[subprocess.Popen[str]]:
    """A process that holds the lab's state lock until killed."""
    code = (
        "import sys, time; from netagent.host.statefile import StateDir\n"
        "with StateDir(sys.argv[1]).lock():\n    print('locked', flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, lab.state_dir], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_second_apply_waits_then_names_the_holder(lab: Lab, tmp_path: Path, lock_holder: subprocess.Popen[str]) -> None:
    path = profile(tmp_path, "a", 9001, 4, "4096 131072 8388608", 1)
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", path, "--lock-timeout-s", "0.5")
    assert out.returncode == 4
    assert f"another netagent (pid {lock_holder.pid}) holds" in out.stderr
    assert lab.snapshot() == before
    lock_holder.send_signal(signal.SIGKILL)
    lock_holder.wait()
    freed = lab.netagent("apply", "--profile", path, "--lock-timeout-s", "0.5")
    assert freed.returncode == 0, freed.stderr


def test_sigkill_at_random_points_then_restore_returns_every_original(lab: Lab, tmp_path: Path) -> None:
    trials = int(os.environ.get("NETAGENT_KILL_TRIALS", "20"))
    rng = random.Random(4)  # fixed seed: the same delays every run (where each kill lands still varies)
    original = lab.snapshot()
    path = profile(tmp_path, "a", 9001, 4, "4096 131072 8388608", 1)
    cmd = ["ip", "netns", "exec", lab.name, sys.executable, "-m", "netagent", "apply"]
    cmd += ["--state-dir", lab.state_dir, "--profile", path, "--log-level", "error"]
    # Kill points spread over the time a whole apply takes here, measured first (once with the
    # interpreter's cache warm, as the trials run).
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    assert lab.netagent("restore").returncode == 0
    started = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    whole_s = time.monotonic() - started
    assert lab.netagent("restore").returncode == 0
    outcomes = {"killed": 0, "finished": 0}
    for _ in range(trials):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 1.1) * whole_s)
        proc.send_signal(signal.SIGKILL)
        outcomes["finished" if proc.wait() == 0 else "killed"] += 1
        state_file = Path(lab.state_dir) / "originals.json"
        if state_file.exists():
            json.loads(state_file.read_text())  # never truncated
        restored = lab.netagent("restore")
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert lab.snapshot() == original
        assert "nothing to restore" in lab.netagent("restore").stdout
    print(f"\nSIGKILL trials: {trials} over a {whole_s * 1000:.0f} ms apply: {outcomes}; restore put all back")
    assert outcomes["killed"] > 0, outcomes


# ---------------------------------------------------------------- the jumbo-path guard


@pytest.fixture
def path_lab(netns_ok: None) -> Iterator[tuple[Lab, Lab, Lab]]:
    """host --(jumbo-capable)-- router --(1500-byte hop)-- peer, addresses only on these veths."""
    host, router, peer = Lab.create(), Lab.create(), Lab.create()
    try:
        q = ["numtxqueues", "8", "numrxqueues", "8"]
        run(
            [
                "ip",
                "-n",
                host.name,
                "link",
                "add",
                "lab0",
                *q,
                "type",
                "veth",
                "peer",
                "name",
                "r0",
                "netns",
                router.name,
            ]
        )
        run(["ip", "-n", router.name, "link", "add", "r1", "type", "veth", "peer", "name", "p0", "netns", peer.name])
        host.ifnames.append("lab0")
        for lab, ifname, addr in (
            (host, "lab0", "10.231.1.1/24"),
            (router, "r0", "10.231.1.2/24"),
            (router, "r1", "10.231.2.1/24"),
            (peer, "p0", "10.231.2.2/24"),
        ):
            run(["ip", "-n", lab.name, "addr", "add", addr, "dev", ifname])
            run(["ip", "-n", lab.name, "link", "set", ifname, "up"])
        run(["ip", "-n", router.name, "link", "set", "r0", "mtu", "9001"])
        run(["ip", "-n", host.name, "route", "add", "10.231.2.0/24", "via", "10.231.1.2"])
        run(["ip", "-n", peer.name, "route", "add", "10.231.1.0/24", "via", "10.231.2.1"])
        router.set_sysctl("net.ipv4.ip_forward", "1")
        yield host, router, peer
    finally:
        for lab in (host, router, peer):
            lab.delete()


def guarded(tmp_path: Path, target: str, timeout_s: float = 1) -> str:
    path = tmp_path / "guard.yaml"
    path.write_text(
        f"name: g\ninterfaces:\n  - match: lab0\n    mtu: 9001\nguard:\n  targets: [{target}]\n"
        f"  timeout_s: {timeout_s}\n"
    )
    return str(path)


# Review defect: the guard probed targets one after another, up to timeout_s each. Now every
# target is probed at once and retransmitted to, so a change takes at most one timeout_s.
GUARD_TIMEOUT_S = 2.0


def test_guard_two_targets_one_failing_fails_the_change_in_one_timeout(
    path_lab: tuple[Lab, Lab, Lab], tmp_path: Path
) -> None:
    host, _, _ = path_lab
    profile = guarded(tmp_path, "10.231.1.2, 10.231.2.2", GUARD_TIMEOUT_S)
    started = time.monotonic()
    assert host.netagent("validate", profile).returncode == 0  # the CLI's own start-up, measured alike
    baseline_s = time.monotonic() - started
    started = time.monotonic()
    out = host.netagent("apply", "--profile", profile)
    took_s = time.monotonic() - started - baseline_s
    assert out.returncode == 3, out.stdout + out.stderr
    assert "lab0 mtu: guard: 10.231.2.2 did not answer a 9001-byte don't-fragment ping" in out.stderr
    assert "10.231.1.2 did not answer" not in out.stderr  # the near peer answered
    assert "rolled back 1 change" in out.stderr
    assert host.mtu("lab0") == 1500
    print(
        f"\nguard, one failing target of two: apply took {took_s:.2f} s beyond start-up (timeout_s {GUARD_TIMEOUT_S:g})"
    )
    # One timeout_s per change, both targets probed at once: well under two timeouts (two in turn).
    assert took_s < 1.75 * GUARD_TIMEOUT_S, took_s


def test_guard_probes_silent_targets_in_parallel(path_lab: tuple[Lab, Lab, Lab]) -> None:
    host, _, _ = path_lab
    host.set_mtu("lab0", 9001)
    # Two silent targets (the far peer at 9001 bytes, and an on-link address nobody holds) and
    # the near peer, in one round: both silent ones are named, in about one timeout, not two.
    code = (
        "import json, time; from netagent.host.guard import probe_all\n"
        "t = time.monotonic()\n"
        f"failed = probe_all(['10.231.2.2', '10.231.1.99', '10.231.1.2'], 9001, {GUARD_TIMEOUT_S})\n"
        "print(json.dumps({'failed': sorted(failed), 'took_s': time.monotonic() - t}))"
    )
    result = json.loads(host.exec(sys.executable, "-c", code).stdout)
    print(f"\nparallel probe of 3 targets, 2 silent: {result}")
    assert result["failed"] == ["10.231.1.99", "10.231.2.2"]
    # In parallel, not one after the other: two silent targets in turn would take two timeouts.
    # A generous bound with the figure printed above (issue 12); the guard's timing is measured
    # properly nowhere else, as it is a bound of the design rather than a performance goal.
    assert GUARD_TIMEOUT_S <= result["took_s"] < 1.75 * GUARD_TIMEOUT_S, result


def test_guard_keeps_the_mtu_when_the_near_peer_answers(path_lab: tuple[Lab, Lab, Lab], tmp_path: Path) -> None:
    host, _, _ = path_lab
    out = host.netagent("apply", "--profile", guarded(tmp_path, "10.231.1.2"))
    assert out.returncode == 0, out.stderr
    assert host.mtu("lab0") == 9001


def test_guard_rolls_back_when_the_far_peer_cannot_be_reached(path_lab: tuple[Lab, Lab, Lab], tmp_path: Path) -> None:
    host, _, _ = path_lab
    # The far peer answers at 1500 bytes, so only the jumbo size fails below.
    small = host.exec(
        sys.executable, "-c", "from netagent.host.guard import probe_all; print(probe_all(['10.231.2.2'], 1500, 2))"
    )
    assert small.stdout.strip() == "{}"  # no target failed
    out = host.netagent("apply", "--profile", guarded(tmp_path, "10.231.2.2"))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "lab0 mtu: guard: 10.231.2.2 did not answer a 9001-byte don't-fragment ping" in out.stderr
    assert "rolled back 1 change" in out.stderr
    assert host.mtu("lab0") == 1500


def test_restore_reports_a_vanished_interface_and_forget_gone_clears_it(lab: Lab, tmp_path: Path) -> None:
    """Review finding: originals of a hot-unplugged interface could never be cleared."""
    assert lab.netagent("apply", "--profile", profile(tmp_path, "a", 9001, 4, "4096 131072 8388608", 1)).returncode == 0
    run(["ip", "-n", lab.name, "link", "del", "lab2"])
    lab.ifnames.remove("lab2")
    kept = lab.netagent("restore")
    assert kept.returncode == 1
    assert "lab2/mtu: not restored: the interface or key is gone; its original stays recorded" in kept.stdout
    assert "restored lab0 mtu 9001 -> 1500" in kept.stdout
    cleared = lab.netagent("restore", "--forget-gone")
    assert cleared.returncode == 0, cleared.stdout
    assert "forget its original (--forget-gone)" in cleared.stdout
    assert not os.path.exists(os.path.join(lab.state_dir, "originals.json"))
