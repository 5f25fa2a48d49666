"""Read the files of the ownership scan under a root (`/`, or an image being baked).

Plain values out (`owners.OwnerFiles`); no parsing beyond following TuneD includes. Symlinks are
resolved inside the root, as chroot(2) would (`netagent.host.rootpath`), so an image's
`/etc/sysctl.d/x.conf -> /dev/null` masks even when the scan runs from outside the image, and an
image's `etc/sysctl.d -> /etc` never reads the build host's /etc. A file that cannot be read (or
whose links lead outside the root) is a SourceFile with a problem.
"""

from __future__ import annotations

import errno
import os
import re

from netagent.core.model import Link
from netagent.core.owners import (
    NETWORKD_DIRS,
    NM_DIRS,
    SYSCTL_CONF,
    SYSCTL_DIRS,
    TUNED_ACTIVE,
    TUNED_DIRS,
    TUNED_MAIN,
    OwnerFiles,
    SourceFile,
)
from netagent.core.owners.networkd import LinkFacts
from netagent.core.settings.driver import DriverInfo
from netagent.core.value import TYPE_CHECKING
from netagent.host import rootpath

if TYPE_CHECKING:
    from typing import BinaryIO

# Owner files are small; a larger one is not a configuration file we should parse on an audit.
MAX_FILE_BYTES = 1 << 20
_MISSING = (errno.ENOENT, errno.ENOTDIR)


def read_owner_files(root: str = "/") -> OwnerFiles:
    """Read every sysctl.d, networkd, NetworkManager and TuneD file the scan needs under `root`."""
    profiles = tuple(read_tuned(root))
    return OwnerFiles(
        sysctl_d=tuple(read_masking_dirs(root, SYSCTL_DIRS, (".conf",))),
        sysctl_conf=read_optional(root, SYSCTL_CONF),
        networkd=tuple(read_masking_dirs(root, NETWORKD_DIRS, (".link", ".network")) + read_dropins(root)),
        networkmanager=tuple(f for d in NM_DIRS for f in read_dir(root, d, None)),
        tuned_main=read_optional(root, TUNED_MAIN),
        tuned_profiles=profiles,
        tuned_variables=tuple(read_tuned_variables(root, profiles)),
    )


def full_path(root: str, inner: str) -> str:
    """Return the host path of a path inside the root, its directories resolved inside the root.

    Raises:
        OSError: a link leads outside the root (rootpath.OutsideRoot), or loops (ELOOP).
    """
    return rootpath.host_path(root, rootpath.resolve(root, inner, follow_last=False))


def read_masking_dirs(root: str, directories: tuple[str, ...], suffixes: tuple[str, ...]) -> list[SourceFile]:
    """Read directories where a file name in an earlier one masks the same name in later ones
    (sysctl.d, systemd.network); a directory that is one already read (/lib -> usr/lib on
    merged-/usr systems) is skipped: its names are all masked (issue 8: half the files here)."""
    seen: set[tuple[int, int]] = set()
    out: list[SourceFile] = []
    for directory in directories:
        real_dir: str | None = None
        st: os.stat_result | None = None
        try:
            real_dir = resolve(root, directory)
            st = os.stat(rootpath.host_path(root, real_dir))
        except OSError:
            pass  # read_dir says why, or finds nothing
        if st is not None:
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
        out += read_dir(root, directory, suffixes, real_dir)
    return out


def read_dropins(root: str) -> list[SourceFile]:
    """Read the drop-ins of .link and .network files: `<dir>/<name>.link.d/*.conf` in every
    networkd directory (systemd.link(5), systemd.network(5)); a directory seen already is skipped."""
    seen: set[tuple[int, int]] = set()
    out: list[SourceFile] = []
    for directory in NETWORKD_DIRS:
        try:
            real_dir = resolve(root, directory)
            host_dir = rootpath.host_path(root, real_dir)
            st = os.stat(host_dir)
            names = sorted(os.listdir(host_dir))
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        for name in names:
            if name.endswith((".link.d", ".network.d")):
                out += read_dir(root, f"{directory}/{name}", (".conf",))
    return out


ALL_FACTS = frozenset(("mac", "type", "kind", "udev", "networkd"))


def _listing(directory: str) -> set[str]:
    try:
        return set(os.listdir(directory))
    except OSError:
        return set()


