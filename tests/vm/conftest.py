"""Fixtures for the VM lab: the cached image (built on first use) and a work directory per boot.

Under CI=true a lab that cannot run (no root, no QEMU, no /dev/net/tun, an image that cannot be
built) fails the tests; elsewhere it skips them with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

from tests.vm import image

TOOLS = (
    "qemu-system-x86_64", "busybox", "debootstrap", "cpio", "mkfs.ext4", "dpkg-deb", "depmod", "ip", "unshare",
    "systemctl", "timeout",
)  # fmt: skip


def _cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "the VM lab needs root (debootstrap, taps, network namespaces)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"the VM lab needs {', '.join(missing)} (scripts/test installs them)"
    if not os.path.exists("/dev/net/tun"):
        return "the VM lab needs /dev/net/tun"
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the VM lab: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def vm_image() -> str:
    """The cached image directory (vmlinuz, initrd.cpio, root.img); built on first use.

    Scope: session. Fails under CI=true when it cannot be had; skips elsewhere.
    """
    reason = _cannot_run()
    if reason is not None:
        _unavailable(reason)
    try:
        return image.ensure_image()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        _unavailable(f"cannot build the VM image: {exc}")
        raise


@pytest.fixture
def vm_dir() -> Iterator[str]:
    """A short work directory for one test's boots (QEMU's unix sockets need a short path).

    Removed afterwards unless NETAGENT_VM_KEEP=1 (then its console.log and qemu.argv stay for debugging).
    """
    path = tempfile.mkdtemp(prefix="navm-")
    yield path
    if os.environ.get("NETAGENT_VM_KEEP") != "1":
        shutil.rmtree(path, ignore_errors=True)
