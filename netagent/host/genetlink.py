"""Generic netlink codec for the ethtool family's notifications (pure: bytes in, values out).

Layouts: struct nlmsghdr and struct nlattr (include/uapi/linux/netlink.h), struct genlmsghdr
(include/uapi/linux/genetlink.h), the controller's CTRL_CMD_GETFAMILY request and reply, and
ethtool's kernel-to-user messages and request header (include/uapi/linux/ethtool_netlink.h,
Documentation/networking/ethtool-netlink.rst). Every ethtool notification carries, as its
attribute 1, a nested header with the device's index and name; a change made through the old
SIOCETHTOOL ioctl notifies as well (net/ethtool/ioctl.c calls ethtool_notify after a set).
"""

from __future__ import annotations

import errno
import struct

from netagent.core.events import EthtoolEvent
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

NLMSG = struct.Struct("=IHHII")  # len, type, flags, seq, pid
GENL = struct.Struct("=BBH")  # cmd, version, reserved
NLA = struct.Struct("=HH")  # len, type
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLA_TYPE_MASK = 0x3FFF  # without NLA_F_NESTED and NLA_F_NET_BYTEORDER
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
ETHTOOL_GENL_NAME = "ethtool"  # ETHTOOL_GENL_NAME, kernel 5.6
ETHTOOL_MCGRP_MONITOR_NAME = "monitor"
ETHTOOL_A_HEADER = 1  # every message's first attribute: the nested request header
ETHTOOL_A_HEADER_DEV_INDEX = 1
ETHTOOL_A_HEADER_DEV_NAME = 2
# enum of kernel-to-user messages: the notifications of the setting kinds netagent tunes.
NTF_SETTINGS = {17: "rings", 19: "channels", 21: "coalesce"}  # RINGS_NTF, CHANNELS_NTF, COALESCE_NTF
NLA_F_NESTED = 0x8000
ETHTOOL_GENL_VERSION = 1
ETHTOOL_MSG_COALESCE_GET = 19  # to the kernel; its answer is ETHTOOL_MSG_COALESCE_GET_REPLY
ETHTOOL_MSG_COALESCE_GET_REPLY = 20
# ETHTOOL_A_COALESCE_* of the fields netagent sets. The kernel puts a field into the reply only
# when the driver supports it (coalesce_put_u32/_bool and supported_coalesce_params, kernel 5.7+):
# the reply's attributes are the device's settable fields.
COALESCE_ATTRS = {2: "rx_usecs", 6: "tx_usecs", 11: "adaptive_rx", 12: "adaptive_tx"}


def _align(n: int) -> int:
    return (n + 3) & ~3


def attributes(data: bytes, off: int, end: int) -> Iterator[tuple[int, bytes]]:
    """Yield (type, payload) of each netlink attribute between off and end."""
    while off + NLA.size <= end:
        length, kind = NLA.unpack_from(data, off)
        if length < NLA.size or off + length > end:
            return
        yield kind & NLA_TYPE_MASK, data[off + NLA.size : off + length]
        off += _align(length)


def attr(payload: bytes, kind: int, value: bytes) -> bytes:
    """Encode one attribute, padded to 4 bytes."""
    raw = NLA.pack(NLA.size + len(value), kind) + value
    return raw + bytes(_align(len(raw)) - len(raw))


