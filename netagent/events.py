"""Link events: parse rtnetlink datagrams and decide what each event asks of the daemon (pure).

Layouts from include/uapi/linux/netlink.h (struct nlmsghdr), rtnetlink.h (struct ifinfomsg,
struct rtattr) and if_link.h (IFLA_*). Only what the daemon uses is decoded: the message type,
the interface index, its name and its MTU.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from netagent.matching import matches

RTM_NEWLINK = 16  # include/uapi/linux/rtnetlink.h
RTM_DELLINK = 17
NLMSG_ERROR = 2  # include/uapi/linux/netlink.h
NLMSG_OVERRUN = 4
IFLA_IFNAME = 3  # include/uapi/linux/if_link.h
IFLA_MTU = 4
_NLMSGHDR = struct.Struct("=IHHII")  # len, type, flags, seq, pid
_IFINFOMSG = struct.Struct("=BxHiII")  # family, pad, type, index, flags, change
_RTATTR = struct.Struct("=HH")  # len, type
_U32 = struct.Struct("=I")


def _align(n: int) -> int:
    return (n + 3) & ~3


@dataclass(frozen=True)
class LinkEvent:
    """One RTM_NEWLINK (is_removal False) or RTM_DELLINK; mtu is None when the message had none."""

    index: int
    ifname: str
    mtu: int | None
    is_removal: bool = False


def parse_link_messages(data: bytes) -> tuple[list[LinkEvent], bool]:
    """Decode one datagram of rtnetlink messages; return the link events and whether an
    NLMSG_OVERRUN was among them (the kernel dropped messages)."""
    events: list[LinkEvent] = []
    overrun = False
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            break  # truncated or malformed: stop, never read past the datagram
        if kind == NLMSG_OVERRUN:
            overrun = True
        elif kind in (RTM_NEWLINK, RTM_DELLINK):
            event = _parse_link(data[offset + _NLMSGHDR.size : offset + length], kind == RTM_DELLINK)
            if event is not None:
                events.append(event)
        offset += _align(length)
    return events, overrun


def _parse_link(body: bytes, is_removal: bool) -> LinkEvent | None:
    if len(body) < _IFINFOMSG.size:
        return None
    _family, _type, index, _flags, _change = _IFINFOMSG.unpack_from(body, 0)
    ifname, mtu = "", None
    offset = _IFINFOMSG.size
    while offset + _RTATTR.size <= len(body):
        length, kind = _RTATTR.unpack_from(body, offset)
        if length < _RTATTR.size or offset + length > len(body):
            break
        payload = body[offset + _RTATTR.size : offset + length]
        if kind == IFLA_IFNAME:
            ifname = payload.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        elif kind == IFLA_MTU and len(payload) >= _U32.size:
            mtu = _U32.unpack_from(payload, 0)[0]
        offset += _align(length)
    if not ifname:
        return None
    return LinkEvent(index=index, ifname=ifname, mtu=mtu, is_removal=is_removal)


class Action(str, enum.Enum):
    """What an event asks of the daemon."""

    IGNORE = "ignore"  # not a matching interface, or nothing the profile sets changed
    FORGET = "forget"  # a known interface vanished (or left a name the profile matches)
    TUNE = "tune"  # a matching interface appeared (or was renamed into a match): read and tune it all
    CHECK_MTU = "check_mtu"  # a known matching interface reports an MTU other than the profile's


def classify(event: LinkEvent, known: Mapping[int, str], globs: Sequence[str], want_mtu: int | None) -> Action:
    """Decide what one link event asks for, given the interfaces known by index (name) and the
    profile's globs and wanted MTU for that interface.

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
    if want_mtu is not None and event.mtu is not None and event.mtu != want_mtu:
        return Action.CHECK_MTU
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
