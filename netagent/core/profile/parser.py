"""Parse and validate a YAML tuning profile into a Profile (pure but for reading the file).

The YAML is composed into nodes with the safe loader and walked by hand, so every problem
names the file, the line and the field path, duplicate keys are caught, and YAML 1.1
surprises (`on`, `010`, `1:30`) in typed fields are errors rather than silent conversions.
"""

from __future__ import annotations

import re

from netagent.core.errors import Problem, ProfileError
from netagent.core.model import RUNTIME, Condition, GuardSpec, InterfaceRule, Profile, Severity
from netagent.core.profile.yamlite import (
    MappingNode,
    Node,
    ScalarNode,
    SequenceNode,
    Unsupported,
    compose,
    from_pyyaml,
    is_decimal,
)
from netagent.core.settings import HOST_KEYS, RULE_KEYS, SYSCTL, host_kind, kind_of_rule_key
from netagent.core.settings.bounds import BOUND_KEYS, Bound
from netagent.core.settings.sysctl import SysctlSetting
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
# Patterns are strings that re compiles on first use and caches: most profiles use a few of them
# (issue 8). Integers must be plain decimals (yamlite.is_decimal): YAML 1.1 also reads 010
# (octal), 0x1f and 1:30 (base 60) as ints.
_IFNAME_GLOB = r"[^/\s]{1,64}"


