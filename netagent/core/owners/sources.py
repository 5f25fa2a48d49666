"""The owner scan's values: the files as read, what each sets, the parsed scan; ini syntax (pure).

These are netagent.core.value classes, not frozen dataclasses or NamedTuples: every audit imports
them, where a frozen dataclass costs about 1.5 ms to create, a NamedTuple about 0.3 ms plus
`import typing` (3 ms), and a slotted class next to nothing (issue 8).
"""

from __future__ import annotations

from netagent.core.model import Owner
from netagent.core.value import Value, _set

# Where NetworkManager and TuneD keep their files. Here, not in their parsers' modules, so that the
# shell can look for them without importing parsers a host without those tools never needs.
# nm-settings-keyfile(5): keyfiles NetworkManager loads as connection profiles.
NM_DIRS = (
    "/etc/NetworkManager/system-connections",
    "/run/NetworkManager/system-connections",
    "/usr/lib/NetworkManager/system-connections",
)
# tuned-adm(8), tuned.conf(5): the active profile names, and where a profile named X lives (first wins).
TUNED_ACTIVE = "/etc/tuned/active_profile"
TUNED_MAIN = "/etc/tuned/tuned-main.conf"
TUNED_DIRS = ("/etc/tuned/profiles", "/etc/tuned", "/usr/lib/tuned/profiles", "/usr/lib/tuned")


class SourceFile(Value):
    """One configuration file as read under the root; `path` is the path inside the root."""

    __slots__ = ("path", "text", "masked", "problem", "target")
    path: str
    text: str
    masked: bool  # a symlink to /dev/null
    problem: str  # why it could not be read; empty when it was
    target: str  # the file a symlink resolves to (inside the root), else ""

    def __init__(self, path: str, text: str = "", masked: bool = False, problem: str = "", target: str = "") -> None:
        _set(self, "path", path)
        _set(self, "text", text)
        _set(self, "masked", masked)
        _set(self, "problem", problem)
        _set(self, "target", target)


class OwnerFiles(Value):
    """Every file the ownership scan reads, in directory order, as the shell found them."""

    __slots__ = (
        "sysctl_d",
        "sysctl_conf",
        "networkd",
        "networkmanager",
        "tuned_main",
        "tuned_profiles",
        "tuned_variables",
    )
    sysctl_d: tuple[SourceFile, ...]  # every *.conf of SYSCTL_DIRS, directory by directory
    sysctl_conf: SourceFile | None
    networkd: tuple[SourceFile, ...]  # every *.link and *.network of NETWORKD_DIRS
    networkmanager: tuple[SourceFile, ...]
    tuned_main: SourceFile | None
    tuned_profiles: tuple[SourceFile, ...]  # the active profiles' tuned.conf and their includes
    tuned_variables: tuple[SourceFile, ...]  # files named by [variables] include=

    def __init__(
        self,
        sysctl_d: tuple[SourceFile, ...] = (),
        sysctl_conf: SourceFile | None = None,
        networkd: tuple[SourceFile, ...] = (),
        networkmanager: tuple[SourceFile, ...] = (),
        tuned_main: SourceFile | None = None,
        tuned_profiles: tuple[SourceFile, ...] = (),
        tuned_variables: tuple[SourceFile, ...] = (),
    ) -> None:
        _set(self, "sysctl_d", sysctl_d)
        _set(self, "sysctl_conf", sysctl_conf)
        _set(self, "networkd", networkd)
        _set(self, "networkmanager", networkmanager)
        _set(self, "tuned_main", tuned_main)
        _set(self, "tuned_profiles", tuned_profiles)
        _set(self, "tuned_variables", tuned_variables)


def is_glob(key: str) -> bool:
    """Tell whether a key has glob characters (systemd's string_is_glob)."""
    return "*" in key or "?" in key or "[" in key


class Setting(Value):
    """One value a file sets: a sysctl `key = value` (key dotted), or an interface's mtu/channels."""

    __slots__ = ("key", "value", "source", "line", "kind", "note")
    key: str  # the sysctl key, or `mtu` / `channels`
    value: str
    source: str
    line: int
    kind: str
    note: str

    def __init__(self, key: str, value: str, source: str, line: int, kind: str = "sysctl.d", note: str = "") -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "source", source)
        _set(self, "line", line)
        _set(self, "kind", kind)
        _set(self, "note", note)

    @property
    def is_glob(self) -> bool:
        """Tell whether the key is a pattern (`net.ipv4.conf.*.rp_filter`, systemd 249+)."""
        return is_glob(self.key)


class Unit(Value):
    """A parsed .link/.network file or NetworkManager keyfile: what it matches and what it sets.

    `match` holds a systemd [Match] section as (key, patterns) pairs, lines of one key joined as
    systemd joins them (networkd.match_unit reads them); NetworkManager and TuneD units use the
    name lists, every list of which must match.
    """

    __slots__ = ("source", "kind", "name_globs", "original_globs", "driver_globs", "settings", "match")
    source: str
    kind: str
    name_globs: tuple[tuple[str, ...], ...]  # every Name=/interface-name= list must match
    original_globs: tuple[tuple[str, ...], ...]
    driver_globs: tuple[tuple[str, ...], ...]
    settings: tuple[Setting, ...]
    match: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(
        self,
        source: str,
        kind: str,
        name_globs: tuple[tuple[str, ...], ...] = (),
        original_globs: tuple[tuple[str, ...], ...] = (),
        driver_globs: tuple[tuple[str, ...], ...] = (),
        settings: tuple[Setting, ...] = (),
        match: tuple[tuple[str, tuple[str, ...]], ...] = (),
    ) -> None:
        _set(self, "source", source)
        _set(self, "kind", kind)
        _set(self, "name_globs", name_globs)
        _set(self, "original_globs", original_globs)
        _set(self, "driver_globs", driver_globs)
        _set(self, "settings", settings)
        _set(self, "match", match)


# ---------------------------------------------------------------- ini-style files


# One `key=value` of an ini-style file: (section, key, value, line).
IniEntry = tuple[str, str, str, int]


def parse_ini(text: str) -> tuple[list[IniEntry], tuple[int, str] | None]:
    """Parse systemd unit / keyfile / tuned.conf syntax: the entries, and (line, problem) if malformed."""
    entries: list[IniEntry] = []
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if "=" not in line:
            return entries, (number, f"not a [section] or key=value: {line[:40]!r}")
        if not section:
            return entries, (number, "key=value before any [section]")
        key, value = line.split("=", 1)
        entries.append((section, key.strip(), value.strip(), number))
    return entries, None


def _problem(f: SourceFile, kind: str, message: str, line: int | None = None) -> Owner:
    return Owner(source=f.path, line=line, kind=kind, problem=message)
