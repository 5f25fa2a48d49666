"""Paths inside a root directory (`/`, or an image being baked), resolved as chroot(2) would.

An image's symlinks mean what they mean inside the image: `etc/sysctl.d -> /usr/lib/sysctl.d`
points to the image's own /usr/lib, never to the build host's. Resolving a path with the host's
kernel would follow such a link out of the image, so that `netagent persist --root img` could
write into the build host's /etc, and the owner scan could read the host's files instead of the
image's. Here every component is resolved by hand, under the root: an absolute target starts
again at the root, and a `..` that would climb above the root is refused (OutsideRoot).
"""

from __future__ import annotations

import errno
import os

_MAX_LINKS = 32  # like the kernel's limit on nested symlinks (40), a bound against loops
# readlink(2) on something that is not a symlink, or that does not exist (yet).
_NOT_A_LINK = (errno.EINVAL, errno.ENOENT, errno.ENOTDIR)


class OutsideRoot(OSError):
    """A symlink under the root leads outside it (a `..` above the root)."""


class DanglingLink(OSError):
    """A symlink under the root points to a directory that does not exist under the root."""


def host_path(root: str, inner: str) -> str:
    """Return the host path of a path inside the root (no symlink is resolved): what
    os.path.join(root, inner.lstrip("/")) returns, without its generic checks (the owner scan
    asks for every file and directory it looks at)."""
    rel = inner.lstrip("/")
    return root + rel if not root or root.endswith("/") else f"{root}/{rel}"


def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


def resolve(root: str, inner: str, follow_last: bool = True, dangling_ok: bool = True) -> str:
    """Return `inner` with every symlink resolved inside the root: an absolute path with no symlink.

    Each component is looked at in turn, so no symlink is ever followed by the host's kernel: an
    absolute link target restarts at the root, a relative one at the link's directory, and `..`
    goes up one real directory. Components that do not exist are kept as they are (a file still
    to be written). With follow_last=False a symlink at the last component is left alone (it is
    to be replaced, not followed). With dangling_ok=False a symlink whose target does not exist
    under the root is refused rather than kept as a path to create.

    Raises:
        OutsideRoot: a `..` climbs above the root.
        DanglingLink: with dangling_ok=False, a symlink points to nothing under the root.
        OSError: ELOOP after too many links, or a readlink failure other than "not a link".
    """
    pending = [(name, "") for name in _components(inner)]  # (component, the link it came from)
    done: list[str] = []
    links = 0
    while pending:
        name, via = pending.pop(0)
        if name == "..":
            if not done:
                raise OutsideRoot(errno.EXDEV, f"{via or inner} leads outside the root", root)
            done.pop()
            continue
        path = "/" + "/".join([*done, name])
        if not pending and not follow_last:
            done.append(name)
            break
        try:
            target = os.readlink(host_path(root, path))
        except OSError as exc:
            if exc.errno not in _NOT_A_LINK:
                raise
            if via and not dangling_ok and exc.errno != errno.EINVAL:
                raise DanglingLink(errno.ENOENT, f"{via}, and {path} does not exist under the root") from None
            done.append(name)
            continue
        links += 1
        if links > _MAX_LINKS:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), inner)
        if target.startswith("/"):
            done = []
        link = f"{path} -> {target}"
        pending = [(c, link) for c in _components(target)] + pending
    return "/" + "/".join(done)
