"""`netagent fleet-report`: read many hosts' JSON audits from files and directories, merge, render.

The reading is here; the deciding is in netagent/core/fleet.py. A file that cannot be read, is
not JSON, or is not a netagent audit is skipped with the reason: one bad object in a bucket
must not hide the rest of the fleet.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterator, Sequence

from netagent.core import fleet
from netagent.core.errors import UsageError

FORMATS = ("text", "json", "html")
# Collected audits are small; a file far larger than any audit is not one (and is not read whole).
MAX_REPORT_BYTES = 16 * 1024 * 1024


def list_sources(paths: Sequence[str], unlisted: list[fleet.Skipped] | None = None) -> Iterator[str]:
    """Yield the files to read: named files as given, and every `*.json` under named directories.
    A directory that cannot be listed is added to `unlisted`, with the reason.

    Raises:
        UsageError: a named path does not exist.
    """

    def walk_error(exc: OSError) -> None:
        if unlisted is not None:
            unlisted.append(fleet.Skipped(str(exc.filename), f"cannot list: {exc.strerror or exc}"))

    for path in paths:
        if os.path.isdir(path):
            for top, dirs, files in os.walk(path, onerror=walk_error):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".json") and not name.startswith("."):
                        yield os.path.join(top, name)
        elif os.path.exists(path):
            yield path
        else:
            raise UsageError(f"{path}: no such file or directory")


def read_audit(path: str) -> fleet.HostAudit | fleet.Skipped:
    """Read one file; return the host's audit, or why the file is skipped."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_size > MAX_REPORT_BYTES:
                return fleet.Skipped(path, f"larger than {MAX_REPORT_BYTES} bytes: not an audit")
            # read() sized by fstat; read(MAX + 1) would allocate 16 MB per file (bench: 3x the floor)
            data = f.read()
    except OSError as exc:
        return fleet.Skipped(path, f"cannot read: {exc.strerror or exc}")
    mtime = st.st_mtime
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return fleet.Skipped(path, f"not UTF-8 at byte offset {exc.start}")
    except json.JSONDecodeError as exc:
        return fleet.Skipped(path, f"not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")
    except RecursionError:
        return fleet.Skipped(path, "not JSON this reader accepts: nested too deeply")
    try:
        return fleet.parse_audit(doc, path, mtime)
    except fleet.NotAnAudit as exc:
        return fleet.Skipped(path, str(exc))


def collect(paths: Sequence[str]) -> tuple[fleet.FleetSummary, int]:
    """Read every source and merge it; return the summary and the number of files read.

    Raises:
        UsageError: a named path does not exist.
    """
    hosts: list[fleet.HostAudit] = []
    skipped: list[fleet.Skipped] = []
    files = 0
    for path in list_sources(paths, skipped):
        files += 1
        got = read_audit(path)
        if isinstance(got, fleet.Skipped):
            skipped.append(got)
        else:
            hosts.append(got)
    return fleet.merge(hosts, skipped), files


def render(summary: fleet.FleetSummary, fmt: str, files: int, top: int) -> str:
    """Render the summary in one of FORMATS."""
    if fmt == "json":
        return json.dumps(fleet.to_dict(summary), indent=2, ensure_ascii=False) + "\n"
    if fmt == "html":
        from netagent.core.fleet_html import render_html

        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        return render_html(summary, now, files)
    return fleet.render_text(summary, top=top)
