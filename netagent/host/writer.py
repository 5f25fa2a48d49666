"""Carry out one Change against the kernel and read back what the kernel kept."""

from __future__ import annotations

from netagent.core.settings.bql import SetBql
from netagent.core.settings.channels import SetChannels
from netagent.core.settings.coalesce import SetCoalesce
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.rings import SetRings
from netagent.core.settings.rps import SetQueueMasks
from netagent.core.settings.sysctl import SetSysctl
from netagent.core.settings.txqueuelen import SetTxqueuelen
from netagent.core.value import TYPE_CHECKING
from netagent.host import link, queues, sysctl
from netagent.host.ethtool import Ethtool
from netagent.host.observe import read_current

if TYPE_CHECKING:
    from netagent.core.model import Change


class HostWriter:
    """The write side of the host adapters: MTU over rtnetlink, device settings by ioctl, sysctls by /proc/sys."""

    def __init__(self) -> None:
        self._links = link.LinkWriter()
        self._ethtool = Ethtool()

    def open(self) -> None:
        """Open the netlink socket ahead of the first write (for the daemon).

        Raises:
            AdapterError: it cannot be opened.
        """
        self._links.open()

    def close(self) -> None:
        """Release the netlink and ioctl sockets."""
        self._links.close()
        self._ethtool.close()

    def __enter__(self) -> HostWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, change: Change) -> None:
        """Make one change, with the adapter method of its setting kind.

        Raises:
            AdapterError: the kernel refused it or the target is gone.
        """
        if isinstance(change, SetMtu):
            self._links.set_mtu(change.ifname, change.new)
        elif isinstance(change, SetChannels):
            self._ethtool.set_channels(change.ifname, dict(change.new))
        elif isinstance(change, SetRings):
            self._ethtool.set_rings(change.ifname, dict(change.new))
        elif isinstance(change, SetCoalesce):
            self._ethtool.set_coalesce(change.ifname, dict(change.new))
        elif isinstance(change, SetSysctl):
            sysctl.write_sysctl(change.key, change.new)
        elif isinstance(change, SetTxqueuelen):
            self._links.set_txqueuelen(change.ifname, change.new)
        elif isinstance(change, SetQueueMasks):
            queues.write_masks(change.ifname, "rps_cpus" if change.kind == "rps" else "xps_cpus", change.new)
        elif isinstance(change, SetBql):
            queues.write_limit_min(change.ifname, change.new)
        else:
            raise TypeError(f"no adapter writes {change.kind}")

    def route_dev(self, target: str) -> str | None:
        """Return the interface the kernel routes `target` through, or None."""
        return self._links.route_dev(target)

    def read_current(self, change: Change) -> str:
        """Return the kernel's current value of the setting a change targets, in the change's terms.

        Raises:
            AdapterError: the value cannot be read.
        """
        return change.text_of(read_current(change.kind, change.cid.subject, self._ethtool))
