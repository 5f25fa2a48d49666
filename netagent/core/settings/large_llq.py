"""Large LLQ: `large_llq: off` checks the ena module parameter `force_large_llq_header` (pure).

Large LLQ headers halve the Tx ring (1024 -> 512); AWS's ENA Express checker recommends them off
via `force_large_llq_header=0` (amzn-ec2-ena-utilities ena-express/check-ena-express-settings.sh,
ENA.md section 9). The parameter is read-only at run time: changing it reloads the driver, which
drops every ENA interface, so apply never does it and the check names the fix instead.
"""

from __future__ import annotations

from netagent.core.model import Check, Status, Unreadable
from netagent.core.settings.base import InterfaceKind, parse_switch, unreadable
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netagent.core.model import Link
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

OFF, ON = "off", "on"
FIX = (
    "needs a driver reload: put `options ena force_large_llq_header=0` in /etc/modprobe.d/ena.conf and reboot"
    " (or `rmmod ena && modprobe ena force_large_llq_header=0`, which drops every ENA interface)"
)


class LargeLlq(InterfaceKind):
    """The ena driver's large-LLQ module parameter; checked, never changed at run time."""

    name = "large_llq"
    rule_keys = ("large_llq",)
    checks = (("large_llq", "large_llq"),)

    def parse(self, w: Walker, key: str, node: Node, field: str) -> object | None:
        """Validate `large_llq: off|on` (a bare YAML off/on is a boolean and means the same)."""
        return parse_switch(w, node, field)

    def check(self, ifname: str, want: Mapping[str, object], link: Link) -> list[Check]:
        """Compare the parameter (`0` off; `1` on; newer drivers also take `2`, the device's choice)."""
        wanted = want.get("large_llq")
        if wanted not in (OFF, ON):
            return []
        have = link.get(self.name)
        if isinstance(have, Unreadable):
            return [unreadable(ifname, self.name, str(wanted), have)]
        text = str(have).strip()
        actual = OFF if text == "0" else ON if text == "1" else f"force_large_llq_header={text}"
        if actual == wanted:
            return [Check(ifname, self.name, Status.OK, str(wanted), actual)]
        fix = FIX if wanted == OFF else FIX.replace("=0", "=1")
        return [Check(ifname, self.name, Status.DRIFT, str(wanted), actual, f"large LLQ is {actual}: {fix}")]


KIND = LargeLlq()
