"""sysctl.d(5) as systemd-sysctl 252 applies it at boot: files, masks, order, `-key`, globs (pure).

The model follows src/sysctl/sysctl.c of systemd v252 (Debian 12), checked against the real
`/lib/systemd/systemd-sysctl` in a network namespace (tests/integration/test_owners_differential.py):

- The files are every `*.conf` of SYSCTL_DIRS; a name in an earlier directory hides the same name
  in later ones (an empty file or a /dev/null link masks); the survivors apply sorted by name.
  /etc/sysctl.conf itself is not one of them: it is read only through a `99-sysctl.conf` link.
- Each line is stripped; `#`/`;` lines are comments; a line without `=` is ignored unless it is
  `-key` (a "negative" entry that only keeps globs off that key). `-key=value` ignores write
  failures. The key is normalised as `sysctl_normalize()` does: when its first separator is a dot,
  dots and slashes swap; then `path_simplify()` drops empty and `.` components (`net/ipv4//x`).
  The value is everything after the first `=`, stripped: an inline `# comment` is part of it.
- The lines fill one ordered table keyed by the normalised key: a key seen again with the SAME
  value keeps its first line and position; with another value (or as `-key`) the old entry is
  removed and the new one goes to the end.
- The table applies in order. A glob key (`*?[`, glob(3) over /proc/sys, so `*` stops at `/`)
  writes every key it matches EXCEPT keys that have an entry of their own (an assignment or a
  `-key`); a `-key` entry writes nothing.
- The kernel then parses what was written: an integer sysctl takes leading integers (base 0, as
  simple_strtoul) each followed by white space or the end and ignores the rest of a write (so
  `1 # comment` sets 1); a value that does not start with one (`"4096 ..."` in quotes, `yes`)
  fails with EINVAL and the key keeps its previous value.
"""

from __future__ import annotations

import functools
import re

from netagent.core.owners.sources import Setting, SourceFile, is_glob
from netagent.core.value import Value, _set

# sysctl.d(5) and systemd-sysctl: these directories in order; a file name in an earlier one masks
# the same name in a later one; the surviving files apply sorted by name, later assignments win.
# /lib/sysctl.d is still read by systemd built with split-usr (Debian 12's 252 reads it).
SYSCTL_DIRS = ("/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d")
# procps `sysctl --system` applies /etc/sysctl.conf after every sysctl.d file; systemd-sysctl reads it
# at boot only through the /etc/sysctl.d/99-sysctl.conf symlink that distributions ship (procps).
SYSCTL_CONF = "/etc/sysctl.conf"
# systemd's GLOB_CHARS (src/basic/glob-util.h): a key with any of these is a glob.
# Sysctls the kernel reads as strings (proc_dostring and friends), not integer vectors: whatever
# is written is their value, or the handler refuses it; netagent cannot tell which ahead of time.
STRING_KEYS = frozenset(
    {
        "net/core/default_qdisc",
        "net/ipv4/tcp_congestion_control",
        "net/ipv4/tcp_allowed_congestion_control",
        "net/ipv4/tcp_available_congestion_control",
        "net/ipv4/tcp_fastopen_key",
        "net/ipv4/ip_local_reserved_ports",
        "net/ipv4/ip_local_port_range",
        "net/ipv4/ping_group_range",
    }
)
# Integer vectors (ip-sysctl.rst): the kernel reads this many integers and ignores the rest.
VECTOR_LENGTHS = {
    "net/ipv4/tcp_rmem": 3,
    "net/ipv4/tcp_wmem": 3,
    "net/ipv4/tcp_mem": 3,
    "net/ipv4/udp_mem": 3,
    "net/sctp/sctp_mem": 3,
    "net/sctp/sctp_rmem": 3,
    "net/sctp/sctp_wmem": 3,
}


