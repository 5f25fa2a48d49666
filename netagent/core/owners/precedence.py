"""Who wins at boot: the scan of every owner file, and the owners attached to each check (pure)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from netagent.core.model import Check, Link, Owner
from netagent.core.owners.networkd import MAYBE, NO, LinkFacts, match_unit, parse_networkd
from netagent.core.owners.sources import OwnerFiles, Setting, SourceFile, Unit, _problem
from netagent.core.owners.sysctl_d import (
    SYSCTL_CONF,
    SysctlLine,
    build_table,
    decide,
    derived_from,
    dotted_key,
    kernel_value,
    lines_for,
    parse_sysctl_file,
    sysctl_apply_order,
    sysctl_path,
)
from netagent.core.settings.driver import DriverInfo
from netagent.core.settings.sysctl import normalize_sysctl
from netagent.core.value import Value, _set

# Who applies last at boot wins: udev applies .link files when the device appears, systemd-networkd
# or NetworkManager configure it when the network comes up, tuned.service starts after network.target.
_BOOT_RANK = {"networkd-link": 0, "networkd": 1, "networkmanager": 1, "tuned": 2}
# TuneD plugin_sysctl.SYSCTL_CONFIG_DIRS (2.13+): the directories its reapply_sysctl reads, in order.
TUNED_REAPPLY_DIRS = ("/run/sysctl.d", "/etc/sysctl.d")


# ---------------------------------------------------------------- the scan


class OwnerScan(Value):
    """The parsed scan: sysctl lines and table, TuneD's sysctls, interface units, unreadable files."""

    __slots__ = (
        "sysctl_lines",
        "sysctl_table",
        "sysctl_unread",
        "tuned_sysctl",
        "tuned_reapply",
        "links",
        "networks",
        "keyfiles",
        "tuned_net",
        "sysctl_problems",
        "iface_problems",
    )
    sysctl_lines: tuple[SysctlLine, ...]  # every kept line of the files systemd-sysctl reads, in order
    sysctl_table: tuple[SysctlLine, ...]  # systemd-sysctl's ordered table (sysctl_d.build_table)
    sysctl_unread: tuple[SysctlLine, ...]  # /etc/sysctl.conf when no sysctl.d link reads it at boot
    tuned_sysctl: tuple[Setting, ...]
    tuned_reapply: tuple[SysctlLine, ...] | None  # what TuneD re-writes after its sysctls; None: it does not
    links: tuple[Unit, ...]  # .link files in precedence order: the first match applies
    networks: tuple[Unit, ...]  # .network files likewise
    keyfiles: tuple[Unit, ...]
    tuned_net: tuple[Unit, ...]
    sysctl_problems: tuple[Owner, ...]
    iface_problems: tuple[Owner, ...]

    def __init__(
        self,
        sysctl_lines: tuple[SysctlLine, ...] = (),
        sysctl_table: tuple[SysctlLine, ...] | None = None,
        sysctl_unread: tuple[SysctlLine, ...] = (),
        tuned_sysctl: tuple[Setting, ...] = (),
        tuned_reapply: tuple[SysctlLine, ...] | None = None,
        links: tuple[Unit, ...] = (),
        networks: tuple[Unit, ...] = (),
        keyfiles: tuple[Unit, ...] = (),
        tuned_net: tuple[Unit, ...] = (),
        sysctl_problems: tuple[Owner, ...] = (),
        iface_problems: tuple[Owner, ...] = (),
    ) -> None:
        _set(self, "sysctl_lines", sysctl_lines)
        _set(self, "sysctl_table", build_table(list(sysctl_lines)) if sysctl_table is None else sysctl_table)
        _set(self, "sysctl_unread", sysctl_unread)
        _set(self, "tuned_sysctl", tuned_sysctl)
        _set(self, "tuned_reapply", tuned_reapply)
        _set(self, "links", links)
        _set(self, "networks", networks)
        _set(self, "keyfiles", keyfiles)
        _set(self, "tuned_net", tuned_net)
        _set(self, "sysctl_problems", sysctl_problems)
        _set(self, "iface_problems", iface_problems)


