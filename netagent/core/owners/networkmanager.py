"""NetworkManager keyfiles (nm-settings-keyfile(5)): which interfaces, and what they set (pure)."""

from __future__ import annotations

from netagent.core.model import Owner
from netagent.core.owners.sources import Setting, SourceFile, Unit, _problem, parse_ini

# nm-settings-keyfile(5): keyfiles NetworkManager loads as connection profiles.
NM_DIRS = (
    "/etc/NetworkManager/system-connections",
    "/run/NetworkManager/system-connections",
    "/usr/lib/NetworkManager/system-connections",
)
_NM_CHANNEL_KEYS = {f"channels-{kind}": kind for kind in ("rx", "tx", "other", "combined")}


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
    return Unit(f.path, kind, name_globs=tuple(names), settings=tuple(settings))
