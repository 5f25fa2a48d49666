"""The daemon's node_exporter textfile (`--textfile-dir`): keep the latest checks, write `netagent.prom`.

The daemon hands over what it already read (the resync's checks, each heal's re-read check);
this class adds the ENA counters, renders (netagent/core/daemon_metrics.py) and replaces the
file atomically, so the textfile collector never serves half a file. A write that fails is a
warning: metrics must never stop the healing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from netagent.app import logs
from netagent.core.daemon_metrics import render_textfile
from netagent.core.model import AuditContext, Check, HostState, Profile, Report
from netagent.host.files import OutputError, write_atomic
from netagent.host.health import read_ena_health

log = logs.get_logger()

# node_exporter reads only `*.prom` (its textfile collector); the temp file's name does not end so.
TEXTFILE_NAME = "netagent.prom"


class TextfileMetrics:
    """The latest checks of the daemon and the file they are written to."""

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, TEXTFILE_NAME)
        self.checks: dict[str, Check] = {}
        self.host: HostState | None = None
        self.reload_failures = 0
        self.reload_failed = False

    def audited(self, result: tuple[HostState, Sequence[Check]]) -> None:
        """Replace every check with a full audit's."""
        self.host, checks = result
        self.checks = {c.id: c for c in checks}

    def checked(self, check: Check) -> None:
        """Replace one check with a fresh read of it (after a heal)."""
        self.checks[check.id] = check

    def reloaded(self, ok: bool) -> None:
        """Record the outcome of a SIGHUP reload."""
        self.reload_failed = not ok
        self.reload_failures += 0 if ok else 1

    def write(self, profile: Profile, ctx: AuditContext, status: Mapping[str, Any]) -> None:
        """Render the latest checks, the ENA counters and the daemon's health into the textfile."""
        report = None
        if self.host is not None:
            ena = read_ena_health(self.host.links.values())
            report = Report(profile, {}, tuple(self.checks.values()), ena=ena, context=ctx)
        text = render_textfile(report, status, self.reload_failures, self.reload_failed)
        try:
            write_atomic(self.path, text)
        except OutputError as exc:
            log.warning("textfile_write_failed", path=self.path, why=str(exc))
