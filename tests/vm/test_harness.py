"""The boot harness itself: a boot that gives no hello in time is killed and booted again."""

from __future__ import annotations

import os
import subprocess

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
        assert vm.boot_s > 1.0, vm.boot_s  # the second boot was waited for with the full timeout
    finally:
        vm.stop()
    assert os.path.exists(os.path.join(vm_dir, "console.hung.log"))  # the hung boot's console, kept
    assert _netns() <= before  # both boots' namespaces deleted


def _netns() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}
