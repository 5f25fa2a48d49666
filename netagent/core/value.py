"""Frozen value classes without `dataclasses` (pure).

`import dataclasses` pulls in `inspect` (about 11 ms here) and each `@dataclass` compiles its
methods with exec() at import (about 1 ms each); the one-shot audit imports some twenty value
classes, so that was a third of its cost (issue 8). A subclass lists its fields in `__slots__`
(in order) and writes a plain `__init__` that stores them with `_set`; this base gives it what
`@dataclass(frozen=True)` gave: equality and hashing by fields, a field-wise repr, `replace()`,
copy and pickle, and assignment that raises. `__slots__` is the field order: never sort it
(ruff's RUF023 is off for these modules). A slot whose name starts with `_` is no field: a cache
of something derived from the fields (as functools.cached_property), set with `_set`.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs 3 ms to import; mypy reads this name as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _V = TypeVar("_V", bound="Value")

_set = object.__setattr__


class FrozenInstanceError(AttributeError):
    """Raised on assignment to a field of a value (as dataclasses.FrozenInstanceError)."""


class Value:
    """Base of netagent's frozen value classes; fields are the subclass's `__slots__`."""

    __slots__: tuple[str, ...] = ()
    _fields: tuple[str, ...] = ()  # every field, the base classes' first (set per subclass)

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        fields: list[str] = []
        for klass in reversed(cls.__mro__):
            slots = klass.__dict__.get("__slots__", ())
            fields += [name for name in slots if name not in fields and not name.startswith("_")]
        cls._fields = tuple(fields)

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__ or not isinstance(other, Value):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, {name: getattr(self, name) for name in self._fields}))

    def replace(self: _V, **changes: Any) -> _V:
        """Return a copy with some fields changed (as dataclasses.replace)."""
        fields = {name: getattr(self, name) for name in self._fields}
        fields.update(changes)
        return self.__class__(**fields)


def _rebuild(cls: type[_V], fields: dict[str, Any]) -> _V:
    """Make a value again from its fields (copy and pickle)."""
    return cls(**fields)
