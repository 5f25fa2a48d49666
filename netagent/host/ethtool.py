"""SIOCETHTOOL ioctls: driver info, channel counts, rings, interrupt moderation and statistics, in-process.

Layouts from include/uapi/linux/ethtool.h: struct ethtool_drvinfo, struct ethtool_channels,
struct ethtool_ringparam, struct ethtool_coalesce, struct ethtool_sset_info, struct
ethtool_gstrings and struct ethtool_stats.
"""

from __future__ import annotations

import array
import errno
import fcntl
import socket
import struct
import sys

from netagent.core.errors import AdapterError, NotSupported, no_device
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:  # imported where decoded: only a process that reads rings or moderation needs them
    from netagent.core.settings.coalesce import Coalesce
    from netagent.core.settings.rings import Rings

SIOCETHTOOL = 0x8946  # include/uapi/linux/sockios.h
SIOCGIFMTU = 0x8921  # netdevice(7): struct ifreq .ifr_mtu
SIOCGIFINDEX = 0x8933  # netdevice(7): struct ifreq .ifr_ifindex
# The ethtool ioctl answers ENODEV for a registered device that is not present (net/ethtool/ioctl.c,
# netif_device_present): ENA detaches its netdev while it resets the device.
SIOCGIFTXQLEN = 0x8942  # netdevice(7): struct ifreq .ifr_qlen
ETHTOOL_GDRVINFO = 0x03
ETHTOOL_GCHANNELS = 0x3C
ETHTOOL_SCHANNELS = 0x3D
ETHTOOL_GCOALESCE = 0x0E
ETHTOOL_SCOALESCE = 0x0F
ETHTOOL_GRINGPARAM = 0x10
ETHTOOL_SRINGPARAM = 0x11
ETHTOOL_GSTRINGS = 0x1B
ETHTOOL_GSTATS = 0x1D
ETHTOOL_GSSET_INFO = 0x37
ETH_SS_STATS = 1  # enum ethtool_stringset
_DRVINFO_SIZE = 196  # cmd + 5 x char[32] + reserved2[12] + 5 x u32
_CHANNELS = struct.Struct("9I")  # cmd, max_{rx,tx,other,combined}, {rx,tx,other,combined}_count
# cmd, {rx,rx_mini,rx_jumbo,tx}_max_pending, {rx,rx_mini,rx_jumbo,tx}_pending
_RINGPARAM = struct.Struct("9I")
# cmd and 22 u32 fields: rx_coalesce_usecs (1), tx_coalesce_usecs (5), use_adaptive_rx_coalesce (10),
# use_adaptive_tx_coalesce (11), ... rate_sample_interval (22); indexes count cmd as 0.
_COALESCE = struct.Struct("23I")
COALESCE_INDEX = {"rx_usecs": 1, "tx_usecs": 5, "adaptive_rx": 10, "adaptive_tx": 11}
_IFREQ = struct.Struct("16sP")  # ifr_name, ifr_data pointer
_IFREQ_INT = struct.Struct("16si20x")  # ifr_name, an int member of the union; sizeof(struct ifreq) is 40
_UNSUPPORTED = (errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL)


_FS_ENCODING, _FS_ERRORS = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()


def fsencode(ifname: str) -> bytes:
    """Return an interface name as the kernel's bytes: what os.fsencode() returns, without its
    Python-level checks (four ioctls per interface ask). os.listdir() decoded undecodable bytes
    with surrogateescape, and a plain ifname.encode() would raise on them (issue 9)."""
    return ifname.encode(_FS_ENCODING, _FS_ERRORS)


