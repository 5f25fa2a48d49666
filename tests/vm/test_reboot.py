"""Originals recorded before a reboot are restored after it.

Boot 1 sets distinct "original" values (MTU 1400, one combined channel, a sysctl), applies a
profile; the state directory (/var/lib/netagent) is on the guest's disk, a per-test copy that
persists across boots. Boot 2 comes up with the kernel's defaults; `netagent restore` puts back
the values from before the first apply, read from the state written in boot 1.
"""

from __future__ import annotations

import os

import pytest

from tests.vm import guest
from tests.vm.bake import copy_disk
from tests.vm.harness import VM

pytestmark = pytest.mark.vm

PROFILE = """\
name: vm-reboot
interfaces:
  - match: ["ens5"]
    mtu: 9001
    channels:
      combined: 4
sysctl:
  net.core.rmem_max: 33554432
"""


def test_restore_after_reboot_returns_the_values_from_before_the_first_apply(vm_image: str, vm_dir: str) -> None:
    disk = copy_disk(vm_image, os.path.join(vm_dir, "disk.img"))
    files = {"/etc/netagent/lab/p.yaml": PROFILE}
    with VM(vm_image, os.path.join(vm_dir, "boot-1"), disk=disk, files=files) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        vm.sh("ip link set dev ens5 mtu 1400 && ethtool -L ens5 combined 1 && sysctl -qw net.core.rmem_max=1048576")
        boot1 = vm.boot_id
        applied = vm.sh("netagent apply --no-imds --profile /etc/netagent/lab/p.yaml", check=False)
        assert applied.rc == 0, applied.out + applied.err
        assert (guest.mtu(vm, "ens5"), guest.combined(vm, "ens5")) == (9001, 4)
        vm.poweroff()
    with VM(vm_image, os.path.join(vm_dir, "boot-2"), disk=disk, files=files) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        assert vm.boot_id != boot1
        assert vm.sh("test -s /var/lib/netagent/originals.json", check=False).rc == 0
        restored = vm.sh("netagent restore", check=False)
        assert restored.rc == 0, restored.out + restored.err
        assert (guest.mtu(vm, "ens5"), guest.combined(vm, "ens5")) == (1400, 1), restored.out
        assert guest.sysctl(vm, "net.core.rmem_max") == "1048576"
        assert "nothing to restore" in vm.sh("netagent restore").out
