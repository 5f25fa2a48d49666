"""Turn recorded originals and the current values into the changes that restore them (pure)."""

from __future__ import annotations

from netagent.core.model import Change, Unreadable
from netagent.core.settings import kind_of_change
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping


class RestorePlan(Value):
    """What restore will do: changes, and the settings it leaves as they are (and why)."""

    __slots__ = ("changes", "already", "gone", "unreadable")
    changes: tuple[Change, ...]
    already: tuple[str, ...]  # at their original value: forgotten
    gone: tuple[str, ...]  # the interface or key no longer exists: kept unless --forget-gone
    unreadable: tuple[tuple[str, str], ...]  # (setting, reason): kept

    def __init__(
        self,
        changes: tuple[Change, ...] = (),
        already: tuple[str, ...] = (),
        gone: tuple[str, ...] = (),
        unreadable: tuple[tuple[str, str], ...] = (),
    ) -> None:
        _set(self, "changes", changes)
        _set(self, "already", already)
        _set(self, "gone", gone)
        _set(self, "unreadable", unreadable)


def restore_changes(originals: Mapping[str, Mapping[str, object]], current: Mapping[str, object]) -> RestorePlan:
    """Compare the recorded originals with the current values (by setting id; None: gone)."""
    changes: list[Change] = []
    already: list[str] = []
    gone: list[str] = []
    unreadable: list[tuple[str, str]] = []
    for setting, entry in sorted(originals.items()):
        have = current.get(setting)
        if have is None:
            gone.append(setting)
            continue
        if isinstance(have, Unreadable):
            unreadable.append((setting, have.reason))
            continue
        kind = kind_of_change(str(entry["type"]))
        assert kind is not None  # the state file holds only entries valid_entry accepted
        change = kind.restore(entry, have)
        if change is None:
            already.append(setting)
        else:
            changes.append(change)
    from netagent.core.diff import undo_order

    return RestorePlan(tuple(sorted(changes, key=undo_order)), tuple(already), tuple(gone), tuple(unreadable))
