"""A stop signal in the middle of an apply (issue 9, item 11): the daemon exits 0 within 5 s and
the one-shot apply exits 3, each with its transaction rolled back and the state consistent.

strace slows every netlink send (the MTU writes, RTM_NEWLINK) down so the signal surely lands
mid-transaction; nothing in netagent knows about it. (Slowing ioctls instead would slow Python's
own start-up, which asks isatty() of every file it opens.)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.lab import Lab
from tests.integration.test_daemon_lab import DaemonProc

# Each netlink send returns 0.8 s late: a plan with three MTU changes takes seconds.
SLOW_SENDS = (
    "strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=sendto,sendmsg",
    "-e", "inject=sendto,sendmsg:delay_exit=800000",
)  # fmt: skip
PROFILE = """\
name: slow
interfaces:
  - match: "lab*"
    channels: {rx: 2, tx: 2}
    mtu: 9001
sysctl:
  net.ipv4.tcp_mtu_probing: 1
"""


def _profile(tmp_path: Path) -> str:
    path = tmp_path / "slow.yaml"
    path.write_text(PROFILE)
    return str(path)


def _state_parses(lab: Lab) -> None:
    state = Path(lab.state_dir) / "originals.json"
    if state.exists():
        json.loads(state.read_text())


def test_sigterm_mid_startup_apply_rolls_back_and_exits_0(lab: Lab, tmp_path: Path) -> None:
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    before = lab.snapshot()
    daemon = DaemonProc(lab, _profile(tmp_path), tmp_path, wrap=SLOW_SENDS)
    try:
        daemon.wait_event("setting_changed", deadline_s=30)  # the transaction has begun writing
        sent = time.monotonic()
        daemon.signal(signal.SIGTERM)
        code = daemon.proc.wait(timeout=10)
        took_s = time.monotonic() - sent
    finally:
        daemon.kill()
    print(f"\nSIGTERM mid-apply: daemon exited {code} after {took_s:.2f} s")
    assert code == 0
    assert took_s < 5.0  # the bound
    assert daemon.events("apply_interrupted")
    assert "stopped during the start-up apply" in daemon.events("daemon_stopped")[-1]["reason"]
    assert lab.snapshot() == before
    _state_parses(lab)
    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    assert lab.snapshot() == before


def test_sigterm_mid_cli_apply_rolls_back_and_exits_3(lab: Lab, tmp_path: Path) -> None:
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
    before = lab.snapshot()
    cmd = ["ip", "netns", "exec", lab.name, *SLOW_SENDS, sys.executable, "-m", "netagent", "apply"]
    cmd += ["--profile", _profile(tmp_path), "--state-dir", lab.state_dir, "--log-format", "json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        pid = None
        for line in proc.stderr:  # the first change is logged once it is written and verified
            if '"setting_changed"' in line:
                pid = _netagent_pid(lab)
                break
        assert pid is not None, "apply never logged a change"
        subprocess.run(["kill", "-TERM", str(pid)], check=True)
        rest = proc.stderr.read()
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 3, rest
    assert "interrupted by a stop signal" in rest
    assert "rolled back" in rest
    assert "Traceback" not in rest
    assert lab.snapshot() == before
    _state_parses(lab)


def _netagent_pid(lab: Lab) -> int:
    """Return the pid of the `python -m netagent apply` of this lab (strace runs it as a child)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0] == sys.executable.encode() and b"apply" in argv and lab.state_dir.encode() in argv:
            pids.append(int(entry.name))
    assert len(pids) == 1, pids
    return pids[0]
