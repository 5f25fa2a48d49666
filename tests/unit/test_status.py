"""The status file's reader and renderer."""

from __future__ import annotations

import os
import subprocess
import sys

from netagent.core.reports.status import render_status_text
from netagent.host.statusfile import is_alive


def test_a_pid_that_is_not_a_netagent_daemon_is_not_alive() -> None:
    """Review finding: a pid reused after a crash counted as a running daemon."""
    assert not is_alive(os.getpid())  # pytest, not `netagent daemon`
    assert not is_alive(0)
    assert not is_alive("42")


def test_a_netagent_daemon_command_line_is_alive() -> None:
    code = "import time; print('up', flush=True); time.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", code, "netagent", "daemon"], stdout=subprocess.PIPE)
    try:
        # Wait for the exec (until then /proc/PID/cmdline is the parent's): the child prints once it runs.
        assert proc.stdout is not None
        proc.stdout.readline()
        assert is_alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_status_table_columns_line_up() -> None:
    doc = {
        "running": True,
        "pid": 1,
        "heals": {
            "eth0/mtu": {"count": 2, "last_at": "2026-11-25T08:34:12.075+00:00", "found": "1500", "set": "9001"},
            "sysctl/net.ipv4.tcp_rmem": {"count": 10, "last_at": "2026-11-25T08:34:13+00:00", "found": "1", "set": "2"},
        },
    }
    lines = [line for line in render_status_text(doc, True).splitlines() if line.startswith("  ")]
    header, *rows = lines
    for column in ("COUNT", "LAST HEAL", "FOUND"):
        at = header.index(column)
        assert all(row[at - 1] == " " and row[at - 2 : at + len(column)].strip() for row in rows), (column, lines)
    found = header.index("FOUND")
    assert [row[found:].split()[0] for row in rows] == ["1500", "1"]


def test_issue15_failed_reload_shows_in_status_with_file_line_field() -> None:
    from netagent.core.healing import DaemonStats

    stats = DaemonStats(pid=7, started_at="t0", profile={"name": "lab", "path": "/etc/p.yaml"})
    problem = "/etc/p.yaml:5: interfaces[0].mtu: expected an integer 68..9216, got 'jumbo'"
    stats.record_reload("t1", "/etc/p.yaml", [problem], kept="lab")
    doc = stats.to_doc(running=True, updated_at="t2")
    assert doc["last_reload"] == {"at": "t1", "ok": False, "path": "/etc/p.yaml", "problems": [problem], "kept": "lab"}
    text = render_status_text(doc, True)
    assert "profile in force: lab (/etc/p.yaml)" in text
    assert "last reload: FAILED at t1 (/etc/p.yaml); still in force: profile 'lab'" in text
    assert f"  {problem}" in text
    stats.record_reload("t3", "/etc/p.yaml")
    assert "last reload: ok at t3" in render_status_text(stats.to_doc(running=True, updated_at="t4"), True)
