"""Issue 15: what an operator sees on a terminal (a pty): each change once, colour unless NO_COLOR."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.lab import Lab

pytestmark = pytest.mark.integration

PROFILE = "name: lab\ninterfaces:\n  - match: lab0\n    mtu: 9001\n"


def on_terminal(lab: Lab, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run netagent in the lab with stdout and stderr on one pty, as a person at a terminal sees it."""
    master, slave = pty.openpty()
    cmd = ["ip", "netns", "exec", lab.name, sys.executable, "-m", "netagent", *argv, "--state-dir", lab.state_dir]
    clean = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env={**clean, **(env or {})})
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(10), b"".join(chunks).decode(errors="replace")


def test_issue15_apply_on_a_terminal_says_each_change_once(lab: Lab, tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    code, seen = on_terminal(lab, "apply", "--profile", str(profile))
    assert code == 0, seen
    mentions = [line for line in seen.splitlines() if "lab0" in line]
    assert len(mentions) == 1, seen
    assert "set lab0 mtu 1500 -> 9001" in mentions[0]
    assert lab.mtu("lab0") == 9001
    # Piped (a script, a unit's journal): the report on stdout, and the change as an info event on stderr.
    lab.set_mtu("lab0", 1500)
    piped = lab.netagent("apply", "--profile", str(profile), "--log-format", "json")
    assert "set lab0 mtu 1500 -> 9001" in piped.stdout
    assert '"event": "setting_changed"' in piped.stderr


def test_issue15_audit_colours_statuses_on_a_terminal_unless_no_color(lab: Lab, tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    code, seen = on_terminal(lab, "audit", "--profile", str(profile), "--no-imds")
    assert code == 1, seen
    assert "\x1b[33mdrift\x1b[0m" in seen
    code, seen = on_terminal(lab, "audit", "--profile", str(profile), "--no-imds", env={"NO_COLOR": "1"})
    assert code == 1, seen
    assert "drift" in seen
    assert "\x1b[" not in seen
    piped = lab.netagent("audit", "--profile", str(profile), "--no-imds")
    assert "drift" in piped.stdout
    assert "\x1b[" not in piped.stdout
