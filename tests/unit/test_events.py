"""Link events: decoding real rtnetlink bytes, and what each event asks of the daemon (pure)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from netagent.core.events import (
    Action,
    LinkEvent,
    awaits_udev,
    classify,
    latest_per_index,
    udev_finished,
    udev_manages_links,
)
from netagent.host.rtnetlink import IFLA_IFNAME, IFLA_MTU, NLMSG_OVERRUN, RTM_NEWLINK, parse_link_messages

# Captured in a netns: `ip link add lab0 type veth peer name peer0`, `ip link set lab0 mtu 9001`,
# `ip link del lab0` (five datagrams, concatenated; each message is 4-byte aligned).
CAPTURE = Path(__file__).resolve().parents[1] / "data" / "rtnl_link_events.bin"
GLOBS = ("lab*",)


def newlink(index: int, ifname: str | None, mtu: int | None, kind: int = RTM_NEWLINK) -> bytes:
    attrs = b""
    if ifname is not None:
        name = ifname.encode() + b"\0"
        attrs += struct.pack("=HH", 4 + len(name), IFLA_IFNAME) + name + b"\0" * (-len(name) % 4)
    if mtu is not None:
        attrs += struct.pack("=HHI", 8, IFLA_MTU, mtu)
    body = struct.pack("=BxHiII", 0, 1, index, 0, 0) + attrs
    return struct.pack("=IHHII", 16 + len(body), kind, 0, 0, 0) + body


def test_parse_captured_veth_add_mtu_del() -> None:
    events, overrun = parse_link_messages(CAPTURE.read_bytes())
    assert not overrun
    assert events == [
        LinkEvent(2, "peer0", 1500, txqlen=1000),
        LinkEvent(3, "lab0", 1500, txqlen=1000),
        LinkEvent(3, "lab0", 9001, txqlen=1000),
        LinkEvent(3, "lab0", 9001, is_removal=True, txqlen=1000),
        LinkEvent(2, "peer0", 1500, is_removal=True, txqlen=1000),
    ]


def test_parse_stops_at_truncated_message_without_reading_past_it() -> None:
    data = newlink(5, "lab5", 1500) + newlink(6, "lab6", 1500)[:-6]
    events, _ = parse_link_messages(data)
    assert events == [LinkEvent(5, "lab5", 1500)]


def test_parse_reports_overrun_and_skips_nameless_messages() -> None:
    overrun_msg = struct.pack("=IHHII", 16, NLMSG_OVERRUN, 0, 0, 0)
    events, overrun = parse_link_messages(overrun_msg + newlink(7, None, 1500) + newlink(8, "a'b\"c", None))
    assert overrun
    assert events == [LinkEvent(8, "a'b\"c", None)]


def test_echo_of_own_mtu_write_is_not_drift() -> None:
    assert classify(LinkEvent(3, "lab0", 9001), {3: "lab0"}, GLOBS, {"mtu": 9001}) is Action.IGNORE


def test_foreign_mtu_change_on_known_interface_is_checked() -> None:
    assert classify(LinkEvent(3, "lab0", 1500), {3: "lab0"}, GLOBS, {"mtu": 9001}) is Action.CHECK


def test_mtu_change_without_mtu_in_profile_is_ignored() -> None:
    assert classify(LinkEvent(3, "lab0", 1500), {3: "lab0"}, GLOBS, None) is Action.IGNORE


@pytest.mark.parametrize(
    ("event", "known", "action"),
    [
        (LinkEvent(9, "lab9", 1500), {}, Action.TUNE),  # a new matching interface
        (LinkEvent(9, "eth9", 1500), {}, Action.IGNORE),  # a new interface the profile does not match
        (LinkEvent(3, "lab0", 1500, is_removal=True), {3: "lab0"}, Action.FORGET),
        (LinkEvent(4, "peer0", 1500, is_removal=True), {3: "lab0"}, Action.IGNORE),  # never known
        (LinkEvent(3, "lab5", 9001), {3: "lab0"}, Action.TUNE),  # renamed: still matches, tune as new
        (LinkEvent(3, "old0", 9001), {3: "lab0"}, Action.FORGET),  # renamed out of the profile
    ],
)
def test_classify_lifecycle(event: LinkEvent, known: dict[int, str], action: Action) -> None:
    assert classify(event, known, GLOBS, {"mtu": 9001}) is action


def test_latest_per_index_coalesces_a_flapping_link() -> None:
    burst = [LinkEvent(3, "lab0", m) for m in (1500, 9001, 1500, 9001, 1400)] + [LinkEvent(4, "lab1", 9001)]
    assert latest_per_index(burst) == [LinkEvent(3, "lab0", 1400), LinkEvent(4, "lab1", 9001)]


def test_txqueuelen_changed_by_hand_is_checked_and_its_echo_is_not() -> None:
    want = {"mtu": 9001, "txqueuelen": 5000}
    assert classify(LinkEvent(3, "lab0", 9001, txqlen=1000), {3: "lab0"}, GLOBS, want) is Action.CHECK
    assert LinkEvent(3, "lab0", 9001, txqlen=1000).differs(want) == ["txqueuelen"]
    assert classify(LinkEvent(3, "lab0", 9001, txqlen=5000), {3: "lab0"}, GLOBS, want) is Action.IGNORE


@pytest.mark.parametrize(
    ("control_exists", "same_netns", "manages"),
    [
        (True, True, True),  # a host with udev: the daemon in PID 1's namespace
        (True, None, True),  # PID 1's namespace unreadable: assume udev (the wait is bounded)
        (True, False, False),  # a netns lab on a host with udev: udev never sees its devices
        (False, True, False),  # no udevd (a container, a minimal host)
        (False, None, False),
    ],
)
def test_udev_manages_links_only_in_its_own_namespace(
    control_exists: bool, same_netns: bool | None, manages: bool
) -> None:
    assert udev_manages_links(control_exists, same_netns) is manages


@pytest.mark.parametrize(
    ("event", "known", "manages", "initialized", "waits"),
    [
        (LinkEvent(7, "eth0", 1500), {}, True, False, True),  # hot-plugged, udev not done: its transient name
        (LinkEvent(7, "ens7", 1500), {}, True, False, True),  # renamed, .link not yet applied: still udev's
        (LinkEvent(7, "ens7", 9001), {}, True, True, False),  # udev done: match by the final name
        (LinkEvent(7, "eth0", 1500), {}, False, False, False),  # no udev here: tune at once (netns lab)
        (LinkEvent(3, "ens5", 1500), {3: "ens5"}, True, False, False),  # a known device's drift
        (LinkEvent(7, "eth0", None, is_removal=True), {}, True, False, False),  # gone: nothing to wait for
    ],
)
def test_new_device_waits_for_udev_until_initialized(
    event: LinkEvent, known: dict[int, str], manages: bool, initialized: bool, waits: bool
) -> None:
    assert awaits_udev(event, known, manages, initialized) is waits


@pytest.mark.parametrize(
    ("entry", "ifname", "finished"),
    [
        (None, "eth0", False),  # udev has not written the device's database entry yet
        ({"ID_NET_NAME": "ens7", "ID_RENAMING": "1"}, "eth0", False),  # .link applied, rename to come
        ({"ID_NET_NAME": "ens7", "ID_RENAMING": "1"}, "ens7", True),  # renamed; only udev's move event left
        ({"ID_NET_NAME": "ens7"}, "ens7", True),  # the move handled: the mark is gone
        ({"ID_NET_LINK_FILE": "/usr/lib/systemd/network/99-default.link"}, "eth0", True),  # no rename (ifnames=0)
        ({"ID_RENAMING": "1"}, "eth0", False),  # renaming to a name udev did not record: wait for the mark to go
    ],
)
def test_udev_finished_with_a_device_when_its_entry_and_name_say_so(
    entry: dict[str, str] | None, ifname: str, finished: bool
) -> None:
    assert udev_finished(entry, ifname) is finished
