"""RPS: `rps: {cpus: all|none|"0-3,8"}` sets every Rx queue's `rps_cpus` mask (pure).

Receive Packet Steering spreads a queue's packets over CPUs in software; ENA's guide advises it
when vCPUs outnumber queues (../shared/ENA.md section 5, linux Documentation/networking/
scaling.rst). The same shape serves XPS (netagent.core.settings.xps). systemd persists RPS only
since v256 (`ReceivePacketSteeringCPUMask=`), so boot files carry a note and the daemon, or a
boot-time `netagent apply`, holds it.
"""

from __future__ import annotations

from netagent.core import cpumask
from netagent.core.model import Change, Check, InterfaceChange, Status, Unreadable
from netagent.core.settings.base import (
    UNKNOWN_TARGET,
    BootTarget,
    InterfaceKind,
    is_ifname,
    is_queue,
    merge_parts,
    unreadable,
)
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

ALL, NONE = "all", "none"


class CpuSpec(Value):
    """Wanted CPUs: `all` (every online CPU), `none`, or a CPU list (`0-3,8`)."""

    __slots__ = ("cpus",)
    cpus: str

    def __init__(self, cpus: str) -> None:
        _set(self, "cpus", cpus)

    def mask(self, online: int) -> int:
        """Return the mask this spec means on a host whose online CPUs are `online` (a mask)."""
        if self.cpus == ALL:
            return online
        if self.cpus == NONE:
            return 0
        mask = cpumask.parse_list(self.cpus)
        assert mask is not None  # validated by parse
        return mask


class QueueMasks(Value):
    """What the adapter read: the online CPUs and each queue's mask, in queue order."""

    __slots__ = ("online", "masks")
    online: int  # the online CPUs (/sys/devices/system/cpu/online): the kernel keeps only these
    masks: tuple[tuple[str, int], ...]

    def __init__(self, online: int, masks: tuple[tuple[str, int], ...]) -> None:
        _set(self, "online", online)
        _set(self, "masks", masks)


class SetQueueMasks(InterfaceChange):
    """Set the CPU mask of some queues of one interface; old/new are (queue, mask) pairs."""

    kind = ""  # set by each kind's subclass
    old: tuple[tuple[str, int], ...]
    new: tuple[tuple[str, int], ...]

    def __init__(self, ifname: str, old: tuple[tuple[str, int], ...], new: tuple[tuple[str, int], ...]) -> None:
        super().__init__(ifname, old, new)

    @property
    def new_text(self) -> str:
        """Return the new masks as `rx-0=ff rx-1=ff`."""
        return format_masks(self.new)

    def text_of(self, observed: object) -> str:
        """Render the current masks of the queues this change sets."""
        assert isinstance(observed, QueueMasks)
        have = dict(observed.masks)
        return format_masks(tuple((q, have.get(q, 0)) for q, _ in self.new))

    def describe(self) -> str:
        """Return `lab0 rps none -> 0-7 (8 queues)`, or per queue when the queues differ."""
        return f"{self.ifname} {self.kind} {_summary(self.old)} -> {_summary(self.new)}"


class SetRps(SetQueueMasks):
    """Set `rps_cpus` of Rx queues."""

    kind = "rps"


