"""Who wins at boot: the scan of every owner file, and the owners attached to each check (pure)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from netagent.core.model import Check, DriverInfo, Link, Owner, normalize_sysctl
from netagent.core.owners.networkd import parse_networkd
from netagent.core.owners.networkmanager import parse_keyfile
from netagent.core.owners.sources import OwnerFiles, OwnerScan, Setting, SourceFile, Unit, _problem
from netagent.core.owners.sysctl_d import (
    SYSCTL_CONF,
    parse_sysctl_file,
    sysctl_apply_order,
    sysctl_assignments,
    sysctl_winner,
)
from netagent.core.owners.tuned import _reapplies_sysctl, parse_tuned

# Who applies last at boot wins: udev applies .link files when the device appears, systemd-networkd
# or NetworkManager configure it when the network comes up, tuned.service starts after network.target.
_BOOT_RANK = {"networkd-link": 0, "networkd": 1, "networkmanager": 1, "tuned": 2}


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
        conflicts = want is not None and normalize_sysctl(a.value) != want
        out.append(Owner(a.source, a.line, a.kind, a.value, conflicts, a is winner, note))
    return tuple(out) + found.sysctl_problems


def iface_units(link: Link, found: OwnerScan) -> list[Unit]:
    """Return the units that configure an interface at boot: the first matching .link and
    .network file (networkd applies only the first), and every matching keyfile and TuneD unit."""
    driver = link.driver.driver if isinstance(link.driver, DriverInfo) else None
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
        winners[s.value.split("=", 1)[0] if setting == "channels" else setting] = s
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
    if setting != "channels":
        return value != want
    wanted = dict(p.split("=", 1) for p in want.split() if "=" in p)
    have = dict(p.split("=", 1) for p in value.split() if "=" in p)
    return any(wanted.get(kind, v) != v for kind, v in have.items())


def attach_owners(checks: list[Check], links: dict[str, Link], found: OwnerScan) -> list[Check]:
    """Return the checks with the owners of each sysctl, mtu and channels setting attached."""
    out = []
    units: dict[str, list[Unit]] = {}  # per interface: its mtu and channels checks share them
    for c in checks:
        if c.setting == "sysctl":
            owners = sysctl_owners(c.subject, c.expected, found)
        elif c.setting in ("mtu", "channels") and c.subject in links:
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
