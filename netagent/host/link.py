"""Interfaces: names, index, MTU and operstate from one rtnetlink dump or sysfs; MTU writes over rtnetlink."""

from __future__ import annotations

import errno
import os
import socket

from netagent.core.errors import AdapterError
from netagent.core.value import TYPE_CHECKING
from netagent.host import rtnetlink

if TYPE_CHECKING:
    from typing import Any

SYS_CLASS_NET = "/sys/class/net"


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
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, rtnetlink.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        # write(2), not sendto: sendto/sendmsg on a netlink socket stay netagent's writes (RTM_NEWLINK),
        # as the fault-injection tests count and delay them (tests/integration/syscalls.py).
        os.write(sock.fileno(), rtnetlink.DUMP_REQUEST)
        out: dict[str, tuple[int, int, str]] = {}
        while not rtnetlink.parse_link_dump(sock.recv(1 << 16), out):
            pass
    return out


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

    def set_txqueuelen(self, ifname: str, length: int) -> None:
        """Set an interface's transmit queue length (IFLA_TXQLEN).

        Raises:
            AdapterError: the interface is gone or the kernel refused the length.
        """
        from pyroute2.netlink.exceptions import NetlinkError

        try:
            index = int(read_attr(ifname, "ifindex"))
            self._route().link("set", index=index, txqlen=length)
        except NetlinkError as exc:
            reason = f"the kernel refused txqueuelen {length} ({_reason(exc)})"
            raise AdapterError(ifname, "set txqueuelen", exc.code, reason) from None
        except OSError as exc:
            raise AdapterError(ifname, "set txqueuelen", exc.errno, exc.strerror or str(exc)) from None

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
