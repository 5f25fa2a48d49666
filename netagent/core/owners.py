"""Who else sets a checked setting: sysctl.d, systemd-networkd, NetworkManager keyfiles, TuneD (pure).

The shell (`host/owner_files.py`) reads the files under a root into `OwnerFiles`; everything here
is a function of that snapshot: parsing, precedence, and the owners attached to each check.
Nothing here raises on a bad file: a file that cannot be read or parsed becomes an `Owner` with
a `problem`, attached to every check it might concern.

The scan's own values are netagent.core.value classes, not frozen dataclasses or NamedTuples: every
audit imports this module, where a frozen dataclass costs about 1.5 ms to create, a NamedTuple
about 0.3 ms plus `import typing` (3 ms), and a slotted class next to nothing (issue 8).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from netagent.core.model import Check, Link, Owner
from netagent.core.settings import coalesce, rings
from netagent.core.settings.driver import DriverInfo
from netagent.core.settings.sysctl import normalize_sysctl
from netagent.core.value import Value, _set

# sysctl.d(5) and systemd-sysctl: these directories in order; a file name in an earlier one masks
# the same name in a later one; the surviving files apply sorted by name, later assignments win.
# /lib/sysctl.d is still read by systemd built with split-usr (Debian 12's 252 reads it).
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
# procps `sysctl --system` applies /etc/sysctl.conf after every sysctl.d file; systemd-sysctl reads it
# at boot only through the /etc/sysctl.d/99-sysctl.conf symlink that distributions ship.
SYSCTL_CONF = "/etc/sysctl.conf"
# systemd.network(5), systemd.link(5): same precedence rules as sysctl.d.
NETWORKD_DIRS = (
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
)
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
_GLOB_CHARS = re.compile(r"[*?\[]")
_SIZE = r"([0-9]+)\s*([KMG]?)B?"  # systemd parse_size, base 1024: 9001, 9K; compiled on first use
_CHANNEL_KEYS = {"RxChannels": "rx", "TxChannels": "tx", "OtherChannels": "other", "CombinedChannels": "combined"}
_NM_CHANNEL_KEYS = {f"channels-{kind}": kind for kind in ("rx", "tx", "other", "combined")}
# Issue 13: the per-part kinds' keys, as each kind module names them: key -> (setting, part, owner_value).
_LINK_PART_KEYS = {
    key: (mod.KIND.name, part, mod.owner_value) for mod in (rings, coalesce) for part, key in mod.LINK_KEYS.items()
}
_NM_PART_KEYS = {
    key: (mod.KIND.name, part, mod.owner_value) for mod in (rings, coalesce) for part, key in mod.NM_KEYS.items()
}
# Settings whose value is parts (`rx=4 tx=4`): each part has its own boot winner.
_PART_SETTINGS = ("channels", "rings", "coalesce")
_MATCH_KEYS = ("Name", "OriginalName", "Driver")
# Who applies last at boot wins: udev applies .link files when the device appears, systemd-networkd
# or NetworkManager configure it when the network comes up, tuned.service starts after network.target.
_BOOT_RANK = {"networkd-link": 0, "networkd": 1, "networkmanager": 1, "tuned": 2}


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

    __slots__ = ("sysctl_d", "sysctl_conf", "networkd", "networkmanager", "tuned_main", "tuned_profiles")
    sysctl_d: tuple[SourceFile, ...]  # every *.conf of SYSCTL_DIRS, directory by directory
    sysctl_conf: SourceFile | None
    networkd: tuple[SourceFile, ...]  # every *.link and *.network of NETWORKD_DIRS
    networkmanager: tuple[SourceFile, ...]
    tuned_main: SourceFile | None
    tuned_profiles: tuple[SourceFile, ...]  # the active profiles' tuned.conf and their includes

    def __init__(
        self,
        sysctl_d: tuple[SourceFile, ...] = (),
        sysctl_conf: SourceFile | None = None,
        networkd: tuple[SourceFile, ...] = (),
        networkmanager: tuple[SourceFile, ...] = (),
        tuned_main: SourceFile | None = None,
        tuned_profiles: tuple[SourceFile, ...] = (),
    ) -> None:
        _set(self, "sysctl_d", sysctl_d)
        _set(self, "sysctl_conf", sysctl_conf)
        _set(self, "networkd", networkd)
        _set(self, "networkmanager", networkmanager)
        _set(self, "tuned_main", tuned_main)
        _set(self, "tuned_profiles", tuned_profiles)


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
        return _GLOB_CHARS.search(self.key) is not None


class Unit(Value):
    """A parsed .link/.network file or NetworkManager keyfile: what it matches and what it sets."""

    __slots__ = ("source", "kind", "name_globs", "original_globs", "driver_globs", "settings")
    source: str
    kind: str
    name_globs: tuple[tuple[str, ...], ...]  # every Name=/interface-name= list must match
    original_globs: tuple[tuple[str, ...], ...]
    driver_globs: tuple[tuple[str, ...], ...]
    settings: tuple[Setting, ...]

    def __init__(
        self,
        source: str,
        kind: str,
        name_globs: tuple[tuple[str, ...], ...] = (),
        original_globs: tuple[tuple[str, ...], ...] = (),
        driver_globs: tuple[tuple[str, ...], ...] = (),
        settings: tuple[Setting, ...] = (),
    ) -> None:
        _set(self, "source", source)
        _set(self, "kind", kind)
        _set(self, "name_globs", name_globs)
        _set(self, "original_globs", original_globs)
        _set(self, "driver_globs", driver_globs)
        _set(self, "settings", settings)


class OwnerScan(Value):
    """The parsed scan: sysctl assignments in apply order, interface units, and unreadable files."""

    __slots__ = (
        "sysctl",
        "sysctl_excluded",
        "tuned_sysctl",
        "tuned_reapplies_sysctl",
        "links",
        "networks",
        "keyfiles",
        "tuned_net",
        "sysctl_problems",
        "iface_problems",
    )
    sysctl: tuple[Setting, ...]
    sysctl_excluded: frozenset[str]  # `-key` lines: globs do not apply to them
    tuned_sysctl: tuple[Setting, ...]
    tuned_reapplies_sysctl: bool
    links: tuple[Unit, ...]  # .link files in precedence order: the first match applies
    networks: tuple[Unit, ...]  # .network files likewise
    keyfiles: tuple[Unit, ...]
    tuned_net: tuple[Unit, ...]
    sysctl_problems: tuple[Owner, ...]
    iface_problems: tuple[Owner, ...]

    def __init__(
        self,
        sysctl: tuple[Setting, ...] = (),
        sysctl_excluded: frozenset[str] = frozenset(),
        tuned_sysctl: tuple[Setting, ...] = (),
        tuned_reapplies_sysctl: bool = True,
        links: tuple[Unit, ...] = (),
        networks: tuple[Unit, ...] = (),
        keyfiles: tuple[Unit, ...] = (),
        tuned_net: tuple[Unit, ...] = (),
        sysctl_problems: tuple[Owner, ...] = (),
        iface_problems: tuple[Owner, ...] = (),
    ) -> None:
        _set(self, "sysctl", sysctl)
        _set(self, "sysctl_excluded", sysctl_excluded)
        _set(self, "tuned_sysctl", tuned_sysctl)
        _set(self, "tuned_reapplies_sysctl", tuned_reapplies_sysctl)
        _set(self, "links", links)
        _set(self, "networks", networks)
        _set(self, "keyfiles", keyfiles)
        _set(self, "tuned_net", tuned_net)
        _set(self, "sysctl_problems", sysctl_problems)
        _set(self, "iface_problems", iface_problems)


# ---------------------------------------------------------------- sysctl.d


def normalize_key(key: str) -> str:
    """Return a sysctl key in dotted form; a key whose first separator is `/` swaps `/` and `.`.

    sysctl.d(5): `net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`.
    """
    first = re.search(r"[./]", key)
    if first is None or first.group() == ".":
        return key
    return key.translate(str.maketrans("./", "/."))


def parse_sysctl_file(text: str, source: str, kind: str = "sysctl.d") -> tuple[list[Setting], set[str]]:
    """Parse sysctl.d text: the assignments in order and the keys excluded from globs (`-key` lines)."""
    out: list[Setting] = []
    excluded: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        ignore_errors = line.startswith("-")
        body = line[1:] if ignore_errors else line
        if "=" not in body:
            if ignore_errors:  # `-key` alone: do not apply globs to this key (sysctl.d(5))
                excluded.add(normalize_key(body.strip()))
            continue  # systemd-sysctl logs "not an assignment" and goes on
        key, value = body.split("=", 1)
        note = "errors ignored" if ignore_errors else ""
        out.append(Setting(normalize_key(key.strip()), value.strip(), source, number, kind, note))
    return out, excluded


def sysctl_apply_order(files: tuple[SourceFile, ...], conf: SourceFile | None) -> list[SourceFile]:
    """Return the sysctl files in the order they apply; masked files are left out.

    A name in an earlier directory hides the same name in later ones; the survivors sort by
    file name; /etc/sysctl.conf comes last unless a sysctl.d entry already links to it.
    """
    by_name: dict[str, SourceFile] = {}
    for f in files:
        by_name.setdefault(f.path.rsplit("/", 1)[-1], f)
    order = [by_name[name] for name in sorted(by_name) if not by_name[name].masked]
    if conf is not None and not conf.masked and not any(f.target == SYSCTL_CONF for f in order):
        order.append(conf)
    return order


def sysctl_winner(key: str, assignments: tuple[Setting, ...], excluded: frozenset[str]) -> Setting | None:
    """Return the assignment whose value a key has after the files apply: the last explicit one,
    else the last matching glob (systemd-sysctl applies globs only to keys no line names)."""
    matching = sysctl_assignments(key, assignments, excluded)
    explicit = [a for a in matching if not a.is_glob]
    chosen = explicit or matching
    return chosen[-1] if chosen else None


def sysctl_assignments(key: str, assignments: tuple[Setting, ...], excluded: frozenset[str]) -> list[Setting]:
    """Return every assignment that sets `key`, explicitly or by a glob, in apply order."""
    return [a for a in assignments if a.key == key or (a.is_glob and key not in excluded and fnmatchcase(key, a.key))]


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


def _globs(value: str) -> tuple[str, ...]:
    return tuple(value.split())


def _mtu(value: str) -> int | None:
    m = re.fullmatch(_SIZE, value.strip())
    if m is None:
        return None
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[m.group(2)]


def parse_networkd(f: SourceFile) -> Unit | Owner:
    """Parse a .link or .network file: its [Match] globs, MTUBytes= and *Channels=; an Owner if malformed."""
    kind = "networkd-link" if f.path.endswith(".link") else "networkd"
    entries, problem = parse_ini(f.text)
    if problem:
        return _problem(f, kind, problem[1], problem[0])
    match: dict[str, list[tuple[str, ...]]] = {k: [] for k in _MATCH_KEYS}
    settings: list[Setting] = []
    for section, key, value, line in entries:
        if section == "Match" and key in match:
            # An empty assignment resets the list (systemd.link(5)); each non-empty one must match.
            match[key] = [] if not value else [*match[key], _globs(value)]
        elif section == "Link" and key == "MTUBytes":
            mtu = _mtu(value)
            if mtu is None:
                return _problem(f, kind, f"MTUBytes={value} is not a size", line)
            settings.append(Setting("mtu", str(mtu), f.path, line, kind, "MTUBytes="))
        elif section == "Link" and key in _CHANNEL_KEYS and kind == "networkd-link":
            settings.append(Setting("channels", f"{_CHANNEL_KEYS[key]}={value}", f.path, line, kind))
        elif section == "Link" and key in _LINK_PART_KEYS and kind == "networkd-link":
            setting, part, normal = _LINK_PART_KEYS[key]
            settings.append(Setting(setting, f"{part}={normal(part, value, True)}", f.path, line, kind, f"{key}="))
    return Unit(
        f.path,
        kind,
        name_globs=tuple(match["Name"]),
        original_globs=tuple(match["OriginalName"]),
        driver_globs=tuple(match["Driver"]),
        settings=tuple(settings),
    )


def parse_keyfile(f: SourceFile) -> Unit | Owner:
    """Parse a NetworkManager keyfile: interface-name, [ethernet] mtu, [ethtool] channels-*."""
    kind = "networkmanager"
    entries, problem = parse_ini(f.text)
    if problem:
        return _problem(f, kind, problem[1], problem[0])
    names: list[tuple[str, ...]] = []
    settings: list[Setting] = []
    for section, key, value, line in entries:
        if key == "interface-name" and section in ("connection", "match") and value:
            # [connection] names one interface; [match] takes globs, `!` negating (nm-settings(5)).
            names.append((value,) if section == "connection" else tuple(value.replace(",", " ").split()))
        elif section in ("ethernet", "802-3-ethernet") and key == "mtu":
            if not value.isdigit():
                return _problem(f, kind, f"mtu={value} is not a number", line)
            if int(value):  # 0 means automatic: NetworkManager leaves the MTU alone
                settings.append(Setting("mtu", str(int(value)), f.path, line, kind, "[ethernet] mtu"))
        elif section == "ethtool" and key in _NM_CHANNEL_KEYS:
            settings.append(Setting("channels", f"{_NM_CHANNEL_KEYS[key]}={value}", f.path, line, kind))
        elif section == "ethtool" and key in _NM_PART_KEYS:
            setting, part, normal = _NM_PART_KEYS[key]
            settings.append(Setting(setting, f"{part}={normal(part, value, False)}", f.path, line, kind))
    return Unit(f.path, kind, name_globs=tuple(names), settings=tuple(settings))


def tuned_includes(f: SourceFile) -> list[str]:
    """Return the profile names a tuned.conf includes ([main] include=a,b)."""
    entries, _ = parse_ini(f.text)
    includes = [value for section, key, value, _ in entries if section == "main" and key == "include"]
    return [name for value in includes for name in re.split(r"[,\s]+", value) if name]


def parse_tuned(profiles: tuple[SourceFile, ...]) -> tuple[list[Setting], list[Unit], list[Owner]]:
    """Merge tuned.conf files (includes first, the active profile last: later keys win) into
    [sysctl] assignments and [net] units (devices= globs, mtu=, channels=)."""
    sysctl: dict[str, Setting] = {}
    nets: dict[str, Unit] = {}
    problems: list[Owner] = []
    for f in profiles:
        if f.problem:
            problems.append(_problem(f, "tuned", f.problem))
            continue
        entries, problem = parse_ini(f.text)
        if problem:
            problems.append(_problem(f, "tuned", problem[1], problem[0]))
            continue
        types = {section: value for section, key, value, _ in entries if key == "type"}
        for section, key, value, line in entries:
            if section == "sysctl":
                name = normalize_key(key)
                sysctl.pop(name, None)  # re-insert: the order is the order of the last setting
                sysctl[name] = Setting(name, _unquote(value), f.path, line, "tuned")
            elif types.get(section, section) == "net":
                nets[section] = _tuned_net(nets.get(section), key, value, f.path, line)
    return list(sysctl.values()), list(nets.values()), problems


def _unquote(value: str) -> str:
    """TuneD reads values with configobj, which drops one pair of surrounding quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _tuned_net(unit: Unit | None, key: str, value: str, source: str, line: int) -> Unit:
    unit = unit or Unit(source, "tuned")
    if key == "devices":
        return unit.replace(name_globs=(tuple(g.strip() for g in value.split(",") if g.strip()),))
    if key == "mtu":
        mtu = str(_mtu(value) or value)
        kept = tuple(s for s in unit.settings if s.key != "mtu")
        return unit.replace(settings=(*kept, Setting("mtu", mtu, source, line, "tuned", "mtu=")))
    if key == "channels":
        # `channels = combined 4` or `rx 2 tx 2`, as `ethtool -L` takes them: one setting per kind.
        words = value.split()
        pairs = [f"{k}={v}" for k, v in zip(words[::2], words[1::2])]
        kept = tuple(s for s in unit.settings if s.key != "channels")
        new = tuple(Setting("channels", p, source, line, "tuned") for p in pairs)
        return unit.replace(settings=(*kept, *new))
    return unit


