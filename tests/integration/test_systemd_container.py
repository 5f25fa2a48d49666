"""The shipped unit under a real systemd: READY=1, tuned, healed, watchdog, clean stop, carve-out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.integration import container


@pytest.fixture(scope="module")
def nspawn_ok(netns_ok: None) -> None:
    """Container tests need debootstrap and systemd-nspawn; in CI their absence fails."""
    missing = [tool for tool in ("debootstrap", "systemd-nspawn") if shutil.which(tool) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the container test: missing {', '.join(missing)}")
    pytest.skip(f"missing {', '.join(missing)}")


def test_shipped_unit_runs_hardened_under_systemd(nspawn_ok: None, tmp_path: Path) -> None:
    rootfs = container.ensure_rootfs()
    wheels, out = tmp_path / "wheels", tmp_path / "out"
    wheels.mkdir()
    out.mkdir()
    container.build_wheels(str(wheels), container.container_python(rootfs))
    code = container.boot(
        rootfs,
        binds={
            str(wheels): "/wheels",
            str(container.REPO / "tests/data/container/run-checks.sh"): "/check/run-checks.sh",
            str(container.REPO / "systemd/netagent.service"): "/check/netagent.service",
        },
        writable={str(out): "/out"},
        timeout_s=300,
    )
    log = (out / "check.log").read_text() if (out / "check.log").exists() else "(no check.log)"
    journal = (out / "journal.log").read_text() if (out / "journal.log").exists() else ""
    print(log)
    assert code == 0, f"container exited {code}\n{log}\n--- journal ---\n{journal[-4000:]}"
    assert "RESULT 0" in log
    for step in (
        "verify clean",
        "active (running) after READY=1",
        "lab tuned",
        "mtu changed by hand was healed",
        "no restart over two watchdog periods",
        "stopped cleanly",
        "without the /proc/sys/net carve-out the unit fails",
    ):
        assert step in log
