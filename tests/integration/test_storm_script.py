"""The storm script's short run (issue 9, item 7): flaps and MTU changes with the daemon paused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "storm.py"


def test_storm_short_run_keeps_every_promise(netns_ok: None, tmp_path: Path) -> None:
    out = tmp_path / "storm.json"
    # 10,000 events over 32 veths, half of them while the daemon is stopped: enough to overrun
    # its netlink socket. `sudo scripts/storm.py` runs the full 256-veth version.
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--veths", "32", "--events", "10000", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(done.stdout)
    results = json.loads(out.read_text())
    assert results["checks"], done.stderr
    failed = [name for name, ok in results["checks"].items() if not ok]
    assert failed == [], done.stdout + done.stderr
    assert done.returncode == 0
    assert results["overruns"] >= 1
