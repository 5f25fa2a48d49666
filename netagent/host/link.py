"""Interfaces: names, index, MTU and operstate from one rtnetlink dump or sysfs; MTU and txqueuelen writes
over rtnetlink."""

from __future__ import annotations

import errno
import os
import socket

from netagent.core.errors import AdapterError, no_device
from netagent.host import rtnetlink

SYS_CLASS_NET = "/sys/class/net"
SOL_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 270, 10, 11  # include/uapi/linux/netlink.h, linux/socket.h
ACK_TIMEOUT_S = 10.0  # the kernel acks an RTM_NEWLINK before send() returns; this only bounds a bug
_ACK_BYTES = 1 << 16


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
    """Writes link attributes: one RTM_NEWLINK per change on its own rtnetlink socket, each
    acknowledged by the kernel before the next (encoded by netagent.host.rtnetlink)."""

    def __init__(self, timeout_s: float = ACK_TIMEOUT_S) -> None:
        self._sock: socket.socket | None = None
        self._seq = 0
        self._timeout_s = timeout_s

    def open(self) -> None:
        """Open the netlink socket now, not on the first write.

        Raises:
            AdapterError: the netlink socket cannot be opened.
        """
        try:
            self._socket()
        except OSError as exc:
            raise AdapterError("rtnetlink", "open", exc.errno, exc.strerror or str(exc)) from None

    def _socket(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, rtnetlink.NETLINK_ROUTE)
            try:
                for option in (NETLINK_EXT_ACK, NETLINK_CAP_ACK):  # the kernel's reason; acks without our request
                    try:  # noqa: SIM105 (the audit imports this module, and no contextlib: issue 8)
                        sock.setsockopt(SOL_NETLINK, option, 1)
                    except OSError:
                        pass  # kernels before 4.12 / 4.3: plain acks
                sock.bind((0, 0))
                sock.settimeout(self._timeout_s)
            except OSError:
                sock.close()
                raise
            self._sock = sock
        return self._sock

    def set_mtu(self, ifname: str, mtu: int) -> None:
        """Set an interface's MTU.

        Raises:
            AdapterError: the interface is gone or the kernel refused the MTU.
        """
        self._set(ifname, rtnetlink.IFLA_MTU, mtu, "mtu")

    def set_txqueuelen(self, ifname: str, length: int) -> None:
        """Set an interface's transmit queue length (IFLA_TXQLEN).

        Raises:
            AdapterError: the interface is gone or the kernel refused the length.
        """
        self._set(ifname, rtnetlink.IFLA_TXQLEN, length, "txqueuelen")

    def _set(self, ifname: str, attr: int, value: int, what: str) -> None:
        """Send one RTM_NEWLINK and wait for its ack."""
        self._seq = self._seq % 0xFFFFFFFF + 1
        seq = self._seq
        try:
            request = rtnetlink.setlink_request(seq, ifname, attr, value)
        except ValueError as exc:
            raise AdapterError(ifname, f"set {what}", errno.EINVAL, str(exc)) from None
        try:
            sock = self._socket()
            sock.send(request)
            while True:
                ack = rtnetlink.parse_ack(sock.recv(_ACK_BYTES), seq)
                if ack is not None:  # else an ack of an earlier request whose wait was cut short
                    break
        except socket.timeout:
            self.close()  # a late ack must not be read as the next request's
            raise AdapterError(ifname, f"set {what}", errno.ETIMEDOUT, "the kernel did not answer") from None
        except OSError as exc:
            raise AdapterError(ifname, f"set {what}", exc.errno, exc.strerror or str(exc)) from None
        code, message = ack
        if code == errno.ENODEV:  # gone, or (its name still resolves) its device is not present
            raise no_device(ifname, f"set {what}", _resolves(ifname))
        if code:
            text = os.strerror(code)
            reason = f"{text}: {message}" if message and message != text else text
            raise AdapterError(ifname, f"set {what}", code, f"the kernel refused {what} {value} ({reason})")

    def close(self) -> None:
        """Close the netlink socket if one was opened."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _resolves(ifname: str) -> bool:
    try:
        socket.if_nametoindex(ifname)
    except OSError:
        return False
    return True