def scan_sysctl(files: OwnerFiles) -> tuple[list[SysctlLine], list[SysctlLine], list[Owner]]:
    """Return the lines systemd-sysctl applies at boot, in order; /etc/sysctl.conf's lines when no
    sysctl.d link reads it (nothing at boot does); and the files that could not be read."""
    lines: list[SysctlLine] = []
    problems: list[Owner] = []
    linked = False
    for f in sysctl_apply_order(files.sysctl_d):
        via_conf = f.target == SYSCTL_CONF
        linked = linked or via_conf
        kind = "sysctl.conf" if via_conf else "sysctl.d"
        if f.problem:
            problems.append(_problem(f, kind, f.problem))
            continue
        found = parse_sysctl_file(f.text, f.target if via_conf else f.path, kind)
        if via_conf:
            found = [e.replace(note=_join(e.note, f"via {f.path}")) for e in found]
        lines += found
    unread: list[SysctlLine] = []
    conf = files.sysctl_conf
    if conf is not None and not conf.masked and not linked:
        if conf.problem:
            problems.append(_problem(conf, "sysctl.conf", conf.problem))
        else:
            unread = parse_sysctl_file(conf.text, SYSCTL_CONF, "sysctl.conf")
    return lines, unread, problems


def tuned_reapply_lines(files: OwnerFiles) -> list[SysctlLine]:
    """Return what TuneD (>= 2.13, plugin_sysctl._apply_system_sysctl) re-writes after its own
    sysctls: the *.conf of /run/sysctl.d then /etc/sysctl.d (the first directory wins a name),
    sorted by name, then /etc/sysctl.conf; a line is written as `key=value` with every dot of
    the key made a slash (no globs, no `-key`, no slash-key swap), errors ignored."""
    by_name: dict[str, SourceFile] = {}
    for directory in TUNED_REAPPLY_DIRS:
        for f in files.sysctl_d:
            if f.path.rsplit("/", 1)[0] == directory and not f.problem:
                by_name.setdefault(f.path.rsplit("/", 1)[-1], f)
    order = [by_name[n] for n in sorted(by_name)]
    if files.sysctl_conf is not None and not files.sysctl_conf.problem:
        order.append(files.sysctl_conf)
    out: list[SysctlLine] = []
    for f in order:
        for number, raw in enumerate(f.text.splitlines(), start=1):
            line = raw.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            option, value = (part.strip() for part in line.split("=", 1))
            if option:
                key = option.replace(".", "/")
                out.append(SysctlLine(key, value, f.path, number, "tuned", note="TuneD reapplies it (reapply_sysctl)"))
    return out


def scan(files: OwnerFiles) -> OwnerScan:
    """Parse every file of the snapshot into an OwnerScan; malformed files become problem owners."""
    sysctl_lines, unread, sysctl_problems = scan_sysctl(files)
    tuned_sysctl: list[Setting] = []
    tuned_net: list[Unit] = []
    tuned_problems: list[Owner] = []
    if files.tuned_profiles:  # the parsers of tools a host lacks are never imported (issue 13)
        from netagent.core.owners.tuned import parse_tuned

        tuned_sysctl, tuned_net, tuned_problems = parse_tuned(files.tuned_profiles, files.tuned_variables)
    links: list[Unit] = []
    networks: list[Unit] = []
    keyfiles: list[Unit] = []
    iface_problems = list(tuned_problems)
    mains, dropins = _networkd_order(files.networkd)
    for f in mains:
        kind = "networkd-link" if f.path.endswith(".link") else "networkd"
        broken = [d for d in (f, *dropins.get(_name(f.path), ())) if d.problem]
        if broken:
            iface_problems += [_problem(d, kind, d.problem) for d in broken]
            continue
        unit = parse_networkd(f, tuple(dropins.get(_name(f.path), ())))
        if unit is not None:
            (links if unit.kind == "networkd-link" else networks).append(unit)
    for f in files.networkmanager:
        if f.problem:
            iface_problems.append(_problem(f, "networkmanager", f.problem))
            continue
        from netagent.core.owners.networkmanager import parse_keyfile

        keyfile = parse_keyfile(f)
        if isinstance(keyfile, Owner):
            iface_problems.append(keyfile)
        elif keyfile is not None:
            keyfiles.append(keyfile)
    reapply = None
    if tuned_sysctl:
        from netagent.core.owners.tuned import _reapplies_sysctl

        if _reapplies_sysctl(files.tuned_main):
            reapply = tuple(tuned_reapply_lines(files))
    return OwnerScan(
        sysctl_lines=tuple(sysctl_lines),
        sysctl_unread=tuple(unread),
        tuned_sysctl=tuple(tuned_sysctl),
        tuned_reapply=reapply,
        links=tuple(links),
        networks=tuple(networks),
        keyfiles=tuple(keyfiles),
        tuned_net=tuple(tuned_net),
        sysctl_problems=tuple(sysctl_problems + tuned_problems),
        iface_problems=tuple(iface_problems),
    )


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _networkd_order(files: tuple[SourceFile, ...]) -> tuple[list[SourceFile], dict[str, list[SourceFile]]]:
    """Return the .link/.network files in systemd's order (an earlier directory hides a name, a
    /dev/null link masks it, the survivors sort by name), and each one's drop-ins
    (`<dir>/<name>.d/*.conf`, the first directory winning a drop-in name, sorted by name)."""
    by_name: dict[str, SourceFile] = {}
    dropin_by: dict[str, dict[str, SourceFile]] = {}
    for f in files:
        parent = f.path.rsplit("/", 1)[0]
        if parent.endswith((".link.d", ".network.d")):
            dropin_by.setdefault(_name(parent)[:-2], {}).setdefault(_name(f.path), f)
        else:
            by_name.setdefault(_name(f.path), f)
    mains = [by_name[name] for name in sorted(by_name) if not by_name[name].masked]
    dropins = {unit: [d[n] for n in sorted(d) if not d[n].masked and d[n].text != ""] for unit, d in dropin_by.items()}
    return mains, dropins


