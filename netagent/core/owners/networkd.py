"""systemd.link(5) and systemd.network(5) files as systemd 252 reads them: [Match], drop-ins (pure).

Checked against `udevadm test-builtin net_setup_link` of systemd 252 (tests/integration/
test_owners_links.py). The parser is systemd's config_parse(): a line without `=`, an assignment
before any section, an unknown section or key is logged and ignored, never fatal; a backslash at
the end of a line continues it. `foo.link.d/*.conf` (and `.network.d`) drop-ins apply after the
file, in name order. A file whose [Match] ends up empty (no valid match key, nor a condition such
as Host=) is ignored as a whole, as udev and networkd do ("No valid settings found in the [Match]
section"), and so is an empty file or a /dev/null link, which also masks the name.

[Match] (net_match_config, src/shared/net-condition.c): each key's lines join into one list, an
empty assignment resets it, and a line starting with `!` negates each of its words. A list
matches when no negated pattern matches and, if it has any positive one, one of those does;
patterns are fnmatch(3) globs (`[!x]` and `[^x]` negate a class). Every key must match; MAC
addresses must be listed exactly; Property= entries `KEY=glob` must all hold. Host=,
Virtualization=, KernelCommandLine=, KernelVersion=, Architecture=, Firmware=, Credential= are
conditions on the machine: netagent cannot evaluate them for an image, so a file with them
"may apply". So does any key whose fact is unknown (Path= of a device never seen).
"""

from __future__ import annotations

import re

from netagent.core.owners.sources import Setting, SourceFile, Unit
from netagent.core.owners.sysctl_d import fnmatch_posix
from netagent.core.settings import channels, coalesce, rings
from netagent.core.value import Value, _set

# systemd.network(5), systemd.link(5): same precedence rules as sysctl.d.
NETWORKD_DIRS = (
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
)
_SIZE = r"([0-9]+)\s*([KMG]?)B?"  # systemd parse_size, base 1024: 9001, 9K; compiled on first use
# The [Link] keys of each setting kind, as its module names them (netagent.core.settings).
_CHANNEL_KEYS = {key: part for part, key in channels.LINK_KEYS.items()} | {"OtherChannels": "other"}
# Settings set part by part (rings rx=, coalesce adaptive_rx=): key -> (setting, part, value normaliser).
_LINK_PART_KEYS = {
    key: (mod.KIND.name, part, mod.owner_value) for mod in (rings, coalesce) for part, key in mod.LINK_KEYS.items()
}
# src/udev/net/link-config-gperf.gperf and src/network/networkd-network-gperf.gperf of v252.
_CONDITIONS = ("Host", "Virtualization", "KernelCommandLine", "KernelVersion", "Credential", "Architecture", "Firmware")
_COMMON = ("MACAddress", "PermanentMACAddress", "Path", "Driver", "Type", "Kind", "Property")
LINK_MATCH_KEYS = frozenset((*_COMMON, "OriginalName", *_CONDITIONS))
NETWORK_MATCH_KEYS = frozenset((*_COMMON, "Name", "WLANInterfaceType", "SSID", "BSSID", *_CONDITIONS))
YES, NO, MAYBE = "yes", "no", "maybe"


