"""TuneD profiles (tuned.conf(5)) and tuned-main.conf: [sysctl] and [net] settings (pure)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from netagent.core.model import Owner
from netagent.core.owners.networkd import _mtu
from netagent.core.owners.sources import (
    Setting,
    SourceFile,
    Unit,
    _problem,
    parse_ini,
)
from netagent.core.owners.sysctl_d import normalize_key
from netagent.core.value import Value, _set


class TunedProfile(Value):
    """The merged result of TuneD's profile loader: units by name, in order, and the variables."""

    __slots__ = ("units", "variables", "problems")
    units: tuple[TunedUnit, ...]
    variables: tuple[tuple[str, str | None], ...]  # None: a value that cannot be known here
    problems: tuple[Owner, ...]

    def __init__(
        self,
        units: tuple[TunedUnit, ...] = (),
        variables: tuple[tuple[str, str | None], ...] = (),
        problems: tuple[Owner, ...] = (),
    ) -> None:
        _set(self, "units", units)
        _set(self, "variables", variables)
        _set(self, "problems", problems)


class TunedUnit(Value):
    """One [section] of the merged profile (tuned/profiles/unit.py): its plugin type and options,
    each option with the file and line that set it last."""

    __slots__ = ("name", "type", "enabled", "devices", "options", "condition")
    name: str
    type: str
    enabled: bool
    devices: str
    options: tuple[tuple[str, str, str, int], ...]  # (option, raw value, file, line)
    condition: str  # cpuinfo_regex=/uname_regex=/devices_udev_regex=: applies only where it matches

    def __init__(
        self,
        name: str,
        type: str,
        enabled: bool = True,
        devices: str = "*",
        options: tuple[tuple[str, str, str, int], ...] = (),
        condition: str = "",
    ) -> None:
        _set(self, "name", name)
        _set(self, "type", type)
        _set(self, "enabled", enabled)
        _set(self, "devices", devices)
        _set(self, "options", options)
        _set(self, "condition", condition)


# ---------------------------------------------------------------- tuned.conf syntax


