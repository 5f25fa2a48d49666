"""The setting kinds netagent tunes, one module each; this registry is the one list of them.

Each interface kind (netagent.core.settings.base.InterfaceKind) owns its rule keys, its checks,
its change, the codec of its recorded original and its `.link` rendering; `sysctl` is the one
kind keyed by sysctl names and `kernel` the one host-wide kind. The host adapters read and write
each kind by its name (netagent.host.observe, netagent.host.writer).

A kind's module is imported when a profile, a change or a recorded original first needs it:
an audit of a profile that sets an MTU and a sysctl loads neither the RPS nor the BQL module
(each module costs the one-shot audit a fraction of a millisecond, issue 8). So the keys live
here too; tests/unit/test_settings_registry.py checks that they agree with each module.
"""

from __future__ import annotations

from netagent.core.settings import sysctl
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from netagent.core.model import InterfaceRule
    from netagent.core.settings.base import InterfaceKind, Recorded
    from netagent.core.settings.kernel import Kernel

# Per-interface kinds, in the order their checks are made and their `.link` lines written:
# (module, the rule keys it reads, (check setting, the rule key it comes from) ...).
INTERFACE_TABLE: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]], ...] = (
    ("driver", ("driver", "driver_min_version"), (("driver", "driver"), ("driver_version", "driver_min_version"))),
    ("mtu", ("mtu",), (("mtu", "mtu"),)),
    ("channels", ("channels",), (("channels", "channels"),)),
    ("rings", ("rings",), (("rings", "rings"),)),
    ("coalesce", ("coalesce",), (("coalesce", "coalesce"),)),
    ("txqueuelen", ("txqueuelen",), (("txqueuelen", "txqueuelen"),)),
    ("rps", ("rps",), (("rps", "rps"),)),
    ("xps", ("xps",), (("xps", "xps"),)),
    ("bql", ("bql",), (("bql", "bql"),)),
    ("large_llq", ("large_llq",), (("large_llq", "large_llq"),)),
)
# The order an interface's changes are made in: the queue count first (the kernel adds or removes
# queues/rx-N and tx-N with it), then ring sizes and moderation, the MTU and queue length, and
# last the per-queue settings, on the queues that then exist. Restore undoes in reverse.
APPLY_ORDER = ("channels", "rings", "coalesce", "mtu", "txqueuelen", "rps", "xps", "bql")
# Kinds set queue by queue (queues/rx-N, tx-N): planned only once the queue count is settled.
PER_QUEUE = ("rps", "xps", "bql")
QUEUE_COUNT = "channels"  # the kind whose change adds or removes queues
# Host-wide kinds, each under its own top-level profile key: (module, key).
HOST_TABLE = (("kernel", "kernel"),)

SYSCTL = sysctl.KIND
RULE_KEYS = tuple(key for _, keys, _ in INTERFACE_TABLE for key in keys)
HOST_KEYS = tuple(key for _, key in HOST_TABLE)
# The rule key each check setting comes from (`driver_version` -> `driver_min_version`).
RULE_KEY_OF_CHECK = {setting: key for _, _, checks in INTERFACE_TABLE for setting, key in checks}
_MODULE_OF_RULE_KEY = {key: name for name, keys, _ in INTERFACE_TABLE for key in keys}
_MODULE_OF_CHECK = {setting: name for name, _, checks in INTERFACE_TABLE for setting, _ in checks}
_INTERFACE_NAMES = tuple(name for name, _, _ in INTERFACE_TABLE)


_LOADED: dict[str, object] = {}  # kind name -> its module's KIND, once imported


def _module_kind(name: str) -> object:
    kind = _LOADED.get(name)
    if kind is None:
        import importlib

        kind = _LOADED[name] = importlib.import_module(f"netagent.core.settings.{name}").KIND
    return kind


def interface_kind(name: str) -> InterfaceKind:
    """Return the interface kind named `name` (its module imported on first use)."""
    assert name in _INTERFACE_NAMES, name
    return _module_kind(name)  # type: ignore[return-value]


def interface_kinds(keys: Iterable[str] | None = None) -> tuple[InterfaceKind, ...]:
    """Return the interface kinds in registry order: all of them, or those owning any of `keys`."""
    if keys is None:
        return tuple(interface_kind(name) for name in _INTERFACE_NAMES)
    wanted = {_MODULE_OF_RULE_KEY[k] for k in keys if k in _MODULE_OF_RULE_KEY}
    return tuple(interface_kind(name) for name in _INTERFACE_NAMES if name in wanted)


def kind_of_rule_key(key: str) -> InterfaceKind:
    """Return the interface kind that owns a rule key (KeyError for a key no kind owns)."""
    return interface_kind(_MODULE_OF_RULE_KEY[key])


def kind_of_check(setting: str) -> InterfaceKind | None:
    """Return the interface kind that makes checks of this setting, or None."""
    name = _MODULE_OF_CHECK.get(setting)
    return None if name is None else interface_kind(name)


def kind_of_change(name: str) -> Recorded | None:
    """Return the kind whose changes and recorded originals carry this type name, or None."""
    if name == SYSCTL.name:
        return SYSCTL
    if name not in _INTERFACE_NAMES:
        return None
    kind = interface_kind(name)
    return kind if kind.makes_changes else None


def host_kind(key: str) -> Kernel:
    """Return the host-wide kind under a top-level profile key."""
    name = dict((k, m) for m, k in HOST_TABLE)[key]
    return _module_kind(name)  # type: ignore[return-value]


def kinds_to_read(rules: Iterable[InterfaceRule], always: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Return the device kinds the host adapters must read for these rules (and `always`)."""
    keys = {key for rule in rules for key in rule.settings}
    names = {kind.name for kind in interface_kinds(keys) if kind.reads} | set(always)
    return tuple(name for name in _INTERFACE_NAMES if name in names)
