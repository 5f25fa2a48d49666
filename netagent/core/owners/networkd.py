"""systemd.link(5) and systemd.network(5) files: [Match] and the settings netagent checks (pure)."""

from __future__ import annotations

import re

from netagent.core.model import Owner
from netagent.core.owners.sources import Setting, SourceFile, Unit, _problem, parse_ini

# systemd.network(5), systemd.link(5): same precedence rules as sysctl.d.
NETWORKD_DIRS = (
    "/etc/systemd/network",
    "/run/systemd/network",
    "/usr/local/lib/systemd/network",
    "/usr/lib/systemd/network",
    "/lib/systemd/network",
)
_SIZE = r"([0-9]+)\s*([KMG]?)B?"  # systemd parse_size, base 1024: 9001, 9K; compiled on first use
_CHANNEL_KEYS = {"RxChannels": "rx", "TxChannels": "tx", "OtherChannels": "other", "CombinedChannels": "combined"}
_MATCH_KEYS = ("Name", "OriginalName", "Driver")


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
    return Unit(
        f.path,
        kind,
        name_globs=tuple(match["Name"]),
        original_globs=tuple(match["OriginalName"]),
        driver_globs=tuple(match["Driver"]),
        settings=tuple(settings),
    )
