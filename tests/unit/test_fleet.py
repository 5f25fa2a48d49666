"""The fleet report: parsing audits, keeping the newest per host, merging, rendering, the CLI."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_mock import MockerFixture

from netagent import cli
from netagent.app import audit as audit_app
from netagent.app import fleet_report
from netagent.core import fleet
from netagent.core.errors import UsageError
from netagent.core.fleet_html import render_html
from tests import fleet_gen


def _audit(doc: dict[str, Any], source: str = "a.json", mtime: float = 0.0) -> fleet.HostAudit:
    return fleet.parse_audit(doc, source, mtime)


def test_parse_audit_keeps_identity_failures_fights_and_ena() -> None:
    doc = fleet_gen.make_report(7)
    plan = fleet_gen.host_plan(7)
    h = _audit(doc)
    assert h.host_id == plan["instance_id"]
    assert h.hostname == plan["hostname"]
    assert h.profile == plan["profile"]
    assert h.fresh_by == "report"
    assert {f.check for f in h.failures} == set(plan["drift"]) | set(plan["error"])
    assert h.compliant is (not plan["drift"] and not plan["error"])
    assert h.ena[0].conntrack_available == plan["conntrack_available"]
    assert dict(h.ena[0].exceeded)["pps_allowance_exceeded"] == plan["pps"]


def test_parse_audit_host_id_falls_back_to_machine_id_then_hostname() -> None:
    doc = fleet_gen.make_report(1)
    doc["ec2"] = {"status": "skipped"}
    assert _audit(doc).host_id == doc["host"]["machine_id"]
    del doc["host"]["machine_id"]
    assert _audit(doc).host_id == doc["host"]["hostname"]


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ([1, 2], "the document is an array"),
        ({"format": "netagent-status", "schema_version": 1}, "daemon status file"),
        ({"schema_version": 1, "dry_run": True, "changes": [], "after": None}, "apply report"),
        ({"hello": "world"}, "no schema_version or checks"),
        ({"schema_version": 2, "checks": []}, "schema_version 2"),
        ({"schema_version": True, "checks": []}, "schema_version True"),
    ],
)
def test_parse_audit_rejects_foreign_documents_with_the_reason(doc: object, reason: str) -> None:
    with pytest.raises(fleet.NotAnAudit, match=reason):
        _audit(doc)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.update(compliant="yes"), "compliant: expected a bool, got a string"),
        (lambda d: d.update(checks={}), "checks: expected a list, got an object"),
        (lambda d: d["checks"].__setitem__(0, "x"), r"checks\[0\]: expected an object"),
        (lambda d: d["checks"][1].pop("status"), r"checks\[1\].status: expected a str, got null"),
        (lambda d: d.update(generated_at="yesterday"), "generated_at: expected an ISO-8601 time"),
        (lambda d: d.update(generated_at="2026-12-01T10:00:00"), "generated_at"),
        (lambda d: d["ena"][0]["counters"].update(pps_allowance_exceeded=-1), "expected a count"),
        (lambda d: d.update(host={}, ec2={"status": "skipped"}), "no instance_id, machine_id or hostname"),
    ],
)
def test_parse_audit_rejects_malformed_fields_by_path(edit: Any, reason: str) -> None:
    doc = fleet_gen.make_report(3)
    edit(doc)
    with pytest.raises(fleet.NotAnAudit, match=reason):
        _audit(doc)


def test_parse_timestamp_accepts_z_and_offsets_and_refuses_local_times() -> None:
    assert fleet.parse_timestamp("1970-01-01T00:01:00Z") == 60.0
    assert fleet.parse_timestamp("1970-01-01T01:01:00.000+01:00") == 60.0
    assert fleet.parse_timestamp("1970-01-01T00:01:00") is None
    assert fleet.parse_timestamp("soon") is None


def test_newest_prefers_the_report_timestamp_over_mtime_whatever_the_order() -> None:
    old = fleet_gen.make_report(5, minutes=10)
    new = fleet_gen.make_report(5, minutes=20)
    a = _audit(old, "z-old.json", mtime=9e9)  # a newer mtime must not beat an older generated_at
    b = _audit(new, "a-new.json", mtime=0)
    for order in ([a, b], [b, a]):
        kept, dups = fleet.newest(order)
        assert [h.source for h in kept] == ["a-new.json"]
        assert dups == [fleet.Duplicate(a.host_id, "a-new.json", "z-old.json")]


def test_newest_falls_back_to_mtime_then_source_name() -> None:
    doc = fleet_gen.make_report(5)
    del doc["generated_at"]
    early, late = _audit(doc, "b.json", mtime=100.0), _audit(doc, "a.json", mtime=200.0)
    assert early.fresh_by == "mtime"
    assert [h.source for h in fleet.newest([late, early])[0]] == ["a.json"]
    tie1, tie2 = _audit(doc, "b.json", mtime=5.0), _audit(doc, "a.json", mtime=5.0)
    assert [h.source for h in fleet.newest([tie1, tie2])[0]] == ["b.json"]
    assert [h.source for h in fleet.newest([tie2, tie1])[0]] == ["b.json"]


def test_merge_matches_numbers_recomputed_from_the_host_plans() -> None:
    n = 300
    want = fleet_gen.expected(n)
    hosts = [_audit(fleet_gen.make_report(i), f"{i}.json") for i in range(n)]
    summary = fleet.merge(hosts)
    assert len(summary.hosts) == n
    assert summary.compliant == want["compliant"]
    assert {p.profile: (p.hosts, p.compliant) for p in summary.profiles} == want["profiles"]
    assert {c.check: c.hosts for c in summary.checks} == want["checks"]
    assert [c.hosts for c in summary.checks] == sorted((c.hosts for c in summary.checks), reverse=True)
    assert summary.hosts[0].failed == want["max_failures"]
    fight = summary.fights[0]
    assert (fight.source, fight.check, fight.hosts) == (
        "/etc/sysctl.d/99-vendor.conf",
        "sysctl/net.core.rmem_max",
        want["fight_hosts"],
    )
    assert dict(summary.counters)["pps_allowance_exceeded"] == want["pps_hosts"] == len(summary.hot_spots)
    assert [s.total for s in summary.hot_spots] == sorted((s.total for s in summary.hot_spots), reverse=True)


def test_merge_counts_a_duplicate_host_once() -> None:
    hosts = [_audit(fleet_gen.make_report(1, minutes=m), f"{m}.json") for m in (1, 2, 3)]
    summary = fleet.merge(hosts)
    assert len(summary.hosts) == 1
    assert summary.hosts[0].source == "3.json"
    assert [d.dropped for d in summary.duplicates] == ["1.json", "2.json"]


def _summary(n: int = 60) -> fleet.FleetSummary:
    skipped = [fleet.Skipped("bad.json", "not JSON: line 1 column 1: Expecting value")]
    return fleet.merge([_audit(fleet_gen.make_report(i), f"{i}.json") for i in range(n)], skipped)


def test_render_text_names_every_section_and_bounds_lists() -> None:
    summary = _summary()
    text = fleet.render_text(summary, top=3)
    assert text.startswith(f"fleet: 60 hosts, {summary.compliant} compliant")
    for title in ("compliance by profile:", "checks that drift most", "hosts by failures:", "skipped files:"):
        assert title in text
    assert "bad.json: not JSON" in text
    assert "... and " in text


def test_to_dict_is_json_with_totals() -> None:
    summary = _summary()
    doc = json.loads(json.dumps(fleet.to_dict(summary)))
    assert doc["hosts_total"] == 60
    assert doc["hosts_compliant"] + doc["hosts_noncompliant"] == 60
    assert doc["skipped"] == [{"source": "bad.json", "reason": "not JSON: line 1 column 1: Expecting value"}]
    assert len(doc["hosts"]) == 60


def test_render_html_is_self_contained_and_escapes() -> None:
    summary = _summary()
    bad = fleet.Skipped("<script>x</script>.json", 'a "quoted" <reason>')
    page = render_html(fleet.merge(list(summary.hosts), [bad]), "2026-12-04T16:00:00+00:00", 61)
    assert page.startswith("<!DOCTYPE html>")
    assert f'<b id="hosts-total">{len(summary.hosts)}</b>' in page
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;.json" in page
    for external in ("http://", "https://", " src=", "<link"):
        assert external not in page


def test_collect_skips_unreadable_and_foreign_files(tmp_path: Path) -> None:
    fleet_gen.write_fleet(str(tmp_path / "bucket"), 4)
    (tmp_path / "bucket" / "sub").mkdir()
    (tmp_path / "bucket" / "sub" / "broken.json").write_text('{"schema_version": 1,')
    (tmp_path / "bucket" / "latin1.json").write_bytes(b'{"x": "\xe9"}')
    (tmp_path / "bucket" / "status.json").write_text('{"format": "netagent-status"}')
    (tmp_path / "bucket" / "notes.txt").write_text("not read: not *.json")
    summary, files = fleet_report.collect([str(tmp_path / "bucket")])
    assert (files, len(summary.hosts)) == (7, 4)
    reasons = {os.path.basename(s.source): s.reason for s in summary.skipped}
    assert reasons == {
        "broken.json": "not JSON: line 1 column 22: Expecting property name enclosed in double quotes",
        "latin1.json": "not UTF-8 at byte offset 7",
        "status.json": "a netagent daemon status file, not an audit",
    }


def test_collect_lists_an_unreadable_directory_as_skipped(tmp_path: Path, mocker: MockerFixture) -> None:
    fleet_gen.write_fleet(str(tmp_path / "bucket"), 2)
    (tmp_path / "bucket" / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    mocker.patch("os.scandir", side_effect=scandir)
    summary, files = fleet_report.collect([str(tmp_path / "bucket")])
    assert (files, len(summary.hosts)) == (2, 2)
    assert [(os.path.basename(s.source), s.reason) for s in summary.skipped] == [
        ("locked", "cannot list: Permission denied")
    ]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
_KEYS = ("schema_version", "profile", "host", "compliant", "checks", "ec2", "ena", "generated_at", "context")


@settings(max_examples=300, deadline=None)
@given(doc=_json)
def test_parse_audit_of_any_json_is_an_audit_or_not_an_audit(doc: object) -> None:
    with contextlib.suppress(fleet.NotAnAudit):
        assert fleet.parse_audit(doc, "x.json", 0.0).host_id


@settings(max_examples=300, deadline=None)
@given(key=st.sampled_from(_KEYS), value=_json, check_field=st.sampled_from(("id", "status", "owners", "severity")))
def test_parse_audit_of_a_damaged_audit_is_an_audit_or_not_an_audit(key: str, value: object, check_field: str) -> None:
    for edit in ("top", "check"):
        doc = fleet_gen.make_report(4)
        if edit == "top":
            doc[key] = value
        else:
            doc["checks"][0][check_field] = value
        with contextlib.suppress(fleet.NotAnAudit):
            summary = fleet.merge([fleet.parse_audit(doc, "x.json", 0.0)])
            assert fleet.render_text(summary).startswith("fleet: 1 host, ")
            assert render_html(summary, "now", 1).endswith("</html>\n")
            json.dumps(fleet.to_dict(summary))


def test_collect_skips_a_file_too_large_to_be_an_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "big.json").write_text(json.dumps(fleet_gen.make_report(1)))
    monkeypatch.setattr(fleet_report, "MAX_REPORT_BYTES", 100)
    got = fleet_report.read_audit(str(tmp_path / "big.json"))
    assert got == fleet.Skipped(str(tmp_path / "big.json"), "larger than 100 bytes: not an audit")


def test_collect_refuses_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        fleet_report.collect([str(tmp_path / "nope")])


def test_cli_fleet_report_exit_code_follows_compliance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = fleet_gen.write_fleet(str(tmp_path), 30)
    assert cli.main(["fleet-report", str(tmp_path), "--format", "json"]) == 1  # some synthetic host drifts
    doc = json.loads(capsys.readouterr().out)
    assert doc["hosts_total"] == 30
    compliant = [p for p in paths if json.loads(Path(p).read_text())["compliant"]]
    assert cli.main(["fleet-report", *compliant]) == 0
    assert capsys.readouterr().out.startswith(f"fleet: {len(compliant)} hosts, {len(compliant)} compliant")


def test_cli_fleet_report_writes_html_to_output(tmp_path: Path) -> None:
    fleet_gen.write_fleet(str(tmp_path / "in"), 5)
    out = tmp_path / "fleet.html"
    cli.main(["fleet-report", str(tmp_path / "in"), "--format", "html", "--output", str(out)])
    assert '<b id="hosts-total">5</b>' in out.read_text()


def test_cli_fleet_report_without_any_audit_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.json").write_text("[]")
    assert cli.main(["fleet-report", str(tmp_path)]) == 2
    assert "no netagent JSON audit among 1 file (1 skipped)" in capsys.readouterr().err


def test_audit_json_carries_generated_at_and_machine_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = fleet_gen.make_report(2)
    assert fleet.parse_timestamp(doc["generated_at"]) is not None
    machine_id = tmp_path / "machine-id"
    machine_id.write_text("0123456789abcdef0123456789abcdef\n")
    monkeypatch.setattr(audit_app, "MACHINE_ID", str(machine_id))
    assert audit_app.host_facts()["machine_id"] == "0123456789abcdef0123456789abcdef"
    machine_id.write_text("uninitialized\n")  # machine-id(5): first boot, not yet an id
    assert "machine_id" not in audit_app.host_facts()
