"""The setting kinds netagent tunes, one module each; this registry is the one list of them.

Each interface kind (netagent.core.settings.base.InterfaceKind) owns its rule keys, its checks,
its change, the codec of its recorded original and its `.link` rendering; `sysctl` is the one
host-wide kind. The host adapters read and write each kind by its name (netagent.host.system).
"""

from __future__ import annotations

from netagent.core.settings import channels, coalesce, driver, mtu, rings, sysctl
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from netagent.core.model import InterfaceRule
    from netagent.core.settings.base import InterfaceKind, Recorded

# Per-interface kinds, in the order their checks are made and their `.link` lines written.
INTERFACE_KINDS: tuple[InterfaceKind, ...] = (driver.KIND, mtu.KIND, channels.KIND, rings.KIND, coalesce.KIND)
SYSCTL = sysctl.KIND

# Every interface rule key, and the kind that owns it.
KIND_OF_RULE_KEY = {key: kind for kind in INTERFACE_KINDS for key in kind.rule_keys}
# Every check setting an interface kind produces (`driver_version` too), and its kind.
KIND_OF_CHECK = {setting: kind for kind in INTERFACE_KINDS for setting, _ in kind.checks}
# The rule key each check setting comes from (`driver_version` -> `driver_min_version`).
RULE_KEY_OF_CHECK = {setting: key for kind in INTERFACE_KINDS for setting, key in kind.checks}


def kinds_to_read(rules: Iterable[InterfaceRule], always: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Return the device kinds the host adapters must read for these rules (and `always`)."""
    keys = {key for rule in rules for key in rule.settings}
    return tuple(
        k.name for k in INTERFACE_KINDS if k.reads and (k.name in always or any(key in keys for key in k.rule_keys))
    )


# The kinds that change things, by the name their changes and recorded originals carry.
KIND_OF_CHANGE: dict[str, Recorded] = {k.name: k for k in (*INTERFACE_KINDS, SYSCTL) if k.makes_changes}
