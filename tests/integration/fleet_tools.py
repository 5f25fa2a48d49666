"""Helpers of the fleet integration tests (issue 14): tools that must exist under CI."""

from __future__ import annotations

import os
import shutil
import socket

import pytest


def need(tool: str, package: str) -> str:
    """Return the path of `tool`; skip without it, but fail under CI (which installs `package`)."""
    path = shutil.which(tool)
    if path is not None:
        return path
    reason = f"needs {tool} (Debian package {package})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now (inside the caller's network namespace)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