class LinkFacts(Value):
    """What [Match] can test about one interface; None where netagent does not know it.

    `link_file` / `network_file`: on a live host, the file udev applied (ID_NET_LINK_FILE in
    /run/udev/data/n<ifindex>) and the one networkd uses (NETWORK_FILE= in
    /run/systemd/netif/links/<ifindex>): the system's own record wins over re-deriving it.
    """

    __slots__ = (
        "ifname",
        "driver",
        "mac",
        "permanent_mac",
        "iftype",
        "kind",
        "path",
        "properties",
        "link_file",
        "network_file",
    )
    ifname: str
    driver: str | None
    mac: str | None
    permanent_mac: str | None
    iftype: str | None
    kind: str | None  # the rtnetlink kind (veth, vlan...); "" for a physical device (none)
    path: str | None  # udev's ID_PATH; "" when the device has none
    properties: tuple[tuple[str, str], ...] | None
    link_file: str | None
    network_file: str | None

    def __init__(
        self,
        ifname: str,
        driver: str | None = None,
        mac: str | None = None,
        permanent_mac: str | None = None,
        iftype: str | None = None,
        kind: str | None = None,
        path: str | None = None,
        properties: tuple[tuple[str, str], ...] | None = None,
        link_file: str | None = None,
        network_file: str | None = None,
    ) -> None:
        _set(self, "ifname", ifname)
        _set(self, "driver", driver)
        _set(self, "mac", mac)
        _set(self, "permanent_mac", permanent_mac)
        _set(self, "iftype", iftype)
        _set(self, "kind", kind)
        _set(self, "path", path)
        _set(self, "properties", properties)
        _set(self, "link_file", link_file)
        _set(self, "network_file", network_file)


# ---------------------------------------------------------------- parsing


def parse_unit_text(text: str) -> list[tuple[str, str, str, int]]:
    """Parse systemd unit syntax leniently, as config_parse() of v252: (section, key, value, line).

    Comments start with `#` or `;`; a trailing backslash joins the next line; a line without `=`
    or before any section is ignored (systemd logs it).
    """
    out: list[tuple[str, str, str, int]] = []
    section = ""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        if "=" not in line or not section:
            continue
        key, value = line.split("=", 1)
        out.append((section, key.strip(), value.strip(), start))
    return out


def _words(value: str) -> list[str]:
    """Split a value into words as extract_first_word(EXTRACT_UNQUOTE) does, for plain cases."""
    if '"' not in value and "'" not in value:
        return value.split()  # the common case: no quoting, no regex
    out = []
    for m in re.finditer(r'"([^"]*)"|\'([^\']*)\'|(\S+)', value):
        out.append(next(g for g in m.groups() if g is not None))
    return out


