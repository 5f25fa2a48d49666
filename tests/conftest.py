"""Shared fixtures: the host-safety guard that every test session runs under."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

# Sysctls that tests touch inside their namespaces; the initial namespace's values must not move.
GUARDED_SYSCTLS = (
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_mtu_probing",
    "net.ipv4.ip_default_ttl",
    "net.ipv4.tcp_slow_start_after_idle",
)


def _host_snapshot() -> dict[str, object]:
    links = []
    try:
        out = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
        links = sorted((link["ifname"], link.get("mtu"), link.get("operstate")) for link in json.loads(out))
    except (OSError, subprocess.CalledProcessError):
        pass
    values = {}
    for key in GUARDED_SYSCTLS:
        try:
            with open("/proc/sys/" + key.replace(".", "/")) as f:
                values[key] = f.read().split()
        except OSError:
            values[key] = None
    # The real state directory: tests must always pass their own --state-dir.
    state: object = os.path.isdir("/var/lib/netagent")
    try:
        with open("/var/lib/netagent/originals.json", "rb") as f:
            state = f.read()
    except OSError:
        pass
    return {"links": links, "sysctls": values, "real_state_dir": state}


@pytest.fixture(scope="session", autouse=True)
def host_untouched() -> Iterator[None]:
    """Fail the session if any test changed the machine's own interfaces or initial-namespace sysctls."""
    before = _host_snapshot()
    yield
    after = _host_snapshot()
    assert after == before, f"the test session changed the host: before={before} after={after}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything under tests/integration as integration."""
    for item in items:
        if os.sep + "integration" + os.sep in str(item.fspath):
            item.add_marker(pytest.mark.integration)