class Ethtool:
    """One AF_INET datagram socket, used for every ioctl of an observation or apply."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self._genl: tuple[socket.socket, int] | None = None  # ethtool netlink: socket, family id
        self._genl_tried = False

    def close(self) -> None:
        """Close the sockets."""
        self._sock.close()
        if self._genl is not None:
            self._genl[0].close()
            self._genl = None

    def __enter__(self) -> Ethtool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ioctl(self, ifname: str, buf: array.array[int], op: str, refused: str = "") -> None:
        addr, _ = buf.buffer_info()
        try:
            fcntl.ioctl(self._sock, SIOCETHTOOL, _IFREQ.pack(fsencode(ifname), addr))
        except OSError as exc:
            code = exc.errno
            if code in (errno.EOPNOTSUPP, errno.ENOTSUP) or (code == errno.EINVAL and op.startswith("get")):
                raise NotSupported(ifname, op, code, "the device does not support it") from None
            if code == errno.ENODEV:
                raise no_device(ifname, op, self._resolves(ifname)) from None
            reason = exc.strerror or str(exc)
            raise AdapterError(
                ifname, op, code, f"the device refused {refused} ({reason})" if refused else reason
            ) from None

    def _ifreq_int(self, ifname: str, request: int, op: str) -> int:
        try:
            out = fcntl.ioctl(self._sock, request, _IFREQ_INT.pack(fsencode(ifname), 0))
        except OSError as exc:
            reason = "no such device" if exc.errno == errno.ENODEV else (exc.strerror or str(exc))
            raise AdapterError(ifname, op, exc.errno, reason) from None
        return int(_IFREQ_INT.unpack(out)[1])

    def _resolves(self, ifname: str) -> bool:
        try:
            self.ifindex(ifname)
        except AdapterError:
            return False
        return True

    def ifindex(self, ifname: str) -> int:
        """Return an interface's index (SIOCGIFINDEX): one ioctl, cheaper than a sysfs read.

        Raises:
            AdapterError: the interface is gone.
        """
        return self._ifreq_int(ifname, SIOCGIFINDEX, "read ifindex")

    def mtu(self, ifname: str) -> int:
        """Return an interface's MTU (SIOCGIFMTU), the value sysfs `mtu` shows.

        Raises:
            AdapterError: the interface is gone.
        """
        return self._ifreq_int(ifname, SIOCGIFMTU, "read mtu")

    def txqueuelen(self, ifname: str) -> int:
        """Return an interface's transmit queue length (SIOCGIFTXQLEN), the value sysfs `tx_queue_len` shows.

        Raises:
            AdapterError: the interface is gone.
        """
        return self._ifreq_int(ifname, SIOCGIFTXQLEN, "read txqueuelen")

    def driver_info(self, ifname: str) -> DriverInfo:
        """Return the bound driver's name and version (ETHTOOL_GDRVINFO).

        Raises:
            NotSupported: the device has no ethtool driver info.
            AdapterError: the device is gone or the ioctl failed.
        """
        buf = array.array("B", struct.pack("I", ETHTOOL_GDRVINFO) + bytes(_DRVINFO_SIZE - 4))
        self._ioctl(ifname, buf, "get driver info")
        raw = buf.tobytes()
        return DriverInfo(driver=_cstr(raw[4:36]), version=_cstr(raw[36:68]))

    def channels(self, ifname: str) -> Channels:
        """Return the queue maxima and current counts (ETHTOOL_GCHANNELS).

        Raises:
            NotSupported: the device has no channel control.
            AdapterError: the device is gone or the ioctl failed.
        """
        buf = array.array("B", _CHANNELS.pack(ETHTOOL_GCHANNELS, *[0] * 8))
        self._ioctl(ifname, buf, "get channels")
        return Channels(*_CHANNELS.unpack(buf.tobytes())[1:])

    def set_channels(self, ifname: str, counts: dict[str, int]) -> None:
        """Set some queue counts (ETHTOOL_SCHANNELS), keeping the kinds not named.

        Raises:
            NotSupported: the device has no channel control.
            AdapterError: the device refused the counts.
        """
        cur = self.channels(ifname)
        want = {k: counts.get(k, cur.current(k)) for k in ("rx", "tx", "other", "combined")}
        buf = array.array(
            "B",
            _CHANNELS.pack(ETHTOOL_SCHANNELS, 0, 0, 0, 0, want["rx"], want["tx"], want["other"], want["combined"]),
        )
        refused = " ".join(f"{k}={n}" for k, n in counts.items())
        self._ioctl(ifname, buf, "set channels", refused)

    def rings(self, ifname: str) -> Rings:
        """Return the ring maxima and current sizes (ETHTOOL_GRINGPARAM).

        Raises:
            NotSupported: the device has no ring control (veth).
            AdapterError: the device is gone or the ioctl failed.
        """
        buf = array.array("B", _RINGPARAM.pack(ETHTOOL_GRINGPARAM, *[0] * 8))
        self._ioctl(ifname, buf, "get rings")
        return decode_rings(buf.tobytes())

    def set_rings(self, ifname: str, sizes: dict[str, int]) -> None:
        """Set some ring sizes (ETHTOOL_SRINGPARAM), keeping the rings not named as they are.

        Raises:
            NotSupported: the device has no ring control.
            AdapterError: the device refused the sizes.
        """
        buf = array.array("B", _RINGPARAM.pack(ETHTOOL_GRINGPARAM, *[0] * 8))
        self._ioctl(ifname, buf, "get rings")
        fields = list(_RINGPARAM.unpack(buf.tobytes()))
        fields[0] = ETHTOOL_SRINGPARAM
        fields[5] = sizes.get("rx", fields[5])
        fields[8] = sizes.get("tx", fields[8])
        refused = " ".join(f"{k}={n}" for k, n in sizes.items())
        self._ioctl(ifname, array.array("B", _RINGPARAM.pack(*fields)), "set rings", refused)

    def coalesce(self, ifname: str) -> Coalesce:
        """Return the interrupt moderation fields netagent compares (ETHTOOL_GCOALESCE).

        Raises:
            NotSupported: the device has no interrupt moderation (veth, virtio-net: EOPNOTSUPP).
            AdapterError: the device is gone or the ioctl failed.
        """
        buf = array.array("B", _COALESCE.pack(ETHTOOL_GCOALESCE, *[0] * 22))
        self._ioctl(ifname, buf, "get coalesce")
        return decode_coalesce(buf.tobytes(), self.coalesce_fields(ifname))

    def coalesce_fields(self, ifname: str) -> frozenset[str] | None:
        """Return which of the fields netagent sets the device supports, from ethtool netlink's
        COALESCE_GET (its reply carries only those); None where that cannot be asked (kernel
        < 5.7, no ethtool family, a failed request): then every field counts as settable.

        The ioctl cannot tell: it returns every field, 0 for those the driver ignores, and a
        write of one the driver does not support fails only then (virtio_net: rx-usecs).
        """
        genl = self._genl_socket()
        if genl is None:
            return None
        from netagent.host import genetlink  # only for a device with moderation (none in a veth lab)

        sock, family = genl
        try:
            sock.send(genetlink.coalesce_get_request(family, fsencode(ifname), 2))
            found = genetlink.parse_coalesce_fields(sock.recv(1 << 16), family)
        except OSError:
            return None
        return found if isinstance(found, frozenset) else None

    def _genl_socket(self) -> tuple[socket.socket, int] | None:
        if not self._genl_tried:
            self._genl_tried = True  # asked once: a host without the family says so every time
            from netagent.host.ethtool_monitor import open_ethtool_socket

            try:
                sock, family, _groups = open_ethtool_socket()
            except AdapterError:
                return None
            self._genl = (sock, family)
        return self._genl

    def set_coalesce(self, ifname: str, values: dict[str, int]) -> None:
        """Set some moderation fields (ETHTOOL_SCOALESCE); every other field is written back as read.

        Raises:
            NotSupported: the device has no interrupt moderation.
            AdapterError: the device refused the values.
        """
        buf = array.array("B", _COALESCE.pack(ETHTOOL_GCOALESCE, *[0] * 22))
        self._ioctl(ifname, buf, "get coalesce")
        fields = list(_COALESCE.unpack(buf.tobytes()))
        fields[0] = ETHTOOL_SCOALESCE
        for name, n in values.items():
            fields[COALESCE_INDEX[name]] = n
        refused = " ".join(f"{k}={n}" for k, n in values.items())
        self._ioctl(ifname, array.array("B", _COALESCE.pack(*fields)), "set coalesce", refused)

    def statistics(self, ifname: str) -> list[tuple[str, int]]:
        """Return the driver's statistics as (name, value) pairs, like `ethtool -S`.

        Three ioctls: ETHTOOL_GSSET_INFO for the count of ETH_SS_STATS strings, ETHTOOL_GSTRINGS
        for the names, ETHTOOL_GSTATS for the values; decoding is ena.decode_* (pure).

        Raises:
            NotSupported: the driver has no statistics.
            AdapterError: the device is gone or an ioctl failed.
        """
        from netagent.core import ena  # decoding: only when statistics are read (issue 8)

        # struct ethtool_sset_info: cmd, reserved, u64 sset_mask, then one u32 per bit set.
        buf = array.array("B", struct.pack("=IIQI", ETHTOOL_GSSET_INFO, 0, 1 << ETH_SS_STATS, 0))
        self._ioctl(ifname, buf, "get statistics count")
        _, _, mask, count = struct.unpack("=IIQI", buf.tobytes())
        if not mask & (1 << ETH_SS_STATS) or count == 0:
            raise NotSupported(ifname, "get statistics", None, "the device has no statistics")
        names = array.array("B", struct.pack("=III", ETHTOOL_GSTRINGS, ETH_SS_STATS, count))
        names.frombytes(bytes(count * ena.ETH_GSTRING_LEN))
        self._ioctl(ifname, names, "get statistics names")
        values = array.array("B", struct.pack("=II", ETHTOOL_GSTATS, count))
        values.frombytes(bytes(count * 8))
        self._ioctl(ifname, values, "get statistics")
        # The kernel writes back how many it filled (struct ethtool_gstrings.len, ethtool_stats.n_stats).
        n_names = min(count, struct.unpack_from("=I", names.tobytes(), 8)[0])
        n_values = min(count, struct.unpack_from("=I", values.tobytes(), 4)[0])
        keys = ena.decode_gstrings(names.tobytes()[12:], n_names)
        return list(zip(keys, ena.decode_gstats(values.tobytes()[8:], n_values)))


def decode_rings(raw: bytes) -> Rings:
    """Decode a struct ethtool_ringparam as the kernel filled it in."""
    from netagent.core.settings.rings import Rings

    return Rings(*_RINGPARAM.unpack(raw[: _RINGPARAM.size])[1:])


def decode_coalesce(raw: bytes, supported: frozenset[str] | None = None) -> Coalesce:
    """Decode the four compared fields of a struct ethtool_coalesce; `supported` as Coalesce takes it."""
    from netagent.core.settings.coalesce import Coalesce

    fields = _COALESCE.unpack(raw[: _COALESCE.size])
    return Coalesce(**{name: fields[i] for name, i in COALESCE_INDEX.items()}, supported=supported)


def _cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")
