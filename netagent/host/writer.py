"""Carry out one Change against the kernel and read back what the kernel kept."""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING
from netagent.host import link, sysctl
from netagent.host.ethtool import Ethtool
from netagent.host.observe import read_current

if TYPE_CHECKING:
    from types import ModuleType

    from netagent.core.model import Change
    from netagent.core.settings.bql import SetBql
    from netagent.core.settings.channels import SetChannels
    from netagent.core.settings.coalesce import SetCoalesce
    from netagent.core.settings.mtu import SetMtu
    from netagent.core.settings.rings import SetRings
    from netagent.core.settings.rps import SetQueueMasks
    from netagent.core.settings.sysctl import SetSysctl
    from netagent.core.settings.txqueuelen import SetTxqueuelen


class HostWriter:
    """The write side of the host adapters: link attributes over rtnetlink, device settings by ioctl, sysctls by
    /proc/sys, queue masks by sysfs."""

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
        write = getattr(self, f"_write_{change.kind}", None)
        if write is None:
            raise TypeError(f"no adapter writes {change.kind}")
        write(change)

    # One write per setting kind, named after the kind (Change.kind): no kind module is imported
    # here, so a process imports only the kinds its profile uses (the daemon's RSS, issue 12).

    def _write_mtu(self, change: SetMtu) -> None:
        self._links.set_mtu(change.ifname, change.new)

    def _write_txqueuelen(self, change: SetTxqueuelen) -> None:
        self._links.set_txqueuelen(change.ifname, change.new)

    def _write_channels(self, change: SetChannels) -> None:
        self._ethtool.set_channels(change.ifname, dict(change.new))

    def _write_rings(self, change: SetRings) -> None:
        self._ethtool.set_rings(change.ifname, dict(change.new))

    def _write_coalesce(self, change: SetCoalesce) -> None:
        self._ethtool.set_coalesce(change.ifname, dict(change.new))

    def _write_sysctl(self, change: SetSysctl) -> None:
        sysctl.write_sysctl(change.key, change.new)

    def _write_rps(self, change: SetQueueMasks) -> None:
        _queues().write_masks(change.ifname, "rps_cpus", change.new)

    def _write_xps(self, change: SetQueueMasks) -> None:
        _queues().write_masks(change.ifname, "xps_cpus", change.new)

    def _write_bql(self, change: SetBql) -> None:
        _queues().write_limit_min(change.ifname, change.new)

    def read_current(self, change: Change) -> str:
        """Return the kernel's current value of the setting a change targets, in the change's terms.

        Raises:
            AdapterError: the value cannot be read.
        """
        return change.text_of(read_current(change.kind, change.cid.subject, self._ethtool))


def _queues() -> ModuleType:
    from netagent.host import queues  # per-queue sysfs files: only for a profile that sets them

    return queues
