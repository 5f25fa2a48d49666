"""Watch rtnetlink link events (RTNLGRP_LINK) on a non-blocking socket the daemon polls.

A raw AF_NETLINK socket rather than pyroute2's IPRoute: pyroute2 0.9's synchronous IPRoute
reads through an asyncio transport and queues decoded messages in user space, so after
`get()` a message can wait in its queue while select() on its descriptor says "nothing to
read" (observed: a veth pair's two RTM_NEWLINKs, one returned, the fd no longer readable).
A poll loop needs the kernel's queue to be the only queue. Decoding: netagent.host.rtnetlink.
"""

from __future__ import annotations

import errno
import socket

from netagent.core.events import LinkEvent
from netagent.host.rtnetlink import parse_link_messages

RTMGRP_LINK = 1  # include/uapi/linux/rtnetlink.h (the legacy group mask for RTNLGRP_LINK)
SO_RCVBUFFORCE = 33  # include/uapi/asm-generic/socket.h; CAP_NET_ADMIN may exceed rmem_max
RCVBUF_BYTES = 4 << 20  # room for a few thousand RTM_NEWLINKs (~1 KiB each) between two polls
_RECV_BYTES = 1 << 16


class LinkMonitor:
    """A netlink socket bound to link events; `read()` drains it without blocking."""

    def __init__(self, rcvbuf_bytes: int = RCVBUF_BYTES) -> None:
        self._sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE
        )
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf_bytes)
        except OSError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf_bytes)
        self._sock.bind((0, RTMGRP_LINK))

    def fileno(self) -> int:
        """Return the descriptor to poll."""
        return self._sock.fileno()

    def read(self, max_datagrams: int = 4096) -> tuple[list[LinkEvent], bool]:
        """Return the queued link events and whether the kernel dropped some (ENOBUFS).

        Stops at an empty queue or after max_datagrams, so one storm cannot starve the loop.
        """
        events: list[LinkEvent] = []
        overrun = False
        for _ in range(max_datagrams):
            try:
                data = self._sock.recv(_RECV_BYTES)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # the socket buffer overflowed: events were lost
                    overrun = True
                    continue
                raise
            found, dropped = parse_link_messages(data)
            events.extend(found)
            overrun = overrun or dropped
        return events, overrun

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()
