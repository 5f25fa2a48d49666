"""Route lookups for the path guard, through pyroute2 (imported only when a profile has a guard)."""

from __future__ import annotations

from netagent.core.errors import AdapterError
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any


class RouteLookup:
    """Asks the kernel which interface it routes a target through (`ip route get`)."""

    def __init__(self) -> None:
        self._ipr: Any = None

    def open(self) -> Any:
        """Return pyroute2's IPRoute, importing pyroute2 and opening its socket on the first call
        (about 140 ms of imports: the daemon calls this at start when its profile has a guard).

        Raises:
            AdapterError: the netlink socket cannot be opened.
        """
        if self._ipr is None:
            from pyroute2 import IPRoute

            try:
                self._ipr = IPRoute()
            except OSError as exc:
                raise AdapterError("rtnetlink", "open", exc.errno, exc.strerror or str(exc)) from None
        return self._ipr

    def route_dev(self, target: str) -> str | None:
        """Return the interface the kernel routes `target` through, or None when unroutable.

        Raises:
            AdapterError: the routing table could not be asked.
        """
        from pyroute2.netlink.exceptions import NetlinkError

        ipr = self.open()
        try:
            routes = ipr.route("get", dst=target)
        except NetlinkError:
            return None  # no route: the target is not reached through any interface
        except OSError as exc:  # cannot tell: the guard must not pass by default
            raise AdapterError(target, "route lookup", exc.errno, exc.strerror or str(exc)) from None
        for route in routes:
            index = route.get_attr("RTA_OIF")
            if index is not None:
                try:
                    links = ipr.get_links(index)
                except NetlinkError:
                    return None  # the interface went away since the kernel answered
                return str(links[0].get_attr("IFLA_IFNAME")) if links else None
        return None

    def close(self) -> None:
        """Close pyroute2's socket if one was opened."""
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
