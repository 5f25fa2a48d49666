"""Issue 15: colour on a terminal (NO_COLOR, --color) and `audit --only/--failures`, with the host mocked."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netagent import cli
from netagent.core.errors import ExitCode
from netagent.core.model import HostState, Link, Status
from netagent.core.reports.colour import use_colour
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

PROFILE = "name: t\ninterfaces:\n  - match: lab*\n    mtu: 9001\nsysctl:\n  net.ipv4.tcp_mtu_probing: 1\n"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def profile_path(tmp_path: Path, mocker) -> str:  # type: ignore[no-untyped-def]
    lab0 = Link(
        "lab0", 2, 1500, "up", {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}
    )
    lab1 = Link(
        "lab1", 3, 9001, "up", {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}
    )
    host = HostState(("lab0", "lab1"), {"lab0": lab0, "lab1": lab1}, {"net.ipv4.tcp_mtu_probing": "1"})
    mocker.patch("netagent.host.observe.observe", return_value=host)
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return str(path)


@pytest.mark.parametrize(
    ("choice", "tty", "env", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),  # piped or redirected
        ("auto", True, {"NO_COLOR": "1"}, False),  # no-color.org: any non-empty value
        ("auto", True, {"NO_COLOR": "0"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),  # set but empty: ignored
        ("auto", True, {"TERM": "dumb"}, False),
        ("always", False, {"NO_COLOR": "1"}, True),  # the flag overrides the variable
        ("never", True, {}, False),
    ],
)
def test_issue15_use_colour(choice: str, tty: bool, env: dict[str, str], expected: bool) -> None:
    assert use_colour(choice, tty, env) is expected


def _audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["audit", "--no-imds", *argv])
    return code, capsys.readouterr().out


def test_issue15_color_always_paints_statuses_and_keeps_columns(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    _, plain = _audit(capsys, "--profile", profile_path)
    code, painted = _audit(capsys, "--profile", profile_path, "--color=always")
    assert code == ExitCode.DRIFT
    assert "\x1b[33mdrift\x1b[0m" in painted
    assert "\x1b[32mok\x1b[0m" in painted
    assert "\x1b[1;31mNOT compliant\x1b[0m" in painted
    assert ANSI.sub("", painted) == plain  # same text and alignment once the escapes are gone
    assert not ANSI.search(plain)  # captured stdout is not a terminal: auto means no colour


def test_issue15_no_color_on_a_terminal(profile_path: str, capsys, mocker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(cli, "_isatty", return_value=True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    assert ANSI.search(_audit(capsys, "--profile", profile_path)[1])
    monkeypatch.setenv("NO_COLOR", "1")
    assert not ANSI.search(_audit(capsys, "--profile", profile_path)[1])
    assert not ANSI.search(_audit(capsys, "--profile", profile_path, "--color", "never")[1])


def test_issue15_only_drift_error_shows_what_needs_attention_summary_stays(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    _, full = _audit(capsys, "--profile", profile_path)
    for flags in (["--only", "drift,error"], ["--failures"]):
        code, out = _audit(capsys, "--profile", profile_path, *flags)
        assert code == ExitCode.DRIFT
        rows = [line.split()[0] for line in out.splitlines()[1:] if line.startswith(("ok", "drift", "error"))]
        assert rows == ["drift"]
        assert "lab0/mtu" in out
        assert "lab1/mtu" not in out
        assert "(2 checks not shown: --only drift,error)" in out
        assert out.splitlines()[-1] == full.splitlines()[-1]  # the summary counts every check
    code, out = _audit(capsys, "--profile", profile_path, "--only", "drift", "--format", "json")
    doc = json.loads(out)
    assert [c["id"] for c in doc["checks"]] == ["lab0/mtu"]
    assert doc["summary"]["ok"] == 2


def test_only_rejects_unknown_statuses_and_other_formats(profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        cli.main(["audit", "--profile", profile_path, "--only", "drift,bad"])
    assert info.value.code == 2
    code = cli.main(["audit", "--no-imds", "--profile", profile_path, "--failures", "--format", "junit"])
    assert code == ExitCode.BAD_INPUT


def test_only_knows_every_status() -> None:
    assert set(cli.STATUSES) == {s.value for s in Status}