def read_config(f: SourceFile) -> tuple[dict[str, dict[str, tuple[str, int]]], str]:
    """Parse tuned.conf as TuneD's loader does (configparser: `=` only, inline `#` after white
    space, later duplicates win, case kept, ${i:PROFILE_DIR} expanded): sections of (value, line),
    or a problem (TuneD then refuses the whole profile)."""
    import configparser  # only audits with TuneD profiles pay for it

    parser = configparser.ConfigParser(
        delimiters=("=",), inline_comment_prefixes=("#",), strict=False, interpolation=None
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(f.text, f.path)
    except configparser.Error as exc:
        return {}, f"TuneD cannot parse it: {str(exc).splitlines()[0]}"
    lines = _option_lines(f.text)
    profile_dir = f.path.rsplit("/", 1)[0]
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for section in parser.sections():
        out[section] = {}
        for option in parser.options(section):
            value = re.sub(r"(?<!\\)\$\{i:PROFILE_DIR\}", profile_dir, parser.get(section, option, raw=True))
            out[section][option] = (value, lines.get((section, option), 0))
    return out, ""


def _option_lines(text: str) -> dict[tuple[str, str], int]:
    section = ""
    out: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif "=" in line and not line.startswith(("#", ";")):
            out[(section, line.split("=", 1)[0].strip())] = number
    return out


def include_names(f: SourceFile) -> list[str] | None:
    """Return the profile names a tuned.conf includes ([main] include=a,b;-c: a `-` name is
    loaded only if it exists); None when the include cannot be resolved here (a function)."""
    config, problem = read_config(f)
    if problem or "include" not in config.get("main", {}):
        return []
    value = expand(config["main"]["include"][0], ())  # loader.py: variables are not known yet
    if value is None:
        return None
    return [n for n in re.split(r"\s*[,;]\s*", value) if n]


def tuned_includes(f: SourceFile) -> list[str]:
    """Return the names a tuned.conf includes, [] when none or not resolvable (see include_names)."""
    return include_names(f) or []


# ---------------------------------------------------------------- variables and functions


def expand(value: str, variables: tuple[tuple[str, str | None], ...]) -> str | None:
    """Expand `${var}` and `${f:name:args}` as tuned/profiles/variables.py does; None when any
    part cannot be known here (an unknown variable, a function that reads the machine)."""
    known = {name: v for name, v in variables}
    unknown = False

    def var(m: re.Match[str]) -> str:
        nonlocal unknown
        name = m.group(1)
        if name not in known:
            return m.group(0)
        if known[name] is None:
            unknown = True
            return m.group(0)
        return str(known[name])

    text = re.sub(r"(?<!\\)\$\{(\w+)\}", var, value)
    if unknown or re.search(r"(?<!\\)\$\{\w+\}", text):
        return None
    text = re.sub(r"\\(\$\{\w+\})", r"\1", text)
    out = _functions(text)
    if out is None:
        return None
    return re.sub(r"\\(\$\{f:.*\})", r"\1", out)


# TuneD's built-in functions that are pure (tuned/profiles/functions/function_*.py); the others
# read the machine (virt_check, exec, cpulist_online, check_net_queue_count...): unknown here.
_PURE_FUNCTIONS = {
    "strip": (1, None),
    "kb2s": (1, 1),
    "s2kb": (1, 1),
    "regex_search_ternary": (4, 4),
}


def _call(name: str, args: list[str]) -> str | None:
    low, high = _PURE_FUNCTIONS[name]
    if len(args) < low or (high is not None and len(args) > high):
        return None
    if name == "strip":
        return "".join(args).strip()
    if name in ("kb2s", "s2kb"):
        if not re.fullmatch(r"[+-]?[0-9]+", args[0].strip()):
            return None
        n = int(args[0])
        return str(n * 2) if name == "kb2s" else str(round(n / 2))
    return args[2] if re.search(args[1], args[0]) else args[3]


def _functions(s: str) -> str | None:
    """TuneD's Functions._process: innermost `${f:...}` first, `\\` escaping; None if any call
    cannot be made here."""
    stack: list[tuple[bool, int]] = []
    esc = False
    i = 0
    while i < len(s):
        if s[i] == "}" and stack:
            was_escaped, start = stack.pop()
            if not was_escaped:
                parts = [p.replace("\\:", ":") for p in re.split(r"(?<!\\):", s[start:i])]
                if parts[0] == "${f":
                    if len(parts) < 2 or parts[1] not in _PURE_FUNCTIONS:
                        return None
                    result = _call(parts[1], parts[2:])
                    if result is None:
                        return None
                    s = s[:start] + result + s[i + 1 :]
                    i = start + len(result) - 1
        elif s[i : i + 2] == "${":
            stack.append((esc, i))
        esc = s[i] == "\\" if i < len(s) else False
        i += 1
    return s


# ---------------------------------------------------------------- the loader


_UNIT_CONDITIONS = ("devices_udev_regex", "cpuinfo_regex", "uname_regex")


class _Merging:
    """A unit while the merger works on it (mutable; becomes a TunedUnit)."""

    def __init__(self, name: str, options: dict[str, tuple[str, int]], path: str) -> None:
        opts = dict(options)
        self.type = opts.pop("type", (name, 0))[0]
        self.enabled = opts.pop("enabled", ("True", 0))[0] in ("True", "true", "1")
        self.replace = opts.pop("replace", ("False", 0))[0] in ("True", "true", "1")
        self.drop = re.split(r"\b\s*[,;]\s*", opts.pop("drop")[0]) if "drop" in opts else []
        self.devices = opts.pop("devices", ("*", 0))[0]
        # unit.py: conditions on the machine (a unit applies only where they match) and scripts.
        self.conditions = {k: opts.pop(k)[0] for k in _UNIT_CONDITIONS if k in opts}
        for key in ("script_pre", "script_post"):
            opts.pop(key, None)
        self.options = {k: (v, path, line) for k, (v, line) in opts.items()}

    def update(self, newer: _Merging) -> None:
        """merger.py _merge_two() for a unit that is not replaced."""
        self.type, self.enabled, self.devices = newer.type, newer.enabled, newer.devices
        self.conditions.update(newer.conditions)
        for option in newer.drop:
            self.options.pop(option, None)
        self.options.update(newer.options)


def load_profiles(profiles: tuple[SourceFile, ...], variable_files: tuple[SourceFile, ...] = ()) -> TunedProfile:
    """Merge the profile files in load order (includes before their includer) as TuneD's loader
    and merger do: a unit with replace=1 (or new) replaces the earlier one, else its type,
    enabled, devices and options update it and `drop=` removes options; then [variables] (with
    `include=` variable files) are defined in order."""
    units: dict[str, _Merging] = {}
    problems: list[Owner] = []
    for f in profiles:
        if f.problem:
            problems.append(_problem(f, "tuned", f.problem))
            continue
        config, problem = read_config(f)
        if problem:
            problems.append(_problem(f, "tuned", problem))
            continue
        for name, options in config.items():
            if name == "main":
                continue
            new = _Merging(name, options, f.path)
            old = units.get(name)
            if old is None or new.replace:
                units[name] = new
            else:
                old.update(new)
    variables: list[tuple[str, str | None]] = []
    by_path = {f.path: f for f in variable_files}
    var_unit = units.pop("variables", None)
    for option, (value, _path, _line) in (var_unit.options if var_unit else {}).items():
        if option == "include":
            variables += _variable_file(by_path.get(value), tuple(variables))
        elif re.fullmatch(r"\w+", option):
            variables.append((option, expand(value, tuple(variables))))
    out = tuple(
        TunedUnit(
            name,
            u.type,
            u.enabled,
            u.devices,
            tuple((k, v, p, line) for k, (v, p, line) in u.options.items()),
            "; ".join(f"{k}={v}" for k, v in u.conditions.items()),
        )
        for name, u in units.items()
    )
    return TunedProfile(out, tuple(variables), tuple(problems))


def _variable_file(f: SourceFile | None, defined: tuple[tuple[str, str | None], ...]) -> list[tuple[str, str | None]]:
    """Return the variables of an `include=` variables file (key=value lines); unknown if unread."""
    if f is None or f.problem:
        return []  # TuneD logs "unable to find variables_file" and goes on
    out: list[tuple[str, str | None]] = []
    config, problem = read_config(SourceFile(f.path, "[variables]\n" + f.text))
    for option, (value, _line) in config.get("variables", {}).items():
        if not problem and re.fullmatch(r"\w+", option):
            out.append((option, expand(value, defined + tuple(out))))
    return out


def parse_tuned(
    profiles: tuple[SourceFile, ...], variable_files: tuple[SourceFile, ...] = ()
) -> tuple[list[Setting], list[Unit], list[Owner]]:
    """Return TuneD's [sysctl] settings (value None-equivalent `""` with note "unknown value" when
    it cannot be known), its [net] units (devices=, mtu=, channels=), and unreadable files."""
    profile = load_profiles(profiles, variable_files)
    sysctl: dict[str, Setting] = {}
    nets: list[Unit] = []
    for unit in profile.units:
        if not unit.enabled:
            continue  # enabled=false: the plugin instance is not created
        if unit.type == "sysctl":
            for option, raw, path, line in unit.options:
                value = expand(_unquote(raw), profile.variables)
                name = normalize_key(option)
                sysctl.pop(name, None)
                maybe = f"may apply: {unit.condition}" if unit.condition else ""
                if value is None:
                    sysctl[name] = Setting(name, "", path, line, "tuned", _notes(f"unknown value: {raw}", maybe))
                else:
                    sysctl[name] = Setting(name, value, path, line, "tuned", maybe)
        elif unit.type == "net":
            devices = expand(unit.devices, profile.variables)
            settings: list[Setting] = []
            for option, raw, path, line in unit.options:
                value = expand(raw, profile.variables)
                if option == "mtu":
                    mtu = None if value is None else _mtu(value)
                    note = "mtu=" if mtu is not None else f"mtu=, unknown value: {raw}"
                    settings.append(Setting("mtu", str(mtu) if mtu is not None else "", path, line, "tuned", note))
                elif option == "channels" and value is not None:
                    words = value.split()
                    settings += [
                        Setting("channels", f"{k}={v}", path, line, "tuned") for k, v in zip(words[::2], words[1::2])
                    ]
            rules = tuple(re.split(r"\s|,\s*", devices)) if devices is not None else ("*",)
            match = (
                (("tuned-devices", rules),) if devices is not None else (("tuned-devices-unknown", (unit.devices,)),)
            )
            nets.append(Unit(profile_source(unit), "tuned", settings=tuple(settings), match=match))
    return list(sysctl.values()), nets, list(profile.problems)


def _notes(*notes: str) -> str:
    return ", ".join(n for n in notes if n)


def profile_source(unit: TunedUnit) -> str:
    """Return the file that last set an option of the unit (its source for reports)."""
    return unit.options[-1][2] if unit.options else ""


def _unquote(value: str) -> str:
    """tuned/utils/commands.py unquote(): one pair of surrounding double quotes goes."""
    m = re.fullmatch(r'"(.*)"', value, re.DOTALL)
    return m.group(1) if m else value


def devices_match(rules: tuple[str, ...], ifname: str) -> bool:
    """TuneD's DeviceMatcher: any positive rule (default `*`) and no `!` rule matches (fnmatch)."""
    positive = [r for r in rules if not r.startswith("!") and r.strip()]
    negative = [r[1:] for r in rules if r not in positive]
    if not positive:
        positive = ["*"]
    if not any(fnmatchcase(ifname, r) for r in positive):
        return False
    return not any(r and fnmatchcase(ifname, r) for r in negative)


def _reapplies_sysctl(main: SourceFile | None) -> bool:
    """tuned-main.conf `reapply_sysctl` (default 1): TuneD re-runs sysctl.d after its [sysctl], so
    sysctl.d wins for every key both set."""
    if main is None or main.problem:
        return True
    entries, _ = parse_ini("[main]\n" + main.text)
    values = [value for _, key, value, _ in entries if key == "reapply_sysctl"]
    return not values or values[-1].lower() not in ("0", "false", "no", "off")