def _join(*notes: str) -> str:
    return ", ".join(n for n in notes if n)


# ---------------------------------------------------------------- owners of a check


def boot_value(key: str, found: OwnerScan) -> tuple[SysctlLine | Setting | None, str | None, str]:
    """Return the source whose value a sysctl has after boot, that value, and why (None: unknowable
    or untouched): systemd-sysctl's table, then TuneD's [sysctl], then TuneD's reapply."""
    path = sysctl_path(key)
    decision = decide(path, found.sysctl_table)
    winner: SysctlLine | Setting | None = decision.winner
    value, reason = decision.value, decision.reason
    tuned = [t for t in found.tuned_sysctl if sysctl_path(t.key) == path]
    if tuned:
        t = tuned[-1]
        modifier = t.value[:1] if t.value[:1] in "<>" and len(t.value) > 1 else ""
        if not t.value or "unknown value" in t.note or "may apply" in t.note:
            winner, value, reason = None, None, f"{t.source}:{t.line}: TuneD's value is unknown or may not apply"
        elif modifier:
            target = t.value[1:]
            if value is None or not (_is_int(target) and _is_int(value)):
                winner, reason = None, f"{t.source}:{t.line}: TuneD {modifier}{target} depends on the value before it"
                value = None
            elif (int(target) > int(value)) if modifier == ">" else (int(target) < int(value)):
                winner, value = t, target
        else:
            kept = kernel_value(path, t.value)
            if kept is not None:
                winner, value = t, kept
    # TuneD re-writes /run and /etc sysctl.d lines after its own, for every key: an /etc line that
    # a later /usr/lib file overrode for systemd-sysctl wins again.
    for line in found.tuned_reapply or ():
        if line.key == path.strip("/") and line.value is not None:
            kept = kernel_value(path, line.value)
            if kept is not None:
                winner, value, reason = line, kept, ""
    for source, how in derived_from(path):
        if source.startswith(f"net/{path.split('/')[1]}/conf/default/") and decision.winner is not None:
            continue  # the interface's own line is applied again when it appears (99-systemd.rules)
        derived = decide(source, found.sysctl_table)
        if derived.winner is not None:
            return None, None, f"{dotted_key(source)} also sets it ({how}): the boot value depends on order"
    return winner, value, reason


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def sysctl_owners(key: str, want: str | None, found: OwnerScan) -> tuple[Owner, ...]:
    """Return every persistent source that sets `key`, in apply order, marking the boot winner."""
    path = sysctl_path(key)
    winner, _value, reason = boot_value(key, found)
    out: list[Owner] = []
    # A line TuneD re-applies last is shown once, on the file's own line.
    reapplied = winner if isinstance(winner, SysctlLine) and winner.kind == "tuned" else None
    shown = False
    for e in lines_for(path, found.sysctl_lines) + lines_for(path, found.sysctl_unread):
        again = reapplied is not None and (e.source, e.line) == (reapplied.source, reapplied.line)
        shown = shown or again
        note = _join(e.note, f"glob {e.dotted}" if e.is_glob else "")
        if e.kind == "sysctl.conf" and e in found.sysctl_unread:
            note = _join(
                note,
                "not applied at boot by systemd-sysctl (no /etc/sysctl.d/99-sysctl.conf link);"
                " only procps `sysctl --system` and TuneD's reapply_sysctl read it",
            )
        if again:
            note = _join(note, "TuneD reapplies it after its own sysctls")
        out.append(_line_owner(path, e, want, e is winner or again, note))
    for t in found.tuned_sysctl:
        if sysctl_path(t.key) == path:
            conflicts = _tuned_conflicts(t.value, want)
            note = t.note
            if found.tuned_reapply is not None and winner is not t:
                note = _join(note, "TuneD reapplies /run and /etc sysctl.d and /etc/sysctl.conf after it")
            out.append(Owner(t.source, t.line, "tuned", t.value or None, conflicts, t is winner, note))
    if reapplied is not None and not shown:
        out.append(_line_owner(path, reapplied, want, True, reapplied.note))
    for source, how in derived_from(path):
        d = decide(source, found.sysctl_table)
        if d.winner is not None:
            e = d.winner
            out.append(Owner(e.source, e.line, e.kind, d.value, False, False, _join(f"sets {e.dotted}", how)))
    if winner is None and reason and out:
        out = [o.replace(note=_join(o.note, f"no boot winner: {reason}")) for o in out]
    return tuple(out) + found.sysctl_problems


