"""A refused write and a kill at every write of an apply, injected by strace into the real CLI.

No hooks in netagent: an un-injected run under strace finds the plan's kernel writes (the
ETHTOOL_SCHANNELS ioctl, the RTM_NEWLINK sendto, the write(2) to /proc/sys) and the state
directory's own write/fsync/rename, then each is failed (EPERM, ENOSPC, EIO), killed with
SIGKILL, or interrupted with SIGINT/SIGTERM.

NETAGENT_FAULTS=full also kills `restore` at each of its writes and interrupts every kernel write
(run locally; CI runs the rest).
"""

from __future__ import annotations

import glob
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.integration.lab import Lab
from tests.integration.syscalls import Call, have_strace, netagent_argv, run_traced, trace_writes
from tests.integration.test_cli_lab import PROFILE  # 8 changes: channels and MTU of lab0..2, 2 sysctls

KERNEL = ("channels", "mtu", "sysctl")
FULL = os.environ.get("NETAGENT_FAULTS") == "full"

pytestmark = pytest.mark.skipif(not have_strace() and not os.environ.get("CI"), reason="needs strace")


def _profile(tmp_path: Path) -> str:
    path = tmp_path / "faults.yaml"
    path.write_text(PROFILE)
    return str(path)


def _target(change_line: str) -> str:
    """`set lab0 channels rx=8 ...` -> `lab0 channels`; `set net.ipv4.x 0 -> 1` -> `net.ipv4.x`."""
    words = change_line.split()
    return words[1] if words[1].startswith("net.") else f"{words[1]} {words[2]}"


def _discover(lab: Lab, tmp_path: Path) -> tuple[list[str], list[str], list[Call]]:
    """Apply once under strace (no injection), check the writes it found, and restore the lab."""
    argv = netagent_argv(lab, "apply", "--profile", _profile(tmp_path))
    before = lab.snapshot()
    res, calls = trace_writes(lab, argv)
    assert res.returncode == 0, res.stdout + res.stderr
    targets = [_target(line) for line in res.stdout.splitlines() if line.startswith("set ")]
    kernel = [c for c in calls if c.kind in KERNEL]
    # The plan is 8 changes, and strace saw exactly one kernel write for each, in plan order.
    assert len(targets) == len(kernel) == 8, (targets, kernel)
    assert [c.kind for c in kernel] == ["channels", "mtu"] * 3 + ["sysctl"] * 2
    assert [c.kind for c in calls if c.kind not in KERNEL] == [
        "state-write",
        "state-fsync",
        "state-rename",
        "state-fsync",
    ]
    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert lab.snapshot() == before
    return argv, targets, calls


def _assert_state_parses(lab: Lab) -> None:
    """The state file is the old or the new version, never a torn one."""
    # Loaded inside the lab: the file records its network namespace. load() raises on a torn file.
    code = "import sys; from netagent.host.statefile import StateDir; StateDir(sys.argv[1]).load()"
    res = lab.exec(sys.executable, "-c", code, lab.state_dir, check=False)
    assert res.returncode == 0, res.stderr


def test_refused_kernel_write_at_every_position_leaves_the_lab_as_before(lab: Lab, tmp_path: Path) -> None:
    before = lab.snapshot()
    argv, targets, calls = _discover(lab, tmp_path)
    kernel = [c for c in calls if c.kind in KERNEL]
    for k, (call, target) in enumerate(zip(kernel, targets), start=1):
        res = run_traced(lab, argv, ["-o", "/dev/null", "-e", call.inject("error=EPERM")])
        where = f"K={k} ({call})"
        assert res.returncode == 3, f"{where}: {res.stdout}{res.stderr}"
        assert f"netagent: error: {target}: " in res.stderr, where
        assert "Operation not permitted" in res.stderr, where
        assert f"rolled back {k - 1} change" in res.stderr, f"{where}: {res.stderr}"
        assert "Traceback" not in res.stderr, where
        assert lab.snapshot() == before, where
        _assert_state_parses(lab)
        # Forget the originals this run recorded, so the next run's writes line up with the trace.
        cleared = lab.netagent("restore")
        assert cleared.returncode == 0, cleared.stderr
        assert lab.snapshot() == before, where
    print(f"refused writes: {len(kernel)} positions of an {len(kernel)}-change plan")


