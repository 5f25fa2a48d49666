"""YAML nodes for profiles: a small composer for the plain subset profiles are written in (pure).

`import yaml` costs about 20 ms here (its reader compiles a large Unicode class, its resolver and
constructor a dozen more patterns), twice a lean audit's own work (issue 8). Profiles use a small
part of YAML: block mappings and sequences, one-line flow collections, plain and quoted scalars
and comments. `compose` handles exactly that part and raises `Unsupported` for anything else
(anchors, tags, block scalars, escapes, multi-line scalars, empty values, tabs, non-ASCII, a
plain scalar whose YAML 1.1 type it cannot tell for certain, ...); the caller then composes the
text with PyYAML (`from_pyyaml`), which stays the reference for every document and every error.

Nodes carry what the profile walker reads from PyYAML's nodes: the tag, the value, the style of
a scalar and the 0-based line where the node starts. tests/unit/test_yamlite.py checks that the
two composers agree on every document this one accepts.
"""

from __future__ import annotations

import re

from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

STR_TAG = "tag:yaml.org,2002:str"
INT_TAG = "tag:yaml.org,2002:int"
BOOL_TAG = "tag:yaml.org,2002:bool"
SEQ_TAG = "tag:yaml.org,2002:seq"
MAP_TAG = "tag:yaml.org,2002:map"

# Plain scalars whose YAML 1.1 type is certain without PyYAML's resolver (yaml/resolver.py):
# plain decimal integers are ints; words starting with a letter are strings unless they are one
# of the bool or null words; dotted numbers with two or more dots (2.2.10, 10.0.1.10) and
# integers separated by spaces (4096 131072 6291456) are strings (a float has one dot and no
# space, a sexagesimal number a colon, a timestamp dashes).
_DOTTED = r"[0-9]+(?:\.[0-9]+){2,}[A-Za-z]?|[-+]?[0-9]+(?: +[-+]?[0-9]+)+"  # compiled on first use
_BOOLS = ("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE")
_BOOL_WORDS = frozenset((*_BOOLS, "on", "On", "ON", "off", "Off", "OFF"))
_SPECIAL_WORDS = frozenset((*_BOOL_WORDS, "null", "Null", "NULL"))
# Characters a plain key or a plain scalar inside a flow collection may hold here.
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./@*?-")
_FLOW_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./@*? +-]*")
# A plain scalar may not start with a YAML indicator (YAML 1.1 section 9.1.3).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")


class Unsupported(Exception):
    """The text uses YAML beyond this composer's subset: compose it with PyYAML instead."""


class _Mark:
    __slots__ = ("line",)

    def __init__(self, line: int) -> None:
        self.line = line


class Node:
    """A node as PyYAML composes it: a tag, a value and where it starts (`start_mark.line`)."""

    __slots__ = ("start_mark", "tag", "value")
    value: Any

    def __init__(self, tag: str, value: Any, line: int) -> None:
        self.tag = tag
        self.value = value
        self.start_mark = _Mark(line)


class ScalarNode(Node):
    """A scalar: `value` is its text, `style` None (plain), "'" or '"'."""

    __slots__ = ("style",)

    def __init__(self, tag: str, value: str, line: int, style: str | None = None) -> None:
        super().__init__(tag, value, line)
        self.style = style


class SequenceNode(Node):
    """A sequence: `value` is the list of item nodes."""

    __slots__ = ()

    def __init__(self, value: list[Node], line: int, tag: str = SEQ_TAG) -> None:
        super().__init__(tag, value, line)


class MappingNode(Node):
    """A mapping: `value` is the list of (key node, value node) pairs, duplicates included."""

    __slots__ = ()

    def __init__(self, value: list[tuple[Node, Node]], line: int, tag: str = MAP_TAG) -> None:
        super().__init__(tag, value, line)


def is_decimal(text: str) -> bool:
    """Tell whether text is a plain decimal integer: [-+]?(0|[1-9][0-9]*)."""
    digits = text[1:] if text[:1] in ("-", "+") else text
    return digits.isdigit() and digits.isascii() and (digits == "0" or digits[0] != "0")


def plain_tag(text: str) -> str:
    """Return the YAML 1.1 tag of a plain scalar, when it is certain.

    Raises:
        Unsupported: only PyYAML's resolver can tell (floats, bools, nulls, octal, dates...).
    """
    if text[0].isalpha() and text.isascii():
        if text in _BOOL_WORDS:  # exactly yaml/resolver.py's bool words (issue 13: `adaptive_rx: false`)
            return BOOL_TAG
        if text in _SPECIAL_WORDS:
            raise Unsupported(f"plain scalar {text!r} is a null")
        return STR_TAG
    if is_decimal(text):
        return INT_TAG
    if re.fullmatch(_DOTTED, text):
        return STR_TAG
    raise Unsupported(f"plain scalar {text!r}: type left to PyYAML")


# ---------------------------------------------------------------- lines


