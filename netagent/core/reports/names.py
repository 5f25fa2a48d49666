"""One escaping of interface names for every report format (issue 16; pure).

Linux takes any interface name of 1..15 bytes without `/`, `:` or white space (dev_valid_name),
so a name may hold bytes that are not UTF-8; netagent reads them as lone surrogates
(surrogateescape). Every format writes such a byte as `:xNN` (its value in hex, two lower-case
digits), and JUnit writes characters XML 1.0 cannot carry (control characters) the same way.
Because `:` never occurs in an interface name, the escaping is lossless (`unescape_name` gives
the bytes back) and two different names never render alike: JSON stays valid for strict
parsers (no lone surrogates), and Prometheus never gets two series with the same labels.
"""

from __future__ import annotations

import re

# Patterns are compiled on first use (re's cache): most reports are ASCII and never need them.
_UNDECODABLE = "[\udc80-\udcff]"
_ESCAPE = ":x([0-9a-f]{2})"


def escape_name(text: str) -> str:
    """Return text with every undecodable byte (a lone surrogate U+DC80..U+DCFF) as `:xNN`."""
    if text.isascii():
        return text
    return re.sub(_UNDECODABLE, lambda m: f":x{ord(m.group()) - 0xDC00:02x}", text)


def escape_chars(text: str, pattern: re.Pattern[str]) -> str:
    """Return text with undecodable bytes and the characters `pattern` matches written as `:xNN`."""
    return pattern.sub(lambda m: f":x{ord(m.group()) & 0xFF:02x}", escape_name(text))


def unescape_name(shown: str) -> bytes:
    """Return the bytes of an interface name as a report shows it (the inverse of escape_name)."""
    out = bytearray()
    pos = 0
    for m in re.finditer(_ESCAPE, shown):
        out += shown[pos : m.start()].encode("utf-8")
        out.append(int(m.group(1), 16))
        pos = m.end()
    out += shown[pos:].encode("utf-8")
    return bytes(out)
