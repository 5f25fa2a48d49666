"""The state directory: the originals journal (atomic, durable) and the one-at-a-time lock.

Originals are the values settings had before netagent first changed them. They are written
before the change they protect (temp file, fsync, rename, fsync of the directory), and the
first value recorded for a setting is kept for good, so `restore` can always go back.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from netagent.errors import StateError
from netagent.model import Change, SetChannels, SetMtu
from netagent.trust import untrusted

DEFAULT_STATE_DIR = "/var/lib/netagent"
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

    def _ensure(self) -> None:
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise StateError(f"{self.path}: cannot create the state directory ({exc.strerror})") from None
        self._check_dir()

    def _check_dir(self) -> None:
        """Refuse a state directory that others could write (issue 9).

        restore writes the recorded values back as root, so whoever can plant originals.json
        (a directory that is not root's, or is group/world-writable) could set any of them.

        Raises:
            StateError: the directory is not root's (or the caller's), or others can write it.
        """
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StateError(f"{self.path}: cannot read the state directory ({exc.strerror})") from None
        why = untrusted(st, os.geteuid(), kind="dir")
        if why is not None:
            raise StateError(f"{self.path}: state directory not trusted: {why}; others could plant originals")

    # ---------------------------------------------------------------- lock

    @contextlib.contextmanager
    def lock(self, timeout_s: float = 30.0) -> Iterator[None]:
        """Hold the state directory's lock; wait at most timeout_s for another holder.

        The lock is an flock on a file of its own that is never renamed or removed, so the
        kernel frees it when its holder dies, SIGKILL included.

        Raises:
            LockBusy: another process held the lock for the whole wait; names its pid.
        """
        self._ensure()
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
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
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing the last descriptor releases the flock

    # ---------------------------------------------------------------- originals

    def load(self) -> dict[str, dict[str, Any]]:
        """Return the recorded originals by check id; {} when none were recorded.

        Raises:
            StateError: the file is unreadable, corrupt or not netagent's; it is left untouched.
        """
        self._check_dir()
        try:
            fd = os.open(self.state_path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateError(f"{self.state_path}: cannot read ({exc.strerror})") from None
        try:
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
            doc = json.loads(text)
        except ValueError as exc:
            raise StateError(f"{self.state_path}: corrupt state file ({exc}); left untouched") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise StateError(f"{self.state_path}: not a netagent {FORMAT} v{VERSION} file; left untouched")
        originals = doc.get("originals")
        if not isinstance(originals, dict) or not all(_valid_entry(v) for v in originals.values()):
            raise StateError(f"{self.state_path}: malformed originals; left untouched")
        return originals

    def record_originals(self, changes: Sequence[Change]) -> int:
        """Durably record the pre-change value of every setting not recorded yet; return how many were new.

        Raises:
            StateError: the state file is corrupt, or cannot be written.
        """
        originals = self.load()
        added = 0
        for change in changes:
            entry = original_entry(change)
            have = originals.get(change.setting)
            if have is None:
                originals[change.setting] = entry
                added += 1
            elif entry["type"] == "channels":  # record kinds first touched now (rx earlier, combined now)
                new_kinds = {k: v for k, v in entry["value"].items() if k not in have["value"]}
                if new_kinds:
                    have["value"].update(new_kinds)
                    added += 1
        if added:
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
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.state_path)
            self._fsync_dir()

    def _remove_stale_temps(self) -> None:
        """Remove temp files that a writer killed before its rename left behind (issue 9).

        Called once the lock is held, so no other writer's temp file is live.
        """
        prefix = f"{STATE_FILE}.tmp."
        with contextlib.suppress(OSError):
            for name in os.listdir(self.path):
                if name.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(self.path, name))

    def _write(self, originals: dict[str, dict[str, Any]]) -> None:
        self._ensure()
        doc = {"format": FORMAT, "version": VERSION, "originals": originals}
        data = (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
        tmp = f"{self.state_path}.tmp.{os.getpid()}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, self.state_path)
            self._fsync_dir()
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise StateError(f"{self.state_path}: cannot write ({exc.strerror})") from None

    def _fsync_dir(self) -> None:
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


def original_entry(change: Change) -> dict[str, Any]:
    """Return the JSON entry recording the value a change replaces."""
    if isinstance(change, SetMtu):
        return {"type": "mtu", "ifname": change.ifname, "value": change.old}
    if isinstance(change, SetChannels):
        return {"type": "channels", "ifname": change.ifname, "value": dict(change.old)}
    return {"type": "sysctl", "key": change.key, "value": change.old}


def _valid_entry(entry: object) -> bool:
    """Tell whether an entry is one netagent could have written: restore writes it back as root."""
    if not isinstance(entry, dict):
        return False
    kind, value = entry.get("type"), entry.get("value")
    if kind in ("mtu", "channels") and not _is_ifname(entry.get("ifname")):
        return False
    if kind == "mtu":
        return _is_count(value)
    if kind == "channels":
        return (
            isinstance(value, dict)
            and bool(value)
            and all(k in CHANNEL_KINDS and _is_count(n) for k, n in value.items())
        )
    key = entry.get("key")
    return (
        kind == "sysctl"
        and isinstance(key, str)
        and _SYSCTL_KEY.fullmatch(key) is not None
        and isinstance(value, str)
        and _SYSCTL_VALUE.fullmatch(value.strip()) is not None
    )


# Only what a profile can name (profile.py's grammar): keys under net., integer values. A forged
# entry such as kernel.core_pattern = "|/tmp/x" is refused, never written back (issue 9).
_SYSCTL_KEY = re.compile(r"net(\.[A-Za-z0-9_:@-]+)+")
_SYSCTL_VALUE = re.compile(r"-?[0-9]+(?:[ \t]+-?[0-9]+)*")
CHANNEL_KINDS = ("rx", "tx", "other", "combined")
IFNAMSIZ = 16  # include/uapi/linux/if.h: names are 1..15 bytes, no '/'


def _is_ifname(name: object) -> bool:
    return (
        isinstance(name, str) and 0 < len(os.fsencode(name)) < IFNAMSIZ and "/" not in name and name not in (".", "..")
    )


def _is_count(n: object) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**32
