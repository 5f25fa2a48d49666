"""The ENA tuning surface on a real kernel (issue 13): RPS/XPS masks, txqueuelen, the kernel floor, BQL.

veth supports RPS/XPS masks and txqueuelen; this kernel has no byte_queue_limits and veth no
ena module parameters, so BQL and large LLQ show their `unsupported` path for real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.lab import Lab
from tests.integration.test_daemon_lab import DaemonProc, wait_until

pytestmark = pytest.mark.integration

PROFILE = """\
name: surface
interfaces:
  - match: lab*
    txqueuelen: 5000
    rps: {cpus: all}
    xps: {cpus: all}
    bql: off
    large_llq: off
    severity: required
kernel: {min_version: "99.0"}
"""


def masks(lab: Lab, ifname: str, kind: str) -> set[str]:
    """Return the distinct masks of every queue of one direction, as sysfs shows them."""
    prefix, name = ("rx-", "rps_cpus") if kind == "rps" else ("tx-", "xps_cpus")
    out = lab.exec("sh", "-c", f"cat /sys/class/net/{ifname}/queues/{prefix}*/{name}").stdout
    return set(out.split())


def txqueuelen(lab: Lab, ifname: str) -> int:
    out = lab.exec("ip", "-j", "link", "show", "dev", ifname).stdout
    return int(json.loads(out)[0]["txqlen"])


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_path / "surface.yaml"
    path.write_text(PROFILE)
    return str(path)


def all_cpus() -> str:
    """Return the online CPUs as sysfs shows a mask of them (`all` means these)."""
    mask = 0
    for part in Path("/sys/devices/system/cpu/online").read_text().strip().split(","):
        lo, _, hi = part.partition("-")
        mask |= ((1 << (int(hi or lo) - int(lo) + 1)) - 1) << int(lo)
    return format(mask, "x")


def test_audit_apply_restore_of_the_surface(lab: Lab, profile: str) -> None:
    audit = lab.netagent("audit", "--profile", profile, "--format", "json", "--no-imds")
    assert audit.returncode == 1, audit.stderr
    checks = {c["id"]: c for c in json.loads(audit.stdout)["checks"]}
    for ifname in lab.ifnames:
        assert checks[f"{ifname}/rps"]["status"] == "drift"
        assert checks[f"{ifname}/xps"]["status"] == "drift"
        assert checks[f"{ifname}/txqueuelen"]["status"] == "drift"
        assert checks[f"{ifname}/txqueuelen"]["actual"] == "1000"
        assert checks[f"{ifname}/bql"]["status"] == "unsupported"
        assert checks[f"{ifname}/large_llq"]["status"] == "unsupported"
    kernel = checks["kernel/release"]
    assert kernel["status"] == "drift"
    assert kernel["fix"] is None  # no change can fix it; the message names the fix
    assert "boot a newer kernel" in kernel["message"]

    applied = lab.netagent("apply", "--profile", profile, "--no-imds")
    assert applied.returncode == 1, applied.stderr  # the kernel floor stays unmet
    assert "cannot fix kernel/release" in applied.stdout
    for ifname in lab.ifnames:
        assert masks(lab, ifname, "rps") == {all_cpus()}
        assert masks(lab, ifname, "xps") == {all_cpus()}
        assert txqueuelen(lab, ifname) == 5000

    restored = lab.netagent("restore")
    assert restored.returncode == 0, restored.stderr
    for ifname in lab.ifnames:
        assert masks(lab, ifname, "rps") == {"0"}
        assert txqueuelen(lab, ifname) == 1000
    assert not os.path.exists(os.path.join(lab.state_dir, "originals.json"))


def test_daemon_heals_a_mask_and_a_queue_length_changed_by_hand(lab: Lab, profile: str, tmp_path: Path) -> None:
    daemons: list[DaemonProc] = []
    try:
        daemon = DaemonProc(lab, profile, tmp_path, "--resync-s", "2", "--no-imds")
        daemons.append(daemon)
        daemon.wait_event("daemon_started", deadline_s=30)
        assert masks(lab, "lab1", "rps") == {all_cpus()}
        lab.exec("sh", "-c", "echo 0 > /sys/class/net/lab1/queues/rx-3/rps_cpus")  # no event: the resync finds it
        wait_until(lambda: masks(lab, "lab1", "rps") == {all_cpus()}, deadline_s=15, what="rps healed at a resync")
        lab.exec("ip", "link", "set", "dev", "lab2", "txqueuelen", "777")  # a link event: healed at once
        wait_until(lambda: txqueuelen(lab, "lab2") == 5000, deadline_s=10, what="txqueuelen healed")
        # The value is written before the heal is logged: wait for the log line too.
        assert daemon.wait_event("setting_healed", check="lab1/rps")["cause"].startswith("resync")
        assert daemon.wait_event("setting_healed", check="lab2/txqueuelen")["cause"] == "link_event"
        assert daemon.stop() == 0
    finally:
        for d in daemons:
            d.kill()


def test_a_cpu_list_beyond_the_online_cpus_is_an_error_never_sent(lab: Lab, tmp_path: Path) -> None:
    online = Path("/sys/devices/system/cpu/online").read_text().strip()  # the kernel's list, e.g. 0-1
    last = max(int(part.split("-")[-1]) for part in online.split(","))
    path = tmp_path / "too-many.yaml"
    path.write_text(f'name: t\ninterfaces:\n  - match: lab0\n    rps: {{cpus: "0-{last + 3}"}}\n')
    out = lab.netagent("apply", "--profile", str(path), "--no-imds")
    assert out.returncode == 1, out.stderr
    assert f"CPUs {last + 1}-{last + 3} are not online here (online: {online})" in out.stdout
    assert masks(lab, "lab0", "rps") == {"0"}