class SysctlLine(Value):
    """One sysctl.d line that systemd-sysctl keeps: `key = value`, or `-key` (value None)."""

    __slots__ = ("key", "value", "source", "line", "kind", "ignore_failure", "note")
    key: str  # normalised as systemd does: slash-separated (`net/ipv4/conf/eth0.100/rp_filter`)
    value: str | None  # None: a `-key` line, which only keeps globs off the key
    source: str
    line: int
    kind: str  # sysctl.d, or sysctl.conf (read through a 99-sysctl.conf link, or not at all)
    ignore_failure: bool  # a leading `-`
    note: str

    def __init__(
        self,
        key: str,
        value: str | None,
        source: str,
        line: int,
        kind: str = "sysctl.d",
        ignore_failure: bool = False,
        note: str = "",
    ) -> None:
        _set(self, "key", key)
        _set(self, "value", value)
        _set(self, "source", source)
        _set(self, "line", line)
        _set(self, "kind", kind)
        _set(self, "ignore_failure", ignore_failure)
        _set(self, "note", note)

    @property
    def is_glob(self) -> bool:
        """Tell whether the key is a pattern (`net.ipv4.conf.*.rp_filter`, systemd 249+)."""
        return is_glob(self.key)

    @property
    def dotted(self) -> str:
        """Return the key as people write it: `net.ipv4.conf.eth0/100.rp_filter`."""
        return dotted_key(self.key)


class Decision(Value):
    """What sysctl.d leaves a key at after boot: the winning line (None: sysctl.d does not set it,
    or cannot be said to), the value the kernel keeps from it, and why, for people."""

    __slots__ = ("winner", "value", "reason")
    winner: SysctlLine | None
    value: str | None
    reason: str

    def __init__(self, winner: SysctlLine | None, value: str | None = None, reason: str = "") -> None:
        _set(self, "winner", winner)
        _set(self, "value", value)
        _set(self, "reason", reason)


# ---------------------------------------------------------------- keys


def normalize_key(key: str) -> str:
    """Return a sysctl key in dotted form; a key whose first separator is `/` swaps `/` and `.`.

    sysctl.d(5): `net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`.
    """
    if _first_separator(key) != "/":
        return key
    return key.translate(str.maketrans("./", "/."))


def sysctl_path(key: str) -> str:
    """Return a key as systemd-sysctl normalises it (sysctl_normalize + path_simplify): slash form,
    no empty or `.` components, no trailing slash (`net.ipv4..x` and `net/ipv4//x` are `net/ipv4/x`)."""
    if _first_separator(key) == ".":
        key = key.translate(str.maketrans("./", "/."))
    parts = [p for p in key.split("/") if p not in ("", ".")]
    return ("/" if key.startswith("/") else "") + "/".join(parts)


def _first_separator(key: str) -> str:
    """Return the first `.` or `/` of a key, or "" when it has neither."""
    dot, slash = key.find("."), key.find("/")
    if dot < 0 or 0 <= slash < dot:
        return "/" if slash >= 0 else ""
    return "."


def dotted_key(path: str) -> str:
    """Return a normalised slash key in dotted form (dots inside a component become slashes)."""
    return path.translate(str.maketrans("./", "/."))


# ---------------------------------------------------------------- glob(3)


def glob_matches(pattern: str, path: str) -> bool:
    """Tell whether glob(3) over /proc/sys expands `pattern` to `path` (both normalised slash keys).

    Component by component, as glob(3) walks directories: `*` and `?` never match `/`, a component
    starting with `.` matches only a literal `.`, `[...]` takes `!` or `^` for negation, `\\` escapes.
    """
    pattern_parts, path_parts = pattern.strip("/").split("/"), path.strip("/").split("/")
    if len(pattern_parts) != len(path_parts):
        return False
    for pat, name in zip(pattern_parts, path_parts):
        if not is_glob(pat):
            if pat.replace("\\", "") != name:
                return False
            continue
        if name.startswith(".") and not pat.startswith("."):
            return False
        if not fnmatch_posix(pat, name):
            return False
    return True