# ---------------------------------------------------------------- the scan


def scan(files: OwnerFiles) -> OwnerScan:
    """Parse every file of the snapshot into an OwnerScan; malformed files become problem owners."""
    sysctl: list[Setting] = []
    excluded: set[str] = set()
    sysctl_problems: list[Owner] = []
    for f in sysctl_apply_order(files.sysctl_d, files.sysctl_conf):
        kind = "sysctl.conf" if f.path == SYSCTL_CONF else "sysctl.d"
        if f.problem:
            sysctl_problems.append(_problem(f, kind, f.problem))
            continue
        source = f.target if f.target == SYSCTL_CONF else f.path
        found, skip = parse_sysctl_file(f.text, source, "sysctl.conf" if source == SYSCTL_CONF else kind)
        if source != f.path:
            found = [a.replace(note=", ".join(filter(None, (a.note, f"via {f.path}")))) for a in found]
        sysctl += found
        excluded |= skip
    tuned_sysctl, tuned_net, tuned_problems = parse_tuned(files.tuned_profiles)
    links: list[Unit] = []
    networks: list[Unit] = []
    keyfiles: list[Unit] = []
    iface_problems = list(tuned_problems)
    sources = [(f, "networkd") for f in _networkd_order(files.networkd)]
    sources += [(f, "networkmanager") for f in files.networkmanager]
    for f, kind in sources:
        if f.problem:
            iface_problems.append(_problem(f, kind, f.problem))
            continue
        unit = parse_keyfile(f) if kind == "networkmanager" else parse_networkd(f)
        if isinstance(unit, Owner):
            iface_problems.append(unit)
        else:
            {"networkd-link": links, "networkd": networks, "networkmanager": keyfiles}[unit.kind].append(unit)
    reapply = _reapplies_sysctl(files.tuned_main)
    return OwnerScan(
        sysctl=tuple(sysctl),
        sysctl_excluded=frozenset(excluded),
        tuned_sysctl=tuple(tuned_sysctl),
        tuned_reapplies_sysctl=reapply,
        links=tuple(links),
        networks=tuple(networks),
        keyfiles=tuple(keyfiles),
        tuned_net=tuple(tuned_net),
        sysctl_problems=tuple(sysctl_problems + tuned_problems),
        iface_problems=tuple(iface_problems),
    )