def getfamily_request(name: str, seq: int) -> bytes:
    """Encode CTRL_CMD_GETFAMILY for a family name (to the controller, GENL_ID_CTRL)."""
    body = GENL.pack(CTRL_CMD_GETFAMILY, 1, 0) + attr(b"", CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0")
    return NLMSG.pack(NLMSG.size + len(body), GENL_ID_CTRL, NLM_F_REQUEST, seq, 0) + body


def coalesce_get_request(family: int, ifname: bytes, seq: int) -> bytes:
    """Encode ETHTOOL_MSG_COALESCE_GET for one device, named by its kernel name."""
    header = attr(b"", ETHTOOL_A_HEADER_DEV_NAME, ifname + b"\0")
    body = GENL.pack(ETHTOOL_MSG_COALESCE_GET, ETHTOOL_GENL_VERSION, 0)
    body += attr(b"", ETHTOOL_A_HEADER | NLA_F_NESTED, header)
    return NLMSG.pack(NLMSG.size + len(body), family, NLM_F_REQUEST, seq, 0) + body


def parse_coalesce_fields(data: bytes, family: int) -> frozenset[str] | int:
    """Decode a COALESCE_GET reply: the fields of COALESCE_ATTRS it carries (the ones the device
    supports), or the errno of an error reply (EOPNOTSUPP: no moderation at all)."""
    for kind, off, length in messages(data):
        if kind == NLMSG_ERROR:
            return -struct.unpack_from("=i", data, off + NLMSG.size)[0]
        if _genl_cmd(data, kind, off, length, family) == ETHTOOL_MSG_COALESCE_GET_REPLY:
            found = {COALESCE_ATTRS.get(a) for a, _ in attributes(data, off + NLMSG.size + GENL.size, off + length)}
            return frozenset(f for f in found if f is not None)
    return errno.EPROTO


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def messages(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Yield (type, offset, length) of each netlink message in a datagram, up to a malformed one."""
    off = 0
    while off + NLMSG.size <= len(data):
        length, kind, _, _, _ = NLMSG.unpack_from(data, off)
        if length < NLMSG.size or off + length > len(data):
            return
        yield kind, off, length
        off += _align(length)


def parse_family(data: bytes) -> tuple[int, dict[str, int]] | int:
    """Decode the controller's reply: (family id, {group name: group id}), or the errno of an error reply."""
    for kind, off, length in messages(data):
        if kind == NLMSG_ERROR:
            return -struct.unpack_from("=i", data, off + NLMSG.size)[0]
        if kind == GENL_ID_CTRL:
            family, groups = 0, {}
            for a, payload in attributes(data, off + NLMSG.size + GENL.size, off + length):
                if a == CTRL_ATTR_FAMILY_ID:
                    family = struct.unpack_from("=H", payload)[0]
                elif a == CTRL_ATTR_MCAST_GROUPS:
                    for _, group in attributes(payload, 0, len(payload)):
                        fields = dict(attributes(group, 0, len(group)))
                        if CTRL_ATTR_MCAST_GRP_NAME in fields and CTRL_ATTR_MCAST_GRP_ID in fields:
                            name = _cstr(fields[CTRL_ATTR_MCAST_GRP_NAME])
                            groups[name] = struct.unpack_from("=I", fields[CTRL_ATTR_MCAST_GRP_ID])[0]
            return family, groups
    return 0, {}


def parse_notifications(data: bytes, family: int) -> list[EthtoolEvent]:
    """Decode the channels, rings and coalesce notifications in one datagram; others are skipped."""
    events: list[EthtoolEvent] = []
    for kind, off, length in messages(data):
        setting = NTF_SETTINGS.get(_genl_cmd(data, kind, off, length, family))
        if setting is not None:
            for a, payload in attributes(data, off + NLMSG.size + GENL.size, off + length):
                if a != ETHTOOL_A_HEADER:
                    continue
                header = dict(attributes(payload, 0, len(payload)))
                if ETHTOOL_A_HEADER_DEV_INDEX in header:
                    index = struct.unpack_from("=I", header[ETHTOOL_A_HEADER_DEV_INDEX])[0]
                    name = _cstr(header.get(ETHTOOL_A_HEADER_DEV_NAME, b""))
                    events.append(EthtoolEvent(index, name, setting))
                break
    return events


def _genl_cmd(data: bytes, kind: int, off: int, length: int, family: int) -> int:
    """Return the generic netlink command of one message of `family` (-1 for another family or too short)."""
    if kind != family or length < NLMSG.size + GENL.size:
        return -1
    return int(GENL.unpack_from(data, off + NLMSG.size)[0])
