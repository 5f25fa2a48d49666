"""Issue 15: one daemon per state directory; restore and apply refuse while it runs, unless --force."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from netagent import cli
from netagent.app.exclusive import refuse_while_daemon_runs
from netagent.core.errors import ExitCode
from netagent.host.daemonlock import DaemonLock, DaemonRunning, lock_path, running_daemon


@pytest.fixture
def state_dir(tmp_path: Path) -> str:
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return str(path)


def test_issue15_second_daemon_lock_fails_at_once_naming_the_first_pid(state_dir: str) -> None:
    with DaemonLock(state_dir, "/etc/netagent/profile.yaml"), pytest.raises(DaemonRunning) as info:
        DaemonLock(state_dir, "/other.yaml").acquire()
    assert info.value.exit_code == ExitCode.UNSAFE
    assert f"pid {os.getpid()}" in str(info.value)
    assert info.value.holder.profile_path == "/etc/netagent/profile.yaml"


def test_daemon_lock_is_free_after_release_and_says_nobody_runs(state_dir: str) -> None:
    assert running_daemon(state_dir) is None  # no file: nothing created
    assert not os.path.exists(lock_path(state_dir))
    lock = DaemonLock(state_dir, "p.yaml")
    lock.acquire()
    held = running_daemon(state_dir)
    assert held is not None
    assert held.pid == os.getpid()
    lock.release()
    assert running_daemon(state_dir) is None
    DaemonLock(state_dir, "p.yaml").acquire()  # free again: no stale lock (the fd closes at exit)


def test_issue15_restore_refused_while_daemon_runs_names_pid_and_way_out(state_dir: str) -> None:
    with DaemonLock(state_dir, "/etc/netagent/profile.yaml"):
        with pytest.raises(DaemonRunning) as info:
            refuse_while_daemon_runs(state_dir, "restore", force=False)
        refuse_while_daemon_runs(state_dir, "restore", force=True)  # --force passes
    message = str(info.value)
    assert f"pid {os.getpid()}" in message
    assert "systemctl stop netagent" in message
    assert "--force" in message
    refuse_while_daemon_runs(state_dir, "restore", force=False)  # no daemon: nothing to refuse


def test_apply_of_the_daemons_own_profile_passes_another_is_refused(state_dir: str, tmp_path: Path) -> None:
    own, other = tmp_path / "own.yaml", tmp_path / "other.yaml"
    own.write_text("name: own\n")
    other.write_text("name: other\n")
    with DaemonLock(state_dir, str(own)):
        refuse_while_daemon_runs(state_dir, "apply", force=False, profile_path=str(own))
        with pytest.raises(DaemonRunning, match="heal back to its own profile"):
            refuse_while_daemon_runs(state_dir, "apply", force=False, profile_path=str(other))


def test_issue15_cli_restore_exits_4_while_daemon_runs(state_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    with DaemonLock(state_dir, "/etc/netagent/profile.yaml"):
        code = cli.main(["restore", "--state-dir", state_dir])
    assert code == ExitCode.UNSAFE
    err = capsys.readouterr().err
    assert "netagent: error: restore: netagent daemon (pid" in err
    assert "systemctl stop netagent" in err
