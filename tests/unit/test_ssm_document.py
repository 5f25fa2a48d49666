"""fleet/ssm/netagent-run.yml against the SSM document rules checkable offline (issue 14)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests import ssm_document

DOC_PATH = Path(__file__).resolve().parents[2] / "fleet" / "ssm" / "netagent-run.yml"
DOC = ssm_document.load(DOC_PATH)


def test_document_follows_the_offline_rules() -> None:
    assert ssm_document.validate(DOC) == []
    assert DOC["schemaVersion"] == "2.2"
    assert {"action", "profile", "format", "phase"} <= set(DOC["parameters"])
    assert DOC["parameters"]["action"]["allowedValues"] == ["audit", "apply", "restore"]


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.pop("mainSteps"), "missing required mainSteps"),
        (lambda d: d.update(schemaVersion=2.2), "schemaVersion: expected the string '2.2'"),
        (lambda d: d["parameters"]["format"].update(type="Enum"), "parameters.format: type: 'Enum'"),
        (lambda d: d["parameters"]["phase"].update(default="boot"), "default 'boot' is not in allowedValues"),
        (lambda d: d["parameters"]["executable"].update(default="netagent"), "does not match allowedPattern"),
        (lambda d: d["parameters"].pop("stateDir"), "{{ stateDir }} names no parameter"),
        (lambda d: d["parameters"].update(extra={"type": "String"}), "parameters.extra: declared but never used"),
        (lambda d: d["mainSteps"].append(copy.deepcopy(d["mainSteps"][0])), "name 'netagent' is used twice"),
        (lambda d: d["mainSteps"][0].update(action="aws:runPowerShellScript"), "aws:runShellScript"),
        (lambda d: d["mainSteps"][0]["inputs"].update(timeoutSeconds="0"), "timeoutSeconds '0'"),
        (lambda d: d["mainSteps"][0]["inputs"].update(runCommand=[]), "runCommand: expected a non-empty list"),
    ],
)
def test_validator_catches_each_broken_rule(edit: Any, problem: str) -> None:
    doc = copy.deepcopy(DOC)
    edit(doc)
    assert any(problem in p for p in ssm_document.validate(doc)), ssm_document.validate(doc)


@pytest.mark.parametrize(
    "given",
    [
        {"action": "destroy"},
        {"format": "yaml"},
        {"reportFile": "/tmp/x'; reboot; '"},
        {"executable": "netagent"},
        {"bogus": "1"},
    ],
)
def test_run_command_refuses_values_outside_the_allowed_ones(given: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="InvalidParameters"):
        ssm_document.resolve(DOC, given)


def test_substitution_fills_every_reference_and_keeps_an_inline_profile_verbatim() -> None:
    profile = 'name: inline\ninterfaces:\n  - match: "eth*"\n    mtu: 9001  # it\'s $HOME `x`\n'
    text = ssm_document.script(DOC, {"action": "apply", "profile": profile})
    assert "{{" not in text
    assert "action='apply'" in text
    assert profile in text  # inside a quoted here-document: no shell expansion
    assert "\nNETAGENT_PROFILE_END\n" in text
