"""Transmit queue length: `txqueuelen: N` on an interface rule (pure).

Read with SIOCGIFTXQLEN, set over rtnetlink (IFLA_TXQLEN, as `ip link set DEV txqueuelen N`),
persisted as `.link` TransmitQueueLength= (systemd.link(5)). Link events carry IFLA_TXQLEN, so
the daemon heals it as it heals the MTU.
"""

from __future__ import annotations

from netagent.core.model import Change, Check, InterfaceChange, Status, Unreadable
from netagent.core.settings.base import UNKNOWN_TARGET, BootTarget, InterfaceKind, is_count, is_ifname, unreadable
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# dev->tx_queue_len is an unsigned int; systemd.link(5) accepts TransmitQueueLength= 0..4294967294.
TXQUEUELEN_MAX = 4294967294


class SetTxqueuelen(InterfaceChange):
    """Set one interface's transmit queue length."""

    kind = "txqueuelen"
    old: int
    new: int

    def __init__(self, ifname: str, old: int, new: int) -> None:
        super().__init__(ifname, old, new)

    @property
    def new_text(self) -> str:
        """Return the new length as `ip link` shows it."""
        return str(self.new)


class Txqueuelen(InterfaceKind):
    """The interface's transmit queue length (qlen of its root qdisc's default)."""

    name = "txqueuelen"
    makes_changes = True
    rule_keys = ("txqueuelen",)
    checks = (("txqueuelen", "txqueuelen"),)
    link_key = "TransmitQueueLength"

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `txqueuelen`: an integer 0..4294967294."""
        return w.integer(node, field, 0, TXQUEUELEN_MAX)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare the transmit queue length."""
        wanted = want.get("txqueuelen")
        if not isinstance(wanted, int):
            return []
        have = link.get(self.name)
        if isinstance(have, Unreadable):
            return [unreadable(ifname, self.name, str(wanted), have)]
        assert isinstance(have, int)
        if have == wanted:
            return [Check(ifname, self.name, Status.OK, str(wanted), str(have))]
        change = SetTxqueuelen(ifname, old=have, new=wanted)
        return [Check(ifname, self.name, Status.DRIFT, str(wanted), str(have), change=change)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the length a change replaces."""
        assert isinstance(change, SetTxqueuelen)
        return {"type": self.name, "ifname": change.ifname, "value": change.old}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether an entry is one netagent could have written."""
        return is_ifname(entry.get("ifname")) and is_count(entry.get("value"))

    def restore(self, entry: Mapping[str, object], current: object) -> SetTxqueuelen | None:
        """Return the change back to the recorded length; None when the interface has it."""
        value = entry["value"]
        assert isinstance(value, int)
        assert isinstance(current, int)
        return None if current == value else SetTxqueuelen(str(entry["ifname"]), old=current, new=value)

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return `TransmitQueueLength=N`."""
        n = want.get("txqueuelen")
        return [f"{self.link_key}={n}"] if n is not None else []


KIND = Txqueuelen()
