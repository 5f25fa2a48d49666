"""The fleet report's HTML page, rendered by headless Chromium: the numbers people see (issue 14).

A generated fleet (plus a broken file, a foreign one and an older duplicate) goes through the
real CLI; Chromium loads the page from a file:// URL inside a throwaway network namespace (only
lo, so nothing can leave), dumps the DOM after its script ran, and takes a screenshot. The
numbers read back from the DOM are compared with numbers recomputed from the generator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import fleet_gen
from tests.integration.fleet_tools import need
from tests.integration.lab import Lab

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
HOSTS = 400
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in CI; the page is ours and the namespace has no network
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class _Dom(HTMLParser):
    """Collect the text of elements with an id, and the rows of each table."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.attrs_of: dict[str, dict[str, str | None]] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self._open: list[str] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.attrs_of[tag] = a if tag == "body" else self.attrs_of.get(tag, a)
        if a.get("id"):
            self.by_id[str(a["id"])] = ""
            self._open.append(str(a["id"]))
        if tag == "table" and a.get("id"):
            self._table = str(a["id"])
            self.tables[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._table and self._in_body:
            self.tables[self._table].append([])
        elif tag == "td" and self._table and self._in_body:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for ident in self._open:
            self.by_id[ident] += data
        if self._open and data.strip():
            self._open.pop()


@pytest.fixture(scope="module")
def page(netns_ok: None) -> Iterator[dict[str, object]]:
    """The fleet page, written by the CLI; its expected numbers; a lab netns for Chromium."""
    need("chromium", "chromium")
    work = Path(tempfile.mkdtemp(prefix="na-fleet-"))
    lab = Lab.create()
    try:
        bucket = work / "bucket"
        fleet_gen.write_fleet(str(bucket), HOSTS)
        (bucket / "truncated.json").write_text('{"schema_version": 1, "checks": [')
        (bucket / "status.json").write_text(json.dumps({"format": "netagent-status", "schema_version": 1}))
        older = fleet_gen.make_report(0, minutes=-60)  # an hour before host 0's own report
        older["compliant"], older["checks"][0]["status"] = False, "drift"
        (bucket / "old" / "host0-yesterday.json").parent.mkdir()
        (bucket / "old" / "host0-yesterday.json").write_text(json.dumps(older))
        out = work / "fleet.html"
        proc = subprocess.run(
            [sys.executable, "-m", "netagent", "fleet-report", str(bucket), "--format", "html", "--output", str(out)],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        assert proc.returncode in (0, 1), proc.stderr
        yield {"html": out, "work": work, "lab": lab, "expected": fleet_gen.expected(HOSTS)}
    finally:
        lab.delete()
        shutil.rmtree(work, ignore_errors=True)


def _chromium(page: dict[str, object], *args: str, url_tail: str = "") -> str:
    lab, work = page["lab"], page["work"]
    assert isinstance(lab, Lab)
    assert isinstance(work, Path)
    profile = tempfile.mkdtemp(prefix="chromium-", dir=work)  # a fresh --user-data-dir for each run
    url = Path(str(page["html"])).as_uri() + url_tail
    cmd = ["ip", "netns", "exec", lab.name, "chromium", *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": profile})
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_page_shows_the_fleet_numbers_after_its_script_ran(page: dict[str, object]) -> None:
    want = page["expected"]
    assert isinstance(want, dict)
    dom = _Dom()
    dom.feed(_chromium(page, "--dump-dom"))
    assert dom.attrs_of["body"].get("data-sortable") == str(len(dom.tables)) == "7"  # the script ran to its end
    assert dom.by_id["hosts-total"] == str(HOSTS)  # the duplicate of host 0 counted once
    assert dom.by_id["hosts-compliant"] == str(want["compliant"])
    assert dom.by_id["hosts-noncompliant"] == str(HOSTS - want["compliant"])
    assert dom.by_id["compliance-percent"] == f"{100 * want['compliant'] / HOSTS:.1f}%"
    assert dom.by_id["files-skipped"] == "2"
    profiles = {row[0]: (int(row[1]), int(row[2])) for row in dom.tables["profiles"]}
    assert profiles == want["profiles"]
    checks = {row[0]: int(row[1]) for row in dom.tables["checks"]}
    assert checks == want["checks"]
    assert len(dom.tables["hosts"]) == HOSTS
    assert int(dom.tables["hosts"][0][3]) == want["max_failures"]
    host0 = next(r for r in dom.tables["hosts"] if r[0] == fleet_gen.host_plan(0)["instance_id"])
    assert host0[5].startswith(fleet_gen.make_report(0)["generated_at"][:16].replace("T", " "))  # newest kept
    fights = dom.tables["fights"]
    assert [(r[0], int(r[3])) for r in fights] == [("/etc/sysctl.d/99-vendor.conf", want["fight_hosts"])]
    assert len(dom.tables["ena"]) == want["pps_hosts"]
    skipped = {os.path.basename(r[0]): r[1] for r in dom.tables["skipped"]}
    assert skipped["status.json"] == "a netagent daemon status file, not an audit"
    assert re.match(r"not JSON: line 1 column \d+: ", skipped["truncated.json"])
    assert dom.by_id["duplicates"].startswith("1 older reports")


def test_hash_sorts_the_hosts_table_in_the_browser(page: dict[str, object]) -> None:
    dom = _Dom()
    dom.feed(_chromium(page, "--dump-dom", url_tail="#sort=hosts:3:asc"))
    failures = [int(row[3]) for row in dom.tables["hosts"]]
    assert failures == sorted(failures)
    assert failures[0] < failures[-1]  # the page came sorted the other way: the script re-sorted it


def test_screenshot_for_the_readme(page: dict[str, object]) -> None:
    work = page["work"]
    assert isinstance(work, Path)
    shot = work / "fleet-report.png"
    _chromium(page, f"--screenshot={shot}", "--window-size=1280,1500")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 1500)
    target = os.environ.get("NETAGENT_FLEET_SCREENSHOT")  # set to refresh docs/fleet-report.png
    if target:
        shutil.copyfile(shot, target)
