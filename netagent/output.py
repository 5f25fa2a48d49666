"""Write files the way readers of a half-written file need: temp file, fsync, rename.

node_exporter's textfile collector reads `*.prom` at any moment, so a report must appear whole
or not at all; `persist` writes boot configuration the same way, and only when it changed
(amazon-ec2-net-utils `_install_and_reload`, ../shared/STYLE.md §1).

A symlink at the written path is never followed: it is neither read (O_NOFOLLOW) nor written
through, but replaced by the rename, so a link planted at the path cannot redirect the write.
The temp file gets a random name and O_EXCL (tempfile.mkstemp), so it cannot be a planted link.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from netagent.errors import ExitCode, NetagentError


class OutputError(NetagentError):
    """A file could not be written (exit 2: a bad path is bad input)."""

    exit_code = ExitCode.BAD_INPUT


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Replace `path` with `text` atomically: a temp file in the same directory, fsync, rename.

    A symlink at `path` is replaced, not followed.

    Raises:
        OutputError: the directory is missing or not writable.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        # The textfile collector reads only `*.prom`: the temp name does not end in it.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        # backslashreplace: a non-UTF-8 interface name (issue 9) is written escaped, not a crash.
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    _fsync_dir(directory)


def write_if_changed(path: str, text: str, mode: int = 0o644) -> bool:
    """Write `path` atomically unless it already holds exactly `text`; return whether it wrote.

    Raises:
        OutputError: the file could not be written.
    """
    if read_regular(path) == text:
        return False
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create its directory: {exc.strerror or exc}") from None
    write_atomic(path, text, mode)
    return True


def read_regular(path: str) -> str | None:
    """Return the text of `path` when it is a regular UTF-8 file; None when missing, a symlink or else."""
    # O_NOFOLLOW: a symlink is not ours to read through (it is replaced); O_NONBLOCK: a FIFO
    # planted at the path must not block the open.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        try:
            return f.read().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return None


def _fsync_dir(directory: str) -> None:
    # The rename is durable only once the directory entry is on disk.
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