def _line_owner(path: str, e: SysctlLine, want: str | None, wins: bool, note: str) -> Owner:
    if e.value is None:
        return Owner(e.source, e.line, e.kind, None, False, False, note)
    kept = kernel_value(path, e.value)
    if kept is None:
        return Owner(
            e.source, e.line, e.kind, e.value, False, False, _join(note, "the kernel refuses it: sets nothing")
        )
    if kept != e.value.strip():
        note = _join(note, f"the kernel keeps {kept!r}")
    conflicts = want is not None and not _sysctl_satisfies(normalize_sysctl(kept), want)
    return Owner(e.source, e.line, e.kind, kept, conflicts, wins, note)


def _sysctl_satisfies(value: str, want: str) -> bool:
    """Tell whether a file's value meets the check's expectation: equal, or within a bound (`>=N`, `<=N`)."""
    op, limit = want[:2], want[2:]
    if op in (">=", "<=") and limit.lstrip("-").isdigit():  # a bound (netagent.core.settings.bounds)
        if not value.lstrip("-").isdigit():
            return False
        return int(value) >= int(limit) if op == ">=" else int(value) <= int(limit)
    return value == want


def _tuned_conflicts(value: str, want: str | None) -> bool:
    """TuneD's `>N` only raises and `<N` only lowers (plugins/base.py _process_assignment_modifiers):
    a profile value already past N is left alone, so it is no conflict."""
    if want is None or not value:
        return False
    if value[:1] in "<>" and len(value) > 1 and _is_int(value[1:]) and _is_int(want):
        return int(want) < int(value[1:]) if value[0] == ">" else int(want) > int(value[1:])
    return normalize_sysctl(value) != want


def link_facts(link: Link) -> LinkFacts:
    """Return the facts [Match] can test that a Link carries (name, driver); the rest unknown."""
    info = link.get("driver")
    driver = info.driver if isinstance(info, DriverInfo) else None
    return LinkFacts(link.name, driver=driver)


class Applied(Value):
    """A unit that configures an interface at boot: certainly (`maybe` empty) or perhaps (why)."""

    __slots__ = ("unit", "maybe")
    unit: Unit
    maybe: str

    def __init__(self, unit: Unit, maybe: str = "") -> None:
        _set(self, "unit", unit)
        _set(self, "maybe", maybe)


def for_settings(found: OwnerScan, settings: frozenset[str] | set[str]) -> OwnerScan:
    """Return the scan with only the interface units that can decide the owners of `settings`
    (the interface settings an audit checks), so the host reads no facts for the rest (issue 12).

    udev and networkd apply only the first matching .link and .network file, so a unit that
    sets none of them still hides every later one: each of those lists is cut after its last
    unit that sets one of `settings`, never filtered. Keyfiles and TuneD units all apply; those
    that set none of them are dropped.
    """

    def sets(unit: Unit) -> bool:
        return any(s.key in settings for s in unit.settings)

    def first_match(units: tuple[Unit, ...]) -> tuple[Unit, ...]:
        last = max((i for i, u in enumerate(units) if sets(u)), default=-1)
        return units[: last + 1]

    return found.replace(
        links=first_match(found.links),
        networks=first_match(found.networks),
        keyfiles=tuple(u for u in found.keyfiles if sets(u)),
        tuned_net=tuple(u for u in found.tuned_net if sets(u)),
    )


