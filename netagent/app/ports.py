"""What the use cases need of the host: one protocol, so every use case and test can take a fake.

netagent.host.system.SystemHost is the real one (rtnetlink, ethtool ioctls, /proc/sys); the
unit tests use tests/unit/fakes.py's FakeHost for audit, apply, restore and the daemon alike.
"""

from __future__ import annotations

from typing import Protocol

from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from netagent.core.model import Change, HostState, Link, Unreadable


class Host(Protocol):
    """Reads and writes of the kernel's network settings, each returning plain values."""

    def observe(self, globs: Sequence[str], keys: Iterable[str], kinds: Collection[str]) -> HostState:
        """Read every interface a glob matches (the device kinds named) and each sysctl key."""
        ...

    def read_link(self, ifname: str, kinds: Collection[str]) -> Link | None:
        """Read one interface and the device kinds named; None when it is gone."""
        ...

    def read_sysctl(self, key: str) -> str | Unreadable:
        """Read one sysctl, or say why it cannot be read."""
        ...

    def read_recorded(self, originals: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
        """Read the current value of each recorded setting: None when gone, or Unreadable."""
        ...

    def prepare_writes(self, routes: bool = False) -> None:
        """Open what writes (and with `routes`, route lookups) need now, so the first one is as fast
        as the rest (the daemon)."""
        ...

    def execute(self, change: Change) -> None:
        """Make one change (AdapterError when the kernel refuses it)."""
        ...

    def read_current(self, change: Change) -> str:
        """Read back the setting a change targets, in the change's terms (AdapterError when it cannot)."""
        ...

    def route_dev(self, target: str) -> str | None:
        """Return the interface the kernel routes `target` through, or None."""
        ...

    def close(self) -> None:
        """Release the sockets the host holds."""
        ...