def _networkd_order(files: tuple[SourceFile, ...]) -> list[SourceFile]:
    by_name: dict[str, SourceFile] = {}
    for f in files:
        by_name.setdefault(f.path.rsplit("/", 1)[-1], f)
    return [by_name[name] for name in sorted(by_name) if not by_name[name].masked]


def _reapplies_sysctl(main: SourceFile | None) -> bool:
    """tuned-main.conf `reapply_sysctl` (default 1): TuneD re-runs sysctl.d after its [sysctl], so
    sysctl.d wins for every key both set."""
    if main is None or main.problem:
        return True
    entries, _ = parse_ini("[main]\n" + main.text)
    values = [value for _, key, value, _ in entries if key == "reapply_sysctl"]
    return not values or values[-1].lower() not in ("0", "false", "no", "off")


# ---------------------------------------------------------------- owners of a check


def sysctl_owners(key: str, want: str | None, found: OwnerScan) -> tuple[Owner, ...]:
    """Return every persistent source that sets `key`, in apply order, marking the boot winner."""
    assignments = sysctl_assignments(key, found.sysctl, found.sysctl_excluded)
    tuned = [a for a in found.tuned_sysctl if a.key == key]
    winner = sysctl_winner(key, found.sysctl, found.sysctl_excluded)
    if tuned and (winner is None or not found.tuned_reapplies_sysctl):
        winner = tuned[-1]
    out = []
    for a in assignments + tuned:
        note = ", ".join(filter(None, (a.note, f"glob {a.key}" if a.is_glob else "")))
        if a.kind == "tuned" and found.tuned_reapplies_sysctl and winner is not a:
            note = ", ".join(filter(None, (note, "TuneD reapplies sysctl.d after it")))
        conflicts = want is not None and not _sysctl_satisfies(normalize_sysctl(a.value), want)
        out.append(Owner(a.source, a.line, a.kind, a.value, conflicts, a is winner, note))
    return tuple(out) + found.sysctl_problems


