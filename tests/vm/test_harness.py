"""The boot harness itself: a boot that gives no hello in time is killed and booted again."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.vm import harness
from tests.vm.harness import VM

pytestmark = pytest.mark.vm


def test_a_boot_without_hello_is_killed_and_booted_again(
    vm_image: str, vm_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No guest says hello within a second here (boots take 8-25 s): the first boot counts as hung.
    monkeypatch.setattr(harness, "HUNG_BOOT_S", 1.0)
    before = _netns()
    vm = VM(vm_image, vm_dir)
    try:
        with pytest.warns(UserWarning, match=r"VM boot gave no hello in 1 s .*booting again"):
            vm.start()
        assert vm.sh("cat /proc/sys/kernel/random/boot_id").out.strip() == vm.boot_id
        assert len(_qemus(vm_dir)) == 1, _qemus(vm_dir)  # the hung boot's QEMU is gone
    finally:
        vm.stop()
    for kept in ("console.hung.log", "qemu.hung.stderr"):  # the hung boot's, for debugging
        assert os.path.exists(os.path.join(vm_dir, kept)), kept
    assert _netns() <= before  # both boots' namespaces deleted


def _qemus(workdir: str) -> list[int]:
    """The pids of the QEMU processes booting in workdir (`timeout` runs `ip netns exec`, which execs QEMU)."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[0].endswith(b"qemu-system-x86_64") and any(workdir.encode() in a for a in argv):
            pids.append(int(entry))
    return pids


def _netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}
