"""Logging: structlog, imported only when an event is actually emitted.

`import structlog` costs about 55 ms here against a 10 ms interpreter start (issue 8), so a
one-shot audit, whose events are below the default level, must not pay for it. Modules call
`log = logs.get_logger()` at import time and log as with structlog; the level check is a dict
lookup, and structlog is imported and configured on the first event that passes it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # `import typing` costs 3 ms; mypy reads this name as typing.TYPE_CHECKING
if TYPE_CHECKING:
    from typing import Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_config = {"level": LEVELS["warning"], "json": False}
_backend: Any = None


def configure(level: str = "warning", json: bool | None = None) -> None:
    """Set the level and renderer; JSON when asked, else JSON unless stderr is a terminal."""
    global _backend
    _config["level"] = LEVELS[level]
    _config["json"] = (not sys.stderr.isatty()) if json is None else json
    _backend = None  # reconfigure structlog on the next emitted event


def _structlog() -> Any:
    global _backend
    if _backend is None:
        import structlog

        renderer: Any = (
            structlog.processors.JSONRenderer(sort_keys=False)
            if _config["json"]
            else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        )
        processors: list[Any] = [
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ]
        if _config["json"]:
            processors.append(structlog.processors.dict_tracebacks)
        processors.append(renderer)
        structlog.configure(
            processors=processors,
            wrapper_class=structlog.make_filtering_bound_logger(int(_config["level"])),
            # Look sys.stderr up per logger, not once: tests and daemons may replace it.
            logger_factory=lambda *args: structlog.PrintLogger(sys.stderr),
            cache_logger_on_first_use=False,
        )
        _backend = structlog
    return _backend


class Logger:
    """A structlog-shaped logger that filters by level before importing structlog."""

    __slots__ = ("_context",)

    def __init__(self, context: dict[str, Any] | None = None) -> None:
        self._context = context or {}

    def bind(self, **kw: Any) -> Logger:
        """Return a logger that adds these key/values to every event."""
        return Logger({**self._context, **kw})

    def _emit(self, level: str, event: str, kw: dict[str, Any]) -> None:
        if LEVELS[level] < int(_config["level"]):
            return
        logger = _structlog().get_logger().bind(**self._context)
        getattr(logger, level)(event, **kw)

    def debug(self, event: str, **kw: Any) -> None:
        """Log a per-item read or detail."""
        self._emit("debug", event, kw)

    def info(self, event: str, **kw: Any) -> None:
        """Log a fact: a write, a finished unit of work."""
        self._emit("info", event, kw)

    def warning(self, event: str, **kw: Any) -> None:
        """Log something degraded but working."""
        self._emit("warning", event, kw)

    def error(self, event: str, **kw: Any) -> None:
        """Log a failure."""
        self._emit("error", event, kw)


def get_logger(**context: Any) -> Logger:
    """Return a logger bound to some context."""
    return Logger(context)