def _killed_then_restored(lab: Lab, argv: list[str], call: Call, before: dict[str, object], where: str) -> None:
    res = run_traced(lab, argv, ["-o", "/dev/null", "-e", call.inject("signal=KILL")])
    assert res.returncode == -signal.SIGKILL, f"{where}: not killed: {res.returncode} {res.stderr}"
    _assert_state_parses(lab)
    restored = lab.netagent("restore")
    assert restored.returncode == 0, f"{where}: {restored.stdout}{restored.stderr}"
    assert "Traceback" not in restored.stderr, where
    assert lab.snapshot() == before, where
    again = lab.netagent("restore")
    assert again.returncode == 0, where
    assert "nothing to restore" in again.stdout, f"{where}: {again.stdout}"
    leftovers = glob.glob(os.path.join(lab.state_dir, "originals.json.*"))
    assert leftovers == [], f"{where}: {leftovers}"


def test_kill_at_every_write_of_apply_then_restore_returns_every_original(lab: Lab, tmp_path: Path) -> None:
    before = lab.snapshot()
    argv, _, calls = _discover(lab, tmp_path)
    for k, call in enumerate(calls, start=1):
        _killed_then_restored(lab, argv, call, before, f"kill {k}/{len(calls)} ({call})")
    print(f"kills during apply: {len(calls)} positions, each followed by a restore")


