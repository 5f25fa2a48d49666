"""NetworkManager keyfiles (nm-settings-keyfile(5)): which interfaces, and what they set (pure)."""

from __future__ import annotations

from netagent.core.model import Owner
from netagent.core.owners.networkd import MAYBE, NO, YES
from netagent.core.owners.sources import Setting, SourceFile, Unit, _problem, parse_ini
from netagent.core.owners.sysctl_d import fnmatch_posix
from netagent.core.settings import channels, coalesce, rings

_NM_CHANNEL_KEYS = {key: part for part, key in channels.NM_KEYS.items()}
# [ethtool] keys of the settings set part by part, as their kind modules name them.
_NM_PART_KEYS = {
    key: (mod.KIND.name, part, mod.owner_value) for mod in (rings, coalesce) for part, key in mod.NM_KEYS.items()
}


def _keyfile_list(value: str) -> tuple[str, ...]:
    """Split a keyfile list value: `;`-separated, a trailing `;` allowed, `\\;` escaping (nm-settings-keyfile(5))."""
    items, current, i = [], "", 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            current += value[i : i + 2]
            i += 2
            continue
        if c == ";":
            items.append(current.strip())
            current = ""
        else:
            current += c
        i += 1
    items.append(current.strip())
    return tuple(x for x in items if x)


def parse_keyfile(f: SourceFile) -> Unit | Owner:
    """Parse a NetworkManager keyfile: which device it binds ([connection] interface-name, [match]
    interface-name list, [ethernet] mac-address), whether it autoconnects, [ethernet] mtu and
    [ethtool] channels-*."""
    kind = "networkmanager"
    entries, problem = parse_ini(f.text)
    if problem:
        return _problem(f, kind, problem[1], problem[0])
    match: list[tuple[str, tuple[str, ...]]] = []
    settings: list[Setting] = []
    for section, key, value, line in entries:
        if section == "connection" and key == "interface-name" and value:
            match.append(("interface-name", (value,)))  # one exact name
        elif section == "match" and key == "interface-name" and value:
            match.append(("match-interface-name", _keyfile_list(value)))
        elif section in ("ethernet", "802-3-ethernet") and key == "mac-address" and value:
            match.append(("mac-address", (value.lower(),)))
        elif section == "connection" and key == "autoconnect":
            match.append(("autoconnect", (value.lower(),)))
        elif section == "connection" and key == "type":
            match.append(("type", (value,)))
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
    return Unit(f.path, kind, settings=tuple(settings), match=tuple(match))


def match_interface_names(patterns: tuple[str, ...], ifname: str) -> bool:
    """nm-settings-nmcli(5) match.interface-name: `|x` optional (the default), `&x` mandatory, `!x`
    (short for `&!x`) inverted; every mandatory element must hold and, if any optional exist,
    one of them must; `\\` makes the next character literal. Patterns are shell globs."""
    has_optional = optional_hit = False
    for raw in patterns:
        p = raw
        mandatory = False
        if p[:1] in "|&":
            mandatory, p = p[0] == "&", p[1:]
        inverted = p.startswith("!")
        if inverted:
            p, mandatory = p[1:], True
        if p.startswith("\\"):
            p = p[1:]
        hit = fnmatch_posix(p, ifname) != inverted
        if mandatory and not hit:
            return False
        if not mandatory:
            has_optional = True
            optional_hit = optional_hit or hit
    return optional_hit or not has_optional


def match_keyfile(unit: Unit, ifname: str, mac: str | None) -> tuple[str, str]:
    """Return whether NetworkManager would activate a keyfile on the interface at boot: yes, no,
    or maybe (why). `autoconnect=false` is never activated at boot; a profile bound to no name
    and no address may be activated on any ethernet device."""
    bound = False
    unknown = ""
    for key, values in unit.match:
        if key == "autoconnect" and values[0] in ("false", "no", "0"):
            return NO, ""
        if key == "type" and values[0] not in ("ethernet", "802-3-ethernet"):
            return NO, ""
        if key == "interface-name":
            bound = True
            if values[0] != ifname:
                return NO, ""
        if key == "match-interface-name":
            bound = True
            if not match_interface_names(values, ifname):
                return NO, ""
        if key == "mac-address":
            bound = True
            if mac is None:
                unknown = "mac-address (address not known)"
            elif values[0] != mac.lower():
                return NO, ""
    if unknown:
        return MAYBE, unknown
    if not bound:
        return MAYBE, "bound to no interface: NetworkManager may activate it on any ethernet device"
    return YES, ""