def _sysctl_satisfies(value: str, want: str) -> bool:
    """Tell whether a file's value meets the check's expectation: equal, or within a bound (`>=N`, `<=N`)."""
    op, limit = want[:2], want[2:]
    if op in (">=", "<=") and limit.lstrip("-").isdigit():  # a bound (netagent.core.settings.bounds)
        if not value.lstrip("-").isdigit():
            return False
        return int(value) >= int(limit) if op == ">=" else int(value) <= int(limit)
    return value == want


def iface_units(link: Link, found: OwnerScan) -> list[Unit]:
    """Return the units that configure an interface at boot: the first matching .link and
    .network file (networkd applies only the first), and every matching keyfile and TuneD unit."""
    info = link.get("driver")
    driver = info.driver if isinstance(info, DriverInfo) else None
    units: list[Unit] = []
    for group in (found.links, found.networks):  # networkd: the first matching file applies, alone
        first = next((u for u in group if unit_matches(u, link.name, driver)), None)
        units += [first] if first is not None else []
    units += [u for u in (*found.keyfiles, *found.tuned_net) if unit_matches(u, link.name, driver)]
    return units


def iface_owners(
    link: Link, setting: str, want: str | None, found: OwnerScan, units: list[Unit] | None = None
) -> tuple[Owner, ...]:
    """Return the files that set an interface's mtu or channels at boot, the last applied marked.

    `units` is iface_units(link, found), when the caller has it already.
    """
    if units is None:
        units = iface_units(link, found)
    settings = [s for u in units for s in u.settings if s.key == setting]
    if not settings:  # most interfaces: no file sets it (issue 8)
        return found.iface_problems
    # One winner per value it sets: the MTU, or each channel kind (rx=, tx=, combined=, other=).
    winners: dict[str, Setting] = {}
    for s in sorted(settings, key=lambda s: _BOOT_RANK[s.kind]):
        winners[s.value.split("=", 1)[0] if setting in _PART_SETTINGS else setting] = s
    chosen = {id(s) for s in winners.values()}
    out = [
        Owner(s.source, s.line, s.kind, s.value, _conflicts(setting, s.value, want), id(s) in chosen, s.note)
        for s in settings
    ]
    return tuple(out) + found.iface_problems


