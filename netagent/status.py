"""The daemon's status file in the state directory: written atomically, read by `netagent status`.

The file is a snapshot for people and monitoring, not a journal: it is replaced by rename (a
reader never sees half a file) without fsync, since losing the last snapshot in a crash loses
nothing that the next start does not rebuild.
"""

from __future__ import annotations

import json
import os
from typing import Any

from netagent.errors import StateError
from netagent.state import StateDir, write_atomic

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


def render_status_text(doc: dict[str, Any], is_alive: bool) -> str:
    """Render a status document for people."""
    state = "running" if doc.get("running") and is_alive else "not running"
    profile = doc.get("profile") or {}
    lines = [
        f"daemon: {state} (pid {doc.get('pid')}, started {doc.get('started_at')})",
        f"profile: {profile.get('name', '?')} ({profile.get('path', '?')})",
        f"last resync: {doc.get('last_resync_at') or 'never'} ({doc.get('resyncs', 0)} resyncs,"
        f" {doc.get('netlink_overruns', 0)} netlink overruns)",
        f"heals: {doc.get('heals_total', 0)}",
    ]
    heals = doc.get("heals") or {}
    if heals:
        width = max(len(c) for c in heals)
        at_width = max(len("LAST HEAL"), *(len(str(rec["last_at"])) for rec in heals.values()))
        lines.append(f"  {'CHECK'.ljust(width)}  COUNT  {'LAST HEAL'.ljust(at_width)}  FOUND -> SET")
        for check_id, rec in heals.items():
            at = str(rec["last_at"]).ljust(at_width)
            lines.append(f"  {check_id.ljust(width)}  {rec['count']:>5}  {at}  {rec['found']} -> {rec['set']}")
    for check_id, n in (doc.get("failures") or {}).items():
        lines.append(f"failed heals: {check_id}: {n}")
    contested = doc.get("contested") or []
    lines.append(f"contested: {', '.join(contested) if contested else 'none'}")
    return "\n".join(lines) + "\n"
