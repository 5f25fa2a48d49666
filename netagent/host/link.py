"""Interfaces: names, index, MTU and operstate from sysfs; MTU writes over rtnetlink."""

from __future__ import annotations

import errno
import os
from typing import Any

from netagent.errors import AdapterError

SYS_CLASS_NET = "/sys/class/net"


def list_ifnames(root: str = SYS_CLASS_NET) -> list[str]:
    """Return the names of this namespace's interfaces, sorted."""
    return sorted(os.listdir(root))


def read_attr(ifname: str, attr: str, root: str = SYS_CLASS_NET) -> str:
    """Return one sysfs attribute of an interface, stripped.

    Raises:
        AdapterError: the interface vanished or the attribute is unreadable.
    """
    try:
        with open(os.path.join(root, ifname, attr), encoding="utf-8", errors="replace") as f:
            return f.read().strip()
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