def unit_matches(unit: Unit, ifname: str, driver: str | None) -> bool:
    """Tell whether every match list of a unit accepts the interface (an unknown driver accepts)."""
    for globs in unit.name_globs:
        if not _match_list(globs, ifname):
            return False
    for globs in unit.original_globs:
        if not _match_list(globs, ifname):
            return False
    if driver is not None:
        for globs in unit.driver_globs:
            if not _match_list(globs, driver):
                return False
    return True


def _match_list(globs: tuple[str, ...], value: str) -> bool:
    """A list of globs, any may match; a leading `!` on the first negates the whole list (systemd)."""
    if globs and globs[0].startswith("!"):
        return not _match_list((globs[0][1:], *globs[1:]), value)
    for g in globs:  # noqa: SIM110 - a loop costs less than any(<genexpr>); runs per unit and interface
        if g and fnmatchcase(value, g):
            return True
    return False


def _conflicts(setting: str, value: str, want: str | None) -> bool:
    if want is None:
        return False
    if setting not in _PART_SETTINGS:
        return value != want
    wanted = _parts(want)
    for kind, (_, v) in _parts(value).items():
        op, limit = wanted.get(kind, ("=", v))
        if op == "=":
            if v != limit:
                return True
        elif v == "max":  # the device maximum meets any at_least bound (capped at that maximum)
            if op == "<=":
                return True
        elif not (v.isdigit() and limit.isdigit()) or (int(v) < int(limit) if op == ">=" else int(v) > int(limit)):
            return True
    return False


