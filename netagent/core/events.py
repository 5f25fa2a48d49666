"""Link events: what each one asks of the daemon (pure). netagent.host.rtnetlink decodes them."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from netagent.core.matching import matches
from netagent.core.value import Value, _set


class LinkEvent(Value):
    """One RTM_NEWLINK (is_removal False) or RTM_DELLINK; mtu and txqlen are None when the message had none."""

    __slots__ = ("index", "ifname", "mtu", "is_removal", "txqlen")
    index: int
    ifname: str
    mtu: int | None
    is_removal: bool
    txqlen: int | None

    def __init__(
        self, index: int, ifname: str, mtu: int | None, is_removal: bool = False, txqlen: int | None = None
    ) -> None:
        _set(self, "index", index)
        _set(self, "ifname", ifname)
        _set(self, "mtu", mtu)
        _set(self, "is_removal", is_removal)
        _set(self, "txqlen", txqlen)

    def differs(self, want: Mapping[str, object]) -> list[str]:
        """Return the link settings (`mtu`, `txqueuelen`) this event shows at another value than `want`."""
        out = []
        for setting, have in (("mtu", self.mtu), ("txqueuelen", self.txqlen)):
            wanted = want.get(setting)
            if isinstance(wanted, int) and have is not None and have != wanted:
                out.append(setting)
        return out


class EthtoolEvent(Value):
    """One ethtool netlink notification: a setting kind (channels, rings, coalesce) changed on a device."""

    __slots__ = ("index", "ifname", "setting")
    index: int
    ifname: str
    setting: str

    def __init__(self, index: int, ifname: str, setting: str) -> None:
        _set(self, "index", index)
        _set(self, "ifname", ifname)
        _set(self, "setting", setting)


class Action(str, enum.Enum):
    """What an event asks of the daemon."""

    IGNORE = "ignore"  # not a matching interface, or nothing the profile sets changed
    FORGET = "forget"  # a known interface vanished (or left a name the profile matches)
    TUNE = "tune"  # a matching interface appeared (or was renamed into a match): read and tune it all
    CHECK = "check"  # a known matching interface reports an MTU or txqueuelen other than the profile's


def classify(
    event: LinkEvent, known: Mapping[int, str], globs: Sequence[str], want: Mapping[str, object] | None
) -> Action:
    """Decide what one link event asks for, given the interfaces known by index (name) and the
    profile's globs and wanted link settings (rule values by key) for that interface.

    Events are compared with the profile, not counted: the echo of the daemon's own MTU write
    carries the profile's MTU, so it is never drift.
    """
    before = known.get(event.index)
    if event.is_removal:
        return Action.FORGET if before is not None else Action.IGNORE
    if not matches(event.ifname, globs):
        return Action.FORGET if before is not None and matches(before, globs) else Action.IGNORE
    if before != event.ifname:
        return Action.TUNE
    if want is not None and event.differs(want):
        return Action.CHECK
    return Action.IGNORE


def udev_manages_links(control_exists: bool, same_netns_as_init: bool | None) -> bool:
    """Say whether udev processes this namespace's new network devices (so they are its until done).

    udevd runs when its control socket exists; it sees only the devices of its own network
    namespace, PID 1's. When that cannot be told (PID 1's namespace unreadable), assume it does:
    waiting is bounded, racing it is not safe.
    """
    return control_exists and same_netns_as_init is not False


def awaits_udev(event: LinkEvent, known: Mapping[int, str], udev_manages: bool, initialized: bool) -> bool:
    """Say whether an event about a device must wait until udev has finished with that device.

    A device new to the daemon is udev's until udev has initialized it: renamed it (eth0 to
    ens5 under predictable names), applied its .link file, written its database entry. Tuning
    it before that races udev: writes by the transient name fail once renamed, and a .link
    file's values are written twice. After that it is matched by its final name. Known devices,
    removals, and hosts where udev does not manage the namespace's devices never wait.
    """
    return udev_manages and not event.is_removal and event.index not in known and not initialized


def udev_finished(entry: Mapping[str, str] | None, ifname: str) -> bool:
    """Say whether udev has finished with a network device, from its database entry and the
    kernel's current name for it.

    No entry: udev has not processed the device yet. udev (v250+, rename_netif) applies the
    device's .link file, then writes the entry with ID_RENAMING=1 just before it renames the
    device, and drops the mark when it handles the rename's "move" event; systemd-networkd waits
    for the mark to go (link_check_initialized). The .link file is applied by then, so the device
    is also done once the kernel carries the name udev renames it to (ID_NET_NAME): only udev's
    bookkeeping of the move is left.
    """
    if entry is None:
        return False
    if entry.get("ID_RENAMING") != "1":
        return True
    return ifname == entry.get("ID_NET_NAME")


def latest_per_index(events: Sequence[LinkEvent]) -> list[LinkEvent]:
    """Coalesce a burst: keep each interface's last event, in order of last appearance.

    A flapping link sends many events; only the state after the burst matters.
    """
    last: dict[int, LinkEvent] = {}
    for event in events:
        last.pop(event.index, None)
        last[event.index] = event
    return list(last.values())
