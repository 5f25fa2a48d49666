"""The real host behind the use cases' Host protocol: rtnetlink, ethtool ioctls and /proc/sys."""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING
from netagent.host import observe as observe_mod
from netagent.host.ethtool import Ethtool

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from netagent.core.model import Change, HostState, Link, Unreadable
    from netagent.host.routes import RouteLookup
    from netagent.host.writer import HostWriter


class SystemHost:
    """This machine's network namespace. Writers and route lookups are opened on first use."""

    def __init__(self) -> None:
        self._ethtool: Ethtool | None = None
        self._writer: HostWriter | None = None
        self._routes: RouteLookup | None = None

    def __enter__(self) -> SystemHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ethtool(self) -> Ethtool:
        """Return the ioctl socket, opened on first use."""
        if self._ethtool is None:
            self._ethtool = Ethtool()
        return self._ethtool

    @property
    def writer(self) -> HostWriter:
        """Return the write side, created on first use."""
        if self._writer is None:
            from netagent.host.writer import HostWriter

            self._writer = HostWriter()
        return self._writer

    @property
    def routes(self) -> RouteLookup:
        """Return the route lookup, created on first use (it imports pyroute2 when it first asks)."""
        if self._routes is None:
            from netagent.host.routes import RouteLookup

            self._routes = RouteLookup()
        return self._routes

    def prepare_writes(self, routes: bool = False) -> None:
        """Open the netlink writer now, and with `routes` the route lookup (pyroute2), so the
        daemon's first heal is as fast as the rest.

        Raises:
            AdapterError: it cannot be opened.
        """
        self.writer.open()
        if routes:
            self.routes.open()

    def observe(self, globs: Sequence[str], keys: Iterable[str], kinds: Collection[str]) -> HostState:
        """Read every interface a glob matches (the device kinds named) and each sysctl key."""
        return observe_mod.observe(globs, keys, kinds)

    def read_link(self, ifname: str, kinds: Collection[str]) -> Link | None:
        """Read one interface and the device kinds named; None when it is gone."""
        return observe_mod.read_link(ifname, self.ethtool, kinds)

    def read_sysctl(self, key: str) -> str | Unreadable:
        """Read one sysctl, or say why it cannot be read."""
        return observe_mod.read_key(key)

    def read_recorded(self, originals: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
        """Read the current value of each recorded setting: None when gone, or Unreadable."""
        return observe_mod.read_recorded(originals)

    def execute(self, change: Change) -> None:
        """Make one change.

        Raises:
            AdapterError: the kernel refused it or the target is gone.
        """
        self.writer.execute(change)

    def read_current(self, change: Change) -> str:
        """Read back the setting a change targets, in the change's terms.

        Raises:
            AdapterError: it cannot be read.
        """
        return self.writer.read_current(change)  # on the writer's own ioctl socket, as the write

    def route_dev(self, target: str) -> str | None:
        """Return the interface the kernel routes `target` through, or None."""
        return self.routes.route_dev(target)

    def close(self) -> None:
        """Release the netlink and ioctl sockets."""
        if self._writer is not None:
            self._writer.close()
        if self._routes is not None:
            self._routes.close()
        if self._ethtool is not None:
            self._ethtool.close()
