"""The originals journal's entries: encode a change's pre-change value, validate, merge (pure).

Each entry is `{"type": <kind>, "ifname" or "key": ..., "value": ...}` under its check id, as
the setting kind encodes it (netagent.core.settings); the file around it is netagent.host.statefile.
"""

from __future__ import annotations

from netagent.core.errors import StateError
from netagent.core.model import CheckId
from netagent.core.settings import kind_of_change
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from netagent.core.model import Change


def original_entry(change: Change) -> dict[str, Any]:
    """Return the JSON entry recording the value a change replaces."""
    kind = kind_of_change(change.kind)
    assert kind is not None, change.kind
    return kind.original(change)


def valid_entry(entry: object, setting: str | None = None) -> bool:
    """Tell whether an entry is one netagent could have written: restore writes it back as root.

    Only what a profile can name passes: interface names the kernel could have, counts, keys
    under net. with integer values; a forged kernel.core_pattern entry is refused (issue 9).
    With `setting`, the entry must also be the one recorded under that check id (`lab0/mtu`
    holds lab0's MTU, not lab1's), as restore forgets it by that id.
    """
    if not isinstance(entry, dict):
        return False
    name = entry.get("type")
    kind = kind_of_change(name) if isinstance(name, str) else None
    if kind is None or not kind.valid_original(entry):
        return False
    return setting is None or setting == entry_setting(entry)


def entry_setting(entry: dict[str, Any]) -> str:
    """Return the check id an entry belongs under (`lab0/mtu`, `sysctl/net.ipv4.tcp_rmem`)."""
    if entry["type"] == "sysctl":
        return str(CheckId(str(entry["key"]), "sysctl"))
    return str(CheckId(str(entry["ifname"]), str(entry["type"])))


def record(originals: dict[str, dict[str, Any]], changes: Sequence[Change]) -> tuple[list[str], bool]:
    """Add the originals of changes not recorded yet; keep the first value of a setting for good.

    Returns the settings recorded for the first time, and whether anything changed at all (an
    entry with parts, such as channel types, may also grow).
    """
    added: list[str] = []
    grew = False
    for change in changes:
        entry = original_entry(change)
        if not valid_entry(entry, change.setting):
            # The state file must stay loadable: an original it would refuse is refused now,
            # before any write, never recorded (a non-integer sysctl, say).
            raise StateError(f"{change.target}: cannot record {entry['value']!r} as its original value")
        have = originals.get(change.setting)
        if have is None:
            originals[change.setting] = entry
            added.append(change.setting)
        elif kind_of_change(change.kind).merge_original(have, entry):  # type: ignore[union-attr]
            grew = True
    return added, bool(added) or grew
