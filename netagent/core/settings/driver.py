"""Driver: `driver: ena` and `driver_min_version: 2.8.0` on an interface rule (pure).

Read with ETHTOOL_GDRVINFO. Nothing can change the bound driver from here, so its drift is never
fixed by apply: the fix is an AMI with the driver (../shared/ENA.md).
"""

from __future__ import annotations

import re

from netagent.core.model import Check, Status, Unreadable
from netagent.core.settings.base import InterfaceKind, unreadable
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

# GitHub and old in-tree ENA drivers: 2.17.0g, 1.3.0K; newer in-tree drivers report the kernel
# release instead, which says nothing of ENA features (../shared/ENA.md, "Version string formats").
_DRIVER_VERSION = r"([0-9]+)\.([0-9]+)(?:\.([0-9]+))?[gGkK]?"  # compiled on first use (re caches it)
# What a profile may name: ENA-style versions 2.2.10, 2.17.0g, 1.3.0K.
_VERSION = r"[0-9]+(\.[0-9]+){0,2}[gGkK]?"
_DRIVER_NAME = r"[A-Za-z0-9_.-]{1,31}"  # struct ethtool_drvinfo.driver is char[32]


class DriverInfo(Value):
    """What ETHTOOL_GDRVINFO reports."""

    __slots__ = ("driver", "version")
    driver: str
    version: str

    def __init__(self, driver: str, version: str) -> None:
        _set(self, "driver", driver)
        _set(self, "version", version)


class Driver(InterfaceKind):
    """The bound driver and its version; checked, never changed."""

    name = "driver"
    rule_keys = ("driver", "driver_min_version")
    checks = (("driver", "driver"), ("driver_version", "driver_min_version"))

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `driver` (a driver name) or `driver_min_version` (2.2.10, 2.17.0g)."""
        if key == "driver":
            return w.text(node, field, _DRIVER_NAME, "a driver name")
        # Accept `2.8` (a YAML float) as written: the raw text is what the user meant.
        if w.is_scalar(node) and re.fullmatch(_VERSION, str(node.value)):
            return str(node.value)
        w.problem(node, field, f"expected a driver version like 2.2.10 or 2.17.0g, got {w.describe(node)}")
        return None

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare the bound driver by name, and its version with a minimum."""
        driver, minimum = want.get("driver"), want.get("driver_min_version")
        have = link.get(self.name)
        assert isinstance(have, (DriverInfo, Unreadable))
        out = []
        if isinstance(driver, str):
            out.append(check_driver(ifname, driver, have))
        if isinstance(minimum, str):
            out.append(check_driver_version(ifname, minimum, have, driver if isinstance(driver, str) else None))
        return out


def check_driver(ifname: str, want: str, have: DriverInfo | Unreadable) -> Check:
    """Compare the bound driver by name."""
    if isinstance(have, Unreadable):
        return unreadable(ifname, "driver", want, have)
    status = Status.OK if have.driver == want else Status.DRIFT
    message = "" if status is Status.OK else f"driver is {have.driver}, the profile expects {want}"
    return Check(ifname, "driver", status, want, have.driver, message)


def check_driver_version(ifname: str, want: str, have: DriverInfo | Unreadable, driver: str | None = None) -> Check:
    """Compare the driver version with a minimum, when it is the expected driver's version at all."""
    expected = f">= {want}" if driver is None else f"{driver} >= {want}"
    if isinstance(have, Unreadable):
        return unreadable(ifname, "driver_version", expected, have)
    if driver is not None and have.driver != driver:
        message = f"not comparable: the bound driver is {have.driver}, not {driver}"
        actual = f"{have.driver} {have.version}"
        return Check(ifname, "driver_version", Status.UNSUPPORTED, expected, actual, message)
    have_v, want_v = parse_driver_version(have.version), parse_driver_version(want)
    if have_v is None or want_v is None:
        message = (
            f"{have.driver} version {have.version!r} is not a driver version"
            " (an in-tree driver reports the kernel release)"
        )
        return Check(ifname, "driver_version", Status.UNSUPPORTED, expected, have.version, message)
    status = Status.OK if have_v >= want_v else Status.DRIFT
    message = "" if status is Status.OK else f"{have.driver} {have.version} is older than {want}"
    return Check(ifname, "driver_version", status, expected, have.version, message)


def parse_driver_version(text: str) -> tuple[int, int, int] | None:
    """Parse `2.17.0g`, `1.3.0K` or `2.8` into a comparable triple; None for anything else."""
    m = re.fullmatch(_DRIVER_VERSION, text.strip())
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


KIND = Driver()
