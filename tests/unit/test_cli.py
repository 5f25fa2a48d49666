"""The CLI shell with the host adapters mocked: exit codes, output streams, error lines."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netagent import cli
from netagent.core.errors import ExitCode
from netagent.core.model import HostState, Link
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from tests.unit.fakes import FakeHost

README = Path(__file__).resolve().parents[2] / "README.md"
PROFILE = "name: t\ninterfaces:\n  - match: lab*\n    mtu: 9001\nsysctl:\n  net.ipv4.tcp_mtu_probing: 1\n"
CH = Channels(8, 8, 0, 0, 8, 8, 0, 0)


def state(mtu: int, probing: str) -> HostState:
    lab0 = Link("lab0", 2, mtu, "up", {"driver": {"driver": DriverInfo("veth", "1.0"), "channels": CH}})
    return HostState(("lab0",), {"lab0": lab0}, {"net.ipv4.tcp_mtu_probing": probing})


@pytest.fixture
def profile_path(tmp_path: Path) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return str(path)


def test_audit_json_reports_drift_and_exits_1(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    observe = mocker.patch("netagent.host.observe.observe", return_value=state(1500, "0"))
    assert cli.main(["audit", "--profile", profile_path, "--format", "json"]) == ExitCode.DRIFT
    observe.assert_called_once_with(("lab*",), ["net.ipv4.tcp_mtu_probing"], ("driver",))
    doc = json.loads(capsys.readouterr().out)
    assert doc["compliant"] is False
    assert doc["summary"] == {"ok": 0, "drift": 2, "unsupported": 0, "error": 0, "skipped": 0}
    assert {c["id"]: c["fix"] for c in doc["checks"]} == {
        "lab0/mtu": "lab0 mtu 1500 -> 9001",
        "sysctl/net.ipv4.tcp_mtu_probing": "net.ipv4.tcp_mtu_probing 0 -> 1",
    }


def test_audit_compliant_exits_0_with_text_table(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001, "1"))
    assert cli.main(["audit", "--profile", profile_path]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["STATUS", "CHECK", "EXPECTED", "ACTUAL", "NOTE"]
    assert out.rstrip().splitlines()[-1].startswith("compliant: profile 't'")


def test_apply_dry_run_makes_no_writes(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(1500, "0"))
    writer = mocker.patch("netagent.host.writer.HostWriter")
    assert cli.main(["apply", "--profile", profile_path, "--dry-run"]) == ExitCode.OK
    writer.assert_not_called()
    assert capsys.readouterr().out.splitlines() == [
        "would set lab0 mtu 1500 -> 9001",
        "would set net.ipv4.tcp_mtu_probing 0 -> 1",
    ]


def test_apply_writes_through_the_host(mocker, profile_path: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    host = FakeHost({"lab0/mtu": 1500, "sysctl/net.ipv4.tcp_mtu_probing": "0"}, links={"lab0": (2, "veth")})
    mocker.patch("netagent.cli.system_host", return_value=host)
    args = ["apply", "--profile", profile_path, "--log-level", "error", "--state-dir", str(tmp_path)]
    assert cli.main(args) == ExitCode.OK
    assert '"lab0/mtu"' in (tmp_path / "originals.json").read_text()
    assert [c.setting for c in host.writes] == ["lab0/mtu", "sysctl/net.ipv4.tcp_mtu_probing"]
    assert host.values == {"lab0/mtu": 9001, "sysctl/net.ipv4.tcp_mtu_probing": "1"}
    assert host.closed
    assert "set lab0 mtu 1500 -> 9001" in capsys.readouterr().out


def test_bad_profile_exits_2_with_one_line_per_problem(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ninterfaces:\n  - match: a\n    mtu: jumbo\n    mtu2: 1\n")
    assert cli.main(["validate", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"netagent: error: {path}:4: interfaces[0].mtu: expected an integer 68..9216, got 'jumbo'",
        f"netagent: error: {path}:5: interfaces[0].mtu2: unknown key; did you mean `mtu`? "
        "expected one of: match, driver, driver_min_version, mtu, channels, rings, coalesce, txqueuelen, rps, xps,"
        " bql, large_llq, severity, when",
    ]


def test_internal_error_exits_70_without_traceback(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", side_effect=RuntimeError("boom"))
    assert cli.main(["audit", "--profile", profile_path]) == ExitCode.INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err
    assert "--debug" in err
    assert "Traceback" not in err


def test_default_profile_is_the_packaged_one_without_etc(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("os.path.exists", side_effect=lambda p: p != cli.SYSTEM_PROFILE and p.endswith(".yaml"))
    assert cli.default_profile_path().endswith("ec2-default.yaml")


def test_default_profile_prefers_etc(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("os.path.exists", return_value=True)
    assert cli.default_profile_path() == cli.SYSTEM_PROFILE


def test_version(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert re.fullmatch(r"netagent \d+\.\d+\.\d+\n", capsys.readouterr().out)


@pytest.mark.parametrize(
    "argv",
    [
        ["--state-dir", "/tmp/X", "--log-format", "json", "--debug", "--lock-timeout-s", "2", "restore"],
        ["restore", "--state-dir", "/tmp/X", "--log-format", "json", "--debug", "--lock-timeout-s", "2"],
    ],
)
def test_common_options_work_before_and_after_the_subcommand(argv: list[str]) -> None:
    args = cli.build_parser().parse_args(argv)
    assert (args.state_dir, args.log_format, args.debug, args.lock_timeout_s) == ("/tmp/X", "json", True, 2.0)


def test_common_options_default_when_absent() -> None:
    args = cli.build_parser().parse_args(["restore"])
    assert (args.state_dir, args.log_format, args.debug) == ("/var/lib/netagent", None, False)


def test_unwritable_stdout_is_an_output_error_not_a_bug(profile_path: str, mocker, capsys) -> None:  # type: ignore[no-untyped-def]
    """Review finding: `validate > /dev/full` exited 70, "internal error (a bug)"."""
    import io

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    mocker.patch("sys.stdout", Full())
    assert cli.main(["validate", profile_path]) == ExitCode.OUTPUT
    assert "cannot write to standard output (No space left on device)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "dry_run", "tty", "level"),
    [
        ("apply", False, True, "warning"),  # issue 15: stdout's `set ...` line is the one record on a terminal
        ("apply", False, False, "info"),  # piped: the events are the durable record
        ("restore", False, True, "warning"),
        ("restore", False, False, "info"),
        ("apply", True, False, "warning"),  # a dry run writes nothing to log
        ("daemon", False, True, "info"),  # no report: the daemon always logs its writes
        ("audit", False, False, "warning"),
    ],
)
def test_issue15_default_log_level_says_each_change_once(command: str, dry_run: bool, tty: bool, level: str) -> None:
    assert cli.default_log_level(command, dry_run, tty) == level
