"""Severity and `when:`: how they parse, which checks they skip, and what fails the audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netagent import cli
from netagent.core.conditions import skip_reason
from netagent.core.diff import audit, plan
from netagent.core.errors import ExitCode, ProfileError
from netagent.core.model import AuditContext, Condition, HostState, Link, Profile, Report, Severity, Status
from netagent.core.owners import OwnerFiles
from netagent.core.profile.parser import parse_profile
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

CH = Channels(8, 8, 0, 0, 8, 8, 0, 0)
BAKE = AuditContext(phase="bake")
RUNTIME = AuditContext(phase="runtime")
PROFILE = """\
name: t
interfaces:
  - match: "lab*"
    channels: {rx: 4}
    when: runtime
  - match: lab0
    mtu: 9001
    severity: recommended
  - match: eth9
    mtu: 9001
    when: {phase: runtime}
  - match: lab0
    driver: ena
    when: {instance_type: ["c6in.*", "c7gn.*"]}
sysctl:
  net.ipv4.tcp_mtu_probing: 1
  net.ipv4.tcp_slow_start_after_idle: {value: 0, severity: recommended}
  net.ipv4.tcp_rmem: {value: "4096 131072 67108864", when: {phase: runtime, instance_type: "c6in.*"}}
"""


def host() -> HostState:
    lab0 = Link("lab0", 2, 1500, "up", {"driver": DriverInfo("veth", "1.0"), "channels": CH})
    sysctls = {
        "net.ipv4.tcp_mtu_probing": "1",
        "net.ipv4.tcp_slow_start_after_idle": "1",
        "net.ipv4.tcp_rmem": "4096 131072 6291456",
    }
    return HostState(("lab0",), {"lab0": lab0}, sysctls)  # type: ignore[arg-type]


def checks(ctx: AuditContext) -> dict[str, tuple[str, str, str]]:
    found = audit(parse_profile(PROFILE, "p.yaml"), host(), ctx)
    return {c.id: (c.status.value, c.severity.value, c.message) for c in found}


def test_parse_severity_and_when_in_every_form() -> None:
    profile = parse_profile(PROFILE, "p.yaml")
    rules = profile.interfaces
    assert (rules[0].when, rules[0].severity) == (Condition(phase="runtime"), Severity.REQUIRED)
    assert (rules[1].when, rules[1].severity) == (None, Severity.RECOMMENDED)
    assert rules[3].when == Condition(phase=None, instance_types=("c6in.*", "c7gn.*"))
    probing, idle, rmem = profile.sysctls
    assert (probing.value, probing.severity, probing.when) == ("1", Severity.REQUIRED, None)
    assert (idle.value, idle.severity) == ("0", Severity.RECOMMENDED)
    assert (rmem.value, rmem.when) == ("4096 131072 67108864", Condition("runtime", ("c6in.*",)))


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("interfaces:\n  - match: a\n    severity: optional\n", "interfaces[0].severity: expected required or"),
        ("interfaces:\n  - match: a\n    when: bake\n", "interfaces[0].when: expected runtime or a mapping"),
        ("interfaces:\n  - match: a\n    when: {phase: bake}\n", "interfaces[0].when.phase: expected runtime, got"),
        ("interfaces:\n  - match: a\n    when: {}\n", "interfaces[0].when: expected at least one of phase"),
        ("interfaces:\n  - match: a\n    when: {instance_type: []}\n", "when.instance_type: expected a glob or a"),
        ("interfaces:\n  - match: a\n    when: {region: x}\n", "interfaces[0].when.region: unknown key"),
        ("sysctl:\n  net.a.b: {severity: recommended}\n", "sysctl.net.a.b.value: required key is missing"),
        ("sysctl:\n  net.a.b: {value: on}\n", "sysctl.net.a.b.value: expected an integer or a string of integers"),
        ("sysctl:\n  net.a.b: {value: 1, sev: x}\n", "sysctl.net.a.b.sev: unknown key; expected one of: value,"),
    ],
)
def test_bad_severity_or_when_names_the_field(snippet: str, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile("name: x\n" + snippet, "p.yaml")
    assert any(problem in line for line in info.value.lines()), info.value.lines()


@pytest.mark.parametrize(
    ("when", "ctx", "reason"),
    [
        (None, BAKE, None),
        (Condition(phase="runtime"), RUNTIME, None),
        (Condition(phase="runtime"), BAKE, "when: runtime; skipped in the bake phase"),
        (Condition(instance_types=("c6in.*",)), RUNTIME, "when: instance_type c6in.*; instance type unknown"),
        (
            Condition(instance_types=("c6in.*",)),
            AuditContext("runtime", "m5.large"),
            "when: instance_type c6in.*; this is m5.large",
        ),
        (Condition(instance_types=("m5.*", "c6in.*")), AuditContext("runtime", "c6in.32xlarge"), None),
    ],
)
def test_skip_reason(when: Condition | None, ctx: AuditContext, reason: str | None) -> None:
    assert skip_reason(when, ctx) == reason


def test_bake_skips_runtime_checks_and_says_why() -> None:
    found = checks(BAKE)
    assert found["lab0/channels"] == ("skipped", "required", "when: runtime; skipped in the bake phase")
    # A runtime rule that matches nothing on the builder is skipped too, not failed.
    assert found["interfaces[2]/match"] == ("skipped", "required", "when: runtime; skipped in the bake phase")
    assert found["lab0/mtu"][:2] == ("drift", "recommended")
    assert found["lab0/driver"] == ("skipped", "required", "when: instance_type c6in.*, c7gn.*; instance type unknown")
    assert found["sysctl/net.ipv4.tcp_rmem"][0] == "skipped"


def test_runtime_checks_everything_but_unknown_instance_types() -> None:
    found = checks(RUNTIME)
    assert found["lab0/channels"][0] == "drift"
    assert found["interfaces[2]/match"][0] == "drift"
    assert found["lab0/driver"][0] == "skipped"
    assert checks(AuditContext("runtime", "c6in.xlarge"))["lab0/driver"][0] == "drift"
    assert (
        checks(AuditContext("runtime", "m5.large"))["lab0/driver"][2]
        == "when: instance_type c6in.*, c7gn.*; this is m5.large"
    )


def test_skipped_checks_carry_no_fix_and_apply_leaves_them_alone() -> None:
    found = audit(parse_profile(PROFILE, "p.yaml"), host(), BAKE)
    skipped = [c for c in found if c.status is Status.SKIPPED]
    assert skipped
    assert all(c.change is None and c.actual is None for c in skipped)
    assert {ch.setting for ch in plan(found).changes} == {"lab0/mtu", "sysctl/net.ipv4.tcp_slow_start_after_idle"}


def test_the_field_takes_the_severity_and_condition_of_the_rule_that_sets_it() -> None:
    text = "name: t\ninterfaces:\n  - match: lab*\n    mtu: 1400\n    when: runtime\n  - match: lab0\n    mtu: 9001\n"
    (check,) = audit(parse_profile(text, "p.yaml"), host(), BAKE)
    assert (check.id, check.status, check.expected) == ("lab0/mtu", Status.DRIFT, "9001")
    text = "name: t\ninterfaces:\n  - match: lab0\n    mtu: 9001\n  - match: lab*\n    mtu: 1400\n    when: runtime\n"
    (check,) = audit(parse_profile(text, "p.yaml"), host(), BAKE)
    assert (check.status, check.expected) == (Status.SKIPPED, "1400")


def test_recommended_drift_passes_unless_strict() -> None:
    found = tuple(audit(parse_profile(PROFILE, "p.yaml"), host(), BAKE))
    profile = Profile("t", "p.yaml")
    assert Report(profile, {}, found).compliant
    assert not Report(profile, {}, found, strict=True).compliant
    required = tuple(c for c in found if c.id != "lab0/mtu") + tuple(
        audit(parse_profile(PROFILE, "p.yaml"), host(), RUNTIME)
    )
    assert not Report(profile, {}, required).compliant


@pytest.fixture
def profile_path(tmp_path: Path) -> str:
    path = tmp_path / "p.yaml"
    path.write_text(PROFILE)
    return str(path)


def test_cli_phase_and_strict_decide_the_exit_code(mocker, profile_path: str, capsys) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.observe.observe", return_value=host())
    mocker.patch("netagent.host.owner_files.read_owner_files", return_value=OwnerFiles())
    assert cli.main(["audit", "--profile", profile_path, "--phase", "bake"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "recommended: would set lab0 mtu 1500 -> 9001" in out
    assert "when: runtime; skipped in the bake phase" in out
    assert "2 recommended not met (fails only with --strict)" in out
    assert cli.main(["audit", "--profile", profile_path, "--phase", "bake", "--strict"]) == ExitCode.DRIFT
    capsys.readouterr()
    assert cli.main(["audit", "--profile", profile_path, "--format", "json"]) == ExitCode.DRIFT
    doc = json.loads(capsys.readouterr().out)
    assert doc["context"] == {"phase": "runtime", "instance_type": None}
    assert doc["strict"] is False
    assert {c["id"]: c["severity"] for c in doc["checks"]}["lab0/mtu"] == "recommended"
    assert doc["summary"]["skipped"] == 2
