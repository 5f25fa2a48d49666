"""Read and write sysctls under /proc/sys for the current network namespace."""

from __future__ import annotations

import errno
import os

from netagent.core.errors import AdapterError, NotSupported

PROC_SYS = "/proc/sys"


def key_to_path(key: str, root: str = PROC_SYS) -> str:
    """Translate a dotted key to its /proc/sys path (net.ipv4.tcp_rmem -> /proc/sys/net/ipv4/tcp_rmem)."""
    return os.path.join(root, *key.split("."))


def read_sysctl(key: str, root: str = PROC_SYS) -> str:
    """Return a sysctl's value with whitespace folded to single spaces.

    Raises:
        NotSupported: the key does not exist in this namespace or kernel.
        AdapterError: any other read failure.
    """
    return read_sysctl_and_mode(key, root)[0]


def read_sysctl_and_mode(key: str, root: str = PROC_SYS) -> tuple[str, int]:
    """Return a sysctl's value (whitespace folded) and its /proc/sys file's permission bits.

    The mode is the kernel's answer to "may this be written here": proc_sys_permission checks
    it for root too (fs/proc/proc_sysctl.c test_perm), and a network namespace other than the
    initial one shows the keys it may only read, such as net.core.rmem_max, as 0444
    (net/core/sysctl_net_core.c clears their write bits). Plain data: the core decides.

    Raises:
        NotSupported: the key does not exist in this namespace or kernel.
        AdapterError: any other read failure.
    """
    try:
        with open(key_to_path(key, root), encoding="ascii") as f:
            mode = os.fstat(f.fileno()).st_mode & 0o7777
            return " ".join(f.read().split()), mode
    except OSError as exc:
        raise _translate(key, "read", exc) from None


def write_sysctl(key: str, value: str, root: str = PROC_SYS) -> None:
    """Write a sysctl with one write(2), so the kernel's refusal surfaces as an error.

    Raises:
        NotSupported: the key does not exist in this namespace or kernel.
        AdapterError: the kernel refused the value or the key is read-only here.
    """
    data = value.encode("ascii")
    try:
        fd = os.open(key_to_path(key, root), os.O_WRONLY | os.O_CLOEXEC)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _translate(key, "write", exc, value) from None
    if written != len(data):
        raise AdapterError(key, "write", errno.EIO, f"short write ({written} of {len(data)} bytes)")


def _translate(key: str, op: str, exc: OSError, value: str | None = None) -> AdapterError:
    code = exc.errno
    reason = exc.strerror or str(exc)
    if code == errno.ENOENT:
        return NotSupported(key, op, code, "no such key in this kernel or network namespace")
    if op == "write" and code in (errno.EACCES, errno.EROFS, errno.EPERM):
        return AdapterError(
            key,
            op,
            code,
            f"read-only here ({reason}; net.core keys are read-only outside the initial network namespace)",
        )
    if op == "write":
        return AdapterError(key, op, code, f"the kernel refused {value} ({reason})")
    return AdapterError(key, op, code, reason)
