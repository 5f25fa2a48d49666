"""The pipeline examples stay valid: YAML that parses, HCL of the right shape, commands that parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from netagent import cli

DOCS = Path(__file__).resolve().parents[2] / "docs"
PACKER = DOCS / "packer" / "netagent.pkr.hcl"
IMAGE_BUILDER = DOCS / "imagebuilder" / "netagent-component.yaml"


def netagent_argvs(command: str) -> list[list[str]]:
    """Return the argv (after `netagent`) of every netagent call in a shell command line."""
    out = []
    for part in re.split(r";|&&|\|\|", command):
        words = shlex.split(part)
        if words[:1] == ["sudo"]:
            words = words[1:]
        if words[:1] == ["netagent"]:
            out.append(words[1:])
    return out


def assert_parses(argv: list[str]) -> None:
    try:
        cli.build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on a bad argument
        raise AssertionError(f"`netagent {' '.join(argv)}` does not parse") from exc


# ---------------------------------------------------------------- EC2 Image Builder


def component() -> dict:  # type: ignore[type-arg]
    doc = yaml.safe_load(IMAGE_BUILDER.read_text())
    assert isinstance(doc, dict)
    return doc


def test_image_builder_component_has_build_and_test_phases() -> None:
    doc = component()
    assert doc["schemaVersion"] == 1.0
    assert doc["name"]
    assert doc["description"]
    phases = {p["name"]: p["steps"] for p in doc["phases"]}
    assert set(phases) == {"build", "test"}
    for steps in phases.values():
        for step in steps:
            assert {"name", "action", "inputs"} <= set(step), step
            assert step["action"] in ("ExecuteBash", "S3Download")
    build_calls = [
        argv[0]
        for step in phases["build"]
        if step["action"] == "ExecuteBash"
        for command in step["inputs"]["commands"]
        for argv in netagent_argvs(command)
    ]
    assert build_calls == ["apply", "persist"]
    assert any(
        "pip install" in c for s in phases["build"] if s["action"] == "ExecuteBash" for c in s["inputs"]["commands"]
    )


def test_image_builder_test_phase_audits_as_junit_and_keeps_the_exit_code() -> None:
    [step] = {p["name"]: p["steps"] for p in component()["phases"]}["test"]
    [command] = step["inputs"]["commands"]
    [argv] = netagent_argvs(command)
    assert argv[:1] == ["audit"]
    assert argv[argv.index("--format") + 1] == "junit"
    assert command.rstrip().endswith("exit $rc")  # a drifted image fails the step


def test_image_builder_commands_parse() -> None:
    for phase in component()["phases"]:
        for step in phase["steps"]:
            if step["action"] == "ExecuteBash":
                for command in step["inputs"]["commands"]:
                    for argv in netagent_argvs(command):
                        assert_parses(argv)


# ---------------------------------------------------------------- Packer HCL


def hcl_shape(text: str) -> list[str]:
    """Check brackets and strings balance (comments and string contents aside); return the strings."""
    stack: list[str] = []
    strings: list[str] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "#" or text.startswith("//", i):
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if ch == '"':
            end = i + 1
            while text[end] != '"':
                assert text[end] != "\n", f"unterminated string at offset {i}"
                end += 2 if text[end] == "\\" else 1
            strings.append(text[i + 1 : end])
            i = end + 1
            continue
        if ch in "{[(":
            stack.append(ch)
        elif ch in pairs:
            assert stack, f"{ch!r} closes nothing at offset {i}"
            assert stack.pop() == pairs[ch], f"unbalanced {ch!r} at offset {i}"
        i += 1
    assert not stack, f"unclosed {stack}"
    return strings


def test_packer_snippet_is_hcl_shaped() -> None:
    text = PACKER.read_text()
    hcl_shape(text)
    assert re.search(r"^build \{$", text, re.M)
    assert len(re.findall(r'^\s+provisioner "shell" \{$', text, re.M)) == 2
    for m in re.finditer(r"^\s*(\w+)\s*=", text, re.M):
        assert m.group(1) in {
            "type",
            "description",
            "default",
            "sources",
            "destination",
            "inline",
            "direction",
            "source",
        }


def test_packer_snippet_installs_applies_persists_then_audits_as_junit() -> None:
    calls = [argv for s in hcl_shape(PACKER.read_text()) for argv in netagent_argvs(s)]
    assert [argv[0] for argv in calls] == ["apply", "persist", "audit"]
    audit = calls[-1]
    assert audit[audit.index("--format") + 1] == "junit"
    for argv in calls:
        assert_parses(argv)
    assert "pip install" in PACKER.read_text()


@pytest.mark.parametrize("path", [PACKER, IMAGE_BUILDER])
def test_pipeline_examples_are_linked_from_the_readme(path: Path) -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert str(path.relative_to(DOCS.parent)) in readme
