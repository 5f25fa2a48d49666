"""Interfaces: names, index, MTU and operstate from one rtnetlink dump or sysfs; MTU writes over rtnetlink."""

from __future__ import annotations

import errno
import os
import socket
import struct

from netagent.core.errors import AdapterError
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

SYS_CLASS_NET = "/sys/class/net"


# rtnetlink (include/uapi/linux/netlink.h, rtnetlink.h, if_link.h): one RTM_GETLINK dump.
NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK = 16, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLM_F_DUMP_INTR = 0x10  # linux/netlink.h: the dump was interrupted; its picture may be inconsistent
IFLA_IFNAME, IFLA_MTU, IFLA_OPERSTATE, IFLA_EXT_MASK = 3, 4, 16, 29
RTEXT_FILTER_SKIP_STATS = 1 << 3
# IF_OPER_* (RFC 2863) as sysfs `operstate` names them (net/core/net-sysfs.c, operstates[]).
OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")
_NLMSG = struct.Struct("=IHHII")  # struct nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")  # struct ifinfomsg: family, pad, type, index, flags, change
_RTA = struct.Struct("=HH")  # struct rtattr: len, type
_U32 = struct.Struct("=I")
_DUMP_REQUEST = (
    _NLMSG.pack(_NLMSG.size + _IFINFO.size + 8, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    + _IFINFO.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    + _RTA.pack(8, IFLA_EXT_MASK)
    + _U32.pack(RTEXT_FILTER_SKIP_STATS)
)


def list_ifnames(root: str = SYS_CLASS_NET) -> list[str]:
    """Return the names of this namespace's interfaces, sorted."""
    return sorted(os.listdir(root))


def dump_links() -> dict[str, tuple[int, int, str]]:
    """Return (ifindex, mtu, operstate) of every interface of this namespace, by name.

    One RTM_GETLINK dump instead of a sysfs directory listing and three sysfs reads per
    interface: a sysfs open costs about 25 us here, the dump about 2 us per interface (issue 8).

    Raises:
        OSError: the netlink socket failed, or the kernel answered with an error.
    """
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        # write(2), not sendto: sendto/sendmsg on a netlink socket stay netagent's writes (RTM_NEWLINK),
        # as the fault-injection tests count and delay them (tests/integration/syscalls.py).
        os.write(sock.fileno(), _DUMP_REQUEST)
        out: dict[str, tuple[int, int, str]] = {}
        while not parse_link_dump(sock.recv(1 << 16), out):
            pass
    return out


def parse_link_dump(data: bytes, out: dict[str, tuple[int, int, str]]) -> bool:
    """Add the links of one datagram of an RTM_GETLINK dump to `out`; True once the dump is done.

    Raises:
        OSError: the datagram carries an NLMSG_ERROR, the dump ended in an error or was
            interrupted by a change (NLM_F_DUMP_INTR), or a message is malformed; the caller
            then reads sysfs instead.
    """
    try:
        return _parse_link_dump(data, out)
    except (struct.error, IndexError):
        raise OSError(errno.EPROTO, "malformed netlink message") from None


def _parse_link_dump(data: bytes, out: dict[str, tuple[int, int, str]]) -> bool:
    off = 0
    while off + _NLMSG.size <= len(data):
        length, mtype, flags = _NLMSG.unpack_from(data, off)[:3]
        if length < _NLMSG.size or off + length > len(data):
            raise OSError(errno.EPROTO, "malformed netlink message")
        if flags & NLM_F_DUMP_INTR:
            raise OSError(errno.EINTR, "the link dump was interrupted by a change")
        if mtype == NLMSG_DONE:
            if length >= _NLMSG.size + 4:
                code = -struct.unpack_from("=i", data, off + _NLMSG.size)[0]
                if code > 0:
                    raise OSError(code, os.strerror(code))
            return True
        if mtype == NLMSG_ERROR:
            code = -struct.unpack_from("=i", data, off + _NLMSG.size)[0]
            raise OSError(code, os.strerror(code))
        if mtype == RTM_NEWLINK:
            index = _IFINFO.unpack_from(data, off + _NLMSG.size)[2]
            name, mtu, oper = None, None, None
            a, end = off + _NLMSG.size + _IFINFO.size, off + length
            while a + _RTA.size <= end and (name is None or mtu is None or oper is None):
                alen, atype = _RTA.unpack_from(data, a)
                if alen < _RTA.size or a + alen > end:
                    raise OSError(errno.EPROTO, "malformed netlink attribute")
                if atype == IFLA_IFNAME:
                    name = os.fsdecode(data[a + 4 : a + alen].split(b"\0", 1)[0])  # as os.listdir names it
                elif atype == IFLA_MTU:
                    mtu = _U32.unpack_from(data, a + 4)[0]
                elif atype == IFLA_OPERSTATE:
                    oper = data[a + 4]
                a += (alen + 3) & ~3
            if name is not None and mtu is not None:
                state = OPERSTATES[oper] if oper is not None and oper < len(OPERSTATES) else "unknown"
                out[name] = (index, mtu, state)
        off += (length + 3) & ~3
    return False


def read_attr(ifname: str, attr: str, root: str = SYS_CLASS_NET) -> str:
    """Return one sysfs attribute of an interface, stripped.

    Raises:
        AdapterError: the interface vanished or the attribute is unreadable.
    """
    try:  # os.open/os.read: a buffered text file costs twice the read itself here (issue 8)
        fd = os.open(os.path.join(root, ifname, attr), os.O_RDONLY | os.O_CLOEXEC)
        try:
            return os.read(fd, 4096).decode("utf-8", "replace").strip()
        finally:
            os.close(fd)
    except OSError as exc:
        code = exc.errno
        reason = "no such device" if code == errno.ENOENT else (exc.strerror or str(exc))
        raise AdapterError(ifname, f"read {attr}", code, reason) from None


def read_mtu(ifname: str, root: str = SYS_CLASS_NET) -> int:
    """Return an interface's MTU.

    Raises:
        AdapterError: the interface vanished.
    """
    return int(read_attr(ifname, "mtu", root))


class LinkWriter:
    """Writes link attributes with RTM_NEWLINK through pyroute2, imported only when writing."""

    def __init__(self) -> None:
        self._ipr: Any = None

    def open(self) -> None:
        """Import pyroute2 and open the netlink socket now, not on the first write (the daemon's
        first heal would otherwise pay ~140 ms of imports).

        Raises:
            AdapterError: the netlink socket cannot be opened.
        """
        try:
            self._route()
        except OSError as exc:
            raise AdapterError("rtnetlink", "open", exc.errno, exc.strerror or str(exc)) from None

    def _route(self) -> Any:
        if self._ipr is None:
            from pyroute2 import IPRoute  # 140 ms to import: only on the write path

            self._ipr = IPRoute()
        return self._ipr

    def set_mtu(self, ifname: str, mtu: int) -> None:
        """Set an interface's MTU.

        Raises:
            AdapterError: the interface is gone or the kernel refused the MTU.
        """
        from pyroute2.netlink.exceptions import NetlinkError

        try:
            index = int(read_attr(ifname, "ifindex"))
            self._route().link("set", index=index, mtu=mtu)
        except NetlinkError as exc:
            raise AdapterError(ifname, "set mtu", exc.code, f"the kernel refused mtu {mtu} ({_reason(exc)})") from None
        except OSError as exc:
            raise AdapterError(ifname, "set mtu", exc.errno, exc.strerror or str(exc)) from None

    def route_dev(self, target: str) -> str | None:
        """Return the interface the kernel routes `target` through, or None when unroutable.

        Raises:
            AdapterError: the routing table could not be asked.
        """
        from pyroute2.netlink.exceptions import NetlinkError

        try:
            ipr = self._route()
            routes = ipr.route("get", dst=target)
        except NetlinkError:
            return None  # no route: the target is not reached through any interface
        except OSError as exc:  # cannot tell: the guard must not pass by default
            raise AdapterError(target, "route lookup", exc.errno, exc.strerror or str(exc)) from None
        for route in routes:
            index = route.get_attr("RTA_OIF")
            if index is not None:
                links = ipr.get_links(index)
                return str(links[0].get_attr("IFLA_IFNAME")) if links else None
        return None

    def close(self) -> None:
        """Close the netlink socket if one was opened."""
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None


def _reason(exc: Any) -> str:
    text = os.strerror(exc.code) if exc.code else ""
    extra = str(exc.args[1]) if len(exc.args) > 1 and exc.args[1] else ""
    return f"{text}: {extra}" if extra and extra != text else text
