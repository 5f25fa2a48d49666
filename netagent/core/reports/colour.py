"""Colour for people at a terminal: ANSI SGR codes around a status word, and when to use them (pure).

https://no-color.org: a NO_COLOR variable that is set and not empty turns colour off, and a
command-line flag may override it; TERM=dumb has no escape sequences at all.
"""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

CHOICES = ("auto", "always", "never")
# ECMA-48 SGR: 31 red, 32 green, 33 yellow, 1 bold, 2 faint, 0 reset.
_SGR = {"ok": "32", "drift": "33", "error": "1;31", "unsupported": "2", "skipped": "2", "compliant": "32"}
_SGR["NOT compliant"] = "1;31"
_SGR["FAILED"] = "1;31"
RESET = "\x1b[0m"


def use_colour(choice: str, is_tty: bool, env: Mapping[str, str]) -> bool:
    """Decide colour from --color, whether the output is a terminal, and the environment."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return is_tty and not env.get("NO_COLOR") and env.get("TERM") != "dumb"


def paint(word: str, colour: bool) -> str:
    """Return `word` in its status colour when colour is on and it has one; else `word` unchanged."""
    code = _SGR.get(word)
    return f"\x1b[{code}m{word}{RESET}" if colour and code else word
