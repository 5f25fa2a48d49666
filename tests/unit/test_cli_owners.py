"""`audit --root` and `plan` through the CLI, the host mocked and the owners read from a fixture tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netagent import cli
from netagent.core.errors import ExitCode
from netagent.core.model import HostState, Link
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

LAYERED = str(Path(__file__).resolve().parents[1] / "data" / "roots" / "layered")
MALFORMED = str(Path(__file__).resolve().parents[1] / "data" / "roots" / "malformed")
PROFILE = "name: t\ninterfaces:\n  - match: lab0\n    mtu: 9001\nsysctl:\n  net.core.rmem_max: 212992\n"


def state(mtu: int) -> HostState:
    lab0 = Link(
        "lab0", 2, mtu, "up", {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}
    )
    return HostState(("lab0",), {"lab0": lab0}, {"net.core.rmem_max": "4194304"})


@pytest.fixture
def profile_path(tmp_path: Path) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return str(path)


def test_owner_warnings_show_in_json_and_do_not_change_the_exit_code(mocker, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001))
    profile = str(tmp_path / "p.yaml")
    Path(profile).write_text(PROFILE.replace("212992", "4194304"))  # compliant, yet 99-local.conf disagrees
    code = cli.main(["audit", "--profile", profile, "--root", LAYERED, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == ExitCode.OK
    assert doc["compliant"] is True
    checks = {c["id"]: c for c in doc["checks"]}
    (winner,) = [o for o in checks["sysctl/net.core.rmem_max"]["owners"] if o["wins_at_boot"]]
    assert (winner["source"], winner["line"], winner["value"], winner["conflicts"]) == (
        "/etc/sysctl.d/99-local.conf",
        3,
        "212992",
        True,
    )
    assert {o["source"] for o in checks["lab0/mtu"]["owners"]} == {
        "/etc/systemd/network/10-lab.link",
        "/etc/systemd/network/20-lab0.network",
    }


def test_audit_text_names_the_boot_winner(mocker, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001))
    profile = tmp_path / "p.yaml"
    profile.write_text(PROFILE.replace("212992", "67108864"))
    assert cli.main(["audit", "--profile", str(profile), "--root", LAYERED]) == ExitCode.DRIFT
    out = capsys.readouterr().out
    # issue 16: the layered tree's TuneD profile reapplies /etc/sysctl.d after its own sysctls
    assert (
        "    owner: /etc/sysctl.d/99-local.conf:3 sets 212992"
        " (TuneD reapplies it after its own sysctls); wins at boot\n" in out
    )


def test_malformed_owner_files_are_reported_not_crashed_on(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001))
    code = cli.main(["audit", "--profile", profile_path, "--root", MALFORMED, "--format", "json"])
    assert code == ExitCode.DRIFT  # the rmem_max drift, not the files
    checks = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    problems = {o["source"] for o in checks["lab0/mtu"]["owners"] if o["problem"]}
    assert "/etc/NetworkManager/system-connections/bad.nmconnection" in problems
    assert "/etc/sysctl.d/10-latin1.conf" in {o["source"] for o in checks["sysctl/net.core.rmem_max"]["owners"]}


def test_plan_prints_the_diff_and_who_reverts_it(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(1500))
    writer = mocker.patch("netagent.host.writer.HostWriter")
    assert cli.main(["plan", "--profile", profile_path, "--root", LAYERED]) == ExitCode.OK
    writer.assert_not_called()
    assert capsys.readouterr().out.splitlines() == [
        "lab0 mtu 1500 -> 9001",
        "    reverted at boot by /etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot",
        "net.core.rmem_max 4194304 -> 212992",
        "",
        "2 changes; 1 would be reverted at the next boot",
    ]
    assert cli.main(["plan", "--profile", profile_path, "--root", LAYERED, "--format", "json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert [(c["id"], len(c["reverted_by"])) for c in doc["changes"]] == [
        ("lab0/mtu", 1),
        ("sysctl/net.core.rmem_max", 0),
    ]


def test_root_that_is_not_a_directory_is_bad_input(mocker, profile_path: str, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001))
    missing = str(tmp_path / "no-such-image")
    assert cli.main(["audit", "--profile", profile_path, "--root", missing]) == ExitCode.BAD_INPUT
    assert capsys.readouterr().err == f"netagent: error: --root {missing}: not a directory\n"


def test_issue16_audit_root_without_profile_uses_the_images_profile(tmp_path: Path) -> None:
    image = tmp_path / "img"
    (image / "etc/netagent").mkdir(parents=True)
    assert cli.default_profile_path(str(image)) != str(image / "etc/netagent/profile.yaml")
    (image / "etc/netagent/profile.yaml").write_text(PROFILE)
    assert cli.default_profile_path(str(image)) == str(image / "etc/netagent/profile.yaml")


def test_issue16_audit_root_loads_the_images_profile_end_to_end(mocker, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=state(9001))
    image = tmp_path / "img"
    (image / "etc/netagent").mkdir(parents=True)
    (image / "etc/netagent/profile.yaml").write_text(PROFILE.replace("name: t", "name: from-image"))
    (image / "etc/netagent/profile.yaml").chmod(0o600)
    cli.main(["audit", "--root", str(image), "--format", "json"])
    assert json.loads(capsys.readouterr().out)["profile"]["name"] == "from-image"