def read_link_facts(root: str, links: dict[str, Link], needs: frozenset[str] = ALL_FACTS) -> dict[str, LinkFacts]:
    """Return what [Match] tests about each interface, from sysfs; on a live host (root `/`) also
    udev's record (properties, ID_NET_LINK_FILE, /run/udev/data/n<ifindex>) and networkd's
    (NETWORK_FILE=, /run/systemd/netif/links/<ifindex>). An image's /run is not the boot's truth.
    Only the facts in `needs` are read (owners.facts_needed: what the scanned files can test)."""
    out: dict[str, LinkFacts] = {}
    live = os.path.realpath(root) == "/"
    # Which interfaces udev and networkd recorded: one listing each, not one open per interface
    # (none where neither runs: a container, a namespace lab).
    udev_entries = _listing("/run/udev/data") if live and "udev" in needs else set()
    networkd_entries = _listing("/run/systemd/netif/links") if live and "networkd" in needs else set()
    for name, link in links.items():
        sysfs = f"/sys/class/net/{name}"
        mac = _read_text(f"{sysfs}/address") if "mac" in needs else None
        iftype = None
        if "type" in needs:
            arphrd = _read_text(f"{sysfs}/type")
            uevent = _pairs(_read_text(f"{sysfs}/uevent") or "", "")
            iftype = uevent.get("DEVTYPE") or {"1": "ether", "772": "loopback", "65534": "none"}.get(arphrd or "")
        kind = None
        if "kind" in needs:
            kind = "" if os.path.exists(f"{sysfs}/device") else None  # a physical device has no rtnl kind
        info = link.get("driver")
        driver = info.driver if isinstance(info, DriverInfo) else None
        facts = LinkFacts(name, driver=driver, mac=mac, iftype=iftype, kind=kind)
        if f"n{link.index}" in udev_entries:
            udev = _read_text(f"/run/udev/data/n{link.index}")
            if udev is not None:
                props = _pairs(udev, "E:")
                facts = facts.replace(
                    properties=tuple(sorted(props.items())),
                    path=props.get("ID_PATH", ""),
                    link_file=props.get("ID_NET_LINK_FILE") or None,
                )
        if str(link.index) in networkd_entries:
            state = _read_text(f"/run/systemd/netif/links/{link.index}")
            if state is not None:
                facts = facts.replace(network_file=_pairs(state, "").get("NETWORK_FILE") or None)
        out[name] = facts
    return out


# Bytes per read in read_bounded: well above any unit or sysctl.d file here (most read in one call),
# below the 128 KiB at which glibc's malloc maps a buffer of its own (M_MMAP_THRESHOLD's default).
_CHUNK = 1 << 16


def read_bounded(f: BinaryIO, limit: int) -> bytes:
    """Read at most `limit` bytes, in chunks: f.read(limit) would allocate all `limit` bytes for
    every file (a 1 MiB mmap for each few-hundred-byte sysctl.d file)."""
    chunks = []
    left = limit
    while left > 0:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(MAX_FILE_BYTES).strip()
    except OSError:
        return None


def _pairs(text: str, prefix: str) -> dict[str, str]:
    """Return KEY=VALUE lines (each after `prefix`) as a dict."""
    out = {}
    for line in text.splitlines():
        if line.startswith(prefix) and "=" in line:
            key, value = line[len(prefix) :].split("=", 1)
            out[key] = value
    return out


def read_dir(
    root: str, directory: str, suffixes: tuple[str, ...] | None, real_dir: str | None = None
) -> list[SourceFile]:
    """Read the files of one directory whose names end in a suffix (any name when None), by name;
    `real_dir` is the directory already resolved, when the caller has done it."""
    try:
        real_dir = real_dir or resolve(root, directory)
        names = sorted(os.listdir(rootpath.host_path(root, real_dir)))
    except OSError as exc:
        if exc.errno in _MISSING:
            return []
        return [SourceFile(directory, problem=f"cannot list: {exc.strerror or exc}")]
    wanted = [n for n in names if not n.startswith(".") and not n.endswith("~")]
    if suffixes is not None:
        wanted = [n for n in wanted if n.endswith(suffixes)]
    return [read_source(root, f"{directory}/{n}", real_dir) for n in wanted]


def read_optional(root: str, inner: str) -> SourceFile | None:
    """Read one file, or None when it does not exist."""
    try:
        if not os.path.lexists(full_path(root, inner)):
            return None
    except OSError:
        pass  # a link above it leads outside the root or loops: read_source names the problem
    return read_source(root, inner)


