"""Turn recorded originals and the current values into the changes that restore them (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union

from netagent.core.model import Change, SetChannels, SetMtu, SetSysctl, Unreadable, normalize_sysctl

# What the shell read for a recorded setting: an MTU, channel counts, a sysctl value, or None
# when the interface or key is gone.
Current = Optional[Union[int, dict[str, int], str]]


@dataclass(frozen=True)
class RestorePlan:
    """What restore will do: changes, and the settings it leaves as they are (and why)."""

    changes: tuple[Change, ...] = ()
    already: tuple[str, ...] = ()  # at their original value: forgotten
    gone: tuple[str, ...] = ()  # the interface or key no longer exists: kept unless --forget-gone
    unreadable: tuple[tuple[str, str], ...] = ()  # (setting, reason): kept


def restore_changes(originals: dict[str, dict[str, Any]], current: dict[str, Current | Unreadable]) -> RestorePlan:
    """Compare the recorded originals with the current values."""
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
        change = _change(entry, have)
        if change is None:
            already.append(setting)
        else:
            changes.append(change)
    return RestorePlan(tuple(changes), tuple(already), tuple(gone), tuple(unreadable))


def _change(entry: dict[str, Any], have: int | dict[str, int] | str) -> Change | None:
    kind, value = entry["type"], entry["value"]
    if kind == "mtu":
        return None if have == value else SetMtu(entry["ifname"], old=int(have), new=int(value))  # type: ignore[arg-type]
    if kind == "channels":
        assert isinstance(have, dict)
        kinds = sorted(value)
        old = tuple((k, int(have.get(k, 0))) for k in kinds)
        new = tuple((k, int(value[k])) for k in kinds)
        return None if old == new else SetChannels(entry["ifname"], old=old, new=new)
    have_text = normalize_sysctl(str(have))
    return None if have_text == normalize_sysctl(value) else SetSysctl(entry["key"], old=have_text, new=value)
