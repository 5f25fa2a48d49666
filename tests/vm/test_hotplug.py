"""Hot-plug as an ENI attach: with the daemon running, NICs are device_add-ed into a running guest.

Predictable names (net.ifnames=1, as on AL2023 and Ubuntu): a NIC registers as eth0 and udev
renames it to ens<slot> a little later. The daemon must leave a new device to udev until udev has
finished with it, then tune it by its final name: no write by the transient name, no error for a
rename, no second write of what a .link file already set. Each round plugs two NICs:
- slot 7 (ens7): no .link file; the daemon's profile (`eth*`, `ens*`) tunes it;
- slot 8 (ens8): a .link file matched by MAC sets the same MTU and channels; udev tunes it, the
  peer that does this job at boot; the daemon, matching it too, must find nothing to do.
Registration (the first RTM_NEWLINK of the new ifindex) to MTU 9001 (the first RTM_NEWLINK with
it) is read from `ip -ts monitor link` in the guest for both, and printed side by side (TCG: only
the ratio means anything). Then device_del of both: the daemon forgets ens7, logs no error.
"""

from __future__ import annotations

import datetime
import json
import re
import statistics
from pathlib import Path

import pytest

from tests.vm import guest
from tests.vm.harness import REPO, VM, Nic

pytestmark = pytest.mark.vm

ROUNDS = 3
MTU = 9001
PROFILE = f"""\
name: vm-hotplug
interfaces:
  - match: ["eth*", "ens*"]
    driver: virtio_net
    mtu: {MTU}
    channels:
      combined: 4
"""
DAEMON = Nic(7, "52:54:00:aa:00:07")
UDEV = Nic(8, "52:54:00:aa:00:08")
LINK_FILE = f"""\
# The VM lab's stand-in for a persisted .link file: udev applies it to the hot-plugged NIC in slot 8.
[Match]
MACAddress={UDEV.mac}

[Link]
NamePolicy=keep kernel database onboard slot path
AlternativeNamesPolicy=database onboard slot path
MACAddressPolicy=persistent
MTUBytes={MTU}
CombinedChannels=4
"""
DEBUG_DROPIN = """\
[Service]
ExecStart=
ExecStart=/usr/local/bin/netagent daemon --log-format json --log-level debug --state-dir /var/lib/netagent
"""
# `ip -ts -o monitor link`: "[2026-12-04T16:03:17.123456] 9: eth0: <...> mtu 1500 ... link/ether 52:54:..."
MONITOR_LINE = re.compile(
    r"^\[(?P<ts>[^\]]+)\]\s*(?P<deleted>Deleted\s+)?(?P<index>\d+):\s+(?P<name>[^:@\s]+)[^\n]*?"
    r"\bmtu (?P<mtu>\d+)[^\n]*?link/ether (?P<mac>[0-9a-f:]{17})"
)


def milestones_ms(monitor_log: str, mac: str, mtu: int) -> list[dict[str, float]]:
    """Return, per ifindex the MAC had (in order), ms from its registration (its first link event)
    to its rename by udev ("renamed": the first event under an ens name) and to `mtu` ("mtu"),
    with "at" its registration as a POSIX timestamp."""
    first: dict[int, datetime.datetime] = {}
    marks: dict[int, dict[str, float]] = {}
    for line in monitor_log.splitlines():
        m = MONITOR_LINE.match(line)
        if m is None or m["deleted"] or m["mac"] != mac:
            continue
        index, at = int(m["index"]), datetime.datetime.fromisoformat(m["ts"])
        start = first.setdefault(index, at)
        mark = marks.setdefault(index, {"at": start.replace(tzinfo=datetime.timezone.utc).timestamp()})
        elapsed = (at - start).total_seconds() * 1000
        if m["name"].startswith("ens"):
            mark.setdefault("renamed", elapsed)
        if int(m["mtu"]) == mtu:
            mark.setdefault("mtu", elapsed)
    return [marks[i] for i in sorted(marks)]


def wait_mtu(vm: VM, ifname: str, mtu: int) -> None:
    vm.sh(
        f'for i in $(seq 600); do [ "$(cat /sys/class/net/{ifname}/mtu 2>/dev/null)" = {mtu} ] && exit 0; '
        f"sleep 0.1; done; ip link; exit 1"
    )


