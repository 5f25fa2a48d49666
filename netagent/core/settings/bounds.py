"""Bounds instead of exact values: `{at_least: N}` and `{at_most: N}` (pure).

After TuneD's assignment modifiers `>N` and `<N` (tuned/plugins/base.py,
`_process_assignment_modifiers`): a value already on the right side of the bound is left alone,
and a change sets exactly the bound. TuneD compares with `int()`, so a value of several numbers
(tcp_rmem's three) cannot be bounded there (it logs a warning and writes the text as is);
netagent accepts a bound only as one integer and reports a key whose value has several numbers
as an error. For rings (netagent.core.settings.rings) `at_least` is capped at the device's
maximum, as AWS's check-ena-express-settings.sh does (Rx ring >= min(8192, max)).
"""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

AT_LEAST, AT_MOST = "at_least", "at_most"
BOUND_KEYS = (AT_LEAST, AT_MOST)
_SIGN = {AT_LEAST: ">=", AT_MOST: "<="}


class Bound(Value):
    """`at_least: N` or `at_most: N`."""

    __slots__ = ("op", "limit")
    op: str  # AT_LEAST or AT_MOST
    limit: int

    def __init__(self, op: str, limit: int) -> None:
        _set(self, "op", op)
        _set(self, "limit", limit)

    def holds(self, have: int, limit: int | None = None) -> bool:
        """Tell whether `have` is on the right side of the bound (of `limit` when given: a capped one)."""
        n = self.limit if limit is None else limit
        return have >= n if self.op == AT_LEAST else have <= n

    def text(self, limit: int | None = None) -> str:
        """Render the bound as `>=1048576` (or `<=8900`)."""
        return f"{_SIGN[self.op]}{self.limit if limit is None else limit}"


def parse_bound(w: Walker, node: Node, field: str, lo: int, hi: int) -> Bound | None:
    """Validate a `{at_least: N}` / `{at_most: N}` mapping node (exactly one key, an integer lo..hi)."""
    items = w.mapping(node, field)
    if items is None:
        return None
    w.known_keys(items, field, BOUND_KEYS)
    found = [k for k in BOUND_KEYS if k in items]
    if len(found) != 1:
        if len(found) > 1 or len(items) == len(found):  # an unknown key alone was reported already
            w.problem(node, field, "expected exactly one of at_least, at_most")
        return None
    op = found[0]
    limit = w.integer(items[op][1], f"{field}.{op}", lo, hi)
    return None if limit is None else Bound(op, limit)
