"""The systemd version of a root directory (an image being baked, or `/`), read from its files.

Nothing is run: the image's binaries may not run on the build host. Every systemd since 231
ships its private library as `libsystemd-shared-<version>.so` (Debian 12:
usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so; Fedora and AL2023:
usr/lib64/systemd/libsystemd-shared-252.16-1.amzn2023.so; Arch: usr/lib/systemd/), so its
name gives the version; where no such file is found in the usual directories, the name udevadm
was linked against (its DT_NEEDED string) is read from udevadm itself. udev is what reads `.link`
files, so its version is the one that matters. Paths are resolved inside the root as chroot(2)
would (netagent.host.rootpath).
"""

from __future__ import annotations

import os

from netagent.core.boot import systemd_version_of
from netagent.host import rootpath

# Where distributions put libsystemd-shared-*.so (a `*` is one multiarch directory).
LIB_DIRS = ("usr/lib/systemd", "usr/lib64/systemd", "usr/lib/*/systemd", "lib/systemd", "lib64/systemd")
UDEVADM = ("usr/bin/udevadm", "bin/udevadm", "usr/sbin/udevadm", "sbin/udevadm")
_UDEVADM_MAX_BYTES = 8 * 1024 * 1024  # udevadm is ~0.5 MB; read no more than this of whatever is there


def systemd_version(root: str) -> int | None:
    """Return the major systemd version installed under `root`, or None when it cannot be told."""
    for pattern in LIB_DIRS:
        for directory in _expand(root, pattern):
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for name in names:
                version = systemd_version_of(name)
                if version is not None:
                    return version
    for rel in UDEVADM:
        path = _inside(root, rel)
        if path is None:
            continue
        try:
            with open(path, "rb") as f:
                version = systemd_version_of(f.read(_UDEVADM_MAX_BYTES))
        except OSError:
            continue
        if version is not None:
            return version
    return None


def _expand(root: str, pattern: str) -> list[str]:
    if "*" not in pattern:
        found = _inside(root, pattern)
        return [found] if found is not None else []
    head, tail = pattern.split("/*/", 1)
    base = _inside(root, head)
    if base is None:
        return []
    try:
        subdirs = sorted(os.listdir(base))
    except OSError:
        return []
    return [p for p in (_inside(root, f"{head}/{d}/{tail}") for d in subdirs) if p is not None]


def _inside(root: str, rel: str) -> str | None:
    try:
        inner = rootpath.resolve(root, rel, dangling_ok=False)
    except OSError:
        return None
    return rootpath.host_path(root, inner)
