"""The Ansible role fleet/ansible/roles/netagent, run with ansible-core (PyPI) and `-c local` inside
the nspawn container under a real systemd (issue 14).

netagent's wheels and ansible-core's (for the container's Python) are built or downloaded on
the host, since the container has no network; tests/data/ansible/ansible-check.sh runs the
role five times in the container and records facts that this test asserts: the first run
changes the host, the second changes nothing, check mode runs `netagent plan` and reports
changed only when there is drift (and changes nothing), and a new profile is picked up by the
handler's SIGHUP reload without a restart.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration import container
from tests.integration.test_systemd_container import nspawn_ok  # noqa: F401 -- a fixture

pytestmark = pytest.mark.integration

DATA = container.REPO / "tests" / "data" / "ansible"
ROLES = container.REPO / "fleet" / "ansible" / "roles"
ANSIBLE_CACHE = os.environ.get("NETAGENT_TEST_ANSIBLE_WHEELS", "/var/cache/netagent-test/ansible-wheels")
ANSIBLE_REQUIREMENT = "ansible-core>=2.15,<2.20"


def ansible_wheels(python_version: str) -> str:
    """Download ansible-core and its dependencies as wheels for the container's Python (cached)."""
    dest = f"{ANSIBLE_CACHE}-cp{python_version.replace('.', '')}"
    if any(name.startswith("ansible_core-") for name in (os.listdir(dest) if os.path.isdir(dest) else ())):
        return dest
    machine, tag = platform.machine(), python_version.replace(".", "")
    tmp = f"{dest}.tmp-{os.getpid()}"
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "download", "--only-binary=:all:",
         "-d", tmp, "--python-version", python_version, "--implementation", "cp",
         "--abi", f"cp{tag}", "--abi", "abi3", "--abi", "none",
         "--platform", f"manylinux2014_{machine}", "--platform", f"manylinux_2_17_{machine}",
         "--platform", f"manylinux_2_28_{machine}", "--platform", "any", ANSIBLE_REQUIREMENT],
        check=True,
        capture_output=True,
    )  # fmt: skip
    os.rename(tmp, dest)
    return dest


def _facts(log: str) -> dict[str, str]:
    facts = {}
    for line in log.splitlines():
        words = line.split(" ", 2)
        if len(words) == 3:
            facts[f"{words[0]} {words[1]}"] = words[2]
    return facts


def _recap(facts: dict[str, str], run: str) -> dict[str, int]:
    # "localhost : ok=14 changed=0 unreachable=0 failed=0 skipped=6 rescued=0 ignored=0"
    fields = facts[f"{run} recap"].split(":", 1)[1].split()
    return {k: int(v) for k, v in (f.split("=") for f in fields)}


def test_role_installs_is_idempotent_plans_in_check_mode_and_reloads(nspawn_ok: None, tmp_path: Path) -> None:  # noqa: F811
    rootfs = container.ensure_rootfs()
    python_version = container.container_python(rootfs)
    wheels, out = tmp_path / "wheels", tmp_path / "out"
    wheels.mkdir()
    out.mkdir()
    container.build_wheels(str(wheels), python_version)
    code = container.boot(
        rootfs,
        binds={
            str(wheels): "/wheels",
            ansible_wheels(python_version): "/ansible-wheels",
            str(ROLES): "/roles",
            str(DATA): "/playbook",
            str(DATA / "ansible-check.sh"): "/check/run-checks.sh",
        },
        writable={str(out): "/out"},
        timeout_s=600,
    )
    log = (out / "check.log").read_text() if (out / "check.log").exists() else "(no check.log)"
    runs = {p.stem: p.read_text() for p in out.glob("*.log") if p.name not in ("check.log",)}
    detail = "\n".join(f"--- {name}\n{text[-3000:]}" for name, text in sorted(runs.items()))
    assert code == 0, f"container exited {code}\n{log}\n{detail}"
    facts = _facts(log)
    assert "RESULT 0" in log

    fresh = _recap(facts, "check-fresh")
    assert facts["check-fresh rc"] == "0", runs.get("check-fresh")
    assert fresh["failed"] == 0
    assert fresh["changed"] >= 3  # venv, profile, drop-in ... would change
    assert (facts["check-fresh venv"], facts["check-fresh unit"]) == ("no", "no")  # and nothing did

    run1 = _recap(facts, "run1")
    assert facts["run1 rc"] == "0", detail
    assert run1["failed"] == 0
    assert run1["changed"] >= 5  # venv, link, profile, unit, drop-in, ...
    assert facts["mtu before"] == "1500"
    assert facts["run1 mtu"] == "9001"
    assert (facts["run1 active"], facts["run1 enabled"], facts["run1 textfile"]) == ("active", "enabled", "yes")

    run2 = _recap(facts, "run2")
    assert facts["run2 rc"] == "0"
    assert (run2["changed"], run2["failed"]) == (0, 0), runs.get("run2")  # idempotent
    assert facts["run2 pid_same"] == "yes"  # nothing restarted the daemon

    clean = _recap(facts, "check-clean")
    assert (clean["changed"], clean["failed"]) == (0, 0), runs.get("check-clean")  # plan: nothing to change
    assert facts["check-clean plan_task"] == "ok"
    assert facts["run2 plan_task"] == "skipping"  # `netagent plan` runs in check mode only

    drift = _recap(facts, "check-drift")
    assert drift["failed"] == 0
    assert drift["changed"] >= 1
    assert facts["check-drift plan_task"] == "changed"
    assert facts["check-drift plan"] != "0"  # `netagent plan` named the change
    assert facts["check-drift mtu"] == "1500"  # check mode changed nothing

    assert facts["run-9000 rc"] == "0"
    assert _recap(facts, "run-9000")["changed"] >= 1
    assert facts["run-9000 handler"] == "1"
    assert facts["run-9000 mtu"] == "9000"  # the daemon re-read its profile on SIGHUP ...
    assert facts["run-9000 pid_same"] == "yes"  # ... without a restart
    assert facts["run-9000 profile"] == "1"
