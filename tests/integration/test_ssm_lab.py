"""The SSM document's script, run for real in a namespace lab with parameters substituted as
Run Command would (issue 14): audit (drift fails the step), apply, a JSON report for the fleet
report, restore, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import ssm_document
from tests.integration.lab import Lab

pytestmark = pytest.mark.integration

DOC = ssm_document.load(Path(__file__).resolve().parents[2] / "fleet" / "ssm" / "netagent-run.yml")
NETAGENT = str(Path(sys.executable).with_name("netagent"))
PROFILE = """\
name: ssm-lab
interfaces:
  - match: "lab*"
    mtu: 9001
"""


def run_document(lab: Lab, tmp_path: Path, **params: str) -> subprocess.CompletedProcess[str]:
    """Write the substituted script to a file and run it with sh in the lab, as the agent does."""
    script = tmp_path / "_script.sh"
    script.write_text(ssm_document.script(DOC, {"executable": NETAGENT, "stateDir": lab.state_dir, **params}))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.run(
        ["ip", "netns", "exec", lab.name, "sh", str(script)], capture_output=True, text=True, timeout=120, env=env
    )


def test_document_script_audits_applies_reports_and_restores(lab: Lab, tmp_path: Path) -> None:
    assert [lab.mtu(i) for i in lab.ifnames] == [1500, 1500, 1500]

    audit = run_document(lab, tmp_path, action="audit", profile=PROFILE)  # inline YAML
    assert audit.returncode == 1, audit.stderr  # drift: the SSM step fails
    assert "drift" in audit.stdout
    assert "netagent audit exited 1 (drift" in audit.stderr
    assert [lab.mtu(i) for i in lab.ifnames] == [1500, 1500, 1500]

    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    apply = run_document(lab, tmp_path, action="apply", profile=str(path), format="json")
    assert apply.returncode == 0, apply.stderr
    assert json.loads(apply.stdout)["after"]["compliant"] is True
    assert [lab.mtu(i) for i in lab.ifnames] == [9001, 9001, 9001]

    report = tmp_path / "reports" / "host.json"
    report.parent.mkdir()
    audit = run_document(lab, tmp_path, action="audit", profile=str(path), format="json", reportFile=str(report))
    assert audit.returncode == 0, audit.stderr
    assert json.loads(report.read_text())["compliant"] is True
    assert json.loads(audit.stdout) == json.loads(report.read_text())  # shown in the command output too
    fleet = subprocess.run(
        [NETAGENT, "fleet-report", str(report.parent), "--format", "json"], capture_output=True, text=True
    )
    assert (fleet.returncode, json.loads(fleet.stdout)["hosts_compliant"]) == (0, 1)

    restore = run_document(lab, tmp_path, action="restore")
    assert restore.returncode == 0, restore.stderr
    assert [lab.mtu(i) for i in lab.ifnames] == [1500, 1500, 1500]


def test_document_script_maps_bad_input_to_exit_2(lab: Lab, tmp_path: Path) -> None:
    broken = run_document(lab, tmp_path, action="audit", profile="name: [unclosed\n")
    assert broken.returncode == 2
    assert "bad input" in broken.stderr
    missing = run_document(lab, tmp_path, action="audit", profile=str(tmp_path / "absent.yaml"))
    assert missing.returncode == 2
    no_binary = run_document(lab, tmp_path, action="audit", executable="/nonexistent/netagent")
    assert no_binary.returncode == 2
    assert "is not an executable" in no_binary.stderr
    assert list((tmp_path / "tmp").iterdir()) == []  # the script's work directory is always removed
