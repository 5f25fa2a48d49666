"""scripts/bench --fleet runs end to end on a small fleet and removes its files (issue 14). No
goals asserted: the figures belong to the benchmark's table, never to tests."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_bench_fleet_smoke_measures_every_size_and_cleans_up(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    before = set(Path(tempfile.gettempdir()).glob("netagent-bench-fleet-*"))
    cmd = [sys.executable, str(REPO / "scripts" / "bench.py"), "--fleet", "--sizes", "20,40", "--rounds", "2"]
    proc = subprocess.run([*cmd, "--python", sys.executable, "--json", str(report)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(report.read_text())
    assert set(doc["fleet"]) == {"20", "40"}
    for size in ("20", "40"):
        for name in ("floor", "report text", "report html"):
            m = doc["fleet"][size][name]
            assert len(m["samples"]) == 2
            assert m["seconds"] > 0
            assert m["peak_mb"] > 0
    assert "growth, report html: CPU time per host at 40 / at 20" in doc["table"]
    assert set(Path(tempfile.gettempdir()).glob("netagent-bench-fleet-*")) == before