class Walker:
    """Collects problems while converting nodes; one instance per profile file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def problem(self, node: Node | None, field: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(Problem(self.path, line, field, message))

    # -- shapes

    def mapping(self, node: Node, field: str) -> dict[str, tuple[Node, Node]] | None:
        """Return {key: (key_node, value_node)} of a mapping node, reporting duplicates."""
        if not isinstance(node, MappingNode):
            self.problem(node, field, f"expected a mapping, got {_describe(node)}")
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                self.problem(key_node, field, f"expected a text key, got {_describe(key_node)}")
                continue
            key = key_node.value
            if key in out:
                first = out[key][0].start_mark.line + 1
                self.problem(key_node, _join(field, key), f"duplicate key (first at line {first})")
                continue
            out[key] = (key_node, value_node)
        return out

    def known_keys(self, items: dict[str, tuple[Node, Node]], field: str, allowed: tuple[str, ...]) -> None:
        for key, (key_node, _) in items.items():
            if key not in allowed:
                self.problem(key_node, _join(field, key), f"unknown key; {_suggest(key, allowed)}")

    def text(self, node: Node, field: str, pattern: str | None = None, what: str = "") -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != _STR_TAG or not node.value:
            hint = "; quote it" if isinstance(node, ScalarNode) and node.value else ""
            self.problem(node, field, f"expected {what or 'a non-empty string'}, got {_describe(node)}{hint}")
            return None
        if pattern is not None and not re.fullmatch(pattern, node.value):
            self.problem(node, field, f"expected {what}, got {node.value!r}")
            return None
        return str(node.value)

    def integer(self, node: Node, field: str, lo: int, hi: int) -> int | None:
        if isinstance(node, ScalarNode) and node.tag == _INT_TAG and is_decimal(node.value):
            value = int(node.value)
            if lo <= value <= hi:
                return value
        quoted = " (a quoted string)" if isinstance(node, ScalarNode) and node.style in ("'", '"') else ""
        self.problem(node, field, f"expected an integer {lo}..{hi}, got {_describe(node)}{quoted}")
        return None

    def boolean(self, node: Node, field: str) -> bool | None:
        """Return a `true`/`false` node's value; YAML 1.1's yes/no/on/off are refused as surprises."""
        if isinstance(node, ScalarNode) and node.tag == _BOOL_TAG and node.value.lower() in ("true", "false"):
            return bool(node.value.lower() == "true")
        self.problem(node, field, f"expected true or false, got {_describe(node)}")
        return None

    # -- questions a setting kind asks of a node (netagent.core.settings)

    def is_scalar(self, node: Node) -> bool:
        """Tell whether a node is a scalar (of any YAML type)."""
        return isinstance(node, ScalarNode)

    def is_text(self, node: Node, value: str | None = None) -> bool:
        """Tell whether a node is a string scalar (equal to `value`, when given)."""
        is_str = isinstance(node, ScalarNode) and node.tag == _STR_TAG
        return is_str and (value is None or node.value == value)

    def is_int(self, node: Node, decimal: bool = False) -> bool:
        """Tell whether a node is a scalar YAML reads as an integer (written in plain decimal, if asked)."""
        is_int = isinstance(node, ScalarNode) and node.tag == _INT_TAG
        return is_int and (not decimal or is_decimal(node.value))

    def describe(self, node: Node) -> str:
        """Describe a node for an error message, the way the user wrote it."""
        return _describe(node)


def _suggest(key: str, allowed: tuple[str, ...]) -> str:
    """Say which known key a misspelt one probably meant (difflib's ratio >= 0.6), then list them all."""
    import difflib  # only on this error path

    close = difflib.get_close_matches(key, allowed, n=1)
    guess = f"did you mean `{close[0]}`? " if close else ""
    return f"{guess}expected one of: {', '.join(allowed)}"


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _describe(node: Node) -> str:
    """Describe a node for an error message, the way the user wrote it."""
    if isinstance(node, ScalarNode):
        kind = node.tag.rsplit(":", 1)[-1]
        if kind in ("bool", "null", "float", "timestamp") or (kind == "int" and not is_decimal(node.value)):
            return f"{node.value!r} (YAML reads it as {kind if kind != 'int' else 'a non-decimal int'})"
        return repr(node.value)
    if isinstance(node, SequenceNode):
        return "a list"
    return "a mapping"


# ---------------------------------------------------------------- sections

TOP_KEYS = ("name", "description", "interfaces", "sysctl", *HOST_KEYS, "guard")
GUARD_KEYS = ("targets", "timeout_s")
# At most 5 s: the guard runs inside a heal, which finishes before the daemon stops, and the daemon
# must exit within 5 s of SIGTERM (README.md, "Daemon"); the guard takes at most timeout_s per change.
GUARD_TIMEOUT_S = (0.1, 5.0)
RULE_FIELDS = ("match", *RULE_KEYS, "severity", "when")
SYSCTL_KEYS = ("value", "at_least", "at_most", "severity", "when")
WHEN_KEYS = ("phase", "instance_type")
# EC2 instance types are family.size (c6in.32xlarge, m7g.metal-48xl); globs select families.
_INSTANCE_TYPE_GLOB = r"[A-Za-z0-9.*?\[\]!_-]{1,64}"


def _parse_rule(w: Walker, node: Node, index: int) -> InterfaceRule | None:
    field = f"interfaces[{index}]"
    items = w.mapping(node, field)
    if items is None:
        return None
    w.known_keys(items, field, RULE_FIELDS)
    before = len(w.problems)
    if "match" not in items:
        w.problem(node, _join(field, "match"), "required key is missing")
    match = _parse_match(w, items["match"][1], _join(field, "match")) if "match" in items else ()
    settings: dict[str, object] = {}
    for key in RULE_KEYS:  # each setting kind validates its own keys
        if key in items:
            settings[key] = kind_of_rule_key(key).parse(w, key, items[key][1], _join(field, key))
    severity = _parse_severity(w, items["severity"][1], _join(field, "severity")) if "severity" in items else None
    when = _parse_when(w, items["when"][1], _join(field, "when")) if "when" in items else None
    if len(w.problems) > before:
        return None
    return InterfaceRule(
        index=index,
        match=match,
        settings=settings,
        line=node.start_mark.line + 1,
        severity=severity or Severity.REQUIRED,
        when=when,
    )


def _parse_match(w: Walker, node: Node, field: str) -> tuple[str, ...]:
    """A glob, or a list of globs that any may match."""
    nodes = node.value if isinstance(node, SequenceNode) else [node]
    if not nodes:
        w.problem(node, field, "expected a glob or a non-empty list of globs, got an empty list")
    globs = [w.text(n, field, _IFNAME_GLOB, "an interface-name glob") for n in nodes]
    return tuple(g for g in globs if g is not None)


def _parse_guard(w: Walker, node: Node) -> GuardSpec | None:
    items = w.mapping(node, "guard")
    if items is None:
        return None
    w.known_keys(items, "guard", GUARD_KEYS)
    targets: list[str] = []
    if "targets" not in items:
        w.problem(node, "guard.targets", "required key is missing")
    else:
        seq = items["targets"][1]
        if not isinstance(seq, SequenceNode) or not seq.value:
            w.problem(seq, "guard.targets", f"expected a non-empty list of IP addresses, got {_describe(seq)}")
        else:
            for i, item in enumerate(seq.value):
                text = w.text(item, f"guard.targets[{i}]", what="an IP address")
                if text is not None and _ip_address(text) is None:
                    w.problem(item, f"guard.targets[{i}]", f"expected an IPv4 or IPv6 address, got {text!r}")
                elif text is not None:
                    targets.append(str(_ip_address(text)))
    timeout_s = 2.0
    if "timeout_s" in items:
        t_node = items["timeout_s"][1]
        lo, hi = GUARD_TIMEOUT_S
        value = _number(t_node)
        if value is None or not lo <= value <= hi:
            w.problem(
                t_node, "guard.timeout_s", f"expected a number of seconds {lo:g}..{hi:g}, got {_describe(t_node)}"
            )
        else:
            timeout_s = value
    return GuardSpec(targets=tuple(targets), timeout_s=timeout_s)


def _ip_address(text: str) -> object | None:
    import ipaddress

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _number(node: Node) -> float | None:
    if not isinstance(node, ScalarNode):
        return None
    if node.tag == _INT_TAG and is_decimal(node.value):
        return float(node.value)
    if node.tag == "tag:yaml.org,2002:float" and re.fullmatch(r"[0-9]*\.[0-9]+", node.value):
        return float(node.value)
    return None


def _parse_severity(w: Walker, node: Node, field: str) -> Severity | None:
    text = w.text(node, field, "required|recommended", "required or recommended")
    return None if text is None else Severity(text)


def _parse_when(w: Walker, node: Node, field: str) -> Condition | None:
    """`runtime`, or a mapping with `phase: runtime` and/or `instance_type: <glob or list of globs>`."""
    if isinstance(node, ScalarNode):
        text = w.text(node, field, RUNTIME, "runtime or a mapping with phase and/or instance_type")
        return None if text is None else Condition(phase=RUNTIME)
    items = w.mapping(node, field)
    if items is None:
        return None
    w.known_keys(items, field, WHEN_KEYS)
    if not items:
        w.problem(node, field, "expected at least one of phase, instance_type")
    phase = None
    if "phase" in items:
        phase = w.text(items["phase"][1], _join(field, "phase"), RUNTIME, "runtime")
    types: tuple[str, ...] = ()
    if "instance_type" in items:
        type_node = items["instance_type"][1]
        nodes = type_node.value if isinstance(type_node, SequenceNode) else [type_node]
        sub = _join(field, "instance_type")
        if not nodes:
            w.problem(type_node, sub, "expected a glob or a non-empty list of globs, got an empty list")
        found = [w.text(n, sub, _INSTANCE_TYPE_GLOB, "an instance-type glob like c6in.*") for n in nodes]
        types = tuple(t for t in found if t is not None)
    return Condition(phase=phase, instance_types=types)


def _parse_sysctls(w: Walker, node: Node) -> list[SysctlSetting]:
    items = w.mapping(node, "sysctl")
    if items is None:
        return []
    out = []
    for key, (key_node, value_node) in items.items():
        field = f"sysctl.{key}"
        if not SYSCTL.valid_key(key):
            w.problem(key_node, field, "expected a key under net. (dotted words, like net.ipv4.tcp_rmem)")
            continue
        extra: dict[str, object] = {}
        if isinstance(value_node, MappingNode):
            found, extra = _parse_sysctl_mapping(w, value_node, field)
            if "bound" in extra:
                out.append(SysctlSetting(key=key, value="", line=key_node.start_mark.line + 1, **extra))  # type: ignore[arg-type]
                continue
            if found is None:
                continue
            value_node, field = found, _join(field, "value")
        value = SYSCTL.parse_value(w, value_node)
        if value is None:
            w.problem(value_node, field, f"expected an integer or a string of integers, got {_describe(value_node)}")
            continue
        out.append(SysctlSetting(key=key, value=value, line=key_node.start_mark.line + 1, **extra))  # type: ignore[arg-type]
    return out


def _parse_sysctl_mapping(w: Walker, node: Node, field: str) -> tuple[Node | None, dict[str, object]]:
    """The mapping form `{value: 0, severity: recommended, when: runtime}`: the value node and the rest.

    `at_least: N` or `at_most: N` instead of `value` gives a bound (one integer): extra["bound"].
    """
    items = w.mapping(node, field) or {}
    w.known_keys(items, field, SYSCTL_KEYS)
    extra: dict[str, object] = {}
    if "severity" in items:
        extra["severity"] = _parse_severity(w, items["severity"][1], _join(field, "severity"))
    if "when" in items:
        extra["when"] = _parse_when(w, items["when"][1], _join(field, "when"))
    given = [k for k in ("value", *BOUND_KEYS) if k in items]
    if len(given) > 1:
        w.problem(node, field, f"expected one of value, at_least, at_most, got {', '.join(given)}")
        return None, extra
    if given and given[0] in BOUND_KEYS:
        op = given[0]
        limit = w.integer(items[op][1], _join(field, op), -(2**63), 2**63 - 1)
        if limit is None:
            return None, extra
        extra["bound"] = Bound(op, limit)
        return None, {k: v for k, v in extra.items() if v is not None}
    if "value" not in items:
        w.problem(node, _join(field, "value"), "required key is missing")
        return None, extra
    return items["value"][1], {k: v for k, v in extra.items() if v is not None}


# ---------------------------------------------------------------- entry points


def parse_profile(text: str, path: str) -> Profile:
    """Parse profile text; `path` is only used in messages.

    The text is composed by yamlite when it keeps to the plain subset profiles are written in,
    else by PyYAML; an invalid profile is always composed again by PyYAML, so every error is
    reported from PyYAML's reading of the text.

    Raises:
        ProfileError: with one Problem per thing wrong, each naming file, line and field.
    """
    try:
        try:
            root = compose(text)
        except Unsupported:
            return profile_from_nodes(compose_pyyaml(text, path), path)
        try:
            return profile_from_nodes(root, path)
        except ProfileError:
            return profile_from_nodes(compose_pyyaml(text, path), path)
    except RecursionError:  # a document nested hundreds deep: a bad profile, not a crash
        raise ProfileError([Problem(path, None, "", "the document is nested too deeply")]) from None


# A profile is a few dozen nodes; a thousand interface rules of ten keys each would be 20,000.
# Above this the text is refused before its aliases are expanded: a nine-deep alias bomb of a
# few hundred bytes expands to 9**9 nodes, which took minutes and gigabytes (issue 15).
MAX_NODES = 20_000
_TOO_BIG = f"the document has more than {MAX_NODES} nodes with its aliases expanded (an alias bomb?); refused"


def exceeds_node_budget(events: Iterable[Any], budget: int) -> int | None:
    """Count a YAML event stream's nodes as composing it would build them, each alias counting
    the whole subtree of its anchor; return the 1-based line where the count passes `budget`,
    or None when it stays within.

    PyYAML's composer shares an anchored node by reference, so the composed graph is small; the
    walk that turns it into our nodes expands every alias. Counting the events first, with each
    anchor's expanded size remembered, costs one pass over the text and stops at the budget. An
    alias to a collection still open (a recursive document) counts as over the budget.
    """
    import yaml

    sizes: dict[str, int] = {}  # anchor -> its node's size, aliases inside it expanded
    open_: list[list[Any]] = []  # the collections being read: [anchor, size so far]
    total = 0
    for event in events:
        if isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor) if event.anchor is not None else 1
            if size is None:
                if any(anchor == event.anchor for anchor, _ in open_):
                    return _line_of(event)  # recursive: infinite when expanded
                size = 1  # an undefined alias: the composer reports it
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            total += 1
            open_.append([event.anchor, 1])
            if total > budget:
                return _line_of(event)
            continue
        elif isinstance(event, yaml.CollectionEndEvent) and open_:
            anchor, size = open_.pop()
            if anchor is not None:
                sizes[anchor] = size
            if open_:
                open_[-1][1] += size
            continue
        else:
            continue
        total += size
        if open_:
            open_[-1][1] += size
        if total > budget:
            return _line_of(event)
    return None


