"""The state directory: the originals journal (atomic, durable) and the one-at-a-time lock.

Originals are the values settings had before netagent first changed them. They are written
before the change they protect (temp file, fsync, rename, fsync of the directory), and the
first value recorded for a setting is kept for good, so `restore` can always go back.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time

from netagent import DEFAULT_STATE_DIR
from netagent.core.errors import StateError
from netagent.core.originals import record, valid_entry
from netagent.core.value import TYPE_CHECKING
from netagent.host.trust import untrusted

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from netagent.core.model import Change

STATE_FILE = "originals.json"
LOCK_FILE = "lock"
FORMAT = "netagent-originals"
VERSION = 1
LOCK_POLL_S = 0.05


class StateDir:
    """One state directory: `originals.json` and `lock`."""

    def __init__(self, path: str = DEFAULT_STATE_DIR) -> None:
        self.path = path
        self.state_path = os.path.join(path, STATE_FILE)
        self.lock_path = os.path.join(path, LOCK_FILE)

    def ensure(self) -> None:
        """Create the directory if needed, then make sure nobody else can plant files in it.

        Raises:
            StateError: it cannot be created, is a symlink or not a directory, belongs to another
                user, or is group- or world-writable (a planted `lock` or temp-file symlink could
                make root overwrite any file).
        """
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            st = os.lstat(self.path)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot create the state directory ({exc.strerror})") from None
        problem = unsafe_dir_reason(st)
        if problem:
            raise StateError(f"{self.path}: unsafe state directory: {problem}")

    # ---------------------------------------------------------------- lock

    def lock(self, timeout_s: float = 30.0) -> _Lock:
        """Hold the state directory's lock (`with state.lock():`); wait at most timeout_s for another holder.

        The lock is an flock on a file of its own that is never renamed or removed, so the
        kernel frees it when its holder dies, SIGKILL included.

        Raises:
            LockBusy: another process held the lock for the whole wait; names its pid.
        """
        return _Lock(self, timeout_s)

    def _acquire(self, timeout_s: float) -> int:
        """Take the lock, write our pid into it, clear stale temps; return the descriptor that holds it."""
        self.ensure()
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except OSError as exc:
            raise StateError(f"{self.lock_path}: cannot open the lock ({exc.strerror})") from None
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise StateError(f"{self.lock_path}: cannot lock ({exc.strerror})") from None
                if time.monotonic() >= deadline:
                    raise LockBusy(self.lock_path, _read_pid(fd), timeout_s)
                time.sleep(LOCK_POLL_S)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            self._remove_stale_temps()
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _remove_stale_temps(self) -> None:
        """Remove the temp files of state writers killed before their rename (issue 9).

        Called once the lock is held, so no other writer's temp file is live.
        """
        import contextlib  # here, not at the top: the audit imports this module (issue 8)

        prefix = f"{STATE_FILE}."  # write_atomic's mkstemp names: originals.json.XXXXXXXX
        with contextlib.suppress(OSError):
            for name in os.listdir(self.path):
                if name.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(self.path, name))

    # ---------------------------------------------------------------- originals

    def load(self) -> dict[str, dict[str, Any]]:
        """Return the recorded originals by check id; {} when none were recorded.

        Raises:
            StateError: the file is unreadable, corrupt or not netagent's; it is left untouched.
        """
        try:
            fd = os.open(self.state_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"{self.state_path}: cannot read ({exc.strerror})") from None
        try:
            # restore writes these values back as root: a file others could write is not ours (issue 9).
            why = untrusted(os.fstat(fd), os.geteuid())
            if why is not None:
                raise StateError(f"{self.state_path}: not trusted: {why}; left untouched")
            with os.fdopen(os.dup(fd), encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise StateError(f"{self.state_path}: cannot read ({exc}); left untouched") from None
        finally:
            os.close(fd)
        try:
            doc = _json().loads(text)
        except ValueError as exc:
            raise StateError(f"{self.state_path}: corrupt state file ({exc}); left untouched") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise StateError(f"{self.state_path}: not a netagent {FORMAT} v{VERSION} file; left untouched")
        recorded_ns = doc.get("netns")
        if recorded_ns is not None and recorded_ns != netns_id():
            raise StateError(
                f"{self.state_path}: recorded in another network namespace ({recorded_ns}, this is {netns_id()}):"
                " use that namespace's own --state-dir; left untouched"
            )
        originals = doc.get("originals")
        if not isinstance(originals, dict) or not all(valid_entry(v, k) for k, v in originals.items()):
            raise StateError(f"{self.state_path}: malformed originals; left untouched")
        return originals

    def record_originals(self, changes: Sequence[Change]) -> list[str]:
        """Durably record the pre-change value of every setting not recorded yet.

        Returns the settings recorded for the first time now (their entries are new).

        Raises:
            StateError: the state file is corrupt, or cannot be written.
        """
        originals = self.load()
        added, changed = record(originals, changes)
        if changed:
            self._write(originals)
        return added

    def forget(self, settings: Sequence[str]) -> None:
        """Drop originals (after they were restored); remove the file when none remain.

        Raises:
            StateError: the state file is corrupt, or cannot be written.
        """
        originals = self.load()
        for setting in settings:
            originals.pop(setting, None)
        if originals:
            self._write(originals)
        else:
            from netagent.host.files import fsync_dir

            try:
                os.unlink(self.state_path)
                fsync_dir(self.path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StateError(f"{self.state_path}: cannot remove ({exc.strerror})") from None

    def rewind(self, previous: dict[str, dict[str, Any]]) -> None:
        """Make the recorded originals `previous` again (after a run was rolled back cleanly).

        Raises:
            StateError: the state file is corrupt, or cannot be written.
        """
        if self.load() == previous:
            return
        if previous:
            self._write(previous)
        else:
            self.forget(list(self.load()))

    def _write(self, originals: dict[str, dict[str, Any]]) -> None:
        self.ensure()
        doc = {"format": FORMAT, "version": VERSION, "netns": netns_id(), "originals": originals}
        write_atomic(self.state_path, (_json().dumps(doc, indent=2, sort_keys=True) + "\n").encode())


class LockBusy(StateError):
    """Another netagent held the lock for the whole wait."""

    def __init__(self, path: str, pid: int | None, waited_s: float) -> None:
        holder = f"pid {pid}" if pid else "a process that did not record its pid"
        super().__init__(f"another netagent ({holder}) holds {path}; gave up after {waited_s:g} s")
        self.pid = pid


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text.isdigit() else None
    except (OSError, UnicodeDecodeError):
        return None


def unsafe_dir_reason(st: os.stat_result) -> str:
    """Say why a directory (lstat result) is unsafe to keep root's state in; "" when it is safe."""
    if stat.S_ISLNK(st.st_mode):
        return "it is a symlink"
    if not stat.S_ISDIR(st.st_mode):
        return "not a directory"
    if st.st_uid != os.geteuid():
        return f"owned by uid {st.st_uid}, not {os.geteuid()}"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group- or world-writable (mode {stat.S_IMODE(st.st_mode):o})"
    return ""


