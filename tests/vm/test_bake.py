"""The AMI bake end to end, and the service at boot.

On the host, `netagent persist --profile P --root R` writes into a copy of the image's root disk
(tests/vm/bake.py). Booting that disk with no netagent service enabled: before any netagent runs,
udev has applied the .link files (MTU, channel counts; `udevadm info` names the file in
ID_NET_LINK_FILE) and systemd-sysctl the drop-in; then `netagent audit` (the persisted profile
copy) exits 0. A changed profile persisted again replaces the files and the next boot follows
it. With the unit enabled as well, it starts at boot, sends READY=1 and keeps the host compliant.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.vm import guest
from tests.vm.bake import copy_disk, persist_into
from tests.vm.harness import VM

pytestmark = pytest.mark.vm

PROFILE_A = """\
name: vm-bake-a
interfaces:
  - match: ["ens5", "ens6"]
    driver: virtio_net
    mtu: 9001
    channels:
      combined: 4
    rings:
      rx: 512
sysctl:
  net.core.rmem_max: 33554432
  net.ipv4.tcp_mtu_probing: 1
"""
PROFILE_B = """\
name: vm-bake-b
interfaces:
  - match: ["ens5"]
    mtu: 4000
    channels:
      combined: 3
sysctl:
  net.core.rmem_max: 16777216
"""
DEFAULT_LINK = "/usr/lib/systemd/network/99-default.link"


def write_profile(vm_dir: str, name: str, text: str) -> str:
    path = os.path.join(vm_dir, name)
    Path(path).write_text(text)
    os.chmod(path, 0o644)
    return path


def boot_state(vm: VM, ifname: str) -> tuple[int, int, str | None]:
    """Return (MTU, combined channels, the .link file udev applied) of one NIC."""
    return guest.mtu(vm, ifname), guest.combined(vm, ifname), guest.udev_property(vm, ifname, "ID_NET_LINK_FILE")


def test_persisted_profile_holds_at_boot_and_a_new_bake_replaces_it(vm_image: str, vm_dir: str) -> None:
    disk = copy_disk(vm_image, os.path.join(vm_dir, "bake.img"))
    baked = persist_into(disk, write_profile(vm_dir, "a.yaml", PROFILE_A))
    print(baked)
    with VM(vm_image, os.path.join(vm_dir, "boot-a"), disk=disk) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        assert vm.sh("systemctl is-enabled netagent.service", check=False).out.strip() == "disabled"
        assert vm.sh("test -e /var/lib/netagent", check=False).rc != 0  # no netagent has run
        for ifname in ("ens5", "ens6"):
            mtu, combined, link_file = boot_state(vm, ifname)
            assert (mtu, combined) == (9001, 4), ifname
            assert guest.rings(vm, ifname)["current"]["rx"] == "512", ifname  # RxBufferSize= at boot
            assert link_file is not None
            assert link_file.startswith("/etc/systemd/network/60-netagent-"), link_file
        assert guest.sysctl(vm, "net.core.rmem_max") == "33554432"
        assert guest.sysctl(vm, "net.ipv4.tcp_mtu_probing") == "1"
        audit = vm.sh("netagent audit --no-imds", check=False)
        assert audit.rc == 0, audit.out + audit.err
        vm.poweroff()

    baked = persist_into(disk, write_profile(vm_dir, "b.yaml", PROFILE_B))
    print(baked)
    assert "removed etc/systemd/network/60-netagent-01-ens6.link" in baked
    assert "60-netagent-01-ens6.link:" not in baked  # gone from the image (the bake lists the files left)
    with VM(vm_image, os.path.join(vm_dir, "boot-b"), disk=disk) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        mtu, combined, link_file = boot_state(vm, "ens5")
        assert (mtu, combined) == (4000, 3)
        assert link_file is not None
        assert link_file.startswith("/etc/systemd/network/60-netagent-"), link_file
        assert boot_state(vm, "ens6") == (1500, 2, DEFAULT_LINK)  # no longer in the profile
        assert guest.sysctl(vm, "net.core.rmem_max") == "16777216"
        audit = vm.sh("netagent audit --no-imds --format json", check=False)
        assert audit.rc == 0, audit.out + audit.err
        assert json.loads(audit.out)["profile"]["name"] == "vm-bake-b"


def test_persisted_service_starts_at_boot_ready_and_compliant(vm_image: str, vm_dir: str) -> None:
    disk = copy_disk(vm_image, os.path.join(vm_dir, "bake.img"))
    persist_into(disk, write_profile(vm_dir, "a.yaml", PROFILE_A), enable=True)
    with VM(vm_image, os.path.join(vm_dir, "boot"), disk=disk) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        state = vm.sh("systemctl is-active netagent.service", check=False).out.strip()
        shown = vm.sh("systemctl show netagent.service -p Type -p StatusText -p NRestarts -p ExecMainPID").out
        journal = vm.sh("journalctl -b -u netagent.service -o cat --no-pager").out
        assert state == "active", f"{state}\n{shown}\n{journal}"
        # Type=notify: systemd marks the unit active only on READY=1; STATUS= is the daemon's own line.
        assert "Type=notify" in shown, shown
        assert "StatusText=profile vm-bake-a: watching 2 interfaces" in shown, shown
        assert "NRestarts=0" in shown, shown
        events = guest.wait_for_event(vm, "netagent.service", "daemon_started")
        assert [e["event"] for e in events if e.get("event") == "daemon_started"] == ["daemon_started"], journal
        bad = [e for e in events if e.get("level") in ("warning", "error", "critical")]
        assert bad == [], bad
        audit = vm.sh("netagent audit --no-imds", check=False)
        assert audit.rc == 0, audit.out + audit.err
        status = vm.sh("netagent status", check=False)
        assert status.rc == 0, status.out + status.err
