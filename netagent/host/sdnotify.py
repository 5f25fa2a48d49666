"""sd_notify(3) without libsystemd: one datagram per state change to $NOTIFY_SOCKET.

Protocol from systemd's sd_notify(3) and "The sd_notify protocol" (systemd.io/NOTIFY): newline-
separated KEY=VALUE lines in one AF_UNIX datagram; a socket name starting with `@` is in the
abstract namespace. WATCHDOG_USEC asks for WATCHDOG=1 at least that often; it applies to us
only when WATCHDOG_PID is unset or is our pid. Sending is best effort: a missing or dead
socket never stops the daemon.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


def watchdog_interval_s(env: Mapping[str, str], pid: int) -> float | None:
    """Return how often to send WATCHDOG=1 (half of WATCHDOG_USEC), or None when not asked to."""
    usec = env.get("WATCHDOG_USEC", "")
    owner = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if owner and (not owner.isdigit() or int(owner) != pid):
        return None
    return int(usec) / 1e6 / 2


def socket_address(name: str) -> str | bytes | None:
    """Translate $NOTIFY_SOCKET to an AF_UNIX address (`@x` is the abstract name `\\0x`)."""
    if not name or not (name.startswith("/") or name.startswith("@")):
        return None  # systemd also allows vsock:..., which this daemon does not need
    return b"\0" + name[1:].encode() if name.startswith("@") else name


class Notifier:
    """Sends state lines to the service manager; does nothing when NOTIFY_SOCKET is unset."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._address = socket_address((os.environ if env is None else env).get("NOTIFY_SOCKET", ""))
        self._sock: socket.socket | None = None
        self.sent = 0

    @property
    def enabled(self) -> bool:
        """Tell whether a service manager listens."""
        return self._address is not None

    def notify(self, **fields: str) -> bool:
        """Send `READY="1"`-style fields as one datagram; return whether it was delivered."""
        if self._address is None:
            return False
        data = "\n".join(f"{k}={v}" for k, v in fields.items()).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(data, self._address)
        except OSError:
            return False
        self.sent += 1
        return True

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
