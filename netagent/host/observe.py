"""Read what an audit needs from the kernel: matched links and named sysctls, nothing more."""

from __future__ import annotations

import errno

from netagent.core.errors import AdapterError, NotSupported
from netagent.core.matching import matches
from netagent.core.model import HostState, Link, Unreadable
from netagent.core.value import TYPE_CHECKING
from netagent.host import link, sysctl
from netagent.host.ethtool import Ethtool

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Any, Callable, TypeVar

    from netagent.core.restore import Current

    T = TypeVar("T")


def observe(globs: Sequence[str], keys: Iterable[str]) -> HostState:
    """Read every interface that a glob matches, and each sysctl key once.

    Names, indexes, MTUs and operstates come from one rtnetlink dump; where netlink fails,
    from sysfs and ioctls per interface (read_link). Driver and channels are ioctls.
    """
    try:
        basics = link.dump_links()
    except OSError:
        basics = None
    ifnames = tuple(sorted(basics) if basics is not None else link.list_ifnames())
    links: dict[str, Link] = {}
    with Ethtool() as ethtool:
        for ifname in ifnames:
            if not matches(ifname, globs):
                continue
            found = read_link(ifname, ethtool) if basics is None else _link(ifname, basics[ifname], ethtool)
            if found is not None:
                links[ifname] = found
    sysctls: dict[str, str | Unreadable] = {}
    modes: dict[str, int] = {}
    for key in keys:
        sysctls[key], mode = read_key_and_mode(key)
        if mode is not None:
            modes[key] = mode
    return HostState(ifnames=ifnames, links=links, sysctls=sysctls, sysctl_modes=modes)


def read_link(ifname: str, ethtool: Ethtool) -> Link | None:
    """Read one interface; None when it vanished while being read."""
    try:  # two ioctls and one sysfs read: a sysfs open costs ten times an ioctl (issue 8)
        index = ethtool.ifindex(ifname)
        mtu = ethtool.mtu(ifname)
        operstate = link.read_attr(ifname, "operstate")
    except AdapterError:
        return None  # gone between listdir and read: not there for this audit
    return Link(
        name=ifname,
        index=index,
        mtu=mtu,
        operstate=operstate,
        driver=_guard(ethtool.driver_info, ifname),
        channels=_guard(ethtool.channels, ifname),
    )


def _link(ifname: str, basics: tuple[int, int, str], ethtool: Ethtool) -> Link | None:
    """Complete the dump's (index, mtu, operstate) with the ioctls; None when the interface vanished."""
    driver = _guard(ethtool.driver_info, ifname)
    if isinstance(driver, Unreadable) and driver.reason == "no such device":
        return None  # gone since the dump: not there for this audit
    return Link(ifname, *basics, driver, _guard(ethtool.channels, ifname))


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


def _guard(read: Callable[[str], T], ifname: str) -> T | Unreadable:
    try:
        return read(ifname)
    except NotSupported as exc:
        return Unreadable(exc.reason, unsupported=True)
    except AdapterError as exc:
        return Unreadable(exc.reason)


def read_recorded(originals: dict[str, dict[str, Any]]) -> dict[str, Current | Unreadable]:
    """Read the current value of every recorded setting: None where the interface or key is gone,
    Unreadable where it exists but cannot be read."""
    out: dict[str, Current | Unreadable] = {}
    with Ethtool() as ethtool:
        for setting, entry in originals.items():
            try:
                if entry["type"] == "mtu":
                    out[setting] = link.read_mtu(entry["ifname"])
                elif entry["type"] == "channels":
                    have = ethtool.channels(entry["ifname"])
                    out[setting] = {kind: have.current(kind) for kind in entry["value"]}
                else:
                    out[setting] = sysctl.read_sysctl(entry["key"])
            except AdapterError as exc:
                gone = exc.errno in (errno.ENOENT, errno.ENODEV)
                out[setting] = None if gone else Unreadable(exc.reason, unsupported=isinstance(exc, NotSupported))
    return out
