"""The daemon's Prometheus textfile: the audit metrics plus the daemon's own health (pure).

The daemon (`--textfile-dir DIR`) writes `DIR/netagent.prom` atomically at every resync and
heal; node_exporter's textfile collector serves it, and adds `node_textfile_mtime_seconds`, the
file's age, which is how a stalled or dead daemon shows (fleet/prometheus/netagent.rules.yml).

  netagent_daemon_running                          1 while the daemon runs; 0 in its last write
  netagent_daemon_start_time_seconds               when the daemon started (unix seconds)
  netagent_daemon_last_resync_timestamp_seconds    when it last re-read everything
  netagent_daemon_resyncs_total                    full re-reads since start
  netagent_daemon_heals_total{check}               settings put back, per check
  netagent_daemon_heal_failures_total{check}       heals the kernel refused (rolled back)
  netagent_daemon_contested{check}                 1 while something else keeps changing it
  netagent_daemon_contested_checks                 how many checks are contested
  netagent_daemon_reload_failed                    1 when the last SIGHUP reload failed (old profile kept)
  netagent_daemon_reload_failures_total            failed reloads since start
  netagent_daemon_netlink_overruns_total           link-event overruns (each forces a resync)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from netagent.core.model import Report
from netagent.core.reports import prometheus


def unix_seconds(iso: object) -> float | None:
    """Return an ISO-8601 time with an offset as unix seconds; None for "" or anything else."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        when = datetime.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return when.timestamp() if when.tzinfo is not None else None


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    """A family whose samples are (label text, value); an empty family still says its HELP/TYPE."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {_number(value)}" for labels, value in samples]
    return lines


def _check_label(check_id: str) -> str:
    return '{check="' + prometheus.escape_label(check_id) + '"}'


def render_health(status: Mapping[str, Any], reload_failures: int, reload_failed: bool) -> str:
    """Render the daemon's health from its status document (healing.DaemonStats.to_doc)."""
    lines: list[str] = []
    lines += _family(
        "netagent_daemon_running",
        "gauge",
        "1 while the netagent daemon runs; 0 in the file it leaves when it stops.",
        [("", int(bool(status.get("running"))))],
    )
    for name, key, help_text in (
        ("netagent_daemon_start_time_seconds", "started_at", "When the daemon started, in unix seconds."),
        (
            "netagent_daemon_last_resync_timestamp_seconds",
            "last_resync_at",
            "When the daemon last re-read every setting, in unix seconds.",
        ),
    ):
        when = unix_seconds(status.get(key))
        if when is not None:
            lines += _family(name, "gauge", help_text, [("", when)])
    lines += _family(
        "netagent_daemon_resyncs_total", "counter", "Full re-reads since start.", [("", status.get("resyncs", 0))]
    )
    heals = status.get("heals") or {}
    lines += _family(
        "netagent_daemon_heals_total",
        "counter",
        "Settings the daemon put back to the profile's value, per check.",
        [(_check_label(c), rec.get("count", 0)) for c, rec in sorted(heals.items())],
    )
    failures = status.get("failures") or {}
    lines += _family(
        "netagent_daemon_heal_failures_total",
        "counter",
        "Heals the kernel refused (rolled back), per check.",
        [(_check_label(c), n) for c, n in sorted(failures.items())],
    )
    contested = list(status.get("contested") or ())
    lines += _family(
        "netagent_daemon_contested",
        "gauge",
        "1 while something else keeps changing this setting back (the daemon backs off).",
        [(_check_label(c), 1) for c in sorted(contested)],
    )
    lines += _family("netagent_daemon_contested_checks", "gauge", "Number of contested checks.", [("", len(contested))])
    lines += _family(
        "netagent_daemon_reload_failed",
        "gauge",
        "1 when the last SIGHUP reload failed and the daemon kept the old profile, else 0.",
        [("", int(reload_failed))],
    )
    lines += _family(
        "netagent_daemon_reload_failures_total",
        "counter",
        "Failed SIGHUP reloads since start.",
        [("", reload_failures)],
    )
    lines += _family(
        "netagent_daemon_netlink_overruns_total",
        "counter",
        "Link-event socket overruns since start; each forces a resync.",
        [("", status.get("netlink_overruns", 0))],
    )
    return "\n".join(lines) + "\n"


def render_textfile(report: Report | None, status: Mapping[str, Any], reload_failures: int, reload_failed: bool) -> str:
    """Render the whole textfile: the last audit's metrics (when there is one), then the health."""
    audit = prometheus.render(report) if report is not None else ""
    return audit + render_health(status, reload_failures, reload_failed)
