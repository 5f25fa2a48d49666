"""Which interfaces a rule's globs select (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

LOOPBACK = "lo"


def matches(ifname: str, globs: Sequence[str]) -> bool:
    """Tell whether any glob matches; `lo` is matched only by the literal name `lo`."""
    if ifname == LOOPBACK:
        return LOOPBACK in globs
    return any(fnmatchcase(ifname, g) for g in globs)
