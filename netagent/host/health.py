"""Read what the report adds to the checks: ENA allowance counters and interface MACs."""

from __future__ import annotations

from netagent.core.ec2 import ENA_DRIVER
from netagent.core.errors import AdapterError
from netagent.core.model import Link
from netagent.core.settings.driver import DriverInfo
from netagent.core.value import TYPE_CHECKING
from netagent.host import link
from netagent.host.ethtool import Ethtool

if TYPE_CHECKING:
    from collections.abc import Iterable

    from netagent.core import ena


def read_ena_health(links: Iterable[Link]) -> tuple[ena.EnaHealth, ...]:
    """Return the allowance counters of every link driven by ena (ETHTOOL_GSTATS, no subprocess)."""
    targets = [x.name for x in links if _driver(x) == ENA_DRIVER]
    if not targets:
        return ()
    from netagent.core import ena  # only when an interface is driven by ena (issue 8)

    out = []
    with Ethtool() as ethtool:
        for ifname in targets:
            try:
                out.append(ena.health(ifname, ethtool.statistics(ifname)))
            except AdapterError as exc:
                out.append(ena.EnaHealth(ifname, reason=f"statistics unreadable: {exc.reason}"))
    return tuple(out)


def _driver(link: Link) -> str | None:
    info = link.get("driver")
    return info.driver if isinstance(info, DriverInfo) else None


def read_macs(ifnames: Iterable[str]) -> dict[str, str]:
    """Return the MAC address of each interface that still exists (sysfs `address`)."""
    macs = {}
    for ifname in ifnames:
        try:
            macs[ifname] = link.read_attr(ifname, "address")
        except AdapterError:
            continue  # gone since it was listed
    return macs
