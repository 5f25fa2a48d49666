"""One daemon per state directory: `daemon.pid`, flock'd for the daemon's whole life (issue 15).

The state lock (`lock`) is held only while writing, so two daemons on one state directory
could both run, take turns at the lock and overwrite each other's status file. The daemon
lock is a second file that the daemon locks at start and keeps locked until it exits; the
kernel frees an flock when its last descriptor closes, SIGKILL included, so a killed daemon
never leaves a stale lock behind. The file holds the pid and the profile path, for the
messages of a second daemon and of `restore` or `apply` while the daemon runs.
"""

from __future__ import annotations

import errno
import fcntl
import os

from netagent.core.errors import StateError
from netagent.host.statefile import StateDir

DAEMON_LOCK_FILE = "daemon.pid"
STOP_HINT = "systemctl stop netagent"


class RunningDaemon:
    """The daemon that holds a state directory's daemon lock: its pid and profile, when it wrote them."""

    __slots__ = ("pid", "profile_path")

    def __init__(self, pid: int | None, profile_path: str | None) -> None:
        self.pid = pid
        self.profile_path = profile_path

    def describe(self) -> str:
        """Return `netagent daemon (pid 123, profile /etc/netagent/profile.yaml)` for messages."""
        pid = f"pid {self.pid}" if self.pid else "pid not recorded yet"
        profile = f", profile {self.profile_path}" if self.profile_path else ""
        return f"netagent daemon ({pid}{profile})"


class DaemonRunning(StateError):
    """Another daemon already runs on this state directory (exit 4)."""

    def __init__(self, message: str, holder: RunningDaemon) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(state_dir: str) -> str:
    """Return the daemon lock's path in a state directory."""
    return os.path.join(state_dir, DAEMON_LOCK_FILE)


class DaemonLock:
    """The daemon lock, held from `acquire()` to `release()` (or the process's death)."""

    def __init__(self, state_dir: str, profile_path: str) -> None:
        self.state_dir = state_dir
        self.path = lock_path(state_dir)
        self.profile_path = profile_path
        self._fd = -1

    def acquire(self) -> None:
        """Take the daemon lock at once, or fail naming the daemon that holds it.

        Raises:
            DaemonRunning: another daemon holds it.
            StateError: the state directory or the lock file cannot be used.
        """
        StateDir(self.state_dir).ensure()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot open the daemon lock ({exc.strerror})") from None
        try:
            if not _try_flock(fd, fcntl.LOCK_EX, self.path):
                holder = _read(fd)
                raise DaemonRunning(
                    f"another {holder.describe()} already runs on {self.state_dir} (it holds {self.path});"
                    " one daemon per state directory",
                    holder,
                )
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n{os.path.abspath(self.profile_path)}\n".encode(), 0)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        """Empty the file and drop the lock (closing the descriptor releases the flock)."""
        if self._fd < 0:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass  # the lock is what matters, and closing frees it
        finally:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def running_daemon(state_dir: str) -> RunningDaemon | None:
    """Return the daemon that runs on this state directory, or None; never creates anything.

    Raises:
        StateError: the lock file exists but cannot be opened or locked.
    """
    path = lock_path(state_dir)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path}: cannot open the daemon lock ({exc.strerror})") from None
    try:
        if _try_flock(fd, fcntl.LOCK_SH, path):
            return None  # nobody holds it; closing the descriptor drops our shared lock
        return _read(fd)
    finally:
        os.close(fd)


def _try_flock(fd: int, kind: int, path: str) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise StateError(f"{path}: cannot lock ({exc.strerror})") from None
    return True


def _read(fd: int) -> RunningDaemon:
    try:
        lines = os.pread(fd, 4096, 0).decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    pid = int(lines[0]) if lines and lines[0].isdigit() else None
    profile = lines[1] if len(lines) > 1 and lines[1] else None
    return RunningDaemon(pid, profile)
