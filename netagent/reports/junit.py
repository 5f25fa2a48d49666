"""JUnit XML: one testsuite, one testcase per check, so image pipelines can gate on it (pure).

Mapping (README.md, "Report formats"):
- ok           -> a passing testcase
- drift        -> <failure type="drift"> with expected, actual and the fix apply would make
- error        -> <error type="error">: the check could not be made (fails the audit too)
- unsupported  -> <skipped>: the device or driver cannot do it; it does not fail the audit, and
                  JUnit consumers count a skip as neither pass nor failure, which matches.
The instance facts go into <properties>; ENA warnings and notes into <system-out>, since they
are warnings and must not fail a build.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from netagent import ec2
from netagent.model import Check, Report, Status

# Characters XML 1.0 cannot carry at all, even escaped (https://www.w3.org/TR/xml/#charsets).
# Interface names may hold control characters (the kernel's dev_valid_name refuses only '/', ':'
# and whitespace), so they are shown as \xNN instead of producing a file no parser accepts.
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def _detail(c: Check) -> str:
    lines = [f"expected: {c.expected if c.expected is not None else '-'}"]
    lines.append(f"actual: {c.actual if c.actual is not None else '-'}")
    if c.message:
        lines.append(f"note: {c.message}")
    if c.change is not None:
        lines.append(f"fix: netagent apply would set {c.change.describe()}")
    return "\n".join(lines)


def _testcase(parent: ET.Element, c: Check, suite: str) -> None:
    case = ET.SubElement(parent, "testcase", name=_text(c.id), classname=_text(f"{suite}.{c.subject}"), time="0")
    if c.status is Status.DRIFT:
        message = c.message or f"expected {c.expected}, found {c.actual}"
        ET.SubElement(case, "failure", message=_text(message), type="drift").text = _text(_detail(c))
    elif c.status is Status.ERROR:
        ET.SubElement(case, "error", message=_text(c.message or "could not be checked"), type="error").text = _text(
            _detail(c)
        )
    elif c.status is Status.UNSUPPORTED:
        ET.SubElement(case, "skipped", message=_text(c.message or "unsupported on this device"))


def render(report: Report) -> str:
    """Render an audit report as a JUnit XML document with a single testsuite."""
    counts = report.counts()
    suite_name = f"netagent.{report.profile.name}"
    root = ET.Element("testsuites", name="netagent")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=_text(suite_name),
        tests=str(len(report.checks)),
        failures=str(counts[Status.DRIFT.value]),
        errors=str(counts[Status.ERROR.value]),
        skipped=str(counts[Status.UNSUPPORTED.value]),
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
        _testcase(suite, c, _text(suite_name))
    out = [f"ec2: {ec2.describe(report.ec2)}"]
    out += [f"ena {h.ifname}: " + " ".join(f"{k}={n}" for k, n in h.counters) for h in report.ena if h.counters]
    out += [f"note: {n}" for n in report.notes]
    ET.SubElement(suite, "system-out").text = _text("\n".join(out))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
