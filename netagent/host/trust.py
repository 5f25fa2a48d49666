"""Trust only files that root (or the user running netagent) alone can change: profiles, state.

netagent runs as root and retunes the host from the profile, and `restore` writes back what the
state directory recorded, so either, if another user could write it, is a way to root's network
settings. As sudo does with sudoers, the checks are made on the
opened descriptor (fstat), never on the path, so the file read is the file checked: a symlink is
followed and the file it leads to must pass. O_NONBLOCK keeps a FIFO from blocking the open, and
anything but a regular file is refused.
"""

from __future__ import annotations

import os
import stat

from netagent.core.errors import Problem, ProfileError
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.core.model import Profile

INSECURE_FLAG = "--insecure-profile"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def untrusted(st: os.stat_result, euid: int) -> str | None:
    """Return why a file others could change (or not a regular file) must not be trusted, or None (pure)."""
    if not stat.S_ISREG(st.st_mode):
        found = next((name for test, name in _KINDS if test(st.st_mode)), "an unknown kind of file")
        return f"{found}, not a regular file"
    if st.st_uid not in (0, euid):
        return f"owned by uid {st.st_uid}, not by root or the user running netagent (uid {euid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        both = st.st_mode & stat.S_IWGRP and st.st_mode & stat.S_IWOTH
        who = "group- and world" if both else ("group" if st.st_mode & stat.S_IWGRP else "world")
        return f"{who}-writable (mode {stat.S_IMODE(st.st_mode):04o})"
    return None


def check_profile_stat(st: os.stat_result, euid: int, insecure: bool = False) -> str | None:
    """Return why a profile with this fstat must not be used, or None when it may (pure)."""
    why = untrusted(st, euid)
    if why is None or (insecure and stat.S_ISREG(st.st_mode)):
        return None
    if not stat.S_ISREG(st.st_mode):
        return f"refused: {why}"
    if why.startswith("owned"):
        return f"refused: {why}; pass {INSECURE_FLAG} to use it anyway"
    return f"refused: {why}, so others could retune this host; chmod go-w it, or pass {INSECURE_FLAG}"


def read_profile_text(path: str, insecure: bool = False) -> str:
    """Return a profile file's text after checking, on the open descriptor, that it can be trusted.

    Raises:
        ProfileError: missing, unreadable, not UTF-8, not a regular file, owned by another user,
            or group/world-writable (the last two are allowed with `insecure`).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except OSError as exc:
        raise ProfileError([Problem(path, None, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        why = check_profile_stat(os.fstat(fd), os.geteuid(), insecure)
        if why is not None:
            raise ProfileError([Problem(path, None, "", why)])
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError as exc:
        raise ProfileError([Problem(path, None, "", f"cannot read: {exc.strerror or exc}")]) from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProfileError([Problem(path, None, "", f"not UTF-8 text ({exc.reason})")]) from None


def load_profile(path: str, insecure: bool = False) -> Profile:
    """Read and parse a profile file, refusing one that others could have changed.

    Raises:
        ProfileError: the file is missing, unreadable, not UTF-8, not a regular file, writable
            by others or owned by another user (unless `insecure`), or not a valid profile.
    """
    from netagent.core.profile.parser import parse_profile

    return parse_profile(read_profile_text(path, insecure), path)
