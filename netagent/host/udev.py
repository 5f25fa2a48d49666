"""udev, seen from the daemon: is it managing this network namespace, has it finished with a device.

A network device that appears is udev's first: udev applies the first .link file that matches it
(MTU, channels), renames it (eth0 -> ens5), then writes its database entry /run/udev/data/n<ifindex>
and only then announces the device on the udev monitor (netlink group 2, what libudev's
`udev_monitor_new_from_netlink(udev, "udev")` binds). systemd-networkd waits for that
"initialized" state the same way (sd_device_get_is_initialized). The monitor socket is only a
wake-up here: its messages are never parsed, the database entry is the truth.

The monitor speaks only once udev has run the device's RUN programs too (systemd-sysctl for every
new interface; on AL2023 also ec2-net-utils), tens of milliseconds after the entry says the device
is done. So the daemon also watches the database directory with inotify: udev writes each entry
to a temporary file and renames it into place (IN_MOVED_TO), and that wakes the daemon when the
entry changes, as soon as networkd could see it.

udev handles only the devices of its own network namespace (uevents of a device in another
namespace go to that namespace's sockets), so a daemon in a netns lab or a container, where no
udev runs for its devices, must not wait for it.
"""

from __future__ import annotations

import contextlib
import os
import socket

RUN_DIR = "/run/udev"
NETLINK_KOBJECT_UEVENT = 15  # include/uapi/linux/netlink.h
UDEV_MONITOR_GROUP = 2  # libudev: MONITOR_GROUP_UDEV (events after udev processed them)
_RECV_BYTES = 1 << 16
ENTRY_MAX_BYTES = 1 << 16  # a net device's entry is a few hundred bytes
# include/uapi/linux/inotify.h: an entry renamed into place, or written in place and closed.
IN_MOVED_TO = 0x00000080
IN_CLOSE_WRITE = 0x00000008


class Udev:
    """udev's run-time state for this daemon: whether it is active here, which devices it has done."""

    def __init__(self, run_dir: str = RUN_DIR) -> None:
        self.run_dir = run_dir
        self._sock: socket.socket | None = None
        self._watch: int | None = None  # the inotify descriptor on the database directory

    def control_exists(self) -> bool:
        """Say whether udevd's control socket exists (udevd runs on this host)."""
        return os.path.exists(os.path.join(self.run_dir, "control"))

    def same_netns_as_init(self) -> bool | None:
        """Say whether this process shares PID 1's network namespace (udevd's); None when unreadable."""
        try:
            ours, init = os.stat("/proc/self/ns/net"), os.stat("/proc/1/ns/net")
        except OSError:
            return None
        return (ours.st_dev, ours.st_ino) == (init.st_dev, init.st_ino)

    def entry(self, ifindex: int) -> dict[str, str] | None:
        """Return the properties (E: lines) of the device's udev database entry, or None without one.

        Whether udev is done with it is netagent.core.events.udev_finished's to say.
        """
        try:
            with open(os.path.join(self.run_dir, "data", f"n{ifindex}"), "rb") as f:
                data = f.read(ENTRY_MAX_BYTES)
        except OSError:
            return None
        props: dict[str, str] = {}
        for line in data.decode("utf-8", "surrogateescape").splitlines():
            if line.startswith("E:") and "=" in line:
                key, value = line[2:].split("=", 1)
                props[key] = value
        return props

    def open_monitor(self) -> int:
        """Bind a socket to udev's monitor group; return its descriptor to poll.

        Raises:
            OSError: the socket cannot be made or bound.
        """
        sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT
        )
        try:
            sock.bind((0, UDEV_MONITOR_GROUP))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        return sock.fileno()

    def open_db_watch(self) -> int:
        """Watch the database directory for entries udev writes; return the descriptor to poll.

        Raises:
            OSError: inotify is unavailable, or the directory cannot be watched (no udev data yet).
        """
        self._watch = inotify_watch(os.path.join(self.run_dir, "data"), IN_MOVED_TO | IN_CLOSE_WRITE)
        return self._watch

    def drain(self) -> None:
        """Discard what the monitor and the database watch have queued (wake-ups only; an overflow
        loses nothing we need: the database entries are still there)."""
        if self._sock is not None:
            for _ in range(1024):
                try:
                    self._sock.recv(_RECV_BYTES)
                except BlockingIOError:
                    break
                except OSError:  # ENOBUFS: messages dropped
                    continue
        if self._watch is not None:
            for _ in range(1024):
                try:
                    if not os.read(self._watch, _RECV_BYTES):
                        break
                except BlockingIOError:
                    break
                except OSError:  # IN_Q_OVERFLOW shows as an event, never an error; be safe anyway
                    break

    def close(self) -> None:
        """Close the monitor socket and the database watch, if open."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        if self._watch is not None:
            with contextlib.suppress(OSError):
                os.close(self._watch)
            self._watch = None


def inotify_watch(path: str, mask: int) -> int:
    """Return a non-blocking inotify descriptor watching `path` for the events in `mask`
    (inotify(7); the standard library has no binding, so libc's through ctypes).

    Raises:
        OSError: inotify_init1 or inotify_add_watch failed (with their errno).
    """
    import ctypes  # only where udev manages this namespace's devices: a real host

    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"inotify_init1: {os.strerror(code)}")
    if libc.inotify_add_watch(fd, os.fsencode(path), ctypes.c_uint32(mask)) < 0:
        code = ctypes.get_errno()
        os.close(fd)
        raise OSError(code, f"inotify_add_watch {path}: {os.strerror(code)}")
    return int(fd)
