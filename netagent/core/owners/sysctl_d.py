"""sysctl.d(5) as systemd-sysctl reads it: files, masks, order, `-key` lines, globs (pure)."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from netagent.core.owners.sources import Setting, SourceFile

# sysctl.d(5) and systemd-sysctl: these directories in order; a file name in an earlier one masks
# the same name in a later one; the surviving files apply sorted by name, later assignments win.
# /lib/sysctl.d is still read by systemd built with split-usr (Debian 12's 252 reads it).
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
# procps `sysctl --system` applies /etc/sysctl.conf after every sysctl.d file; systemd-sysctl reads it
# at boot only through the /etc/sysctl.d/99-sysctl.conf symlink that distributions ship.
SYSCTL_CONF = "/etc/sysctl.conf"


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
