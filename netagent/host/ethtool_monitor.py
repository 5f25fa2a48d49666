"""Watch ethtool netlink notifications (kernel >= 5.6) on a non-blocking socket the daemon polls.

Channels, rings and coalescing changes emit no rtnetlink link event, but the kernel announces
each one (made through netlink or the old ioctl) to the generic netlink family "ethtool", group
"monitor" (what `ethtool --monitor` listens to). The family and group ids are assigned at boot,
so they are asked of the controller (CTRL_CMD_GETFAMILY) first. A raw AF_NETLINK socket, for the
same reason as netagent.host.netlink.LinkMonitor: the kernel's queue is the only queue.
"""

from __future__ import annotations

import errno
import socket

from netagent.core.errors import AdapterError
from netagent.core.events import EthtoolEvent
from netagent.host.genetlink import (
    ETHTOOL_GENL_NAME,
    ETHTOOL_MCGRP_MONITOR_NAME,
    getfamily_request,
    parse_family,
    parse_notifications,
)

NETLINK_GENERIC = 16  # include/uapi/linux/netlink.h
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
SO_RCVBUFFORCE = 33
RCVBUF_BYTES = 1 << 20  # notifications are ~100 bytes: room for thousands between two polls
_RECV_BYTES = 1 << 16


def open_ethtool_socket() -> tuple[socket.socket, int, dict[str, int]]:
    """Open a generic netlink socket and ask the controller for the ethtool family: return the
    socket (blocking, 2 s timeout), the family id and its multicast groups by name.

    Raises:
        AdapterError: no ethtool netlink family (kernel < 5.6, or CONFIG_ETHTOOL_NETLINK off), or
            the socket failed.
    """
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_GENERIC)
    except OSError as exc:
        raise AdapterError("ethtool netlink", "open", exc.errno, exc.strerror or str(exc)) from None
    try:
        sock.settimeout(2.0)  # the controller answers at once; never hang a start or an audit
        sock.bind((0, 0))
        sock.send(getfamily_request(ETHTOOL_GENL_NAME, 1))
        found = parse_family(sock.recv(_RECV_BYTES))
    except OSError as exc:
        sock.close()
        raise AdapterError("ethtool netlink", "resolve family", exc.errno, exc.strerror or str(exc)) from None
    if isinstance(found, int) or not found[0]:
        sock.close()
        reason = "no ethtool netlink family (kernel < 5.6 or CONFIG_ETHTOOL_NETLINK off)"
        raise AdapterError("ethtool netlink", "resolve family", found if isinstance(found, int) else None, reason)
    return sock, found[0], found[1]


class EthtoolMonitor:
    """A generic netlink socket joined to ethtool's monitor group; `read()` drains it without blocking."""

    def __init__(self, rcvbuf_bytes: int = RCVBUF_BYTES) -> None:
        """Resolve the family and group and join it.

        Raises:
            AdapterError: no ethtool netlink family or monitor group (kernel < 5.6, or
                CONFIG_ETHTOOL_NETLINK off), or the socket failed.
        """
        self._sock, self.family, groups = open_ethtool_socket()
        try:
            if ETHTOOL_MCGRP_MONITOR_NAME not in groups:
                raise AdapterError("ethtool netlink", "resolve group", None, "the ethtool family has no monitor group")
            group = groups[ETHTOOL_MCGRP_MONITOR_NAME]
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf_bytes)
            except OSError:
                self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
            self._sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
            self._sock.setblocking(False)
        except OSError as exc:
            self._sock.close()
            raise AdapterError("ethtool netlink", "join monitor", exc.errno, exc.strerror or str(exc)) from None
        except AdapterError:
            self._sock.close()
            raise

    def fileno(self) -> int:
        """Return the descriptor to poll."""
        return self._sock.fileno()

    def read(self, max_datagrams: int = 4096) -> tuple[list[EthtoolEvent], bool]:
        """Return the queued notifications and whether the kernel dropped some (ENOBUFS)."""
        events: list[EthtoolEvent] = []
        overrun = False
        for _ in range(max_datagrams):
            try:
                data = self._sock.recv(_RECV_BYTES)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    overrun = True
                    continue
                raise
            events.extend(parse_notifications(data, self.family))
        return events, overrun

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
