"""Profile trust through the real CLI as root: refused with exit 2 and the reason, nothing changed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.lab import Lab

GOOD = "name: t\ninterfaces:\n  - match: lab0\n    mtu: 9001\n"
NOBODY = 65534


def _world_writable(p: Path) -> Path:
    p.write_text(GOOD)
    p.chmod(0o666)
    return p


def _group_writable(p: Path) -> Path:
    p.write_text(GOOD)
    p.chmod(0o664)
    return p


def _other_owner(p: Path) -> Path:
    p.write_text(GOOD)
    os.chown(p, NOBODY, NOBODY)
    return p


def _symlink_to_writable(p: Path) -> Path:
    target = _world_writable(p.with_name("target.yaml"))
    p.symlink_to(target)
    return p


def _fifo(p: Path) -> Path:
    os.mkfifo(p)
    return p


def _directory(p: Path) -> Path:
    p.mkdir()
    return p


CASES: list[tuple[Callable[[Path], Path], str, bool]] = [
    # (make the profile, the reason printed, whether --insecure-profile accepts it)
    (_world_writable, "refused: group- and world-writable (mode 0666)", True),
    (_group_writable, "refused: group-writable (mode 0664)", True),
    (_other_owner, f"refused: owned by uid {NOBODY}, not by root", True),
    (_symlink_to_writable, "refused: group- and world-writable (mode 0666)", True),
    (_fifo, "refused: a FIFO, not a regular file", False),
    (_directory, "refused: a directory, not a regular file", False),
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netagent", *args], capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize(("make", "reason", "insecure_ok"), CASES, ids=[c[0].__name__.strip("_") for c in CASES])
def test_untrusted_profile_is_refused_with_exit_2_and_the_reason(
    netns_ok: None, tmp_path: Path, make: Callable[[Path], Path], reason: str, insecure_ok: bool
) -> None:
    path = make(tmp_path / "p.yaml")
    out = _cli("validate", str(path))
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"netagent: error: {path}: {reason}" in out.stderr
    assert "Traceback" not in out.stderr
    escaped = _cli("validate", "--insecure-profile", str(path))
    assert escaped.returncode == (0 if insecure_ok else 2), escaped.stderr


def test_apply_with_a_world_writable_profile_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    path = _world_writable(tmp_path / "p.yaml")
    before = lab.snapshot()
    out = lab.netagent("apply", "--profile", str(path))
    assert out.returncode == 2
    assert "world-writable" in out.stderr
    assert lab.snapshot() == before
    assert not os.path.exists(os.path.join(lab.state_dir, "originals.json"))
    escaped = lab.netagent("apply", "--insecure-profile", "--profile", str(path))
    assert escaped.returncode == 0, escaped.stderr
    assert lab.mtu("lab0") == 9001