def test_hotplugged_nic_is_tuned_after_udev_by_its_final_name(vm_image: str, vm_dir: str) -> None:
    files = {
        "/etc/netagent/profile.yaml": PROFILE,
        "/etc/systemd/network/10-lab-hotplug.link": LINK_FILE,
        "/etc/systemd/system/netagent.service": (REPO / "systemd/netagent.service").read_text(),
        "/etc/systemd/system/netagent.service.d/lab.conf": DEBUG_DROPIN,
    }
    with VM(vm_image, vm_dir, files=files) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        vm.sh("systemctl start netagent.service")  # Type=notify: returns after READY=1
        vm.spawn("exec ip -ts -o monitor link", "/run/monitor.log")
        vm.sh("sleep 0.5")
        for _ in range(ROUNDS):
            vm.hotplug(DAEMON)
            wait_mtu(vm, DAEMON.ifname, MTU)
            vm.hotplug(UDEV)
            wait_mtu(vm, UDEV.ifname, MTU)
            assert guest.combined(vm, DAEMON.ifname) == 4
            assert guest.combined(vm, UDEV.ifname) == 4
            link_file = guest.udev_property(vm, UDEV.ifname, "ID_NET_LINK_FILE")
            assert link_file == "/etc/systemd/network/10-lab-hotplug.link"
            vm.unplug(DAEMON, UDEV)
        vm.sh("sleep 1")  # the daemon's last events
        monitor = vm.sh("cat /run/monitor.log").out
        Path(vm_dir, "monitor.log").write_text(monitor)
        events = guest.journal_events(vm, "netagent.service")
        Path(vm_dir, "netagent.journal").write_text("\n".join(json.dumps(e) for e in events))
        Path(vm_dir, "udev.journal").write_text(vm.sh("journalctl -b -u systemd-udevd -o short-precise").out)
        status = vm.sh("netagent status --format json --state-dir /var/lib/netagent").out

    daemon_nic = milestones_ms(monitor, DAEMON.mac, MTU)
    udev_nic = milestones_ms(monitor, UDEV.mac, MTU)
    assert [sorted(m) for m in daemon_nic] == [["at", "mtu", "renamed"]] * ROUNDS, monitor
    assert [sorted(m) for m in udev_nic] == [["at", "mtu", "renamed"]] * ROUNDS, monitor
    appeared = [
        datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
        for e in events
        if e.get("event") == "interface_appeared" and e["ifname"] == DAEMON.ifname
    ]
    for mark, at in zip(daemon_nic, appeared):
        mark["appeared"] = (at - mark["at"]) * 1000
    rows = (
        ("udev .link NIC: MTU set", [m["mtu"] for m in udev_nic]),
        ("udev .link NIC: renamed", [m["renamed"] for m in udev_nic]),
        ("daemon NIC: renamed (udev)", [m["renamed"] for m in daemon_nic]),
        ("daemon NIC: read by daemon", [m.get("appeared", float("nan")) for m in daemon_nic]),
        ("daemon NIC: MTU set", [m["mtu"] for m in daemon_nic]),
    )
    print(f"\nhot-plug, ms from registration (TCG guest, 2 vCPUs), {ROUNDS} rounds:")
    for label, values in rows:
        runs = " ".join(f"{v:7.1f}" for v in values)
        print(f"  {label:28s} {runs}  median {statistics.median(values):7.1f}")
    daemon_ms, udev_ms = rows[4][1], rows[0][1]
    ratio = statistics.median(daemon_ms) / statistics.median(udev_ms)
    print(f"  MTU set, daemon/udev .link ratio of medians: {ratio:.2f}")

    bad = [e for e in events if e.get("level") in ("warning", "error", "critical")]
    assert bad == [], bad
    healed = [e["check"] for e in events if e.get("event") == "setting_healed"]
    assert sorted(set(healed)) == [f"{DAEMON.ifname}/channels", f"{DAEMON.ifname}/mtu"], healed
    assert len(healed) == 2 * ROUNDS, healed  # each plug once; never the .link file's NIC, never eth0
    changed = [e for e in events if e.get("event") == "setting_changed"]
    assert not [e for e in changed if "eth" in str(e) or UDEV.ifname in str(e)], changed
    appeared = [e["ifname"] for e in events if e.get("event") == "interface_appeared"]
    assert appeared == [DAEMON.ifname, UDEV.ifname] * ROUNDS, appeared
    forgotten = [e["ifname"] for e in events if e.get("event") == "interface_forgotten"]
    assert forgotten.count(DAEMON.ifname) == ROUNDS, forgotten
    assert json.loads(status)["failures"] == {}, status
