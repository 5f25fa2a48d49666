"""The rtnetlink codec: link messages as the kernel lays them out, for the link dump, link events
and link writes.

Layouts from include/uapi/linux/netlink.h (struct nlmsghdr, struct nlmsgerr, NLMSGERR_ATTR_*),
rtnetlink.h (struct ifinfomsg, struct rtattr) and if_link.h (IFLA_*). Only what netagent uses is
decoded: the message type, the interface index, its name, MTU, operstate and txqueuelen, and the
error and the kernel's message of an ack. Encoding and decoding are pure; the sockets are in
netagent.host.link (the dump and the writes) and netagent.host.netlink (the event monitor).
"""

from __future__ import annotations

import errno
import os
import socket
import struct

from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from netagent.core.events import LinkEvent

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18  # include/uapi/linux/rtnetlink.h
NLMSG_ERROR, NLMSG_DONE, NLMSG_OVERRUN = 2, 3, 4  # include/uapi/linux/netlink.h
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_CAPPED, NLM_F_ACK_TLVS = 0x100, 0x200  # on an ack: the request's payload left out; TLVs follow
NLMSGERR_ATTR_MSG = 1  # the kernel's extended-ack text (NETLINK_EXT_ACK)
NLM_F_DUMP_INTR = 0x10  # the dump was interrupted; its picture may be inconsistent
IFLA_IFNAME, IFLA_MTU, IFLA_TXQLEN, IFLA_OPERSTATE, IFLA_EXT_MASK = 3, 4, 13, 16, 29  # include/uapi/linux/if_link.h
RTEXT_FILTER_SKIP_STATS = 1 << 3
IFNAMSIZ = 16  # include/uapi/linux/if.h: names of up to 15 bytes and a NUL
# IF_OPER_* (RFC 2863) as sysfs `operstate` names them (net/core/net-sysfs.c, operstates[]).
OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")
NLMSG = struct.Struct("=IHHII")  # struct nlmsghdr: len, type, flags, seq, pid
IFINFO = struct.Struct("=BxHiII")  # struct ifinfomsg: family, pad, type, index, flags, change
RTA = struct.Struct("=HH")  # struct rtattr: len, type
U32 = struct.Struct("=I")
# RTM_GETLINK dump of every link, without the statistics (IFLA_EXT_MASK).
DUMP_REQUEST = (
    NLMSG.pack(NLMSG.size + IFINFO.size + 8, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    + IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    + RTA.pack(8, IFLA_EXT_MASK)
    + U32.pack(RTEXT_FILTER_SKIP_STATS)
)


class Malformed(Exception):
    """A message or attribute runs past its datagram or is shorter than its header."""


def messages(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Yield (type, flags, offset, length) of each netlink message in a datagram.

    Raises:
        Malformed: a length is shorter than the header or runs past the datagram.
    """
    off = 0
    while off + NLMSG.size <= len(data):
        length, mtype, flags = NLMSG.unpack_from(data, off)[:3]
        if length < NLMSG.size or off + length > len(data):
            raise Malformed("malformed netlink message")
        yield mtype, flags, off, length
        off += (length + 3) & ~3


def error_code(data: bytes, off: int, length: int) -> int:
    """Return the errno an NLMSG_ERROR or NLMSG_DONE carries (0: none)."""
    if length < NLMSG.size + 4:
        return 0
    return -int(struct.unpack_from("=i", data, off + NLMSG.size)[0])


def decode_link(data: bytes, off: int, length: int) -> tuple[int, str | None, int | None, str, int | None]:
    """Return (ifindex, name, mtu, operstate, txqlen) of one RTM_NEWLINK/RTM_DELLINK message.

    The name is decoded as os.listdir names it (undecodable bytes as lone surrogates).

    Raises:
        Malformed: the message is too short, or an attribute runs past it.
    """
    end = off + length
    if off + NLMSG.size + IFINFO.size > end:
        raise Malformed("short link message")
    index = IFINFO.unpack_from(data, off + NLMSG.size)[2]
    name: str | None = None
    mtu: int | None = None
    oper: int | None = None
    txqlen: int | None = None
    a = off + NLMSG.size + IFINFO.size
    while a + RTA.size <= end and (name is None or mtu is None or oper is None or txqlen is None):
        alen, atype = RTA.unpack_from(data, a)
        if alen < RTA.size or a + alen > end:
            raise Malformed("malformed netlink attribute")
        if atype == IFLA_IFNAME:
            name = os.fsdecode(data[a + RTA.size : a + alen].split(b"\0", 1)[0])
        elif atype == IFLA_MTU and alen >= RTA.size + U32.size:
            mtu = U32.unpack_from(data, a + RTA.size)[0]
        elif atype == IFLA_OPERSTATE and alen > RTA.size:
            oper = data[a + RTA.size]
        elif atype == IFLA_TXQLEN and alen >= RTA.size + U32.size:
            txqlen = U32.unpack_from(data, a + RTA.size)[0]
        a += (alen + 3) & ~3
    state = OPERSTATES[oper] if oper is not None and oper < len(OPERSTATES) else "unknown"
    return index, name, mtu, state, txqlen


def parse_link_dump(data: bytes, out: dict[str, tuple[int, int, str]]) -> bool:
    """Add the links of one datagram of an RTM_GETLINK dump to `out`; True once the dump is done.

    Raises:
        OSError: the datagram carries an NLMSG_ERROR, the dump ended in an error or was
            interrupted by a change (NLM_F_DUMP_INTR), or a message is malformed; the caller
            then reads sysfs instead.
    """
    try:
        for mtype, flags, off, length in messages(data):
            if flags & NLM_F_DUMP_INTR:
                raise OSError(errno.EINTR, "the link dump was interrupted by a change")
            if mtype == NLMSG_DONE:
                code = error_code(data, off, length)
                if code > 0:
                    raise OSError(code, os.strerror(code))
                return True
            if mtype == NLMSG_ERROR:
                code = error_code(data, off, length)
                raise OSError(code, os.strerror(code))
            if mtype == RTM_NEWLINK:
                index, name, mtu, state, _ = decode_link(data, off, length)
                if name is not None and mtu is not None:
                    out[name] = (index, mtu, state)
    except (Malformed, struct.error, IndexError):
        raise OSError(errno.EPROTO, "malformed netlink message") from None
    return False


def parse_link_messages(data: bytes) -> tuple[list[LinkEvent], bool]:
    """Decode one datagram of link events; return them and whether an NLMSG_OVERRUN was among
    them (the kernel dropped messages). A malformed message ends the datagram, never the daemon."""
    from netagent.core.events import LinkEvent  # the daemon's; the audit's link dump never needs it

    events: list[LinkEvent] = []
    overrun = False
    try:
        for mtype, _flags, off, length in messages(data):
            if mtype == NLMSG_OVERRUN:
                overrun = True
            elif mtype in (RTM_NEWLINK, RTM_DELLINK):
                index, name, mtu, _state, txqlen = decode_link(data, off, length)
                if name:
                    events.append(LinkEvent(index, name, mtu, is_removal=mtype == RTM_DELLINK, txqlen=txqlen))
    except Malformed:
        pass  # truncated or malformed: stop, never read past the datagram
    return events, overrun


def setlink_request(seq: int, ifname: str, attr: int, value: int) -> bytes:
    """Return an RTM_NEWLINK that sets one u32 attribute (IFLA_MTU, IFLA_TXQLEN) of the interface
    named `ifname` and asks for an ack (`ip link set dev NAME mtu N` sends the same, by index).

    By name, not index: the kernel resolves the name when it handles the message, so no other
    interface can take the name between a lookup and the write.

    Raises:
        ValueError: the value does not fit in a u32, or the name is empty, longer than 15 bytes or
            contains a NUL.
    """
    name = os.fsencode(ifname)
    if not name or b"\0" in name or len(name) >= IFNAMSIZ:
        raise ValueError(f"not an interface name: {ifname!r}")
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} does not fit in a u32")
    name_attr = RTA.pack(RTA.size + len(name) + 1, IFLA_IFNAME) + name + b"\0" * (4 - len(name) % 4)
    body = IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + name_attr + RTA.pack(RTA.size + U32.size, attr) + U32.pack(value)
    return NLMSG.pack(NLMSG.size + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0) + body


def parse_ack(data: bytes, seq: int) -> tuple[int, str] | None:
    """Return (errno, the kernel's message) of the ack of request `seq` in a datagram, or None when
    the datagram holds no ack of it. errno 0 is success; the message is "" when the kernel gave none.

    Raises:
        OSError: EPROTO when a message or its attributes are malformed.
    """
    try:
        for mtype, flags, off, length in messages(data):
            if mtype != NLMSG_ERROR or NLMSG.unpack_from(data, off)[3] != seq:
                continue
            if length < NLMSG.size + 4 + NLMSG.size:  # struct nlmsgerr: the error and the request's header
                raise Malformed("short ack")
            code = error_code(data, off, length)
            if code < 0:  # nlmsgerr.error is 0 or a negative errno
                raise Malformed("positive error in an ack")
            return code, _ack_message(data, off, length, flags) if code else ""
    except (Malformed, struct.error):
        raise OSError(errno.EPROTO, "malformed netlink ack") from None
    return None


def _ack_message(data: bytes, off: int, length: int, flags: int) -> str:
    """The NLMSGERR_ATTR_MSG of an ack: after struct nlmsgerr (the error, the request's header and,
    unless NLM_F_CAPPED, the request's payload)."""
    if not flags & NLM_F_ACK_TLVS:
        return ""
    end = off + length
    request = off + NLMSG.size + 4
    echoed = NLMSG.size if flags & NLM_F_CAPPED else NLMSG.unpack_from(data, request)[0]
    a = request + ((echoed + 3) & ~3)
    if echoed < NLMSG.size or a > end:
        raise Malformed("the echoed request runs past the ack")
    while a + RTA.size <= end:
        alen, atype = RTA.unpack_from(data, a)
        if alen < RTA.size or a + alen > end:
            raise Malformed("malformed ack attribute")
        if atype == NLMSGERR_ATTR_MSG:
            return data[a + RTA.size : a + alen].split(b"\0", 1)[0].decode("utf-8", "replace")
        a += (alen + 3) & ~3
    return ""
