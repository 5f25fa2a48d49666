"""Refuse a one-shot write that a running daemon would undo at once (issue 15).

`restore` while the daemon runs used to exit 0, and the daemon healed the values back within
seconds; `apply` of another profile fought the daemon the same way. Both now stop with exit 4,
naming the daemon's pid and the way out, unless `--force`. An `apply` of the daemon's own
profile agrees with the daemon and goes ahead.
"""

from __future__ import annotations

import os

from netagent.host.daemonlock import STOP_HINT, DaemonRunning, running_daemon


def refuse_while_daemon_runs(state_dir: str, command: str, force: bool, profile_path: str | None = None) -> None:
    """Raise when a daemon runs on `state_dir` and would undo `command`; `profile_path` is apply's profile.

    Raises:
        DaemonRunning: a daemon runs there, and neither --force nor the same profile lets it pass.
        StateError: the daemon lock exists but cannot be read.
    """
    if force:
        return
    holder = running_daemon(state_dir)
    if holder is None:
        return
    if profile_path is not None and holder.profile_path is not None and _same_file(profile_path, holder.profile_path):
        return
    undo = "put the values back" if command == "restore" else "heal back to its own profile"
    raise DaemonRunning(
        f"{command}: {holder.describe()} runs on {state_dir} and would {undo} within seconds;"
        f" stop it first ({STOP_HINT}), or pass --force",
        holder,
    )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)
