"""FakeHost: the Host protocol (netagent.app.ports) in memory, for every use case's unit tests.

Each setting's current value is kept by its check id, as the real adapters would read it: an
MTU as an int, channels as a Channels, rings as a Rings, coalescing as a Coalesce, a sysctl as
text; a device kind with no value is unsupported (as veth has no rings or coalescing). Writes can be refused (the k-th
one) or clamped (the kernel keeps another value); every write is logged in `writes`.
"""

from __future__ import annotations

import errno
from collections.abc import Collection, Iterable, Mapping, Sequence

from netagent.core.errors import AdapterError, NotSupported
from netagent.core.matching import matches
from netagent.core.model import Change, HostState, Link, Unreadable
from netagent.core.settings.bql import BqlState, SetBql
from netagent.core.settings.channels import Channels, SetChannels
from netagent.core.settings.coalesce import Coalesce, SetCoalesce
from netagent.core.settings.driver import DriverInfo
from netagent.core.settings.rings import Rings, SetRings
from netagent.core.settings.rps import QueueMasks, SetQueueMasks

GONE = Unreadable("no such key in this kernel or network namespace", unsupported=True)


def channels(combined: int = 0, rx: int = 0, tx: int = 0, maximum: int = 8) -> Channels:
    """Return a Channels with these current counts and the same maximum for each type."""
    return Channels(maximum, maximum, 0, maximum, rx, tx, 0, combined)


def rings(rx: int = 1024, tx: int = 1024, max_rx: int = 16384, max_tx: int = 1024) -> Rings:
    """Return a Rings with these sizes and maxima (ENA's defaults: 1K each, Rx up to 16K, Tx up to 1K)."""
    return Rings(max_rx, 0, 0, max_tx, rx, 0, 0, tx)


def coalesce(adaptive_rx: int = 0, adaptive_tx: int = 0, rx_usecs: int = 0, tx_usecs: int = 64) -> Coalesce:
    """Return a Coalesce (ENA's defaults: static moderation, Tx 64 us)."""
    return Coalesce(adaptive_rx, adaptive_tx, rx_usecs, tx_usecs)


class FakeHost:
    """Interfaces and sysctls in dicts; refuse the k-th write, or keep another value than written."""

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        links: Mapping[str, tuple[int, str]] | None = None,
        fail_on_write: int = 0,
        clamp: Mapping[tuple[str, str], object] | None = None,
        refuse: Collection[str] = (),
    ) -> None:
        """`values` by check id (`lab0/mtu`: 1500, `lab0/channels`: Channels, `sysctl/KEY`: text);
        `links` gives each interface's (ifindex, driver name); interfaces named in values get one."""
        self.values: dict[str, object] = dict(values or {})
        self.links: dict[str, tuple[int, str]] = dict(links or {})
        for setting in self.values:
            subject = setting.split("/", 1)[0]  # test data only: every id here is built by the tests
            if subject != "sysctl" and subject not in self.links:
                self.links[subject] = (len(self.links) + 2, "veth")
        self.writes: list[Change] = []
        self.fail_on_write = fail_on_write
        self.clamp = dict(clamp or {})
        self.refuse = set(refuse)  # settings whose writes the device refuses (EOPNOTSUPP, as virtio_net's rx-usecs)
        self.closed = False
        self.prepared: list[bool] = []  # prepare_writes calls: whether route lookups were asked for
        self.kernel = "6.1.0-27-cloud-amd64"

    # ---------------------------------------------------------------- reads

    def _link(self, ifname: str, kinds: Collection[str]) -> Link:
        index, driver = self.links[ifname]
        values: dict[str, object] = {}
        for kind in kinds:
            if kind == "driver":
                values["driver"] = DriverInfo(driver, "1.0")
            else:
                values[kind] = self.values.get(f"{ifname}/{kind}", Unreadable("not supported", unsupported=True))
        mtu = self.values.get(f"{ifname}/mtu", 1500)
        assert isinstance(mtu, int)
        return Link(ifname, index, mtu, "up", values)

    def observe(self, globs: Sequence[str], keys: Iterable[str], kinds: Collection[str]) -> HostState:
        ifnames = tuple(sorted(self.links))
        links = {name: self._link(name, kinds) for name in ifnames if matches(name, globs)}
        return HostState(ifnames, links, {key: self.read_sysctl(key) for key in keys}, kernel=self.kernel)

    def read_link(self, ifname: str, kinds: Collection[str]) -> Link | None:
        return self._link(ifname, kinds) if ifname in self.links else None

    def read_sysctl(self, key: str) -> str | Unreadable:
        value = self.values.get(f"sysctl/{key}", GONE)
        assert isinstance(value, (str, Unreadable))
        return value

    def read_recorded(self, originals: Mapping[str, Mapping[str, object]]) -> dict[str, object]:
        return {setting: self.values.get(setting) for setting in originals}

    # ---------------------------------------------------------------- writes

    def execute(self, change: Change) -> None:
        self.writes.append(change)
        if len(self.writes) == self.fail_on_write:
            reason = f"the kernel refused {change.new_text} (Invalid argument)"
            raise AdapterError(change.target, "write", errno.EINVAL, reason)
        if change.setting not in self.values:
            raise AdapterError(change.target, "write", errno.ENODEV, "no such device")
        if change.setting in self.refuse:
            raise NotSupported(change.target, "write", errno.EOPNOTSUPP, "the device does not support it")
        if (change.setting, change.new_text) in self.clamp:
            self.values[change.setting] = self.clamp[(change.setting, change.new_text)]
        elif isinstance(change, (SetChannels, SetRings, SetCoalesce)):
            have = self.values[change.setting]
            assert isinstance(have, (Channels, Rings, Coalesce))
            self.values[change.setting] = have.replace(**dict(change.new))
        elif isinstance(change, SetQueueMasks):
            masks = self.values[change.setting]
            assert isinstance(masks, QueueMasks)
            new = dict(change.new)
            self.values[change.setting] = masks.replace(masks=tuple((q, new.get(q, m)) for q, m in masks.masks))
        elif isinstance(change, SetBql):
            bql = self.values[change.setting]
            assert isinstance(bql, BqlState)
            new = dict(change.new)
            self.values[change.setting] = bql.replace(limit_min=tuple((q, new.get(q, n)) for q, n in bql.limit_min))
        else:
            self.values[change.setting] = change.new  # type: ignore[attr-defined]

    def read_current(self, change: Change) -> str:
        if change.setting not in self.values:
            raise AdapterError(change.target, "read", errno.ENODEV, "no such device")
        return change.text_of(self.values[change.setting])

    def texts(self, changes: Iterable[Change]) -> dict[str, str]:
        """Return the current value of each change's setting, in the change's terms."""
        return {c.setting: self.read_current(c) for c in changes}

    def prepare_writes(self, routes: bool = False) -> None:
        self.prepared.append(routes)

    def route_dev(self, target: str) -> str | None:
        return None

    def close(self) -> None:
        self.closed = True
