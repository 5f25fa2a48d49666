"""netagent against a real NIC driver (virtio_net under QEMU) at run time, in one boot.

What veth cannot show: a driver with real queue limits (virtio-net: 8 combined channels here,
the device's `queues`), rings and a live MTU change. Audit, apply and restore of MTU and
channels and Rx ring size (issue 13); the guest's own `ip link`, `ethtool -l` and `ethtool -g`
must agree with netagent after each. virtio-net under QEMU's tap has rings up to Rx 1024 and Tx
256, and refuses interrupt coalescing (EOPNOTSUPP): apply reports `coalesce` as unsupported, not a failure.
"""

from __future__ import annotations

import json

import pytest

from tests.vm import guest
from tests.vm.harness import VM

pytestmark = pytest.mark.vm

GOOD = """\
name: vm-runtime
interfaces:
  - match: ["ens*"]
    driver: virtio_net
    mtu: 9001
    channels:
      combined: 4
    rings:
      rx: 512
      tx: max
sysctl:
  net.core.rmem_max: 33554432
"""
TOO_MANY = """\
name: vm-too-many
interfaces:
  - match: ["ens5"]
    channels:
      combined: 9
"""
# virtio_net reads interrupt moderation (ETHTOOL_GCOALESCE) but refuses to set rx-usecs.
COALESCE = """\
name: vm-coalesce
interfaces:
  - match: ["ens5"]
    coalesce:
      rx_usecs: 64
"""
NICS = ("ens5", "ens6")


def run_json(vm: VM, cmd: str) -> tuple[int, dict]:
    res = vm.sh(cmd, check=False)
    try:
        return res.rc, json.loads(res.out)
    except ValueError:
        raise AssertionError(f"{cmd}: not JSON (rc {res.rc})\n{res.out}\n{res.err}") from None


def checks_by_id(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["checks"]}


def test_audit_apply_restore_mtu_and_channels_on_virtio_net(vm_image: str, vm_dir: str) -> None:
    files = {
        "/etc/netagent/lab/good.yaml": GOOD,
        "/etc/netagent/lab/too-many.yaml": TOO_MANY,
        "/etc/netagent/lab/coalesce.yaml": COALESCE,
    }
    with VM(vm_image, vm_dir, files=files) as vm:
        vm.sh("systemctl is-system-running --wait", check=False)
        info = vm.sh("ethtool -i ens5").out
        assert "driver: virtio_net" in info, info
        before = {n: (guest.mtu(vm, n), guest.combined(vm, n)) for n in NICS}
        maxima = guest.channels(vm, "ens5")["max"]
        assert maxima["combined"] == "8", maxima  # mq=on with 8 queue pairs
        assert before["ens5"] == (1500, 2), before  # virtio_net brings up one pair per vCPU
        ring = guest.rings(vm, "ens5")
        print(f"ethtool -g ens5: max {ring['max']}, current {ring['current']}")
        assert ring["max"]["rx"] == "1024", ring
        coalesce = vm.sh("ethtool -C ens5 rx-usecs 64", check=False)
        print(f"ethtool -C ens5 rx-usecs 64: rc {coalesce.rc} {coalesce.err.strip()}")
        assert coalesce.rc != 0  # virtio_net: no interrupt coalescing (EOPNOTSUPP)

        rc, report = run_json(vm, "netagent audit --no-imds --profile /etc/netagent/lab/good.yaml --format json")
        assert rc == 1, report
        checks = checks_by_id(report)
        for n in NICS:
            assert checks[f"{n}/driver"]["status"] == "ok", checks[f"{n}/driver"]
            assert (checks[f"{n}/mtu"]["status"], checks[f"{n}/mtu"]["actual"]) == ("drift", "1500")
            assert checks[f"{n}/channels"]["status"] == "drift", checks[f"{n}/channels"]
            assert checks[f"{n}/rings"]["status"] == "drift", checks[f"{n}/rings"]  # rx 1024 -> 512
        rings_before = {n: guest.rings(vm, n)["current"]["rx"] for n in NICS}

        rc, applied = run_json(vm, "netagent apply --no-imds --profile /etc/netagent/lab/good.yaml --format json")
        assert rc == 0, applied
        assert applied["after"]["compliant"] is True, applied["after"]
        for n in NICS:  # the guest's own tools agree with netagent
            assert guest.mtu(vm, n) == 9001
            assert guest.combined(vm, n) == 4
            assert guest.rings(vm, n)["current"]["rx"] == "512"  # ethtool -g reads what netagent set
            assert guest.rings(vm, n)["current"]["tx"] == guest.rings(vm, n)["max"]["tx"]
        assert guest.sysctl(vm, "net.core.rmem_max") == "33554432"
        assert vm.sh("netagent audit --no-imds --profile /etc/netagent/lab/good.yaml", check=False).rc == 0

        rc_restore = vm.sh("netagent restore", check=False)
        assert rc_restore.rc == 0, rc_restore.err
        after = {n: (guest.mtu(vm, n), guest.combined(vm, n)) for n in NICS}
        assert after == before
        assert {n: guest.rings(vm, n)["current"]["rx"] for n in NICS} == rings_before
        assert guest.sysctl(vm, "net.core.rmem_max") != "33554432"

        # More queues than the device has: an audit error, and apply never sends it.
        rc, report = run_json(vm, "netagent audit --no-imds --profile /etc/netagent/lab/too-many.yaml --format json")
        check = checks_by_id(report)["ens5/channels"]
        assert rc == 1, report
        assert check["status"] == "error", check
        assert "maximum of 8" in check["message"], check
        rc, planned = run_json(
            vm, "netagent apply --no-imds --dry-run --profile /etc/netagent/lab/too-many.yaml --format json"
        )
        assert planned["changes"] == [], planned
        res = vm.sh("netagent apply --no-imds --profile /etc/netagent/lab/too-many.yaml --log-format json", check=False)
        assert "change_failed" not in res.err, res.err
        assert "setting_changed" not in res.err, res.err
        assert guest.combined(vm, "ens5") == 2

        # Moderation virtio_net cannot set: 6.1 declares rx/tx-usecs (ethtool -c shows them) but
        # refuses a nonzero value with EOPNOTSUPP when QEMU's device lacks VIRTIO_NET_F_NOTF_COAL.
        # The audit compares what it reads (drift); apply's write is refused as unsupported: no
        # failure, nothing rolled back or changed, and the report after it says `unsupported`.
        rc, report = run_json(vm, "netagent audit --no-imds --profile /etc/netagent/lab/coalesce.yaml --format json")
        assert (rc, checks_by_id(report)["ens5/coalesce"]["status"]) == (1, "drift"), report
        res = vm.sh(
            "netagent apply --no-imds --log-level info --log-format json --format json"
            " --profile /etc/netagent/lab/coalesce.yaml",
            check=False,
        )
        check = checks_by_id(json.loads(res.out)["after"])["ens5/coalesce"]
        print(f"apply of rx_usecs 64 on virtio_net: rc {res.rc}, {check['status']}: {check['message']}")
        assert res.rc == 0, res.out + res.err
        assert check["status"] == "unsupported", check
        assert check["message"] == "the device refused rx_usecs=64: the device does not support it", check
        assert "change_unsupported" in res.err, res.err
        assert "setting_changed" not in res.err, res.err
        assert "change_failed" not in res.err, res.err
        assert vm.sh("netagent restore", check=False).rc == 0
