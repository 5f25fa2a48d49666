"""Read a guest's NICs with the guest's own tools (ip, ethtool, udevadm), as plain values."""

from __future__ import annotations

import json
import re
import time

from tests.vm.harness import VM


def links(vm: VM) -> dict[str, dict]:
    """Return `ip -j link` in the guest by interface name."""
    return {lk["ifname"]: lk for lk in json.loads(vm.sh("ip -j link show").out)}


def mtu(vm: VM, ifname: str) -> int:
    return int(links(vm)[ifname]["mtu"])


def parse_ethtool_sections(out: str) -> dict[str, dict[str, str]]:
    """Split `ethtool -l`/`-g` output into {"max": {...}, "current": {...}} (keys lower-case)."""
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in out.splitlines():
        if line.lower().startswith("pre-set maximums"):
            current = sections.setdefault("max", {})
        elif line.lower().startswith("current hardware settings"):
            current = sections.setdefault("current", {})
        elif ":" in line and sections:
            key, value = line.split(":", 1)
            current[key.strip().lower()] = value.strip()
    return sections


def channels(vm: VM, ifname: str) -> dict[str, dict[str, str]]:
    return parse_ethtool_sections(vm.sh(f"ethtool -l {ifname}").out)


def combined(vm: VM, ifname: str) -> int:
    return int(channels(vm, ifname)["current"]["combined"])


def rings(vm: VM, ifname: str) -> dict[str, dict[str, str]]:
    return parse_ethtool_sections(vm.sh(f"ethtool -g {ifname}").out)


def udev_property(vm: VM, ifname: str, key: str) -> str | None:
    """Return one property of the interface's udev database entry, or None."""
    out = vm.sh(f"udevadm info --query=property /sys/class/net/{ifname}").out
    found = re.search(rf"^{re.escape(key)}=(.*)$", out, re.M)
    return found.group(1) if found else None


def sysctl(vm: VM, key: str) -> str:
    return " ".join(vm.sh(f"sysctl -n {key}").out.split())


def wait_for_event(vm: VM, unit: str, event: str, timeout_s: float = 30) -> list[dict]:
    """Return the unit's JSON log lines once one is `event` (or at the deadline): journald reads a
    service's output stream on its own schedule, so a line written before READY=1 can reach the
    journal after systemd has the READY."""
    deadline = time.monotonic() + timeout_s
    while True:
        events = journal_events(vm, unit)
        if any(e.get("event") == event for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def journal_events(vm: VM, unit: str) -> list[dict]:
    """Return the unit's JSON log lines (netagent logs JSON under systemd) as dicts."""
    out = vm.sh(f"journalctl -b -u {unit} -o cat --no-pager").out
    events = []
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            events.append(doc)
    return events
