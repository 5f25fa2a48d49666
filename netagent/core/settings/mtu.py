"""MTU: `mtu: 9001` on an interface rule; set over rtnetlink, persisted as `.link` MTUBytes= (pure)."""

from __future__ import annotations

from netagent.core.model import Change, Check, InterfaceChange, Status
from netagent.core.settings.base import UNKNOWN_TARGET, BootTarget, InterfaceKind, is_count, is_ifname
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# Linux accepts 68 (IPv4 minimum, RFC 791) up to the device maximum; 9216 is the largest
# ENA device maximum seen (`maxmtu 9216` in `ip -d link`, ../shared/ENA.md section 2).
MTU_MIN, MTU_MAX = 68, 9216


class SetMtu(InterfaceChange):
    """Set one interface's MTU."""

    kind = "mtu"
    old: int
    new: int

    def __init__(self, ifname: str, old: int, new: int) -> None:
        super().__init__(ifname, old, new)

    @property
    def new_text(self) -> str:
        """Return the new value as the kernel shows it."""
        return str(self.new)


class Mtu(InterfaceKind):
    """The interface MTU (IFLA_MTU); the rtnetlink link dump reads it with the interface."""

    name = "mtu"
    makes_changes = True
    rule_keys = ("mtu",)
    checks = (("mtu", "mtu"),)
    reads = False  # part of every observed Link
    link_key = "MTUBytes"

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `mtu`: an integer 68..9216."""
        return w.integer(node, field, MTU_MIN, MTU_MAX)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare one interface's MTU."""
        wanted = want.get("mtu")
        if not isinstance(wanted, int):
            return []
        return [check_mtu(ifname, wanted, link.mtu)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording the MTU a change replaces."""
        assert isinstance(change, SetMtu)
        return {"type": self.name, "ifname": change.ifname, "value": change.old}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether an MTU entry is one netagent could have written."""
        return is_ifname(entry.get("ifname")) and is_count(entry.get("value"))

    def restore(self, entry: Mapping[str, object], current: object) -> SetMtu | None:
        """Return the change back to the recorded MTU; None when the interface has it."""
        value = entry["value"]
        assert isinstance(value, int)
        assert isinstance(current, int)
        return None if current == value else SetMtu(str(entry["ifname"]), old=current, new=value)

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return `MTUBytes=N` (systemd.link(5))."""
        mtu = want.get("mtu")
        return [f"{self.link_key}={mtu}"] if mtu is not None else []


def check_mtu(ifname: str, want: int, have: int) -> Check:
    """Compare one interface's MTU."""
    if have == want:
        return Check(ifname, "mtu", Status.OK, str(want), str(have))
    return Check(ifname, "mtu", Status.DRIFT, str(want), str(have), change=SetMtu(ifname, old=have, new=want))


KIND = Mtu()
