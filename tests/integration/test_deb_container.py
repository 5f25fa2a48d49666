"""The Debian package, installed by apt in a real Debian under systemd (issue 15).

scripts/package-deb builds the .deb; apt on the host works out which Debian archive packages the
cached container rootfs lacks (python3-pyroute2, python3-structlog, ...) and downloads them into a
local repository, from which apt in the container (no network) resolves the dependencies. The
service the package installed then starts, reaches READY=1, tunes the lab link and audits clean;
an upgrade restarts it and keeps the edited profile; purge removes it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.integration import container

TOOLS = ("debootstrap", "systemd-nspawn", "dpkg-buildpackage", "dh_python3", "dpkg-scanpackages", "apt-get")


@pytest.fixture(scope="module")
def deb_tools_ok(netns_ok: None) -> None:
    """The build and the container need these; in CI their absence fails."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the .deb test: missing {', '.join(missing)}")
    pytest.skip(f"missing {', '.join(missing)}")


@pytest.mark.integration
def test_deb_installs_with_apt_and_its_service_runs_and_audits(deb_tools_ok: None, tmp_path: Path) -> None:
    rootfs = container.ensure_rootfs()
    deb = container.build_deb(str(tmp_path / "dist"))
    upgrade = container.build_deb(str(tmp_path / "dist-upgrade"), version="0.1.0+upgrade1")
    downloaded = container.deb_repo(deb, rootfs, str(tmp_path / "repo"))
    assert any(name.startswith("python3-pyroute2_") for name in downloaded), downloaded
    out = tmp_path / "out"
    out.mkdir()
    code = container.boot(
        rootfs,
        binds={
            str(tmp_path / "repo"): "/repo",
            deb: "/deb/netagent.deb",
            upgrade: "/deb/netagent-upgrade.deb",
            str(container.REPO / "tests/data/container/run-deb-checks.sh"): "/check/run-checks.sh",
        },
        writable={str(out): "/out"},
        timeout_s=300,
    )
    log = (out / "check.log").read_text() if (out / "check.log").exists() else "(no check.log)"
    apt = (out / "apt.log").read_text() if (out / "apt.log").exists() else ""
    journal = (out / "journal.log").read_text() if (out / "journal.log").exists() else ""
    print(log)
    assert code == 0, f"container exited {code}\n{log}\n--- apt ---\n{apt[-3000:]}\n--- journal ---\n{journal[-3000:]}"
    assert "RESULT 0" in log
    for step in (
        "apt installed netagent with python3-pyroute2 0.7.2",
        "installed netagent 0.1.0 at /usr/bin/netagent",
        "conffile /etc/netagent/profile.yaml, man page, bash and zsh completion, unit installed",
        "installed disabled and not started",
        "enabled and running after READY=1",
        "audit: compliant",
        "upgrade restarted the enabled service and kept the edited profile",
        "purge stopped the service and removed unit, state and conffile",
    ):
        assert step in log