# The [Match] keys that test each fact read_link_facts can read (networkd.match_unit).
_FACT_KEYS = {"mac": ("MACAddress", "PermanentMACAddress"), "type": ("Type",), "kind": ("Kind",)}


def facts_needed(found: OwnerScan, live: bool) -> frozenset[str]:
    """Return which interface facts the scanned files can test, so the host reads no others:
    a sysfs read per fact per interface is most of an audit's per-interface cost (issue 8).

    `udev` and `networkd` are the live host's own records of the file each applied.
    """
    keys = {key for unit in (*found.links, *found.networks) for key, _ in unit.match}
    needs = {fact for fact, match_keys in _FACT_KEYS.items() if keys & set(match_keys)}
    if found.keyfiles:
        needs.add("mac")  # NetworkManager binds a profile to a MAC address (mac-address=)
    if live and (found.links or keys & {"Property", "Path"}):
        needs.add("udev")
    if live and found.networks:
        needs.add("networkd")
    return frozenset(needs)


def iface_units(link: Link, found: OwnerScan, facts: LinkFacts | None = None) -> list[Applied]:
    """Return the units that configure an interface at boot: the first matching .link and
    .network file (udev and networkd apply only the first), and every matching keyfile and TuneD
    unit. A file netagent cannot decide on "may apply"; a file after it applies only if it does not.
    On a live host, the files udev and networkd recorded for the interface are taken as they are."""
    if not has_interface_units(found):
        return []  # most hosts once for_settings() trimmed the scan (issue 12)
    facts = facts or link_facts(link)
    out: list[Applied] = []
    for group, recorded in ((found.links, facts.link_file), (found.networks, facts.network_file)):
        if recorded is not None:
            out += [Applied(u) for u in group if u.source == recorded]
            continue
        before = ""
        for unit in group:
            verdict, why = match_unit(unit, facts)
            if verdict == NO:
                continue
            if verdict == MAYBE:
                out.append(Applied(unit, f"may apply: {why}"))
                before = before or unit.source
                continue
            out.append(Applied(unit, f"applies unless {before} does" if before else ""))
            break
    keyfiles = []
    if found.keyfiles:
        from netagent.core.owners.networkmanager import match_keyfile

        keyfiles = [(u, match_keyfile(u, link.name, facts.mac)) for u in found.keyfiles]
    keyfiles = [(u, v) for u, v in keyfiles if v[0] != NO]
    for u, (_verdict, why) in keyfiles:
        # NetworkManager activates one profile per device (autoconnect-priority, then the most recent).
        why = why or ("one of several profiles for it (autoconnect-priority decides)" if len(keyfiles) > 1 else "")
        out.append(Applied(u, f"may apply: {why}" if why else ""))
    for u in found.tuned_net:
        from netagent.core.owners.tuned import devices_match

        key, rules = u.match[0] if u.match else ("tuned-devices", ("*",))
        if key == "tuned-devices-unknown":
            out.append(Applied(u, f"may apply: {rules[0]} cannot be resolved here"))
        elif devices_match(rules, link.name):
            out.append(Applied(u))
    return out


