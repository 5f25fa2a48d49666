"""The daemon's status file in the state directory: written atomically, read by `netagent status`.

The file is a snapshot for people and monitoring, not a journal: it is replaced by rename (a
reader never sees half a file) without fsync, since losing the last snapshot in a crash loses
nothing that the next start does not rebuild.
"""

from __future__ import annotations

import json
import os
from typing import Any

from netagent.core.errors import StateError
from netagent.host.statefile import StateDir, write_atomic

STATUS_FILE = "status.json"
FORMAT = "netagent-status"


def status_path(state_dir: str) -> str:
    """Return the status file's path in a state directory."""
    return os.path.join(state_dir, STATUS_FILE)


def write_status(state_dir: str, doc: dict[str, Any]) -> None:
    """Replace the status file atomically (temp file, rename).

    Raises:
        StateError: the state directory cannot be written.
    """
    StateDir(state_dir).ensure()
    write_atomic(status_path(state_dir), (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode())


def read_status(state_dir: str) -> dict[str, Any] | None:
    """Return the status document, or None when no daemon ever wrote one here.

    Raises:
        StateError: the file is unreadable, corrupt or not a netagent status file.
    """
    path = status_path(state_dir)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise StateError(f"{path}: corrupt status file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise StateError(f"{path}: not a {FORMAT} file")
    return doc


def is_alive(pid: object) -> bool:
    """Tell whether this pid is a running `netagent daemon` (a pid reused after a crash is not)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        return False
    return b"daemon" in argv and any(b"netagent" in arg for arg in argv)