def fnmatch_posix(pattern: str, name: str) -> bool:
    """Match one name against a pattern as fnmatch(3) does without flags (`[!x]` and `[^x]` negate)."""
    return _compiled(pattern).fullmatch(name) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    """Translate and compile a pattern once: an audit tests the same few against every interface."""
    return re.compile(_translate(pattern), re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif c == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal `[`, as fnmatch(3)
                out.append(re.escape(c))
                continue
            body = pattern[i:j]
            i = j + 1
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            out.append(("[^" if negate else "[") + _bracket_body(body) + "]")
        else:
            out.append(re.escape(c))
    return "".join(out)


def _bracket_body(body: str) -> str:
    chars: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.append(f"{re.escape(body[i])}-{re.escape(body[i + 2])}")
            i += 3
        else:
            chars.append(re.escape(body[i]))
            i += 1
    return "".join(chars)


# ---------------------------------------------------------------- files


def parse_sysctl_file(text: str, source: str, kind: str = "sysctl.d") -> list[SysctlLine]:
    """Parse sysctl.d text into the lines systemd-sysctl keeps, in order (parse_file() in sysctl.c)."""
    out: list[SysctlLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        ignore_failure = False
        value: str | None = None
        if "=" in line:
            key, value = line.split("=", 1)
            value = value.strip()
            if key.startswith("-"):
                ignore_failure, key = True, key[1:]
        elif line.startswith("-"):
            key = line[1:]  # `-key`: keep globs off this key
        else:
            continue  # systemd-sysctl: "Line is not an assignment, ignoring"
        note = _value_note(value)
        out.append(SysctlLine(sysctl_path(key.strip()), value, source, number, kind, ignore_failure, note))
    return out


def _value_note(value: str | None) -> str:
    if value is None:
        return "-key: only keeps globs off this key"
    if "#" in value:
        return "inline # is not a comment: systemd writes it to the kernel"
    if value[:1] in ("'", '"'):
        return "quotes are not removed: systemd writes them to the kernel"
    return ""


def sysctl_apply_order(files: tuple[SourceFile, ...]) -> list[SourceFile]:
    """Return the sysctl.d files in the order systemd-sysctl applies them; masked files left out.

    A name in an earlier directory hides the same name in later ones; the survivors sort by name.
    """
    by_name: dict[str, SourceFile] = {}
    for f in files:
        by_name.setdefault(f.path.rsplit("/", 1)[-1], f)
    return [by_name[name] for name in sorted(by_name) if not by_name[name].masked]


def build_table(lines: list[SysctlLine]) -> tuple[SysctlLine, ...]:
    """Return systemd-sysctl's ordered table: one entry per key, in the order it applies them.

    The same value again keeps the first line (and its place); another value, or `-key`, replaces it at the end.
    """
    table: dict[str, SysctlLine] = {}
    for entry in lines:
        existing = table.get(entry.key)
        if existing is not None:
            if existing.value == entry.value:
                if entry.ignore_failure and not existing.ignore_failure:
                    table[entry.key] = existing.replace(ignore_failure=True)
                continue
            del table[entry.key]
        table[entry.key] = entry
    return tuple(table.values())


# ---------------------------------------------------------------- the kernel's reading


def kernel_value(path: str, value: str) -> str | None:
    """Return what the kernel keeps when `value` is written to key `path`, or None if it refuses it.

    Integer sysctls (proc_dointvec and kin) read up to their length of integers, each in base 0
    (`0x10`, `010`) and followed by white space or the end, and ignore the rest of the write;
    none at all is EINVAL. String sysctls keep the text (whether their handler accepts it, netagent
    cannot know). A value out of a key's range (proc_dointvec_minmax) is not detected.
    """
    key = path.strip("/")
    if key in STRING_KEYS:
        return value
    words = value.split()
    kept: list[str] = []
    for word in words[: VECTOR_LENGTHS.get(key, 1)]:
        number = _kernel_int(word)
        if number is None:
            break
        kept.append(str(number))
    return " ".join(kept) if kept else None


def _kernel_int(word: str) -> int | None:
    """Parse one word as proc_get_long: an optional `-`, then simple_strtoul(base 0), nothing after."""
    negative = word.startswith("-")
    digits = word[1:] if negative else word
    if not digits.isascii() or not digits[:1].isdigit():
        return None
    if digits[:2].lower() == "0x":
        base, digits = 16, digits[2:]
    elif digits.startswith("0") and len(digits) > 1:
        base, digits = 8, digits[1:]
    else:
        base = 10
    try:
        number = int(digits, base)
    except ValueError:
        return None
    return -number if negative else number


# ---------------------------------------------------------------- decisions


def decide(path: str, table: tuple[SysctlLine, ...]) -> Decision:
    """Return what the sysctl.d table leaves key `path` (normalised) at after systemd-sysctl ran."""
    explicit = next((e for e in table if e.key == path), None)
    if explicit is not None:
        if explicit.value is None:
            return Decision(None, None, f"{explicit.source}:{explicit.line} `-` line: sysctl.d leaves it alone")
        kept = kernel_value(path, explicit.value)
        if kept is None:
            return Decision(None, None, f"{explicit.source}:{explicit.line}: the kernel refuses {explicit.value!r}")
        return Decision(explicit, kept)
    winner: SysctlLine | None = None
    kept_value: str | None = None
    refused = ""
    for entry in table:
        if entry.value is None or not entry.is_glob or not glob_matches(entry.key, path):
            continue
        kept = kernel_value(path, entry.value)
        if kept is None:
            refused = f"{entry.source}:{entry.line}: the kernel refuses {entry.value!r}"
            continue
        winner, kept_value = entry, kept
    if winner is None:
        return Decision(None, None, refused)
    return Decision(winner, kept_value)


def lines_for(path: str, lines: tuple[SysctlLine, ...]) -> list[SysctlLine]:
    """Return every kept line that names `path`, itself or by a glob, in file order."""
    return [e for e in lines if e.key == path or (e.is_glob and e.value is not None and glob_matches(e.key, path))]


# Keys the kernel derives from others (ip-sysctl.rst, net/ipv4/devinet.c, net/ipv6/addrconf.c):
# writing `ip_forward` or `conf.all.forwarding` sets every interface's and the default's
# `forwarding` when it is written; `ipv6 conf.all.forwarding` and `conf.all.disable_ipv6` likewise;
# a `conf.default.*` value is copied into interfaces created after it is written.
_FAMILIES = ("ipv4", "ipv6")


def derived_from(path: str) -> list[tuple[str, str]]:
    """Return the keys whose writes also change key `path`, each with how (for people)."""
    if path.strip("/") == "net/ipv4/ip_forward":
        return [("net/ipv4/conf/all/forwarding", "ip_forward is conf.all.forwarding")]
    parts = path.strip("/").split("/")  # net/<family>/conf/<ifname>/<name>
    if len(parts) != 5 or parts[:3] != ["net", parts[1], "conf"] or parts[1] not in _FAMILIES or "" in parts:
        return []
    family, ifname, name = parts[1], parts[3], parts[4]
    out: list[tuple[str, str]] = []
    if name == "forwarding" and ifname != "all":
        if family == "ipv4":
            out.append(("net/ipv4/ip_forward", "writing ip_forward sets every interface's forwarding"))
        out.append((f"net/{family}/conf/all/forwarding", "writing conf.all.forwarding sets every interface's"))
    if family == "ipv6" and name == "disable_ipv6" and ifname != "all":
        out.append(("net/ipv6/conf/all/disable_ipv6", "writing conf.all.disable_ipv6 sets every interface's"))
    if family == "ipv4" and name == "forwarding" and ifname == "all":
        out.append(("net/ipv4/ip_forward", "ip_forward is conf.all.forwarding"))
    if ifname not in ("all", "default"):
        out.append((f"net/{family}/conf/default/{name}", "interfaces created after it is written copy conf.default"))
    return out


def as_setting(entry: SysctlLine) -> Setting:
    """Return a kept line as the generic Setting other owners use (dotted key)."""
    return Setting(entry.dotted, entry.value or "", entry.source, entry.line, entry.kind, entry.note)
