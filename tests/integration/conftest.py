"""Fixtures for integration tests: a throwaway netns lab, deleted even when a test fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.integration.lab import Lab, unique_name


def _cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "integration tests need root (network namespaces)"
    for tool in ("ip", "ethtool", "sysctl"):
        if shutil.which(tool) is None:
            return f"integration tests need {tool}"
    name = unique_name("-probe")
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create a network namespace: {probe.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


@pytest.fixture(scope="session")
def netns_ok() -> None:
    """Skip integration tests where namespaces cannot be made; in CI that is a failure, never a skip."""
    reason = _cannot_run()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the integration tests: {reason}")
    pytest.skip(reason)


@pytest.fixture
def lab(netns_ok: None) -> Iterator[Lab]:
    """A netns with three veth pairs lab0..lab2 (peers peer0..peer2), 8 tx/rx queues each.

    Scope: function. Depends: netns_ok. Deleted in teardown, even when the test fails.
    """
    lab = Lab.create()
    try:
        for i in range(3):
            lab.add_veth(f"lab{i}", f"peer{i}")
        yield lab
    finally:
        lab.delete()
