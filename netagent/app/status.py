"""The status use case: the daemon's status file, and whether that daemon still runs."""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING
from netagent.host.statusfile import is_alive, read_status

if TYPE_CHECKING:
    from typing import Any


def daemon_status(state_dir: str) -> tuple[dict[str, Any] | None, bool]:
    """Return the status document (None without a status file) and whether its daemon runs.

    Raises:
        StateError: the status file is unreadable or not netagent's.
    """
    doc = read_status(state_dir)
    if doc is None:
        return None, False
    return doc, bool(doc.get("running")) and is_alive(doc.get("pid"))
