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
