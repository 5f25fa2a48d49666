"""The machine formats: JUnit XML parsed back with ElementTree, Prometheus with prometheus_client."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netagent.core.ec2 import Ec2Unavailable, EniFacts, InstanceFacts
from netagent.core.ena import EnaHealth
from netagent.core.model import Check, Profile, Report, Severity, Status
from netagent.core.reports import json as json_report
from netagent.core.reports import junit, prometheus
from netagent.core.reports import text as text_report
from netagent.core.reports.names import unescape_name
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import SetSysctl

PROFILE = Profile(name="ec2", path="/etc/netagent/profile.yaml")
FACTS = InstanceFacts("i-0abc", "c6in.8xlarge", "us-east-1", "us-east-1a", (EniFacts("06:00:00:00:00:01", 0),))
CHECKS = (
    Check("eth0", "mtu", Status.DRIFT, "9001", "1500", change=SetMtu("eth0", 1500, 9001)),
    Check("net.core.busy_poll", "sysctl", Status.ERROR, "50", None, "no such key"),
    Check("eth0", "channels", Status.UNSUPPORTED, "combined=max", None, "no combined queues"),
    Check("eth0", "driver", Status.OK, "ena", "ena"),
    Check("interfaces[1]", "match", Status.DRIFT, "an interface matching ens6", "none"),
)
ENA_HEALTH = (
    EnaHealth(
        "eth0",
        (("bw_in_allowance_exceeded", 0), ("pps_allowance_exceeded", 12), ("conntrack_allowance_available", 136812)),
    ),
)
REPORT = Report(PROFILE, {"hostname": "ip-10-0-0-1", "kernel": "6.1"}, CHECKS, FACTS, ENA_HEALTH, ("a note",))
# Interface names may hold almost anything but '/', ':' and whitespace (dev_valid_name).
WEIRD = ['q"uote', "back\\slash", "dollar$", "semi;colon", "ctl\x01"]


def _weird_report() -> Report:
    checks = tuple(Check(n, "mtu", Status.DRIFT, "9001", "1500") for n in WEIRD)
    return Report(Profile('p"<&>', "x.yaml"), {"hostname": "h"}, checks, Ec2Unavailable("off EC2"))


# ---------------------------------------------------------------- JUnit


def test_junit_has_one_testsuite_and_one_testcase_per_check() -> None:
    root = ET.fromstring(junit.render(REPORT))
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("tests") == "5"
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("2", "1", "1")
    assert [case.get("name") for case in suite.iter("testcase")] == [c.id for c in CHECKS]


def test_junit_failure_carries_expected_actual_and_fix() -> None:
    suite = ET.fromstring(junit.render(REPORT)).find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    failure = cases["eth0/mtu"].find("failure")
    assert failure is not None
    assert failure.get("type") == "drift"
    assert failure.text is not None
    assert "expected: 9001" in failure.text
    assert "actual: 1500" in failure.text
    assert "fix: netagent apply would set eth0 mtu 1500 -> 9001" in failure.text
    error = cases["sysctl/net.core.busy_poll"].find("error")
    assert error is not None
    assert error.get("message") == "no such key"
    skipped = cases["eth0/channels"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "no combined queues"
    assert list(cases["eth0/driver"]) == []  # ok: a plain passing testcase


def test_junit_properties_carry_instance_facts_and_notes_go_to_system_out() -> None:
    suite = ET.fromstring(junit.render(REPORT)).find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["ec2.instance_type"] == "c6in.8xlarge"
    assert props["ec2.status"] == "available"
    assert props["profile"] == "ec2"
    out = suite.findtext("system-out") or ""
    assert "ena eth0: bw_in_allowance_exceeded=0 pps_allowance_exceeded=12" in out
    assert "note: a note" in out


def test_junit_survives_quotes_markup_and_control_characters() -> None:
    root = ET.fromstring(junit.render(_weird_report()))  # parses: nothing XML cannot hold
    names = [case.get("name") for case in root.iter("testcase")]
    # issue 16: characters XML cannot carry are :xNN, as undecodable bytes are (reports/names.py)
    assert names == ['q"uote/mtu', "back\\slash/mtu", "dollar$/mtu", "semi;colon/mtu", "ctl:x01/mtu"]
    assert root.find("testsuite").get("name") == 'netagent.p"<&>'  # type: ignore[union-attr]


def test_junit_compliant_report_has_no_failures() -> None:
    ok = Report(PROFILE, {}, (CHECKS[3],))
    suite = ET.fromstring(junit.render(ok)).find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")


# Review defect: recommended drift was a <failure> even without --strict, so the JUnit gate failed
# a build that the exit code (0) and netagent_compliant (1) called compliant.
RECOMMENDED = (
    Check("eth0", "driver", Status.OK, "ena", "ena"),
    Check(
        "net.ipv4.tcp_slow_start_after_idle",
        "sysctl",
        Status.DRIFT,
        "0",
        "1",
        change=SetSysctl("net.ipv4.tcp_slow_start_after_idle", "1", "0"),
        severity=Severity.RECOMMENDED,
    ),
    Check("net.core.busy_poll", "sysctl", Status.ERROR, "50", None, "no such key", severity=Severity.RECOMMENDED),
)


def _cases(report: Report) -> tuple[ET.Element, dict[str | None, ET.Element]]:
    suite = ET.fromstring(junit.render(report)).find("testsuite")
    assert suite is not None
    return suite, {case.get("name"): case for case in suite.iter("testcase")}


def test_junit_recommended_drift_without_strict_is_skipped_not_failure() -> None:
    report = Report(PROFILE, {}, RECOMMENDED)
    assert report.compliant  # the exit code and Prometheus say compliant: so must the gate
    suite, cases = _cases(report)
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "2")
    drift = cases["sysctl/net.ipv4.tcp_slow_start_after_idle"]
    assert drift.find("failure") is None
    skipped = drift.find("skipped")
    assert skipped is not None
    message = skipped.get("message") or ""
    assert message.startswith("recommended: drift")
    assert "expected 0, actual 1" in message
    error = cases["sysctl/net.core.busy_poll"]
    assert error.find("error") is None
    skipped = error.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("recommended: could not be checked (no such key)")
    assert "expected 50, actual -" in skipped.get("message", "")


def test_junit_recommended_drift_with_strict_is_failure() -> None:
    report = Report(PROFILE, {}, RECOMMENDED, strict=True)
    assert not report.compliant
    suite, cases = _cases(report)
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "0")
    failure = cases["sysctl/net.ipv4.tcp_slow_start_after_idle"].find("failure")
    assert failure is not None
    assert "expected: 0" in (failure.text or "")
    assert cases["sysctl/net.core.busy_poll"].find("error") is not None
    assert cases["sysctl/net.ipv4.tcp_slow_start_after_idle"].find("skipped") is None


# ---------------------------------------------------------------- Prometheus


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        out.setdefault(family.name, []).extend((dict(s.labels), s.value) for s in family.samples)
    return out


def test_prometheus_gauge_per_check_is_1_for_drift() -> None:
    fam = _families(prometheus.render(REPORT))
    drift = {(labels["check"], labels["interface"]): value for labels, value in fam["netagent_check_drift"]}
    assert drift == {
        ("eth0/mtu", "eth0"): 1,
        ("sysctl/net.core.busy_poll", ""): 0,
        ("eth0/channels", "eth0"): 0,
        ("eth0/driver", "eth0"): 0,
        ("interfaces[1]/match", ""): 1,
    }
    errors = {labels["check"]: value for labels, value in fam["netagent_check_error"]}
    assert errors["sysctl/net.core.busy_poll"] == 1


def test_prometheus_compliance_counts_ena_and_instance_info() -> None:
    fam = _families(prometheus.render(REPORT))
    assert fam["netagent_compliant"] == [({"profile": "ec2"}, 0)]
    assert dict((lab["status"], v) for lab, v in fam["netagent_checks"]) == {
        "ok": 1,
        "drift": 2,
        "unsupported": 1,
        "error": 1,
        "skipped": 0,
    }
    # A counter family drops `_total` from its name; its samples keep it.
    exceeded = {lab["counter"]: v for lab, v in fam["netagent_ena_allowance_exceeded"]}
    assert exceeded == {"bw_in_allowance_exceeded": 0, "pps_allowance_exceeded": 12}
    assert fam["netagent_ena_conntrack_allowance_available"] == [({"interface": "eth0"}, 136812)]
    assert fam["netagent_ec2_up"] == [({}, 1)]
    [(info, value)] = fam["netagent_ec2_info"]
    assert info["instance_type"] == "c6in.8xlarge"
    assert value == 1


def test_prometheus_label_values_are_escaped_and_round_trip() -> None:
    text = prometheus.render(_weird_report())
    fam = _families(text)
    assert [lab["interface"] for lab, _ in fam["netagent_check_drift"]] == WEIRD
    assert 'q\\"uote' in text
    assert "back\\\\slash" in text
    assert fam["netagent_ec2_up"] == [({}, 0)]
    assert "netagent_ec2_info" not in fam


def test_prometheus_without_imds_has_no_ec2_metrics() -> None:
    fam = _families(prometheus.render(Report(PROFILE, {}, CHECKS[:1])))
    assert "netagent_ec2_up" not in fam
    assert "netagent_ena_allowance_exceeded" not in fam


@pytest.mark.parametrize(("value", "escaped"), [("a\nb", "a\\nb"), ('"', '\\"'), ("\\", "\\\\"), ("$;", "$;")])
def test_escape_label(value: str, escaped: str) -> None:
    assert prometheus.escape_label(value) == escaped


def test_issue9_non_utf8_interface_name_is_a_parseable_prometheus_label() -> None:
    name = os.fsdecode(b"\xff\xfe")  # what os.listdir gives for a name that is not UTF-8
    assert prometheus.escape_label(name) == ":xff:xfe"
    [(labels, _)] = _families(f'm{{interface="{prometheus.escape_label(name)}"}} 1\n')["m"]
    assert labels["interface"] == ":xff:xfe"


def test_issue16_names_differing_in_undecodable_bytes_stay_distinct_in_every_format() -> None:
    raw = os.fsdecode(b"\xff")
    lookalike = "\\udcff"  # a real name may hold a backslash: it must not collide with the byte
    checks = tuple(
        Check(n, "mtu", Status.DRIFT, "9001", "1500", change=SetMtu(n, 1500, 9001)) for n in (raw, lookalike)
    )
    report = Report(PROFILE, {}, checks)
    fam = _families(prometheus.render(report))
    assert len({labels["interface"] for labels, _ in fam["netagent_check_drift"]}) == 2
    text = json_report.render(report)
    text.encode("utf-8")  # strict: no lone surrogates survive
    doc = json.loads(text)
    assert [c["subject"] for c in doc["checks"]] == [":xff", "\\udcff"]
    assert unescape_name(":xff") == b"\xff"
    cases = [c.get("name") for c in ET.fromstring(junit.render(report)).iter("testcase")]
    assert cases == [":xff/mtu", "\\udcff/mtu"]


# ---------------------------------------------------------------- JSON and text carry the facts


def test_json_ec2_object_by_status() -> None:
    doc = json.loads(json_report.render(REPORT))
    assert doc["ec2"]["status"] == "available"
    assert doc["ec2"]["instance_type"] == "c6in.8xlarge"
    assert doc["ec2"]["interfaces"] == [
        {"mac": "06:00:00:00:00:01", "device_number": 0, "interface_id": None, "vpc_ipv4_cidr_block": None}
    ]
    assert doc["ena"][0]["counters"]["pps_allowance_exceeded"] == 12
    assert doc["notes"] == ["a note"]
    assert json.loads(json_report.render(_weird_report()))["ec2"] == {"status": "unavailable", "reason": "off EC2"}
    assert json.loads(json_report.render(Report(PROFILE, {}, ())))["ec2"] == {"status": "skipped"}


def test_text_shows_an_ec2_line_ena_counters_and_notes() -> None:
    lines = text_report.render(REPORT).splitlines()
    assert "ec2: c6in.8xlarge i-0abc in us-east-1a" in lines
    assert (
        "ena eth0: bw_in_allowance_exceeded=0 pps_allowance_exceeded=12 conntrack_allowance_available=136812" in lines
    )
    assert "note: a note" in lines
    assert "ec2: unavailable (off EC2)" in text_report.render(_weird_report())


def test_issue16_junit_writes_a_skipped_check_as_skipped_with_its_reason() -> None:
    skipped_check = Check("lab0", "driver", Status.SKIPPED, "ena", None, "when: instance_type c6in.*")
    suite, cases = _cases(Report(PROFILE, {}, (skipped_check,)))
    assert suite.get("skipped") == "1"
    skipped = cases["lab0/driver"].find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "when: instance_type c6in.*"