def netns_id() -> str:
    """Return this process's network namespace as `net:[INODE]`, as /proc/self/ns/net shows it."""
    try:
        return f"net:[{os.stat('/proc/self/ns/net').st_ino}]"
    except OSError:
        return "net:[unknown]"


def write_atomic(path: str, data: bytes) -> None:
    """Replace `path` with `data` (mode 0600) through output.replace_file.

    Raises:
        StateError: the file cannot be written; the old one, if any, is untouched.
    """
    from netagent.host.files import replace_file  # tempfile: ~5 ms; the audit never writes state (issue 8)

    try:
        replace_file(path, data, 0o600, prefix=os.path.basename(path) + ".")
    except OSError as exc:
        raise StateError(f"{path}: cannot write ({exc.strerror})") from None


def _json() -> Any:
    """Return the json module, imported when the state file is read or written: the CLI imports
    this module for every command, and `import json` costs about 2 ms (issue 8)."""
    import json

    return json


class _Lock:
    """The held state lock, as a context manager; a class, not @contextlib.contextmanager,
    because every CLI command imports this module and contextlib costs ~1 ms (issue 8)."""

    def __init__(self, state: StateDir, timeout_s: float) -> None:
        self._state = state
        self._timeout_s = timeout_s
        self._fd = -1

    def __enter__(self) -> None:
        self._fd = self._state._acquire(self._timeout_s)

    def __exit__(self, *exc: object) -> None:
        try:
            os.ftruncate(self._fd, 0)
        finally:
            os.close(self._fd)  # closing the last descriptor releases the flock
