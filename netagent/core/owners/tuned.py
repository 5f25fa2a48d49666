"""TuneD profiles (tuned.conf(5)) and tuned-main.conf: [sysctl] and [net] settings (pure)."""

from __future__ import annotations

import re

from netagent.core.model import Owner
from netagent.core.owners.networkd import _mtu
from netagent.core.owners.sources import Setting, SourceFile, Unit, _problem, parse_ini
from netagent.core.owners.sysctl_d import normalize_key

# tuned-adm(8), tuned.conf(5): the active profile names, and where a profile named X lives (first wins).
TUNED_ACTIVE = "/etc/tuned/active_profile"
TUNED_MAIN = "/etc/tuned/tuned-main.conf"
TUNED_DIRS = ("/etc/tuned/profiles", "/etc/tuned", "/usr/lib/tuned/profiles", "/usr/lib/tuned")


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


def _reapplies_sysctl(main: SourceFile | None) -> bool:
    """tuned-main.conf `reapply_sysctl` (default 1): TuneD re-runs sysctl.d after its [sysctl], so
    sysctl.d wins for every key both set."""
    if main is None or main.problem:
        return True
    entries, _ = parse_ini("[main]\n" + main.text)
    values = [value for _, key, value, _ in entries if key == "reapply_sysctl"]
    return not values or values[-1].lower() not in ("0", "false", "no", "off")