def _mtu(value: str) -> int | None:
    m = re.fullmatch(_SIZE, value.strip())
    if m is None:
        return None
    return int(m.group(1)) * {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[m.group(2)]


def parse_networkd(f: SourceFile, dropins: tuple[SourceFile, ...] = ()) -> Unit | None:
    """Parse a .link or .network file and its drop-ins: [Match], MTUBytes= and *Channels=.

    Returns None for a file systemd ignores: empty, or whose [Match] is empty.
    """
    kind = "networkd-link" if f.path.endswith(".link") else "networkd"
    valid = LINK_MATCH_KEYS if kind == "networkd-link" else NETWORK_MATCH_KEYS
    if f.text == "":
        return None  # null_or_empty_path(): skipped, and it masks the name
    match: dict[str, list[str]] = {}
    settings: dict[str, Setting] = {}
    for source in (f, *dropins):
        for section, key, value, line in parse_unit_text(source.text):
            if section == "Match" and key in valid:
                if not value:
                    match.pop(key, None)  # an empty assignment resets the list
                    continue
                if key in _CONDITIONS:
                    match.setdefault(key, []).append(value)
                    continue
                negate = value.startswith("!")
                words = _words(value[1:] if negate else value)
                match.setdefault(key, []).extend(f"!{w}" if negate else w for w in words)
            elif section == "Link" and key == "MTUBytes":
                mtu = _mtu(value)
                if mtu is None:
                    settings.pop("mtu", None)  # systemd: "Failed to parse", the assignment is ignored
                    continue
                settings["mtu"] = Setting("mtu", str(mtu), source.path, line, kind, "MTUBytes=")
            elif section == "Link" and key in _CHANNEL_KEYS and kind == "networkd-link":
                name = _CHANNEL_KEYS[key]
                settings[f"channels-{name}"] = Setting("channels", f"{name}={value}", source.path, line, kind)
            elif section == "Link" and key in _LINK_PART_KEYS and kind == "networkd-link":
                setting, part, normal = _LINK_PART_KEYS[key]
                value_text = f"{part}={normal(part, value, True)}"
                settings[f"{setting}-{part}"] = Setting(setting, value_text, source.path, line, kind, f"{key}=")
    if not any(match.values()):
        return None  # "No valid settings found in the [Match] section, ignoring file."
    return Unit(
        f.path,
        kind,
        settings=tuple(settings.values()),
        match=tuple((k, tuple(v)) for k, v in match.items() if v),
    )


# ---------------------------------------------------------------- matching


def test_strv(patterns: tuple[str, ...], value: str | None) -> bool:
    """net_condition_test_strv(): no negated pattern may match; one positive must, if any exist."""
    has_positive = False
    matched = False
    for p in patterns:
        inverted = p.startswith("!")
        q = p[1:] if inverted else p
        has_positive = has_positive or not inverted
        if value is not None and fnmatch_posix(q, value):
            if inverted:
                return False
            matched = True
    return matched if has_positive else True


def _mac(value: str) -> str:
    return value.lower().replace("-", ":")


# udev's predictable-name properties: a device named by one of them (NamePolicy=slot/path/onboard,
# 99-default.link) carries its own name in it; netagent's persisted .link files match on them.
_NAME_PROPERTIES = {"ID_NET_NAME_SLOT": "ens", "ID_NET_NAME_PATH": "enp", "ID_NET_NAME_ONBOARD": "eno"}


def _property(entry: str, facts: LinkFacts) -> str:
    inverted = entry.startswith("!")
    body = entry[1:] if inverted else entry
    if "=" not in body:
        return NO
    key, glob = body.split("=", 1)
    if facts.properties is not None:
        props = dict(facts.properties)
        hit = key in props and fnmatch_posix(glob, props[key])
    elif (
        key in _NAME_PROPERTIES and facts.ifname.startswith(_NAME_PROPERTIES[key]) and fnmatch_posix(glob, facts.ifname)
    ):
        hit = True  # the name came from this property: it holds the name
    else:
        return MAYBE
    if key in _NAME_PROPERTIES and facts.properties is None and not hit:
        return MAYBE  # another name of the same device may still carry it
    return NO if hit == inverted else YES


def match_unit(unit: Unit, facts: LinkFacts) -> tuple[str, str]:
    """Return whether a systemd unit's [Match] selects the interface (yes, no, maybe) and, for
    maybe, which key netagent could not evaluate."""
    unknown = ""
    for key, patterns in unit.match:
        if key in _CONDITIONS:
            unknown = unknown or f"{key}= (a condition on the machine)"
            continue
        if key in ("MACAddress", "PermanentMACAddress"):
            have = facts.mac if key == "MACAddress" else facts.permanent_mac
            if have is None:
                unknown = unknown or f"{key}= (address not known)"
            elif _mac(have) not in {_mac(w) for w in patterns}:
                return NO, ""
            continue
        if key == "Property":
            for entry in patterns:
                verdict = _property(entry, facts)
                if verdict == NO:
                    return NO, ""
                if verdict == MAYBE:
                    unknown = unknown or f"Property={entry} (udev properties not known)"
            continue
        if key in ("WLANInterfaceType", "SSID", "BSSID"):
            value = None  # not a wireless interface: positive patterns cannot match
        else:
            value = {
                "Name": facts.ifname,
                "OriginalName": facts.ifname,
                "Driver": facts.driver,
                "Type": facts.iftype,
                "Kind": facts.kind,
                "Path": facts.path,
            }.get(key)
            known = key in ("Name", "OriginalName") or value is not None
            if value == "":
                value = None  # known to be absent: a physical device has no kind, a veth no ID_PATH
            if not known:
                unknown = unknown or f"{key}= (not known)"
                continue
        if key == "BSSID":
            return NO, ""
        if not test_strv(patterns, value):
            return NO, ""
    return (MAYBE, unknown) if unknown else (YES, "")
