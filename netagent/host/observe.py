"""Read what an audit needs from the kernel: matched links and named sysctls, nothing more."""

from __future__ import annotations

import errno

from netagent.core.errors import DETACHED, AdapterError, Detached, NotSupported
from netagent.core.matching import matches
from netagent.core.model import HostState, Link, Unreadable
from netagent.core.value import TYPE_CHECKING
from netagent.host import link, sysctl
from netagent.host.ethtool import Ethtool

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from typing import Any, Callable, TypeVar

    T = TypeVar("T")

# The adapter method that reads each device setting kind (netagent.core.settings), by kind name.
DEVICE_READERS: dict[str, Callable[[Ethtool, str], object]] = {
    "driver": Ethtool.driver_info,
    "channels": Ethtool.channels,
    "rings": Ethtool.rings,
    "coalesce": Ethtool.coalesce,
    "txqueuelen": Ethtool.txqueuelen,
    "rps": lambda _, ifname: _queues().read_masks(ifname, "rx-", "rps_cpus"),
    "xps": lambda _, ifname: _queues().read_masks(ifname, "tx-", "xps_cpus"),
    "bql": lambda _, ifname: _queues().read_bql(ifname),
    "large_llq": lambda _, ifname: _queues().read_module_param(ifname, "force_large_llq_header"),
}


def _queues() -> Any:
    from netagent.host import queues  # only when a profile sets a per-queue kind (issue 8)

    return queues


def observe(globs: Sequence[str], keys: Iterable[str], kinds: Collection[str] = tuple(DEVICE_READERS)) -> HostState:
    """Read every interface that a glob matches (the device kinds named), and each sysctl key once.

    Names, indexes, MTUs and operstates come from one rtnetlink dump; where netlink fails,
    from sysfs and ioctls per interface (read_link). Device settings are ioctls.
    """
    try:
        basics = link.dump_links()
    except OSError:
        basics = None
    ifnames = tuple(sorted(basics) if basics is not None else link.list_ifnames())
    links: dict[str, Link] = {}
    readers = _readers(kinds)
    with Ethtool() as ethtool:
        for ifname in ifnames:
            if not matches(ifname, globs):
                continue
            if basics is None:
                found = read_link(ifname, ethtool, kinds)
            else:
                values = _read_kinds(ifname, ethtool, readers)
                # None: gone since the dump, so not there for this audit
                found = None if values is None else Link(ifname, *basics[ifname], values)
            if found is not None:
                links[ifname] = found
    sysctls: dict[str, str | Unreadable] = {}
    modes: dict[str, int] = {}
    for key in keys:
        sysctls[key], mode = read_key_and_mode(key)
        if mode is not None:
            modes[key] = mode
    return HostState(ifnames=ifnames, links=links, sysctls=sysctls, kernel=read_kernel(), sysctl_modes=modes)


def read_kernel() -> str:
    """Return the running kernel's release (uname -r)."""
    import os

    return os.uname().release


def read_link(ifname: str, ethtool: Ethtool, kinds: Collection[str] = tuple(DEVICE_READERS)) -> Link | None:
    """Read one interface and the device kinds named; None when it vanished while being read."""
    try:  # two ioctls and one sysfs read: a sysfs open costs ten times an ioctl (issue 8)
        index = ethtool.ifindex(ifname)
        mtu = ethtool.mtu(ifname)
        operstate = link.read_attr(ifname, "operstate")
    except AdapterError:
        return None  # gone between listdir and read: not there for this audit
    values = _read_kinds(ifname, ethtool, _readers(kinds))
    return None if values is None else Link(ifname, index, mtu, operstate, values)


def _readers(kinds: Collection[str]) -> list[tuple[str, Callable[[Ethtool, str], object]]]:
    """Return the adapter methods of the kinds named, in DEVICE_READERS' order."""
    return [(kind, read) for kind, read in DEVICE_READERS.items() if kind in kinds]


def _read_kinds(
    ifname: str, ethtool: Ethtool, readers: list[tuple[str, Callable[[Ethtool, str], object]]]
) -> dict[str, object] | None:
    """Read each kind of one interface; None when it vanished while being read. A detached
    device (it exists, ethtool says it is not present) has every kind unreadable for that reason."""
    values: dict[str, object] = {}
    for kind, read in readers:
        value = values[kind] = _guard(read, ethtool, ifname)
        if isinstance(value, Unreadable):
            if value.reason == "no such device":
                return None  # gone: reading the other kinds would say the same
            if value.reason == DETACHED:
                return dict.fromkeys((k for k, _ in readers), value)
    return values


def read_key(key: str) -> str | Unreadable:
    """Read one sysctl, or say why it cannot be read."""
    return read_key_and_mode(key)[0]


def read_key_and_mode(key: str) -> tuple[str | Unreadable, int | None]:
    """Read one sysctl and its /proc/sys permission bits, or say why it cannot be read (mode None)."""
    try:
        return sysctl.read_sysctl_and_mode(key)
    except NotSupported as exc:
        return Unreadable(exc.reason, unsupported=True), None
    except AdapterError as exc:
        return Unreadable(exc.reason), None


def _guard(read: Callable[[Ethtool, str], T], ethtool: Ethtool, ifname: str) -> T | Unreadable:
    try:
        return read(ethtool, ifname)
    except NotSupported as exc:
        return Unreadable(exc.reason, unsupported=True)
    except AdapterError as exc:
        return Unreadable(exc.reason)


def read_current(kind: str, target: str, ethtool: Ethtool) -> object:
    """Read the current value of one setting: an MTU, a device kind's value, a sysctl's text.

    Raises:
        AdapterError: it cannot be read (ENODEV/ENOENT when the interface or key is gone).
    """
    if kind == "mtu":
        return link.read_mtu(target)
    if kind == "sysctl":
        return sysctl.read_sysctl(target)
    return DEVICE_READERS[kind](ethtool, target)


def read_recorded(originals: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
    """Read the current value of every recorded setting: None where the interface or key is gone,
    Unreadable where it exists but cannot be read."""
    out: dict[str, object] = {}
    with Ethtool() as ethtool:
        for setting, entry in originals.items():
            kind = str(entry["type"])
            target = str(entry["key"] if kind == "sysctl" else entry["ifname"])
            try:
                out[setting] = read_current(kind, target, ethtool)
            except AdapterError as exc:
                gone = exc.errno in (errno.ENOENT, errno.ENODEV) and not isinstance(exc, Detached)
                out[setting] = None if gone else Unreadable(exc.reason, unsupported=isinstance(exc, NotSupported))
    return out