def read_source(root: str, inner: str, real_dir: str | None = None) -> SourceFile:
    """Read one file under the root, following symlinks inside the root; /dev/null means masked.

    `real_dir` is the file's directory already resolved (read_dir lists it): then only the file
    itself is looked at, not every directory above it again (issue 12: most of the scan's syscalls).
    """
    try:
        target = _resolve_in(root, inner, real_dir) if real_dir is not None else resolve(root, inner)
    except OSError as exc:
        return SourceFile(inner, problem=f"cannot resolve: {exc.strerror or exc}")
    link_target = target if target != inner else ""
    if target == "/dev/null":
        return SourceFile(inner, masked=True, target=target)
    try:
        with open(rootpath.host_path(root, target), "rb") as f:  # target: every symlink resolved
            data = read_bounded(f, MAX_FILE_BYTES + 1)
    except OSError as exc:
        return SourceFile(inner, problem=f"cannot read: {exc.strerror or exc}", target=link_target)
    if len(data) > MAX_FILE_BYTES:
        return SourceFile(inner, problem=f"larger than {MAX_FILE_BYTES} bytes", target=link_target)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SourceFile(inner, problem=f"not UTF-8 text ({exc.reason})", target=link_target)
    if "\0" in text:
        return SourceFile(inner, problem="binary data (NUL bytes)", target=link_target)
    return SourceFile(inner, text=text, target=link_target)


def resolve(root: str, inner: str) -> str:
    """Follow the symlinks of a path inside the root, absolute targets staying inside it.

    Raises:
        OSError: ELOOP after too many links, a link that leads outside the root, or a readlink failure.
    """
    return rootpath.resolve(root, inner)


def _resolve_in(root: str, inner: str, real_dir: str) -> str:
    """Resolve `inner`, whose directory resolves to `real_dir` (a path with no symlink): a file
    that is no symlink is `real_dir/name`; a symlink is resolved from the start, as resolve() does."""
    path = f"{real_dir.rstrip('/')}/{inner.rsplit('/', 1)[-1]}"
    try:
        os.readlink(rootpath.host_path(root, path))
    except OSError as exc:
        if exc.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
            return path  # not a symlink (or gone: reading it says so)
    return resolve(root, inner)


def read_tuned(root: str) -> list[SourceFile]:
    """Read the active TuneD profiles' tuned.conf files, each after the profiles it includes."""
    active = read_optional(root, TUNED_ACTIVE)
    if active is None:
        return []
    if active.problem:
        return [active]
    out: list[SourceFile] = []
    seen: set[str] = set()
    for name in active.text.split():
        if re.fullmatch(r"[a-zA-Z0-9_.-]+", name):  # loader.safe_name()
            _read_profile(root, name, out, seen)
    return out


def _read_profile(root: str, name: str, out: list[SourceFile], processed: set[str]) -> None:
    """Load one profile as TuneD's locator and loader do (tuned/profiles/locator.py, loader.py):
    the first TUNED_DIRS directory with `<name>/tuned.conf` that is not loaded already (so
    /etc/tuned/X may include the system X); its includes before it; a `-name` that does not
    exist is skipped, any other missing name makes TuneD refuse the whole profile."""
    conditional = name.startswith("-")
    name = os.path.basename(name[1:] if conditional else name)
    skipped = False
    for directory in TUNED_DIRS:
        path = os.path.normpath(f"{directory}/{name}/tuned.conf")
        if path in processed:
            skipped = True
            continue
        found = read_optional(root, path)
        if found is None:
            continue
        processed.add(path)
        if not found.problem:
            from netagent.core.owners.tuned import include_names  # only on a host with a TuneD profile

            includes = include_names(found)
            if includes is None:
                out.append(SourceFile(path, problem="include= uses a function: TuneD picks the profile at run time"))
            for parent in includes or ():
                _read_profile(root, parent, out, processed)
        out.append(found)
        return
    if not conditional and not skipped:
        problem = f"profile {name!r} not found: TuneD refuses to load the active profile"
        out.append(SourceFile(f"/etc/tuned/active_profile ({name})", problem=problem))


def read_tuned_variables(root: str, profiles: tuple[SourceFile, ...]) -> list[SourceFile]:
    """Read the files that [variables] include= names in the loaded profiles."""
    out: list[SourceFile] = []
    for f in profiles:
        if f.problem:
            continue
        from netagent.core.owners.tuned import read_config  # only on a host with a TuneD profile

        config, problem = read_config(f)
        path = config.get("variables", {}).get("include", ("", 0))[0]
        if not problem and path.startswith("/"):
            found = read_optional(root, os.path.normpath(path))
            if found is not None:
                out.append(found)
    return out
