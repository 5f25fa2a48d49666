"""Boot-time configuration for AMI bakes: render a profile to files (pure), install into a root.

What it writes (README.md, "Baking an AMI"):
- `etc/sysctl.d/60-netagent.conf`: the profile's sysctls, applied by systemd-sysctl at boot.
- `etc/systemd/network/60-netagent-NN-<name>.link`: per-interface MTU and queue counts.
  .link files are read by udev's net_setup_link builtin when a device appears, so they hold on
  every boot whatever manages addresses (systemd-networkd, NetworkManager, ifupdown, netplan):
  networkd itself is not needed, which is why netagent writes .link files and no udev rules
  (a udev rule would have to RUN a program per device; .link files are declarative).
- `etc/netagent/profile.yaml`: the profile, so the daemon and `netagent audit` use the same one.
- `etc/systemd/system/netagent.service`: the daemon's unit, when the package ships one, its
  ExecStart= naming the netagent that runs `persist` (a venv or pyenv install is not in
  /usr/local/bin, where the shipped unit looks).

Caveats the files carry as comments:
- Only the first .link file (in lexical order) that matches a device applies, so netagent's
  files (60-) come before systemd's 99-default.link and repeat its naming policy; otherwise a
  matched device would lose its predictable name (ens5 would stay eth0).
- .link [Match] cannot see the final name: `OriginalName=` is the kernel's name (eth0), and a
  predictable name is matched through the udev property that produces it (ens5 through
  ID_NET_NAME_SLOT, enp0s5 through ID_NET_NAME_PATH, eno1 through ID_NET_NAME_ONBOARD).
- `channels: max` cannot be written: RxChannels=/TxChannels=/CombinedChannels= take a number
  (systemd.link(5)). It is left out, with a comment and a note; ENA already brings its queues
  up at its default count, MIN(device maximum, vCPUs) (../shared/ENA.md §5), and `netagent
  apply` or the daemon resolves `max` on the live device.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from typing import Callable

from netagent import rootpath
from netagent.matching import matches
from netagent.model import MAX, ChannelSpec, InterfaceRule, Profile
from netagent.output import OutputError, read_regular, write_if_changed

SYSCTL_DROPIN = "etc/sysctl.d/60-netagent.conf"
LINK_DIR = "etc/systemd/network"
LINK_PREFIX = "60-netagent-"
PROFILE_COPY = "etc/netagent/profile.yaml"
UNIT_PATH = "etc/systemd/system/netagent.service"
# systemd's 99-default.link (v252): repeated because only the first matching .link file applies.
DEFAULT_NAMING = (
    "NamePolicy=keep kernel database onboard slot path",
    "AlternativeNamesPolicy=database onboard slot path",
    "MACAddressPolicy=persistent",
)
# Predictable-name prefixes and the udev property (from the net_id builtin) that yields each name:
# systemd.net-naming-scheme(7).
_PREDICTABLE = (("ens", "ID_NET_NAME_SLOT"), ("enp", "ID_NET_NAME_PATH"), ("eno", "ID_NET_NAME_ONBOARD"))
_CHANNEL_KEYS = {"rx": "RxChannels", "tx": "TxChannels", "combined": "CombinedChannels"}
_GLOB = re.compile(r"[*?\[]")
# ExecStart= in a unit: its special-executable prefixes (systemd.service(5), "Command lines"), the
# executable, then the arguments.
_EXEC_START = re.compile(r"^(?P<key>\s*ExecStart\s*=\s*)(?P<prefix>[-@:+!]*)(?P<exe>\S+)(?P<rest>.*)$")
# What we write into ExecStart= as is: systemd would unquote, unescape or expand anything else
# (quotes, backslashes, `$`, whitespace); `%` is doubled, as specifiers need.
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9/._+,:=@~%-]*$")
# ProtectHome=yes in the shipped unit makes these inaccessible to the daemon (systemd.exec(5)).
_HOME_DIRS = ("/home/", "/root/", "/run/user/")


@dataclass(frozen=True)
class LinkTarget:
    """One .link file: the name or glob it matches and the merged settings of its rules."""

    pattern: str
    rules: tuple[int, ...]
    mtu: int | None
    channels: ChannelSpec | None


def link_targets(profile: Profile) -> list[LinkTarget]:
    """Return one target per distinct name or glob: literal names first, then globs.

    A literal name takes every rule that matches it (later rules override earlier ones, as in an
    audit); a glob takes the rules that list that same glob. Literal names come first because
    only the first matching .link file applies.
    """
    patterns: list[str] = []
    for rule in profile.interfaces:
        patterns += [p for p in rule.match if p not in patterns]
    ordered = [p for p in patterns if not _GLOB.search(p)] + [p for p in patterns if _GLOB.search(p)]
    targets = []
    for pattern in ordered:
        literal = not _GLOB.search(pattern)
        rules = [r for r in profile.interfaces if (matches(pattern, r.match) if literal else pattern in r.match)]
        mtu, channels = _merge(rules)
        if mtu is not None or channels is not None:
            targets.append(LinkTarget(pattern, tuple(r.index for r in rules), mtu, channels))
    return targets


def _expressible(target: LinkTarget) -> bool:
    counts = target.channels.wanted().values() if target.channels else ()
    return target.mtu is not None or any(n != MAX for n in counts)


def _merge(rules: list[InterfaceRule]) -> tuple[int | None, ChannelSpec | None]:
    mtu: int | None = None
    channels: ChannelSpec | None = None
    for rule in rules:
        mtu = rule.mtu if rule.mtu is not None else mtu
        channels = rule.channels if rule.channels is not None else channels
    return mtu, channels


def match_line(pattern: str) -> str:
    """Return the [Match] line that selects the interface a profile calls `pattern`."""
    for prefix, prop in _PREDICTABLE:
        if pattern.startswith(prefix):
            return f"Property={prop}={pattern}"
    return f"OriginalName={pattern}"


def _slug(pattern: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", pattern)


def render_link(target: LinkTarget, profile: Profile) -> str:
    """Render one systemd .link file."""
    rules = ", ".join(f"interfaces[{i}]" for i in target.rules)
    lines = [
        f"# Written by `netagent persist` from profile {profile.name!r} ({rules}); do not edit,",
        "# change the profile and run `netagent persist` again.",
        "# Only the first matching .link file applies: the naming policy below repeats systemd's",
        "# 99-default.link so that a matched interface keeps its usual name.",
        "[Match]",
        match_line(target.pattern),
        "",
        "[Link]",
        *DEFAULT_NAMING,
    ]
    if target.mtu is not None:
        lines.append(f"MTUBytes={target.mtu}")
    for kind, count in (target.channels.wanted() if target.channels else {}).items():
        if count == MAX:
            lines.append(f"# channels {kind}: max is not written: a .link file takes only a number.")
        else:
            lines.append(f"{_CHANNEL_KEYS[kind]}={count}")
    return "\n".join(lines) + "\n"


def render_sysctl(profile: Profile) -> str:
    """Render the sysctl.d drop-in, one `key = value` line per profile sysctl."""
    lines = [
        f"# Written by `netagent persist` from profile {profile.name!r}; do not edit,",
        "# change the profile and run `netagent persist` again. Applied at boot by systemd-sysctl.",
    ]
    lines += [f"{s.key} = {s.value}" for s in profile.sysctls]
    return "\n".join(lines) + "\n"


def render(profile: Profile) -> dict[str, str]:
    """Return the boot-time files of a profile: {path relative to the root: text} (pure)."""
    files: dict[str, str] = {}
    if profile.sysctls:
        files[SYSCTL_DROPIN] = render_sysctl(profile)
    for n, target in enumerate(t for t in link_targets(profile) if _expressible(t)):
        files[f"{LINK_DIR}/{LINK_PREFIX}{n:02d}-{_slug(target.pattern)}.link"] = render_link(target, profile)
    return files


def set_exec_path(unit: str, binary: str) -> str:
    """Return the unit with the netagent executable of each ExecStart= replaced by `binary` (pure).

    Only an executable named `netagent` is replaced: arguments, prefixes and other lines stay.

    Raises:
        ValueError: `binary` is not an absolute path systemd would read as it is.
    """
    if not _PLAIN_PATH.match(binary):
        raise ValueError(f"{binary!r} is not an absolute path ExecStart= can hold without quoting")
    lines = []
    for line in unit.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        m = _EXEC_START.match(body)
        if m and os.path.basename(m["exe"]) == "netagent":
            path = binary.replace("%", "%%")
            line = f"{m['key']}{m['prefix']}{path}{m['rest']}{line[len(body) :]}"
        lines.append(line)
    return "".join(lines)


def hides_home(unit: str) -> bool:
    """Return whether the unit's ProtectHome= (its last setting) makes /home, /root and /run/user
    inaccessible (yes, tmpfs); read-only leaves them readable, so a program there still runs (pure)."""
    value = "no"
    for line in unit.splitlines():
        key, sep, rest = line.partition("=")
        if sep and key.strip() == "ProtectHome":
            value = rest.strip().lower()
    return value in ("yes", "true", "on", "1", "tmpfs")


def hidden_by_protect_home(chain: list[tuple[str, str]]) -> str | None:
    """Return why the unit cannot run the program when a path it needs is under a ProtectHome=
    directory, else None (pure). `chain` is (what, absolute path) pairs, from exec_chain()."""
    for what, path in chain:
        top = next((d for d in _HOME_DIRS if path.startswith(d)), None)
        if top is not None:
            return f"{what} {path} is under {top.rstrip('/')}, which the unit's ProtectHome= hides from the daemon"
    return None


def notes(profile: Profile) -> list[str]:
    """Return what the rendered files cannot express, one sentence per rule (pure)."""
    out = []
    for rule in profile.interfaces:
        kinds = [k for k, n in (rule.channels.wanted() if rule.channels else {}).items() if n == MAX]
        if kinds:
            out.append(
                f"interfaces[{rule.index}] ({', '.join(rule.match)}): channels {'/'.join(kinds)}: max is not"
                " persisted (a .link file takes only a number); the driver's default count applies at boot"
                " and `netagent apply` sets the maximum"
            )
    return out


# ---------------------------------------------------------------- the installer (imperative)


def find_unit() -> str | None:
    """Return the path of the packaged netagent.service, or None when the package has none."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (
        os.path.join(here, "systemd", "netagent.service"),
        os.path.join(os.path.dirname(here), "systemd", "netagent.service"),
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
    shipped = next((m["exe"] for m in map(_EXEC_START.match, unit.splitlines()) if m), "the shipped path")
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
        OutputError: a file could not be written, or a symlink leads outside the root (or to
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
        OutputError: a symlink leads outside the root, points to nothing under it, or loops.
    """
    try:
        inner = rootpath.resolve(root, rel, follow_last=follow_last, dangling_ok=False)
    except OSError as exc:
        raise OutputError(f"{os.path.join(root, rel)}: refused: {exc.strerror or exc}") from None
    return rootpath.host_path(root, inner)
