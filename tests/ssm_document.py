"""The SSM Command document rules that can be checked offline, and SSM's parameter substitution.

From the AWS Systems Manager document reference (schema version 2.2, "Data elements and
parameters", "Command document plugin reference", aws:runShellScript):
- top level: `schemaVersion` "2.2", `mainSteps` (a non-empty list) are required; `description`
  and `parameters` are optional; no other keys;
- a parameter name is alphanumeric (and `_`); its `type` is String, StringList, Integer,
  Boolean, MapList or StringMap; `default`, `allowedValues` and `allowedPattern` must agree;
- a step has `action`, `name` (unique; letters, digits, `.`, `-`, `_`), `inputs`; a 2.2
  document's Linux steps use aws:runShellScript, whose `runCommand` is a list of strings (or one
  string) and `timeoutSeconds` a string or an integer up to 172800;
- `{{ name }}` references in string values must name a declared parameter (`{{ssm:...}}`
  reads Parameter Store and is not a document parameter).
Run Command replaces every `{{ name }}` by the value, after checking it against allowedValues /
allowedPattern and filling defaults; a missing parameter with no default is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

PARAMETER_TYPES = {"String", "StringList", "Integer", "Boolean", "MapList", "StringMap"}
TOP_KEYS_REQUIRED = {"schemaVersion", "mainSteps"}
TOP_KEYS = TOP_KEYS_REQUIRED | {"description", "parameters", "outputs", "files"}
PARAMETER_KEYS = {"type", "description", "default", "allowedValues", "allowedPattern", "displayType", "minItems",
                  "maxItems", "minChars", "maxChars"}  # fmt: skip
STEP_KEYS = {"action", "name", "inputs", "precondition", "description", "isEnd", "onFailure", "finallyStep"}
RUN_SHELL_INPUTS = {"runCommand", "workingDirectory", "timeoutSeconds"}
MAX_TIMEOUT_S = 172800
NAME = re.compile(r"^[A-Za-z0-9_]+$")
STEP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
REFERENCE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")


def load(path: Path) -> dict[str, Any]:
    """Parse a YAML document (SSM accepts YAML 1.2 / JSON)."""
    doc = yaml.safe_load(path.read_text())
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not a mapping")
    return doc


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")


def validate(doc: Mapping[str, Any]) -> list[str]:
    """Return every rule the document breaks (an empty list: valid)."""
    problems = [f"missing required {k}" for k in sorted(TOP_KEYS_REQUIRED - set(doc))]
    problems += [f"unknown top-level key {k}" for k in sorted(set(doc) - TOP_KEYS)]
    if doc.get("schemaVersion") != "2.2":
        problems.append(f"schemaVersion: expected the string '2.2', got {doc.get('schemaVersion')!r}")
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        return [*problems, "parameters: not a mapping"]
    for name, spec in params.items():
        problems += [f"parameters.{name}: {p}" for p in _parameter_problems(str(name), spec)]
    steps = doc.get("mainSteps")
    if not isinstance(steps, list) or not steps:
        return [*problems, "mainSteps: expected a non-empty list"]
    names: set[str] = set()
    for i, step in enumerate(steps):
        problems += [f"mainSteps[{i}]: {p}" for p in _step_problems(step, names)]
    used = set()
    for where, text in _strings({"description": doc.get("description"), "mainSteps": steps}, "doc"):
        for ref in REFERENCE.findall(text):
            if ref.startswith(("ssm:", "ssm-secure:", "resolve:")):
                continue
            used.add(ref)
            if ref not in params:
                problems.append(f"{where}: {{{{ {ref} }}}} names no parameter")
    problems += [f"parameters.{name}: declared but never used" for name in sorted(set(params) - used)]
    return problems


def _parameter_problems(name: str, spec: object) -> list[str]:
    if not NAME.match(name):
        return ["name: letters, digits and _ only"]
    if not isinstance(spec, dict):
        return ["not a mapping"]
    out = [f"unknown key {k}" for k in sorted(set(spec) - PARAMETER_KEYS)]
    if spec.get("type") not in PARAMETER_TYPES:
        out.append(f"type: {spec.get('type')!r} is not one of {sorted(PARAMETER_TYPES)}")
    if not isinstance(spec.get("description", ""), str):
        out.append("description: not a string")
    allowed, pattern = spec.get("allowedValues"), spec.get("allowedPattern")
    if allowed is not None and (not isinstance(allowed, list) or not allowed):
        out.append("allowedValues: expected a non-empty list")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            out.append(f"allowedPattern: {exc}")
            pattern = None
    if "default" in spec:
        default = spec["default"]
        if spec.get("type") == "String" and not isinstance(default, str):
            out.append(f"default: a String parameter needs a string, got {default!r}")
        elif allowed and default not in allowed:
            out.append(f"default {default!r} is not in allowedValues")
        elif pattern is not None and not re.search(pattern, str(default)):
            out.append(f"default {default!r} does not match allowedPattern")
    return out


def _step_problems(step: object, names: set[str]) -> list[str]:
    if not isinstance(step, dict):
        return ["not a mapping"]
    out = [f"missing {k}" for k in ("action", "name", "inputs") if k not in step]
    out += [f"unknown key {k}" for k in sorted(set(step) - STEP_KEYS)]
    name = step.get("name")
    if not isinstance(name, str) or not STEP_NAME.match(name):
        out.append(f"name {name!r}: 1-100 letters, digits, '.', '-', '_'")
    elif name in names:
        out.append(f"name {name!r} is used twice")
    else:
        names.add(name)
    if step.get("action") != "aws:runShellScript":
        out.append(f"action {step.get('action')!r}: this document's steps are aws:runShellScript (Linux)")
    pre = step.get("precondition")
    if pre is not None and pre != {"StringEquals": ["platformType", "Linux"]}:
        out.append(f"precondition {pre!r}: expected StringEquals [platformType, Linux]")
    inputs = step.get("inputs")
    if not isinstance(inputs, dict):
        return [*out, "inputs: not a mapping"]
    out += [f"inputs: unknown key {k}" for k in sorted(set(inputs) - RUN_SHELL_INPUTS)]
    commands = inputs.get("runCommand")
    if isinstance(commands, str):
        commands = [commands]
    if not isinstance(commands, list) or not commands or not all(isinstance(c, str) for c in commands):
        out.append("inputs.runCommand: expected a non-empty list of strings")
    timeout = inputs.get("timeoutSeconds")
    if timeout is not None:
        try:
            seconds = int(timeout)
        except (TypeError, ValueError):
            seconds = -1
        if not 1 <= seconds <= MAX_TIMEOUT_S:
            out.append(f"inputs.timeoutSeconds {timeout!r}: expected 1..{MAX_TIMEOUT_S}")
    return out


def resolve(doc: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    """Return every parameter's value as Run Command would: given, else the default.

    Raises:
        ValueError: an unknown parameter, a missing one, or a value outside allowedValues/allowedPattern.
    """
    params = doc.get("parameters") or {}
    unknown = set(given) - set(params)
    if unknown:
        raise ValueError(f"InvalidParameters: unknown {sorted(unknown)}")
    values = {}
    for name, spec in params.items():
        if name not in given and "default" not in spec:
            raise ValueError(f"InvalidParameters: {name} is required")
        value = str(given.get(name, spec.get("default")))
        if spec.get("allowedValues") and value not in spec["allowedValues"]:
            raise ValueError(f"InvalidParameters: {name}={value!r} not in allowedValues")
        if spec.get("allowedPattern") and not re.search(spec["allowedPattern"], value):
            raise ValueError(f"InvalidParameters: {name}={value!r} does not match allowedPattern")
        values[name] = value
    return values


def script(doc: Mapping[str, Any], given: Mapping[str, str], step: int = 0) -> str:
    """Return step's runCommand with every {{ parameter }} replaced, as the agent would run it."""
    values = resolve(doc, given)
    commands = doc["mainSteps"][step]["inputs"]["runCommand"]
    text = "\n".join([commands] if isinstance(commands, str) else commands)
    return REFERENCE.sub(lambda m: values[m.group(1)], text)