def iface_owners(
    link: Link, setting: str, want: str | None, found: OwnerScan, units: list[Applied] | None = None
) -> tuple[Owner, ...]:
    """Return the files that set an interface's mtu or channels at boot, the last applied marked.

    `units` is iface_units(link, found), when the caller has it already. No winner is claimed
    where a unit that may apply would act at the same stage or later.
    """
    if units is None:
        units = iface_units(link, found)
    settings = [(s, a.maybe) for a in units for s in a.unit.settings if s.key == setting]
    if not settings:  # most interfaces: no file sets it (issue 8)
        return found.iface_problems

    def part(s: Setting) -> str:
        return s.value.split("=", 1)[0] if setting in _PART_SETTINGS else setting

    # One winner per value it sets: the MTU, or each channel kind (rx=, tx=, combined=, other=).
    winners: dict[str, Setting] = {}
    for s, maybe in sorted(settings, key=lambda pair: _BOOT_RANK[pair[0].kind]):
        if not maybe:
            winners[part(s)] = s
    for s, maybe in settings:
        w = winners.get(part(s))
        if maybe and w is not None and _BOOT_RANK[s.kind] >= _BOOT_RANK[w.kind]:
            del winners[part(s)]
    chosen = {id(s) for s in winners.values()}
    out = []
    for s, maybe in settings:
        note = ", ".join(n for n in (s.note, maybe) if n)
        if id(s) not in chosen and not maybe and part(s) not in winners:
            note = ", ".join(n for n in (note, "no boot winner: a file that may apply acts after it") if n)
        out.append(Owner(s.source, s.line, s.kind, s.value, _conflicts(setting, s.value, want), id(s) in chosen, note))
    return tuple(out) + found.iface_problems


def unit_matches(unit: Unit, ifname: str, driver: str | None) -> bool:
    """Tell whether every name list of a keyfile or TuneD unit accepts the interface (an
    unknown driver accepts)."""
    for globs in unit.name_globs:
        if not _match_list(globs, ifname):
            return False
    if driver is not None:
        for globs in unit.driver_globs:
            if not _match_list(globs, driver):
                return False
    return True


def _match_list(globs: tuple[str, ...], value: str) -> bool:
    """A list of globs, any may match; a leading `!` on the first negates the whole list (TuneD)."""
    if globs and globs[0].startswith("!"):
        return not _match_list((globs[0][1:], *globs[1:]), value)
    for g in globs:  # noqa: SIM110 - a loop costs less than any(<genexpr>); runs per unit and interface
        if g and fnmatchcase(value, g):
            return True
    return False


# Settings whose value is parts (`rx=4 tx=4`): each part has its own boot winner.
_PART_SETTINGS = ("channels", "rings", "coalesce")
_IFACE_SETTINGS = ("mtu", *_PART_SETTINGS)  # the interface settings owner files set


def has_interface_units(found: OwnerScan) -> bool:
    """Tell whether any scanned .link, .network, keyfile or TuneD unit is left to match interfaces."""
    return bool(found.links or found.networks or found.keyfiles or found.tuned_net)


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


def owners_of(
    kind: str,
    subject: str,
    want: str | None,
    found: OwnerScan,
    link: Link | None = None,
    units: list[Applied] | None = None,
) -> tuple[Owner, ...]:
    """Return the owners of one setting, by the setting's kind (its core/settings module name) and
    subject (a sysctl key, an interface name): what a settings module asks of the owner scan.

    `link` is the interface for interface settings; `units` its iface_units(), when known.
    Kinds no owner file sets (driver...) have no owners.
    """
    if kind == "sysctl":
        return sysctl_owners(subject, want, found)
    if kind in _IFACE_SETTINGS and link is not None:
        return iface_owners(link, kind, want, found, units)
    return ()


def attach_owners(
    checks: list[Check], links: dict[str, Link], found: OwnerScan, facts: dict[str, LinkFacts] | None = None
) -> list[Check]:
    """Return the checks with the owners of each sysctl, mtu and channels setting attached.

    `facts`, per interface name, are what the host adds to a Link for [Match] (host/owner_files).
    """
    out = []
    units: dict[str, list[Applied]] = {}  # per interface: its mtu and channels checks share them
    # No unit and no unreadable file can own an interface setting: only sysctls can have owners.
    iface_owned = has_interface_units(found) or bool(found.iface_problems)
    for c in checks:
        if c.setting != "sysctl" and not iface_owned:
            out.append(c)
            continue
        link = links.get(c.subject) if c.setting in _IFACE_SETTINGS else None
        if link is not None and link.name not in units:
            units[link.name] = iface_units(link, found, (facts or {}).get(link.name))
        owners = owners_of(c.setting, c.subject, c.expected, found, link, units.get(c.subject))
        out.append(c.replace(owners=owners) if owners else c)
    return out


def reverted_by(check: Check) -> tuple[Owner, ...]:
    """Return the owners that would undo a fix of this check at the next boot: the boot winner
    when it sets another value, and files that could not be read (they may)."""
    return tuple(o for o in check.owners if (o.conflicts and o.wins_at_boot) or o.problem)
