"""`netagent persist`: install a profile's boot-time files into a root (`/` on a live host).

netagent.core.boot renders them and says what each file holds and why (README.md, "Baking an
AMI"); this module resolves the paths under the root as chroot(2) would, writes only what
changed (temp file, fsync, rename), removes netagent's stale .link files, and fits the shipped
unit's ExecStart= to the netagent that runs it.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING, Callable

from netagent.core.boot import (
    LINK_DIR,
    LINK_PREFIX,
    PROFILE_COPY,
    UNIT_PATH,
    hidden_by_protect_home,
    hides_home,
    notes,
    render,
    set_exec_path,
    shipped_exec_path,
)
from netagent.core.errors import UsageError
from netagent.core.settings.base import BootTarget
from netagent.host import rootpath
from netagent.host.files import read_regular, write_if_changed

if TYPE_CHECKING:
    from netagent.core.model import Profile

# ---------------------------------------------------------------- the installer (imperative)


def find_unit() -> str | None:
    """Return the path of the packaged netagent.service, or None when the package has none."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # netagent/, this is netagent/app/
    for path in (
        os.path.join(package, "systemd", "netagent.service"),  # a wheel: netagent/systemd/
        os.path.join(os.path.dirname(package), "systemd", "netagent.service"),  # a checkout: systemd/
    ):
        if os.path.isfile(path):
            return path
    return None


def running_binary(argv0: str | None = None, which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Return the absolute path of the netagent console script running now, or None if unknown.

    sys.argv[0] when it is a path to a file named `netagent` (the console script); else, under
    `python -m netagent`, the console script beside that interpreter (a venv's bin/, which a
    pyenv shim on PATH would not name); else the `netagent` on PATH.
    """
    argv0 = sys.argv[0] if argv0 is None else argv0
    if "/" in argv0 and os.path.basename(argv0) == "netagent" and os.path.isfile(argv0):
        return os.path.abspath(argv0)
    beside = os.path.join(os.path.dirname(sys.executable), "netagent")
    if sys.executable and os.path.isfile(beside):
        return os.path.abspath(beside)
    found = which("netagent")
    return os.path.abspath(found) if found else None


def exec_chain(binary: str, which: Callable[[str], str | None] = shutil.which) -> list[tuple[str, str]]:
    """Return the paths systemd and the kernel follow to run `binary`: itself, its symlinks
    resolved, and its #! interpreter (found on PATH for `/usr/bin/env NAME`), resolved too; a venv's
    python is a symlink to the Python it was made from, which may live in /root/.pyenv."""
    chain = [("the program", binary), ("the program (symlinks resolved)", os.path.realpath(binary))]
    try:
        with open(chain[1][1], "rb") as f:
            first = f.readline(256)
    except OSError:
        return chain
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    if words[:1] == ["/usr/bin/env"] and len(words) > 1:
        words = [which(words[1]) or words[1]]
    if words and words[0].startswith("/"):
        chain += [("its interpreter", words[0]), ("its interpreter (symlinks resolved)", os.path.realpath(words[0]))]
    return chain


def unit_for_this_install(unit_path: str, binary: str | None = None) -> tuple[str | None, list[str]]:
    """Read the shipped unit and point its ExecStart= at the running netagent; return (text, notes).

    The text is None, and a note says why, when the unit could not run that program: a path it
    needs is under /home, /root or /run/user, which the unit's ProtectHome=yes hides (issue 15).

    Raises:
        OSError: the unit cannot be read.
    """
    with open(unit_path, encoding="utf-8") as f:
        unit = f.read()
    binary = running_binary() if binary is None else binary
    shipped = shipped_exec_path(unit) or "the shipped path"
    if binary is None:
        return unit, [f"netagent's own path is unknown (not run as `netagent`, none on PATH): the unit keeps {shipped}"]
    try:
        text = set_exec_path(unit, binary)
    except ValueError as exc:
        return unit, [f"the unit keeps {shipped}: {exc}"]
    hidden = hidden_by_protect_home(exec_chain(binary)) if hides_home(unit) else None
    if hidden is not None:
        return None, [
            f"the daemon's unit was not written: it would run {binary}, but {hidden}; install netagent outside"
            " /home, /root and /run/user (the .deb or .rpm package, or a venv under /opt made from a Python"
            " outside them), or run persist from that install"
        ]
    return text, []


def install(files: dict[str, str], root: str, dry_run: bool = False) -> list[tuple[str, str]]:
    """Write the files under `root` that differ, and remove netagent .link files no longer rendered.

    Every path stays inside `root`: its directories are resolved as under chroot(2) (an absolute
    symlink target starts again at the root), and a symlink at a file itself is replaced, never
    followed. Return (action, relative path) pairs: written / unchanged / removed, or would write /
    would remove with dry_run.

    Raises:
        OutputError: a file could not be written.
        UsageError: a symlink leads outside the root (or to
            nothing under it); nothing is written through it.
    """
    actions: list[tuple[str, str]] = []
    # Every path is checked before the first write, so a refused one leaves the root as it was.
    paths = {rel: confined(root, rel) for rel in files}
    link_dir = confined(root, LINK_DIR, follow_last=True)
    for rel, text in sorted(files.items()):
        path = paths[rel]
        if dry_run:
            actions.append(("unchanged" if read_regular(path) == text else "would write", rel))
        else:
            actions.append(("written" if write_if_changed(path, text) else "unchanged", rel))
    stale = sorted(
        name
        for name in (os.listdir(link_dir) if os.path.isdir(link_dir) else [])
        if name.startswith(LINK_PREFIX) and name.endswith(".link") and f"{LINK_DIR}/{name}" not in files
    )
    for name in stale:
        if not dry_run:
            os.unlink(os.path.join(link_dir, name))
        actions.append(("would remove" if dry_run else "removed", f"{LINK_DIR}/{name}"))
    return actions


def confined(root: str, rel: str, follow_last: bool = False) -> str:
    """Return the host path of `rel` under `root`, its directories' symlinks resolved inside the root.

    Raises:
        UsageError: a symlink leads outside the root, points to nothing under it, or loops.
    """
    try:
        inner = rootpath.resolve(root, rel, follow_last=follow_last, dangling_ok=False)
    except OSError as exc:
        raise UsageError(f"{os.path.join(root, rel)}: refused: {exc.strerror or exc}") from None
    return rootpath.host_path(root, inner)


def persist(profile: Profile, profile_text: str, root: str, dry_run: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """Write a profile's boot-time files under `root` (the profile itself and the unit too).

    Returns the (action, relative path) pairs and the notes on what the files cannot carry.

    Raises:
        UsageError: `root` is not a directory, or a path under it leads outside it.
        OutputError: a file could not be written.
    """
    if not os.path.isdir(root):
        raise UsageError(f"--root {root}: not a directory")
    from netagent.host.systemd_version import systemd_version

    target = BootTarget(systemd_version(root))
    files = render(profile, target)
    files[PROFILE_COPY] = profile_text
    found = notes(profile, target)
    if target.systemd_version is None:
        found.append(
            "the systemd version under the root is unknown (no libsystemd-shared-*.so, no udevadm):"
            " only .link keys every systemd accepts were written"
        )
    unit = find_unit()
    if unit is None:
        found.append("the package ships no systemd/netagent.service: the daemon's unit was not written")
    else:
        unit_text, unit_notes = unit_for_this_install(unit)
        if unit_text is not None:
            files[UNIT_PATH] = unit_text
        found += unit_notes
    return install(files, root, dry_run=dry_run), found
