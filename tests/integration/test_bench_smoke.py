"""scripts/bench --smoke runs end to end and leaves nothing behind (issue 8). No goals asserted:
performance goals live in the benchmark's table, never in tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _labs_of(pid: int) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(f"nab-{pid}-")]


def test_bench_smoke_measures_and_cleans_up(netns_ok: None, tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    # The yardstick lives in ../shared beside the repository (as in CI); a clone elsewhere gets a
    # stand-in, since this test checks that the script runs, not what the floor costs.
    floor = REPO.parent / "shared" / "bench" / "floor.py"
    if not floor.exists():
        floor = tmp_path / "floor.py"
        floor.write_text("print('floor: stand-in')\n")
    cmd = [sys.executable, str(REPO / "scripts" / "bench.py"), "--smoke", "--python", sys.executable]
    cmd += ["--floor", str(floor)]
    proc = subprocess.Popen([*cmd, "--json", str(report)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr
    assert _labs_of(proc.pid) == []
    doc = json.loads(report.read_text())
    assert set(doc["audit"]) == {"1", "8"}
    for size in ("1", "8"):
        medians = doc["audit"][size]["median_ms"]
        assert {"floor", "audit", "shell"} <= set(medians)
        assert all(ms > 0 for ms in medians.values())
    daemon = doc["daemon"]
    assert daemon is not None
    assert "error" not in daemon
    assert daemon["heal_footprint"]["heal"]["healed"] == daemon["heal_footprint"]["heal"]["events"]
    assert "netagent audit" in stdout
    assert "heal latency" in stdout