def test_kill_at_every_write_of_restore_then_restore_finishes(lab: Lab, tmp_path: Path) -> None:
    """Every write with NETAGENT_FAULTS=full; CI kills restore at its first, a middle and its last write."""
    before = lab.snapshot()
    apply_argv, _, _ = _discover(lab, tmp_path)
    restore_argv = netagent_argv(lab, "restore")
    assert run_traced(lab, apply_argv, ["-o", "/dev/null"]).returncode == 0
    res, calls = trace_writes(lab, restore_argv)
    assert res.returncode == 0, res.stderr
    kernel = [c for c in calls if c.kind in KERNEL]
    assert len(kernel) == 8, calls
    positions = range(1, len(kernel) + 1) if FULL else (1, len(kernel) // 2, len(kernel))
    for k in positions:
        call = kernel[k - 1]
        assert run_traced(lab, apply_argv, ["-o", "/dev/null"]).returncode == 0
        _killed_then_restored(lab, restore_argv, call, before, f"restore kill {k}/{len(kernel)} ({call})")
    print(f"kills during restore: positions {list(positions)} of {len(kernel)}")


# ---------------------------------------------------------------- real kernel refusals


def test_kernel_refuses_an_mtu_above_the_device_maximum_and_apply_rolls_back(lab: Lab, tmp_path: Path) -> None:
    # A veth accepts up to 65535 and profiles stop at 9216, so refuse through a macvlan: the
    # kernel caps it at its lower device's MTU (macvlan_change_mtu: EINVAL above lab0's 1500).
    lab.exec("ip", "link", "add", "link", "lab0", "name", "mv0", "type", "macvlan")
    path = tmp_path / "mv.yaml"
    path.write_text('name: mv\ninterfaces:\n  - match: ["lab1", "mv0"]\n    mtu: 9001\n')
    before = (lab.snapshot(), lab.mtu("mv0"))
    out = lab.netagent("apply", "--profile", str(path))
    assert out.returncode == 3, out.stdout + out.stderr
    assert "mv0 mtu: the kernel refused mtu 9001 (Invalid argument)" in out.stderr
    assert "rolled back 1 change" in out.stderr  # lab1's MTU, set just before
    assert "Traceback" not in out.stderr
    assert (lab.snapshot(), lab.mtu("mv0")) == before


def test_more_channels_than_the_device_has_is_never_sent_and_the_kernel_would_refuse(lab: Lab, tmp_path: Path) -> None:
    # The audit compares counts with the device's maxima (ETHTOOL_GCHANNELS) and reports an
    # error check instead of planning a write, so apply sends nothing for it (exit 1: drift it
    # cannot fix) ...
    path = tmp_path / "ch.yaml"
    path.write_text("name: ch\ninterfaces:\n  - match: lab0\n    channels: {rx: 16}\n")
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", str(path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "rx=16 is more than the device's maximum of 8" in out.stdout
    assert lab.snapshot() == before
    # ... and had it been sent, the adapter turns the kernel's refusal into a clean error.
    code = (
        "from netagent.host.ethtool import Ethtool\nfrom netagent.core.errors import AdapterError\n"
        "try:\n    Ethtool().set_channels('lab0', {'rx': 16})\nexcept AdapterError as e:\n    print(e)\n"
    )
    refused = lab.exec(sys.executable, "-c", code)
    assert refused.stdout.strip() == "lab0: set channels: the device refused rx=16 (Invalid argument)"
    assert lab.snapshot() == before


def test_refused_state_write_stops_apply_before_any_kernel_write(lab: Lab, tmp_path: Path) -> None:
    before = lab.snapshot()
    argv, _, calls = _discover(lab, tmp_path)
    errors = {"state-write": "ENOSPC", "state-fsync": "EIO", "state-rename": "EACCES"}
    for call in (c for c in calls if c.kind.startswith("state-")):
        res = run_traced(lab, argv, ["-o", "/dev/null", "-e", call.inject(f"error={errors[call.kind]}")])
        where = f"{call}"
        assert res.returncode == 4, f"{where}: {res.stdout}{res.stderr}"
        assert "originals.json: cannot write (" in res.stderr, f"{where}: {res.stderr}"
        assert "Traceback" not in res.stderr, where
        assert lab.snapshot() == before, where
        _assert_state_parses(lab)
        assert glob.glob(os.path.join(lab.state_dir, "originals.json.*")) == [], where
        cleared = lab.netagent("restore")
        assert cleared.returncode == 0, cleared.stderr
        assert lab.snapshot() == before, where


def test_rollback_that_itself_fails_is_loud_and_restore_finishes_the_job(lab: Lab, tmp_path: Path) -> None:
    before = lab.snapshot()
    argv, _, calls = _discover(lab, tmp_path)
    sends = [c for c in calls if c.kind == "mtu"]
    # The third MTU write fails, and so does every netlink write after it: the rollback of the
    # first two MTUs. Channel rollbacks (ioctl) still work.
    third = sends[2]
    res = run_traced(lab, argv, ["-o", "/dev/null", "-e", f"inject={third.syscall}:error=EPERM:when={third.ordinal}+"])
    assert res.returncode == 3, res.stdout + res.stderr
    assert "netagent: error: lab2 mtu: " in res.stderr
    assert res.stderr.count("ROLLBACK FAILED: ") == 2, res.stderr
    assert "ROLLBACK FAILED: lab1 mtu: could not restore 1500" in res.stderr
    assert "Traceback" not in res.stderr
    assert lab.mtu("lab0") == lab.mtu("lab1") == 9001  # left as the failed rollback left them
    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert lab.snapshot() == before


def test_sigint_or_sigterm_at_any_kernel_write_finishes_or_rolls_back(lab: Lab, tmp_path: Path) -> None:
    # A stop signal lands during a kernel write: apply stops before the next change and rolls
    # back (exit 3), or, at the last write, finishes (exit 0); never a half-applied host.
    before = lab.snapshot()
    argv, _, calls = _discover(lab, tmp_path)
    kernel = [c for c in calls if c.kind in KERNEL]
    positions = range(len(kernel)) if FULL else (0, 3, 7)  # CI: a channel, an MTU and the last write
    for sig in ("INT", "TERM"):
        for k in positions:
            res = run_traced(lab, argv, ["-o", "/dev/null", "-e", kernel[k].inject(f"signal={sig}")])
            where = f"SIG{sig} at K={k + 1} ({kernel[k]})"
            assert "Traceback" not in res.stderr, where
            if k < len(kernel) - 1:
                assert res.returncode == 3, f"{where}: {res.returncode} {res.stderr}"
                assert f"interrupted by a stop signal after {k + 1} of {len(kernel)} changes" in res.stderr, where
                assert lab.snapshot() == before, where
            else:
                assert res.returncode == 0, f"{where}: {res.returncode} {res.stderr}"
            cleared = lab.netagent("restore")
            assert cleared.returncode == 0, cleared.stderr
            assert lab.snapshot() == before, where


def test_kill_during_a_second_apply_keeps_the_first_originals(lab: Lab, tmp_path: Path) -> None:
    # Originals are recorded once, by the first apply; a second apply with another profile that
    # is killed at any kernel write must not lose them: restore returns the pre-agent values.
    before = lab.snapshot()
    first = netagent_argv(lab, "apply", "--profile", _profile(tmp_path))
    other = tmp_path / "other.yaml"
    other.write_text(
        PROFILE.replace("9001", "4000").replace("rx: 4, tx: 4", "rx: 2, tx: 2").replace("8388608", "4194304")
    )
    second = netagent_argv(lab, "apply", "--profile", str(other))
    assert run_traced(lab, first, ["-o", "/dev/null"]).returncode == 0
    res, calls = trace_writes(lab, second)
    assert res.returncode == 0, res.stderr
    kernel = [c for c in calls if c.kind in KERNEL]
    assert len(kernel) == 7, calls  # every change but tcp_mtu_probing (already 1); no state write
    assert [c for c in calls if c.kind not in KERNEL] == []
    assert lab.netagent("restore").returncode == 0
    positions = range(len(kernel)) if FULL else (0, 3, 6)
    for k in positions:
        assert run_traced(lab, first, ["-o", "/dev/null"]).returncode == 0
        _killed_then_restored(lab, second, kernel[k], before, f"second apply, kill at K={k + 1} ({kernel[k]})")
