"""Link writes against a real kernel (issue 12): netagent's own RTM_NEWLINK, its acks and the
kernel's reasons, and pyroute2 only where a path guard asks for a route."""

from __future__ import annotations

import json
import sys

from tests.integration.lab import Lab

WRITES = """
import json, sys
from netagent.core.errors import AdapterError
from netagent.host.link import LinkWriter

out = {}
with open("/sys/class/net/lab0/tx_queue_len") as f:
    out["txqueuelen_before"] = f.read().strip()
writer = LinkWriter()
writer.set_mtu("lab0", 9001)
writer.set_txqueuelen("lab0", 5000)
with open("/sys/class/net/lab0/tx_queue_len") as f:
    out["txqueuelen"] = f.read().strip()
for name, call in [
    ("too_big", lambda: writer.set_mtu("lab1", 70000)),
    ("too_small", lambda: writer.set_mtu("lab1", 10)),
    ("gone", lambda: writer.set_mtu("nosuch0", 1500)),
]:
    try:
        call()
        out[name] = "accepted"
    except AdapterError as exc:
        out[name] = [str(exc), exc.errno]
writer.set_mtu("lab1", 1400)  # the socket still works after refusals
writer.close()
print(json.dumps(out))
"""


def test_writer_sets_mtu_and_txqueuelen_and_says_why_the_kernel_refuses(lab: Lab) -> None:
    out = json.loads(lab.exec(sys.executable, "-c", WRITES).stdout)
    assert lab.mtu("lab0") == 9001
    assert out["txqueuelen_before"] == "1000"
    assert out["txqueuelen"] == "5000"
    assert out["too_big"] == [
        "lab1: set mtu: the kernel refused mtu 70000 (Invalid argument: mtu greater than device maximum)",
        22,
    ]
    assert out["too_small"] == [
        "lab1: set mtu: the kernel refused mtu 10 (Invalid argument: mtu less than device minimum)",
        22,
    ]
    assert out["gone"] == ["nosuch0: set mtu: no such device", 19]
    assert lab.mtu("lab1") == 1400


HOST = """
import sys
from netagent.core.settings.mtu import SetMtu
from netagent.host.system import SystemHost

with SystemHost() as host:
    host.prepare_writes()  # what the daemon does at start for a profile without a guard
    host.execute(SetMtu("lab2", 1500, 9001))
    print(host.read_current(SetMtu("lab2", 1500, 9001)), "pyroute2" in sys.modules)
    host.prepare_writes(routes=True)  # a profile with a guard
    print("pyroute2" in sys.modules, host.route_dev("10.231.7.2"), host.route_dev("10.231.8.2"))
"""


def test_writes_need_no_pyroute2_and_a_guards_route_lookup_does(lab: Lab) -> None:
    lab.exec("ip", "addr", "add", "10.231.7.1/24", "dev", "lab2")
    out = lab.exec(sys.executable, "-c", HOST).stdout.splitlines()
    assert out == ["9001 False", "True lab2 None"]
    assert lab.mtu("lab2") == 9001
