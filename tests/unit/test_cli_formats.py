"""audit --format junit|prometheus, --output, and the IMDS options, with the host mocked."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netagent import cli
from netagent.core.ec2 import InstanceFacts
from netagent.core.errors import ExitCode
from netagent.core.model import HostState, Link
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from netagent.host import imds

PROFILE = "name: t\ninterfaces:\n  - match: lab*\n    mtu: 9001\n"
FACTS = InstanceFacts("i-1", "c6in.8xlarge", "us-east-1", "us-east-1a")


@pytest.fixture
def profile_path(tmp_path: Path, mocker) -> str:  # type: ignore[no-untyped-def]
    lab0 = Link(
        "lab0", 2, 1500, "up", {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}
    )
    mocker.patch("netagent.host.observe.observe", return_value=HostState(("lab0",), {"lab0": lab0}))
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return str(path)


def test_audit_junit_to_stdout(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["audit", "--profile", profile_path, "--format", "junit"]) == ExitCode.DRIFT
    suite = ET.fromstring(capsys.readouterr().out).find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"


def test_audit_prometheus_output_file_is_written_atomically(profile_path: str, tmp_path: Path, mocker, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(imds, "lookup", return_value=FACTS)
    out = tmp_path / "netagent.prom"
    out.write_text("old\n")
    replace = mocker.spy(os, "replace")
    fsync = mocker.spy(os, "fsync")
    code = cli.main(["audit", "--profile", profile_path, "--format", "prometheus", "--output", str(out)])
    assert code == ExitCode.DRIFT
    assert capsys.readouterr().out == ""
    [(src, dst)] = [c.args for c in replace.call_args_list]
    assert os.path.dirname(src) == str(tmp_path)
    assert dst == str(out)
    assert not src.endswith(".prom")  # the textfile collector never reads the temp file
    assert fsync.call_count >= 1
    names = {f.name for f in text_string_to_metric_families(out.read_text())}
    assert {"netagent_check_drift", "netagent_compliant", "netagent_ec2_info"} <= names
    assert sorted(p.name for p in tmp_path.iterdir()) == ["netagent.prom", "p.yaml"]  # no temp file left


def test_issue12_audit_output_into_a_missing_directory_exits_74(profile_path: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The README promises 74 when the report cannot be written; it exited 2 (issue 12)."""
    code = cli.main(["audit", "--profile", profile_path, "--output", str(tmp_path / "no" / "x.prom")])
    assert code == ExitCode.OUTPUT == 74
    assert "cannot write" in capsys.readouterr().err


def test_no_imds_skips_the_lookup(profile_path: str, mocker, capsys) -> None:  # type: ignore[no-untyped-def]
    lookup = mocker.patch.object(imds, "lookup")
    cli.main(["audit", "--profile", profile_path, "--format", "json", "--no-imds"])
    lookup.assert_not_called()
    assert json.loads(capsys.readouterr().out)["ec2"] == {"status": "skipped"}


def test_imds_endpoint_is_passed_and_unavailable_is_not_a_failure(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    # The autouse fixture's lookup answers "unavailable", as off EC2.
    code = cli.main(
        ["audit", "--profile", profile_path, "--format", "json", "--imds-endpoint", "http://[fd00:ec2::254]"]
    )
    assert code == ExitCode.DRIFT  # the drift, not the missing IMDS, decides
    assert json.loads(capsys.readouterr().out)["ec2"]["status"] == "unavailable"


def test_bad_imds_endpoint_is_bad_input(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["audit", "--profile", profile_path, "--imds-endpoint", "ftp://x"]) == ExitCode.BAD_INPUT
    assert "not http://HOST[:PORT]" in capsys.readouterr().err


def test_instance_facts_returns_the_facts_for_when_conditions(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(imds, "lookup", return_value=FACTS)
    args = cli.build_parser().parse_args(["audit"])
    assert cli.instance_facts(args) == FACTS
