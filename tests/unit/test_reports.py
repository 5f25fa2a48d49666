"""Renderers are pure functions of a Report."""

from __future__ import annotations

import json

from netagent.core.model import Check, Plan, Profile, Report, Status
from netagent.core.reports import json as json_report
from netagent.core.reports import text as text_report
from netagent.core.settings.mtu import SetMtu

PROFILE = Profile(name="t", path="t.yaml")
CHECKS = (
    Check("lab0", "mtu", Status.DRIFT, "9001", "1500", change=SetMtu("lab0", 1500, 9001)),
    Check("lab0", "channels", Status.UNSUPPORTED, "combined=max", None, "no combined queues"),
    Check("net.x", "sysctl", Status.OK, "1", "1"),
)
REPORT = Report(PROFILE, {"hostname": "h", "kernel": "6.1"}, CHECKS)


def test_json_schema_is_stable() -> None:
    doc = json.loads(json_report.render(REPORT))
    # Fields are only ever added: the first six are schema_version 1 as first shipped.
    first = ["schema_version", "profile", "host", "compliant", "summary", "checks"]
    assert list(doc) == [*first, "ec2", "ena", "notes", "strict", "context", "generated_at"]
    assert doc["compliant"] is False
    assert doc["summary"] == {"ok": 1, "drift": 1, "unsupported": 1, "error": 0, "skipped": 0}
    assert doc["checks"][0] == {
        "id": "lab0/mtu",
        "subject": "lab0",
        "setting": "mtu",
        "status": "drift",
        "expected": "9001",
        "actual": "1500",
        "message": "",
        "fix": "lab0 mtu 1500 -> 9001",
        "severity": "required",
        "owners": [],
    }


def test_unsupported_does_not_break_compliance() -> None:
    assert Report(PROFILE, {}, CHECKS[1:]).compliant is True


def test_text_table_has_a_row_per_check_and_a_summary() -> None:
    lines = text_report.render(REPORT).splitlines()
    assert lines[0].split() == ["STATUS", "CHECK", "EXPECTED", "ACTUAL", "NOTE"]
    assert lines[1].split()[:4] == ["drift", "lab0/mtu", "9001", "1500"]
    assert "would set lab0 mtu 1500 -> 9001" in lines[1]
    assert lines[-1] == "NOT compliant: profile 't' (t.yaml): 1 ok, 1 drift, 1 unsupported, 0 error, 0 skipped"


def test_plan_wording_follows_the_mode() -> None:
    plan = Plan(
        (SetMtu("lab0", 1500, 9001),),
        unfixable=(Check("eth0", "driver", Status.DRIFT, "ena", "veth", "driver is veth"),),
    )
    assert (
        text_report.render_plan(plan, dry_run=True)
        == "would set lab0 mtu 1500 -> 9001\ncannot fix eth0/driver: driver is veth\n"
    )
    assert text_report.render_plan(plan, dry_run=False).startswith("set lab0 mtu")
    assert text_report.render_plan(Plan(()), dry_run=False) == "nothing to change\n"
