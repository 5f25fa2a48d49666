"""observe() reads from one rtnetlink dump what sysfs and ioctls give per interface (issue 8)."""

from __future__ import annotations

import sys

from tests.integration.lab import Lab

CODE = """
from netagent.host import link
from netagent.host.ethtool import Ethtool
from netagent.host.observe import observe, read_link
state = observe(("lab*", "peer*", "lo"), [])
with Ethtool() as ethtool:
    slow = {name: read_link(name, ethtool) for name in link.list_ifnames()}
assert state.ifnames == tuple(sorted(slow)), (state.ifnames, sorted(slow))
assert state.links == slow, (state.links, slow)
print(len(slow))
"""


def test_dump_and_sysfs_agree_on_every_link(lab: Lab) -> None:
    lab.set_mtu("lab1", 9001)
    lab.exec("ip", "link", "set", "lab2", "down")
    out = lab.exec(sys.executable, "-c", CODE)
    assert out.stdout.strip() == "7"  # lo and three veth pairs
