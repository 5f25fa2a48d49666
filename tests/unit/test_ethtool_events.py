"""Ethtool netlink notifications (issue 13): the genetlink codec on built bytes, and the daemon's heals."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from netagent.app import daemon as daemon_mod
from netagent.app.daemon import Daemon
from netagent.core.errors import AdapterError
from netagent.core.events import EthtoolEvent
from netagent.core.healing import HealPolicy
from netagent.core.model import InterfaceRule, Profile
from netagent.core.settings.channels import ChannelSpec, SetChannels
from netagent.core.settings.rings import RingSpec, SetRings
from netagent.host import genetlink as g
from tests.unit.fakes import FakeHost, channels, rings

FAMILY = 21  # the id the controller gave "ethtool" on the test machine; any id works


def message(kind: int, cmd: int, attrs: bytes, seq: int = 0) -> bytes:
    body = g.GENL.pack(cmd, 1, 0) + attrs
    return g.NLMSG.pack(g.NLMSG.size + len(body), kind, 0, seq, 0) + body


def notification(cmd: int, index: int, name: str) -> bytes:
    header = g.attr(b"", g.ETHTOOL_A_HEADER_DEV_INDEX, struct.pack("=I", index))
    header += g.attr(b"", g.ETHTOOL_A_HEADER_DEV_NAME, name.encode() + b"\0")
    # NLA_F_NESTED (0x8000) is set on the header by the kernel: the decoder must mask it.
    return message(FAMILY, cmd, g.attr(b"", g.ETHTOOL_A_HEADER | 0x8000, header) + g.attr(b"", 2, b"\1\0\0\0"))


def test_getfamily_request_names_the_family_to_the_controller() -> None:
    raw = g.getfamily_request("ethtool", 7)
    length, kind, flags, seq, _ = g.NLMSG.unpack_from(raw)
    assert (length, kind, flags, seq) == (len(raw), g.GENL_ID_CTRL, g.NLM_F_REQUEST, 7)
    assert g.GENL.unpack_from(raw, g.NLMSG.size)[0] == g.CTRL_CMD_GETFAMILY
    [(kind, value)] = list(g.attributes(raw, g.NLMSG.size + g.GENL.size, len(raw)))
    assert (kind, value) == (g.CTRL_ATTR_FAMILY_NAME, b"ethtool\0")


def test_family_reply_gives_the_family_and_its_groups() -> None:
    group = g.attr(b"", g.CTRL_ATTR_MCAST_GRP_ID, struct.pack("=I", 5))
    group += g.attr(b"", g.CTRL_ATTR_MCAST_GRP_NAME, b"monitor\0")
    groups = g.attr(b"", 1 | 0x8000, group)
    attrs = g.attr(b"", g.CTRL_ATTR_FAMILY_ID, struct.pack("=H", FAMILY) + b"\0\0")
    attrs += g.attr(b"", g.CTRL_ATTR_FAMILY_NAME, b"ethtool\0")
    attrs += g.attr(b"", g.CTRL_ATTR_MCAST_GROUPS | 0x8000, groups)
    assert g.parse_family(message(g.GENL_ID_CTRL, 1, attrs)) == (FAMILY, {"monitor": 5})


def test_family_error_reply_is_its_errno() -> None:
    raw = g.NLMSG.pack(g.NLMSG.size + 4 + g.NLMSG.size, g.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -2) + bytes(16)
    assert g.parse_family(raw) == 2  # ENOENT: no such family (kernel < 5.6)


def test_notifications_of_tuned_kinds_are_decoded_and_others_skipped() -> None:
    data = notification(19, 3, "lab0") + notification(13, 3, "lab0") + notification(17, 4, "eth1")
    data += notification(21, 5, "eth2") + message(FAMILY + 1, 19, b"")  # another family: skipped
    assert g.parse_notifications(data, FAMILY) == [
        EthtoolEvent(3, "lab0", "channels"),  # CHANNELS_NTF
        EthtoolEvent(4, "eth1", "rings"),  # RINGS_NTF; 13 (FEATURES_NTF) is not a tuned kind
        EthtoolEvent(5, "eth2", "coalesce"),  # COALESCE_NTF
    ]


def test_truncated_notification_is_ignored_not_a_crash() -> None:
    data = notification(19, 3, "lab0")
    assert g.parse_notifications(data[:-6], FAMILY) == []
    assert g.parse_notifications(data[:10], FAMILY) == []


# ---------------------------------------------------------------- the daemon


@pytest.fixture
def host() -> FakeHost:
    return FakeHost({"lab0/channels": channels(rx=8, tx=8), "lab0/rings": rings()}, links={"lab0": (3, "veth")})


@pytest.fixture
def daemon(tmp_path: Path, host: FakeHost, mocker: Any) -> Daemon:
    mocker.patch.dict("os.environ", {}, clear=True)
    d = Daemon(str(tmp_path / "p.yaml"), str(tmp_path / "state"), policy=HealPolicy(), clock=lambda: 1000.0, host=host)
    rule = InterfaceRule(index=0, match=("lab*",), settings={"channels": ChannelSpec(rx=8), "rings": RingSpec(rx=4096)})
    d.profile = Profile(name="lab", path="p.yaml", interfaces=(rule,))
    d.known = {3: "lab0"}
    d.wanted = {"lab0": rule}
    return d


def test_channel_change_by_hand_is_healed_from_its_notification(daemon: Daemon, host: FakeHost) -> None:
    host.values["lab0/channels"] = channels(rx=2, tx=8)
    daemon._on_ethtool_events([EthtoolEvent(3, "lab0", "channels"), EthtoolEvent(3, "lab0", "channels")])
    assert host.writes == [SetChannels("lab0", old=(("rx", 2),), new=(("rx", 8),))]
    assert daemon.stats.heals["lab0/channels"].count == 1


def test_ring_notification_heals_rings_only(daemon: Daemon, host: FakeHost) -> None:
    daemon._on_ethtool_events([EthtoolEvent(3, "lab0", "rings")])
    assert host.writes == [SetRings("lab0", old=(("rx", 1024),), new=(("rx", 4096),))]


def test_echo_and_unwatched_notifications_write_nothing(daemon: Daemon, host: FakeHost, mocker: Any) -> None:
    read_link = mocker.spy(host, "read_link")
    daemon._on_ethtool_events([EthtoolEvent(9, "other", "channels"), EthtoolEvent(3, "lab0", "coalesce")])
    read_link.assert_not_called()  # an unknown interface, a kind the profile does not set
    daemon._on_ethtool_events([EthtoolEvent(3, "lab0", "channels")])  # the echo of a write: already right
    assert host.writes == []


def test_without_ethtool_netlink_the_daemon_says_it_heals_at_the_resync(mocker: Any) -> None:
    refused = AdapterError("ethtool netlink", "resolve family", 2, "no ethtool netlink family")
    mocker.patch.object(daemon_mod, "EthtoolMonitor", side_effect=refused)
    assert daemon_mod.open_ethtool_monitor() == (None, "resync only: no ethtool netlink family")
