"""JUnit XML: one testsuite, one testcase per check, so image pipelines can gate on it (pure).

Mapping (README.md, "Report formats"):
- ok           -> a passing testcase
- drift        -> <failure type="drift"> with expected, actual and the fix apply would make
- error        -> <error type="error">: the check could not be made (fails the audit too)
- drift or error that does not fail the audit (a `recommended` check without --strict)
               -> <skipped message="recommended: ...">: the gate must agree with the exit code
                  and `netagent_compliant`, so it is not a failure; the message keeps expected
                  and actual so that the drift stays visible.
- skipped      -> <skipped message="...">: the check did not apply here (its `when:`), as goss writes it.
- unsupported  -> <skipped>: the device or driver cannot do it; it does not fail the audit, and
                  JUnit consumers count a skip as neither pass nor failure, which matches.
The instance facts go into <properties>; ENA warnings and notes into <system-out>, since they
are warnings and must not fail a build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from netagent.core import ec2
from netagent.core.model import Check, Report, Status
from netagent.core.reports.names import escape_chars
from netagent.core.reports.text import change_line

# Characters XML 1.0 cannot carry at all, even escaped (https://www.w3.org/TR/xml/#charsets).
# Interface names may hold control characters (the kernel's dev_valid_name refuses only '/', ':'
# and whitespace), so they are shown as :xNN (reports/names.py, as undecodable bytes) instead of
# producing a file no parser accepts.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return escape_chars(str(value), _NOT_XML)


def _detail(c: Check) -> str:
    lines = [f"expected: {_value(c.expected)}", f"actual: {_value(c.actual)}"]
    if c.message:
        lines.append(f"note: {c.message}")
    if c.change is not None:
        lines.append(f"fix: netagent apply {change_line(c.change)}")
    return "\n".join(lines)


def _value(value: str | None) -> str:
    return value if value is not None else "-"


def _recommended(c: Check) -> str:
    what = "drift" if c.status is Status.DRIFT else "could not be checked"
    note = f" ({c.message})" if c.message else ""
    return (
        f"recommended: {what}{note}, expected {_value(c.expected)}, actual {_value(c.actual)}; fails only with --strict"
    )


def _outcome(c: Check, strict: bool) -> str | None:
    """Return the JUnit element of a check: failure, error, skipped, or None for a pass."""
    if c.is_failure and not c.fails(strict):
        return "skipped"
    if c.status is Status.DRIFT:
        return "failure"
    if c.status is Status.ERROR:
        return "error"
    return "skipped" if c.status in (Status.UNSUPPORTED, Status.SKIPPED) else None


def _testcase(parent: ET.Element, c: Check, suite: str, strict: bool) -> None:
    case = ET.SubElement(parent, "testcase", name=_text(c.id), classname=_text(f"{suite}.{c.subject}"), time="0")
    outcome = _outcome(c, strict)
    if outcome == "skipped" and c.is_failure:
        ET.SubElement(case, "skipped", message=_text(_recommended(c))).text = _text(_detail(c))
    elif outcome == "skipped" and c.status is Status.SKIPPED:  # issue 16: as goss writes a skipped check
        ET.SubElement(case, "skipped", message=_text(c.message or "skipped"))
    elif outcome == "skipped":
        ET.SubElement(case, "skipped", message=_text(c.message or "unsupported on this device"))
    elif outcome == "failure":
        message = c.message or f"expected {c.expected}, found {c.actual}"
        ET.SubElement(case, "failure", message=_text(message), type="drift").text = _text(_detail(c))
    elif outcome == "error":
        ET.SubElement(case, "error", message=_text(c.message or "could not be checked"), type="error").text = _text(
            _detail(c)
        )


def render(report: Report) -> str:
    """Render an audit report as a JUnit XML document with a single testsuite."""
    outcomes = [_outcome(c, report.strict) for c in report.checks]
    suite_name = f"netagent.{report.profile.name}"
    root = ET.Element("testsuites", name="netagent")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_text(suite_name),
        tests=str(len(report.checks)),
        failures=str(outcomes.count("failure")),
        errors=str(outcomes.count("error")),
        skipped=str(outcomes.count("skipped")),
        time="0",
        hostname=_text(report.host.get("hostname", "")),
    )
    properties = ET.SubElement(suite, "properties")
    props = {"profile": report.profile.name, "profile.path": report.profile.path, **report.host}
    for key, value in ec2.to_dict(report.ec2).items():
        if key != "interfaces" and value is not None:
            props[f"ec2.{key}"] = str(value)
    for key, value in props.items():
        ET.SubElement(properties, "property", name=_text(key), value=_text(value))
    for c in report.checks:
        _testcase(suite, c, _text(suite_name), report.strict)
    out = [f"ec2: {ec2.describe(report.ec2)}"]
    out += [f"ena {h.ifname}: " + " ".join(f"{k}={n}" for k, n in h.counters) for h in report.ena if h.counters]
    out += [f"note: {n}" for n in report.notes]
    ET.SubElement(suite, "system-out").text = _text("\n".join(out))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
