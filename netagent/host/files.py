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

from netagent.core.errors import OutputError


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Replace `path` with `text` atomically: a temp file in the same directory, fsync, rename.

    A symlink at `path` is replaced, not followed.

    Raises:
        OutputError: the directory is missing or not writable.
    """
    # backslashreplace: a non-UTF-8 interface name (issue 9) is written escaped, not a crash.
    data = text.encode("utf-8", errors="backslashreplace")
    try:
        # The textfile collector reads only `*.prom`: the temp name does not end in it.
        replace_file(path, data, mode, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None


def replace_file(path: str, data: bytes, mode: int, prefix: str, suffix: str = "") -> None:
    """Replace `path` with `data`: a new temp file (mkstemp: O_EXCL, random name) named
    prefix...suffix in the same directory, fsync, rename, fsync of the directory. The one atomic
    writer: reports, boot files, the state file and the daemon's status all go through it.

    Raises:
        OSError: the write failed; the temp file is removed and the old file is untouched.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        fsync_dir(directory)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # gone already when only the directory fsync failed
        raise


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


def fsync_dir(directory: str) -> None:
    """Make a rename or unlink in `directory` durable (the directory entry reaches the disk)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