def _parts(text: str) -> dict[str, tuple[str, str]]:
    """Split `rx=4 tx>=1024` into {part: (operator, value)}."""
    out = {}
    for p in text.split():
        for op in (">=", "<=", "="):
            if op in p:
                kind, v = p.split(op, 1)
                out[kind] = (op, v)
                break
    return out


def attach_owners(checks: list[Check], links: dict[str, Link], found: OwnerScan) -> list[Check]:
    """Return the checks with the owners of each sysctl, mtu and channels setting attached."""
    out = []
    units: dict[str, list[Unit]] = {}  # per interface: its mtu and channels checks share them
    for c in checks:
        if c.setting == "sysctl":
            owners = sysctl_owners(c.subject, c.expected, found)
        elif c.setting in ("mtu", *_PART_SETTINGS) and c.subject in links:
            link = links[c.subject]
            if link.name not in units:
                units[link.name] = iface_units(link, found)
            owners = iface_owners(link, c.setting, c.expected, found, units[link.name])
        else:
            owners = ()
        out.append(c.replace(owners=owners) if owners else c)
    return out


def reverted_by(check: Check) -> tuple[Owner, ...]:
    """Return the owners that would undo a fix of this check at the next boot: the boot winner
    when it sets another value, and files that could not be read (they may)."""
    return tuple(o for o in check.owners if (o.conflicts and o.wins_at_boot) or o.problem)