class _Line:
    __slots__ = ("indent", "number", "text")

    def __init__(self, indent: int, text: str, number: int) -> None:
        self.indent = indent  # column of the first character of `text`
        self.text = text  # the content, comments and trailing spaces kept
        self.number = number  # 0-based line number


# PyYAML refuses a simple key longer than 1024 characters; leave long lines to it.
_MAX_LINE = 1000
# Control characters (tab and CR included) that PyYAML refuses or treats specially anywhere.
_CONTROL = r"[\x00-\x09\x0b-\x1f\x7f]"


def _lines(text: str) -> list[_Line]:
    if not text.isascii() or "\\" in text or re.search(_CONTROL, text):
        raise Unsupported("control characters, tabs, carriage returns, backslashes or non-ASCII text")
    out: list[_Line] = []
    started = False
    for number, raw in enumerate(text.split("\n")):
        if len(raw) > _MAX_LINE:
            raise Unsupported("a line longer than the subset allows")
        stripped = raw.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith(("---", "...", "%")):
            if raw.rstrip(" ") != "---" or started or out:
                raise Unsupported("document markers or directives")
            started = True  # one `---` at column 0, before any content, starts the document
            continue
        out.append(_Line(len(raw) - len(stripped), stripped.rstrip(" "), number))
    return out


def _comment_only(rest: str) -> bool:
    """Tell whether what follows a value is nothing or a comment (` # ...`)."""
    return not rest or (rest[0] == " " and rest.lstrip(" ").startswith("#"))


# ---------------------------------------------------------------- scalars and flow collections


def _quoted(text: str, pos: int, line: int) -> tuple[ScalarNode, int]:
    """Parse a quoted scalar starting at text[pos]; return it and the position after it."""
    quote = text[pos]
    i = pos + 1
    chunks = []
    while True:
        end = text.find(quote, i)
        if end < 0:
            raise Unsupported("a quoted scalar that goes on past the line")
        chunks.append(text[i:end])
        if quote == "'" and text.startswith("''", end):
            chunks.append("'")
            i = end + 2
            continue
        return ScalarNode(STR_TAG, "".join(chunks), line, quote), end + 1


def _block_plain(text: str, line: int) -> ScalarNode:
    """Parse a plain scalar that is a whole value in block context, then maybe a comment."""
    if text[0] in _INDICATORS and not (text[0] == "-" and text[1:2].isdigit()):  # -1 is a plain scalar
        raise Unsupported(f"a value starting with {text[0]!r}")
    cut = text.find(" #")
    value = (text if cut < 0 else text[:cut]).rstrip(" ")
    if ": " in value or value.endswith(":"):
        raise Unsupported("': ' inside a plain scalar")
    return ScalarNode(plain_tag(value), value, line)


def _flow(text: str, pos: int, line: int) -> tuple[Node, int]:
    """Parse a flow node at text[pos]: `[...]`, `{...}`, a quoted or a plain scalar."""
    c = text[pos]
    if c in "'\"":
        return _quoted(text, pos, line)
    if c in "[{":
        closing = "]" if c == "[" else "}"
        items: list[Any] = []
        pos = _skip(text, pos + 1)
        if text.startswith(closing, pos):
            pass
        else:
            while True:
                if c == "[":
                    item, pos = _flow(text, pos, line)
                    items.append(item)
                else:
                    key, pos = _flow(text, pos, line)
                    if not isinstance(key, ScalarNode) or not text.startswith(": ", pos):
                        raise Unsupported("a flow mapping entry that is not `key: value`")
                    value, pos = _flow(text, _skip(text, pos + 2), line)
                    items.append((key, value))
                pos = _skip(text, pos)
                if text.startswith(closing, pos):
                    break
                if not text.startswith(",", pos):
                    raise Unsupported("a flow collection that goes on past the line")
                pos = _skip(text, pos + 1)
                if text.startswith(closing, pos):
                    raise Unsupported("a trailing comma")
        node: Node = SequenceNode(items, line) if c == "[" else MappingNode(items, line)
        return node, pos + 1
    m = _FLOW_PLAIN.match(text, pos)
    if m is None:
        raise Unsupported(f"a flow scalar starting with {c!r}")
    end = m.end()
    if end < len(text) and text[end] not in ",]}:":
        raise Unsupported(f"{text[end]!r} inside a flow scalar")
    plain = m.group().rstrip(" ")
    return ScalarNode(plain_tag(plain), plain, line), end


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    if pos >= len(text):
        raise Unsupported("a flow collection that goes on past the line")
    return pos


def _inline(text: str, line: int) -> Node:
    """Parse a value written on its key's (or its dash's) line."""
    if text[0] in "[{'\"":
        node, end = _flow(text, 0, line)
        if not _comment_only(text[end:]):
            raise Unsupported("text after a quoted scalar or a flow collection")
        return node
    return _block_plain(text, line)


# ---------------------------------------------------------------- block structure


def _is_item(ln: _Line) -> bool:
    return ln.text == "-" or ln.text.startswith("- ")