class QueueMaskKind(InterfaceKind):
    """A CPU mask set on every queue of one direction (RPS on Rx queues, XPS on Tx queues)."""

    makes_changes = True
    change_class: type[SetQueueMasks] = SetRps
    queue_prefix = ""  # "rx-" or "tx-": the queues under /sys/class/net/DEV/queues/
    mask_file = ""  # rps_cpus or xps_cpus
    boot_note = ""
    link_since = 0  # the systemd version whose .link files take `link_key`

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `{cpus: all|none|LIST}`."""
        items = w.mapping(node, field)
        if items is None:
            return None
        w.known_keys(items, field, ("cpus",))
        if "cpus" not in items:
            w.problem(node, f"{field}.cpus", "required key is missing")
            return None
        value_node = items["cpus"][1]
        text = str(value_node.value) if w.is_scalar(value_node) else ""
        if text in (ALL, NONE) or (text and cpumask.parse_list(text) is not None):
            return CpuSpec(text)
        w.problem(
            value_node, f"{field}.cpus", f"expected all, none or a CPU list like 0-3,8, got {w.describe(value_node)}"
        )
        return None

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare every queue's mask with the wanted CPUs."""
        spec = want.get(self.name)
        if not isinstance(spec, CpuSpec):
            return []
        have = link.get(self.name)
        if isinstance(have, Unreadable):
            return [unreadable(ifname, self.name, spec.cpus, have)]
        assert isinstance(have, QueueMasks)
        wanted = spec.mask(have.online)
        expected = f"{cpumask.render_list(wanted)} on {len(have.masks)} queues"
        actual = _summary(have.masks)
        if wanted & ~have.online:
            # store_rps_map/xps keep online CPUs only: an offline one would never read back.
            offline = cpumask.render_list(wanted & ~have.online)
            message = f"{spec.cpus}: CPUs {offline} are not online here (online: {cpumask.render_list(have.online)})"
            return [Check(ifname, self.name, Status.ERROR, expected, actual, message)]
        if not have.masks:
            return [Check(ifname, self.name, Status.UNSUPPORTED, expected, None, "the device has no queues to set")]
        old = tuple((q, m) for q, m in have.masks if m != wanted)
        if not old:
            return [Check(ifname, self.name, Status.OK, expected, actual)]
        change = self.change_class(ifname, old=old, new=tuple((q, wanted) for q, _ in old))
        return [Check(ifname, self.name, Status.DRIFT, expected, actual, change=change)]

    def original(self, change: Change) -> dict[str, object]:
        """Return the JSON entry recording each queue's mask before the change (hex text)."""
        assert isinstance(change, SetQueueMasks)
        return {"type": self.name, "ifname": change.ifname, "value": {q: format(m, "x") for q, m in change.old}}

    def valid_original(self, entry: Mapping[str, object]) -> bool:
        """Tell whether an entry is one netagent could have written: queue names and hex masks."""
        value = entry.get("value")
        return (
            is_ifname(entry.get("ifname"))
            and isinstance(value, dict)
            and bool(value)
            and all(is_queue(q, self.queue_prefix) and _is_mask(m) for q, m in value.items())
        )

    def merge_original(self, have: dict[str, object], entry: Mapping[str, object]) -> bool:
        """Record the queues first touched now."""
        return merge_parts(have, entry)

    def restore(self, entry: Mapping[str, object], current: object) -> SetQueueMasks | None:
        """Return the change back to the recorded masks; None when every queue has its own."""
        value = entry["value"]
        assert isinstance(value, dict)
        assert isinstance(current, QueueMasks)
        have = dict(current.masks)
        # A queue that no longer exists (the queue count fell) has nothing to restore: it is gone.
        pairs = [(q, have[q], cpumask.parse_mask(str(m)) or 0) for q, m in sorted(value.items()) if q in have]
        old = tuple((q, h) for q, h, want in pairs if h != want)
        new = tuple((q, want) for q, h, want in pairs if h != want)
        return self.change_class(str(entry["ifname"]), old=old, new=new) if old else None

    def link_lines(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> list[str]:
        """Return the `.link` line that sets the mask at boot, where the target's systemd has one."""
        spec = want.get(self.name)
        if not isinstance(spec, CpuSpec) or not self.link_key or not target.has(self.link_since):
            return []
        return [f"{self.link_key}={'' if spec.cpus == NONE else spec.cpus}"]

    def persist_note(self, want: Mapping[str, object], target: BootTarget = UNKNOWN_TARGET) -> str:
        """Say that no boot file carries the mask for this target."""
        if want.get(self.name) is None or (self.link_key and target.has(self.link_since)):
            return ""
        return self.boot_note


class Rps(QueueMaskKind):
    """`rps_cpus` of every Rx queue."""

    name = "rps"
    rule_keys = ("rps",)
    checks = (("rps", "rps"),)
    change_class = SetRps
    queue_prefix, mask_file = "rx-", "rps_cpus"
    # systemd.link(5): ReceivePacketSteeringCPUMask= (v256) takes a CPU list or `all`; empty resets it.
    link_key, link_since = "ReceivePacketSteeringCPUMask", 256
    boot_note = (
        "rps: not persisted (systemd's ReceivePacketSteeringCPUMask= needs systemd 256); the daemon,"
        " or `netagent apply` at boot, sets it"
    )


def format_masks(masks: tuple[tuple[str, int], ...]) -> str:
    """Render (queue, mask) pairs as `rx-0=ff rx-1=ff`."""
    return " ".join(f"{q}={m:x}" for q, m in masks)


def _summary(masks: tuple[tuple[str, int], ...]) -> str:
    values = {m for _, m in masks}
    if len(values) == 1:
        return f"{cpumask.render_list(values.pop())} on {len(masks)} queues"
    return " ".join(f"{q}={cpumask.render_list(m)}" for q, m in masks) or "no queues"


def _is_mask(text: object) -> bool:
    """Tell whether a recorded mask is hex netagent could have written: at most MAX_CPUS bits."""
    if not isinstance(text, str) or len(text) > cpumask.MAX_CPUS // 4:
        return False
    mask = cpumask.parse_mask(text)
    return mask is not None and mask.bit_length() <= cpumask.MAX_CPUS


KIND = Rps()
