"""Boot-time configuration for AMI bakes: a profile rendered to files (pure).

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
- `channels: max` and `rings: max` are written as `max` where the image's systemd takes it (250
  and later: netagent.core.settings.base.SYSTEMD_LINK_MAX); before that RxChannels=/RxBufferSize=
  take only a number, so `max` is left out, with a comment and a note; ENA already brings its
  queues up at its default count, MIN(device maximum, vCPUs) (../shared/ENA.md §5), and
  `netagent apply` or the daemon resolves `max` on the live device. Coalescing keys exist from
  systemd 250 too; bounds (`at_least`/`at_most`) are never written (a file sets one value).
"""

from __future__ import annotations

import re

from netagent.core.diff import merge_rules
from netagent.core.matching import matches
from netagent.core.model import Profile
from netagent.core.settings import SYSCTL, interface_kinds
from netagent.core.settings.base import UNKNOWN_TARGET, BootTarget
from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping

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
_GLOB = re.compile(r"[*?\[]")
# ExecStart= in a unit: its special-executable prefixes (systemd.service(5), "Command lines"), the
# executable, then the arguments.
_EXEC_START = re.compile(r"^(?P<key>\s*ExecStart\s*=\s*)(?P<prefix>[-@:+!]*)(?P<exe>\S+)(?P<rest>.*)$")
# What we write into ExecStart= as is: systemd would unquote, unescape or expand anything else
# (quotes, backslashes, `$`, whitespace); `%` is doubled, as specifiers need.
_PLAIN_PATH = re.compile(r"^/[A-Za-z0-9/._+,:=@~%-]*$")
# ProtectHome=yes in the shipped unit makes these inaccessible to the daemon (systemd.exec(5)).
_HOME_DIRS = ("/home/", "/root/", "/run/user/")
# systemd's private library, named for its version since 231 (libsystemd-shared-252.so,
# libsystemd-shared-252.16-1.amzn2023.so): in a directory listing or in a binary's DT_NEEDED.
_SHARED_LIB = re.compile(rb"libsystemd-shared-([0-9]{3,4})[^0-9]")


class LinkTarget(Value):
    """One .link file: the name or glob it matches, its rules and their merged settings."""

    __slots__ = ("pattern", "rules", "settings")
    pattern: str
    rules: tuple[int, ...]
    settings: Mapping[str, object]

    def __init__(self, pattern: str, rules: tuple[int, ...], settings: Mapping[str, object]) -> None:
        _set(self, "pattern", pattern)
        _set(self, "rules", rules)
        _set(self, "settings", settings)

    def __hash__(self) -> int:  # `settings` is a dict: hash by its items
        return hash((self.pattern, self.rules, tuple(self.settings.items())))


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
        if rules:
            targets.append(LinkTarget(pattern, tuple(r.index for r in rules), merge_rules(rules).settings))
    return targets


def _link_lines(target: LinkTarget, boot: BootTarget) -> list[str]:
    return [line for kind in interface_kinds(target.settings) for line in kind.link_lines(target.settings, boot)]


def _expressible(target: LinkTarget, boot: BootTarget) -> bool:
    return any(not line.startswith("#") for line in _link_lines(target, boot))


def match_line(pattern: str) -> str:
    """Return the [Match] line that selects the interface a profile calls `pattern`."""
    for prefix, prop in _PREDICTABLE:
        if pattern.startswith(prefix):
            return f"Property={prop}={pattern}"
    return f"OriginalName={pattern}"


def _slug(pattern: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", pattern)


def render_link(target: LinkTarget, profile: Profile, boot: BootTarget = UNKNOWN_TARGET) -> str:
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
        *_link_lines(target, boot),
    ]
    return "\n".join(lines) + "\n"


def render_sysctl(profile: Profile) -> str:
    """Render the sysctl.d drop-in, one `key = value` line per profile sysctl."""
    lines = [
        f"# Written by `netagent persist` from profile {profile.name!r}; do not edit,",
        "# change the profile and run `netagent persist` again. Applied at boot by systemd-sysctl.",
    ]
    lines += [SYSCTL.dropin_line(s) for s in profile.sysctls]
    return "\n".join(lines) + "\n"


def render(profile: Profile, boot: BootTarget = UNKNOWN_TARGET) -> dict[str, str]:
    """Return the boot-time files of a profile for a target systemd: {path relative to the root: text} (pure).

    `boot` says what the target's udev accepts (`max` ring and channel sizes, coalescing keys);
    with an unknown version only what every systemd since 245 accepts is written.
    """
    files: dict[str, str] = {}
    if profile.sysctls:
        files[SYSCTL_DROPIN] = render_sysctl(profile)
    for n, target in enumerate(t for t in link_targets(profile) if _expressible(t, boot)):
        files[f"{LINK_DIR}/{LINK_PREFIX}{n:02d}-{_slug(target.pattern)}.link"] = render_link(target, profile, boot)
    return files


def systemd_version_of(found: str | bytes) -> int | None:
    """Return the systemd major version named by a libsystemd-shared file name or a binary's bytes (pure)."""
    data = found.encode("utf-8", "surrogateescape") if isinstance(found, str) else found
    m = _SHARED_LIB.search(data)
    return int(m[1]) if m else None


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
        if m and m["exe"].rsplit("/", 1)[-1] == "netagent":
            path = binary.replace("%", "%%")
            line = f"{m['key']}{m['prefix']}{path}{m['rest']}{line[len(body) :]}"
        lines.append(line)
    return "".join(lines)


def shipped_exec_path(unit: str) -> str | None:
    """Return the executable of a unit's first ExecStart= line, or None (pure)."""
    return next((m["exe"] for m in map(_EXEC_START.match, unit.splitlines()) if m), None)


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


def notes(profile: Profile, target: BootTarget = UNKNOWN_TARGET) -> list[str]:
    """Return what the rendered files cannot express, one sentence per rule and setting (pure)."""
    out = []
    for rule in profile.interfaces:
        for kind in interface_kinds(rule.settings):
            note = kind.persist_note(rule.settings, target)
            if note:
                out.append(f"interfaces[{rule.index}] ({', '.join(rule.match)}): {note}")
    out += [note for note in map(SYSCTL.persist_note, profile.sysctls) if note]
    return out
