"""Per-queue sysfs settings: RPS/XPS CPU masks and BQL limits; driver module parameters.

/sys/class/net/DEV/queues/{rx,tx}-N/ (linux Documentation/ABI/testing/sysfs-class-net-queues).
Inside a network namespace `ip netns exec` remounts /sys, so these are the namespace's devices.
"""

from __future__ import annotations

import errno
import os

from netagent.core import cpumask
from netagent.core.errors import AdapterError, NotSupported
from netagent.core.settings.bql import BqlState
from netagent.core.settings.rps import QueueMasks

SYS_CLASS_NET = "/sys/class/net"


def _queues(ifname: str, prefix: str, root: str) -> list[str]:
    """Return the queue directories of one direction, in numeric order.

    Raises:
        AdapterError: the interface is gone (ENODEV).
    """
    try:
        names = os.listdir(os.path.join(root, ifname, "queues"))
    except FileNotFoundError:
        raise AdapterError(ifname, "read queues", errno.ENODEV, "no such device") from None
    except OSError as exc:
        raise AdapterError(ifname, "read queues", exc.errno, exc.strerror or str(exc)) from None
    found = [n for n in names if n.startswith(prefix) and n[len(prefix) :].isdigit()]
    return sorted(found, key=lambda n: int(n[len(prefix) :]))


def _read(path: str, what: str, ifname: str) -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except FileNotFoundError:
        raise NotSupported(ifname, f"read {what}", errno.ENOENT, f"the kernel has no {what} here") from None
    except OSError as exc:
        raise AdapterError(ifname, f"read {what}", exc.errno, exc.strerror or str(exc)) from None


def _write(path: str, text: str, what: str, ifname: str) -> None:
    data = text.encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
    except FileNotFoundError:
        if not os.path.isdir(os.path.dirname(path)):  # the queue went with a lower queue count
            raise AdapterError(
                ifname, f"write {what}", errno.ENODEV, "no such queue (the queue count changed)"
            ) from None
        raise NotSupported(ifname, f"write {what}", errno.ENOENT, f"the kernel has no {what} here") from None
    except OSError as exc:
        raise AdapterError(ifname, f"write {what}", exc.errno, f"the kernel refused {text} ({exc.strerror})") from None
    if written != len(data):
        raise AdapterError(ifname, f"write {what}", errno.EIO, f"short write ({written} of {len(data)} bytes)")


CPU_ONLINE = "/sys/devices/system/cpu/online"  # Documentation/ABI/testing/sysfs-devices-system-cpu


def online_cpus(path: str = CPU_ONLINE) -> int:
    """Return the mask of online CPUs: the kernel's list (`0-3,5`), else CPUs 0..N-1 for psutil's count.

    Offline or hot-unplugged CPUs are not in it: the kernel drops them from a queue's mask.
    """
    try:
        with open(path, encoding="ascii") as f:
            mask = cpumask.parse_list(f.read())
    except OSError:
        mask = None
    if mask:
        return mask
    import psutil  # only where sysfs does not say (issue 8: the audit imports nothing it does not use)

    return cpumask.all_cpus(int(psutil.cpu_count(logical=True) or 1))


def read_masks(ifname: str, prefix: str, filename: str, root: str = SYS_CLASS_NET) -> QueueMasks:
    """Return each queue's CPU mask (`rps_cpus` of rx-N, `xps_cpus` of tx-N).

    Raises:
        NotSupported: the kernel has no such file (CONFIG_RPS / CONFIG_XPS unset).
        AdapterError: the interface is gone, or a mask cannot be read.
    """
    masks = []
    for queue in _queues(ifname, prefix, root):
        text = _read(os.path.join(root, ifname, "queues", queue, filename), filename, ifname)
        mask = cpumask.parse_mask(text)
        if mask is None:
            raise AdapterError(ifname, f"read {filename}", errno.EPROTO, f"{queue}/{filename}: not a mask: {text!r}")
        masks.append((queue, mask))
    return QueueMasks(online_cpus(), tuple(masks))


def write_masks(ifname: str, filename: str, masks: tuple[tuple[str, int], ...], root: str = SYS_CLASS_NET) -> None:
    """Write each (queue, mask) pair, as the kernel prints masks.

    Raises:
        AdapterError: the kernel refused a mask, or the interface is gone.
    """
    for queue, mask in masks:
        path = os.path.join(root, ifname, "queues", queue, filename)
        _write(path, cpumask.render_mask(mask, mask.bit_length()), f"{queue}/{filename}", ifname)


def read_bql(ifname: str, root: str = SYS_CLASS_NET) -> BqlState:
    """Return the driver's enable_bql parameter (if it has one) and each Tx queue's limit_min.

    Raises:
        NotSupported: the kernel has no byte_queue_limits (CONFIG_BQL unset).
        AdapterError: the interface is gone.
    """
    limits = []
    for queue in _queues(ifname, "tx-", root):
        text = _read(os.path.join(root, ifname, "queues", queue, "byte_queue_limits", "limit_min"), "BQL", ifname)
        limits.append((queue, int(text)))
    if not limits:
        raise NotSupported(ifname, "read BQL", errno.ENOENT, "the device has no Tx queues")
    try:
        enable = read_module_param(ifname, "enable_bql", root)
    except AdapterError:
        enable = None
    return BqlState(enable, tuple(limits))


def write_limit_min(ifname: str, limits: tuple[tuple[str, int], ...], root: str = SYS_CLASS_NET) -> None:
    """Write each Tx queue's byte_queue_limits/limit_min.

    Raises:
        AdapterError: the kernel refused a value, or the interface is gone.
    """
    for queue, n in limits:
        path = os.path.join(root, ifname, "queues", queue, "byte_queue_limits", "limit_min")
        _write(path, str(n), f"{queue}/byte_queue_limits/limit_min", ifname)


def read_module_param(ifname: str, param: str, root: str = SYS_CLASS_NET) -> str:
    """Return a parameter of the module that drives an interface (`device/driver/module/parameters`).

    Raises:
        NotSupported: the interface has no device, its driver no module, or the module no such parameter.
        AdapterError: it cannot be read.
    """
    path = os.path.join(root, ifname, "device", "driver", "module", "parameters", param)
    return _read(path, f"the driver's {param} parameter", ifname)