def _line_of(event: Any) -> int | None:
    mark = event.start_mark
    return None if mark is None else int(mark.line) + 1


def compose_pyyaml(text: str, path: str) -> Node:
    """Compose text with PyYAML's safe loader (libyaml when built in).

    Raises:
        ProfileError: a YAML syntax error, or an empty document.
    """
    import yaml  # about 20 ms to import: only for text beyond yamlite's subset (issue 8)

    try:  # libyaml is ~10x faster; fall back to the pure-Python loader where it is absent.
        from yaml import CSafeLoader as Loader
    except ImportError:  # pragma: no cover - depends on how PyYAML was built
        from yaml import SafeLoader as Loader  # type: ignore[assignment]
    try:
        too_big = exceeds_node_budget(yaml.parse(text, Loader=Loader), MAX_NODES)
        if too_big is not None:
            raise ProfileError([Problem(path, too_big, "", _TOO_BIG)])
        root = yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ProfileError([Problem(path, line, "", f"YAML syntax error: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:
        raise ProfileError([Problem(path, None, "", f"YAML error: {exc}")]) from None
    if root is None:
        raise ProfileError([Problem(path, None, "", "the profile is empty")])
    return from_pyyaml(root)


def profile_from_nodes(root: Node, path: str) -> Profile:
    """Walk composed nodes into a Profile.

    Raises:
        ProfileError: with one Problem per thing wrong.
    """
    w = Walker(path)
    items = w.mapping(root, "")
    if items is None:
        raise ProfileError(w.problems)
    w.known_keys(items, "", TOP_KEYS)
    name = w.text(items["name"][1], "name") if "name" in items else None
    if "name" not in items:
        w.problem(root, "name", "required key is missing")
    if "description" in items:
        w.text(items["description"][1], "description")
    rules: list[InterfaceRule] = []
    if "interfaces" in items:
        node = items["interfaces"][1]
        if isinstance(node, SequenceNode):
            rules = [r for i, n in enumerate(node.value) if (r := _parse_rule(w, n, i)) is not None]
        else:
            w.problem(node, "interfaces", f"expected a list of rules, got {_describe(node)}")
    sysctls = _parse_sysctls(w, items["sysctl"][1]) if "sysctl" in items else []
    guard = _parse_guard(w, items["guard"][1]) if "guard" in items else None
    host = {key: host_kind(key).parse(w, items[key][1], key) for key in HOST_KEYS if key in items}
    if w.problems:
        raise ProfileError(sorted(w.problems, key=lambda p: p.line or 0))
    assert name is not None
    return Profile(name=name, path=path, interfaces=tuple(rules), sysctls=tuple(sysctls), guard=guard, host=host)