class _Composer:
    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.i = 0

    def peek(self) -> _Line | None:
        return self.lines[self.i] if self.i < len(self.lines) else None

    def block(self, indent: int) -> Node:
        """Parse the block node whose first line is the current one, at exactly `indent`."""
        first = self.peek()
        assert first is not None
        if _is_item(first):
            return self.sequence(indent)
        return self.mapping(indent)

    def sequence(self, indent: int) -> SequenceNode:
        items: list[Node] = []
        start = self.lines[self.i].number
        while (ln := self.peek()) is not None and ln.indent == indent and _is_item(ln):
            rest = ln.text[1:].lstrip(" ")
            if not rest or rest.startswith("#"):
                self.i += 1
                nested = self.peek()
                if nested is None or nested.indent <= indent:
                    raise Unsupported("an empty sequence item")
                items.append(self.block(nested.indent))
                continue
            column = ln.indent + len(ln.text) - len(rest)
            if rest == "-" or rest.startswith("- "):
                self.lines[self.i] = _Line(column, rest, ln.number)  # `- - x`: a nested sequence
                items.append(self.sequence(column))
            elif rest[0] in "[{'\"" or not self._is_key(rest):
                items.append(_inline(rest, ln.number))
                self.i += 1
                self._no_continuation(indent)
            else:
                self.lines[self.i] = _Line(column, rest, ln.number)  # `- key: value`: a mapping at the column
                items.append(self.mapping(column))
        return SequenceNode(items, start)

    @staticmethod
    def _is_key(text: str) -> bool:
        cut = text.find(" #")
        head = text if cut < 0 else text[:cut]
        return ": " in head or head.endswith(":")

    def mapping(self, indent: int) -> MappingNode:
        pairs: list[tuple[Node, Node]] = []
        start = self.lines[self.i].number
        while (ln := self.peek()) is not None and ln.indent == indent:
            if _is_item(ln):
                raise Unsupported("a sequence item among mapping keys")
            key, rest = self._key(ln)
            self.i += 1
            if rest:
                pairs.append((key, _inline(rest, ln.number)))
                self._no_continuation(indent)
                continue
            nested = self.peek()
            if nested is not None and nested.indent > indent:
                pairs.append((key, self.block(nested.indent)))
            elif (
                nested is not None and nested.indent == indent and (nested.text == "-" or nested.text.startswith("- "))
            ):
                pairs.append((key, self.sequence(indent)))  # a sequence may sit at its key's indent
            else:
                raise Unsupported("an empty value")
        return MappingNode(pairs, start)

    def _key(self, ln: _Line) -> tuple[ScalarNode, str]:
        """Split `key: value` into the key node and the value text ("" when on later lines)."""
        text = ln.text
        if text[0] in "'\"":
            key, end = _quoted(text, 0, ln.number)
            after = text[end:]
            if not after.startswith(":"):
                raise Unsupported("a quoted key without ':'")
            after = after[1:]
        else:
            colon = text.find(": ")
            if colon < 0:
                if not text.endswith(":") or " #" in text:
                    raise Unsupported("a line that is not `key: value`")
                colon = len(text) - 1
            name = text[:colon].rstrip(" ")
            if not (name[:1].isalnum() and _KEY_CHARS.issuperset(name)):
                raise Unsupported(f"key {name!r}")
            key = ScalarNode(plain_tag(name), name, ln.number)
            after = text[colon + 1 :]
        if after and after[0] != " ":
            raise Unsupported("no space after ':'")
        rest = after.lstrip(" ")
        return key, "" if rest.startswith("#") else rest

    def _no_continuation(self, indent: int) -> None:
        nxt = self.peek()
        if nxt is not None and nxt.indent > indent:
            raise Unsupported("a value continued on the next line")


def compose(text: str) -> MappingNode:
    """Compose a profile's text into nodes, the way yaml.compose would.

    Raises:
        Unsupported: the text is empty, not a block mapping, or uses YAML beyond the subset.
    """
    lines = _lines(text)
    if not lines or lines[0].indent != 0:
        raise Unsupported("empty, or not a block mapping at column 0")
    composer = _Composer(lines)
    try:
        node = composer.block(0)
    except RecursionError:
        raise Unsupported("nested deeper than the subset allows") from None
    if composer.i != len(lines) or not isinstance(node, MappingNode):
        raise Unsupported("not a single block mapping")
    return node


def from_pyyaml(node: Any) -> Node:
    """Return the nodes of a node tree composed by PyYAML."""
    import yaml

    line = node.start_mark.line
    if isinstance(node, yaml.ScalarNode):
        return ScalarNode(node.tag, node.value, line, node.style or None)  # libyaml says "" for plain
    if isinstance(node, yaml.SequenceNode):
        return SequenceNode([from_pyyaml(n) for n in node.value], line, node.tag)
    return MappingNode([(from_pyyaml(k), from_pyyaml(v)) for k, v in node.value], line, node.tag)
