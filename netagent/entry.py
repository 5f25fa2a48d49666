"""The `netagent` console script and `python -m netagent`: the CLI, with the cyclic GC off for
one-shot commands.

A one-shot audit allocates its whole life in one go (imports, then a few thousand checks) and
frees it at exit, so the cyclic garbage collector only re-scans live objects: here it cost a
256-interface audit about 15 ms of ~100 (issue 8). Reference counting still frees everything
that is not a cycle. The daemon runs for weeks and gets its collector back before it starts;
so does any command line whose command is not certain (command_of() is None). One-shot
commands also skip the interpreter's teardown (_exit_without_teardown).
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> int:
    """Run the CLI on sys.argv; return its exit code."""
    gc.disable()  # before importing the CLI: imports are most of a one-shot command's allocations
    from netagent.cli import command_of
    from netagent.cli import main as cli_main

    command = command_of(sys.argv[1:])
    if command in (None, "daemon"):
        gc.enable()
    code = cli_main()
    if command in READ_ONLY:
        _exit_without_teardown(code)
    return code


# Commands that change nothing on the host: they may end without the interpreter's teardown.
# apply, restore and persist keep it (locks, pyroute2's socket, files to close in order).
READ_ONLY = ("validate", "audit", "plan", "status", "fleet-report")


def _exit_without_teardown(code: int) -> None:
    """End a one-shot command now, with its exit code, skipping the interpreter's teardown.

    At exit CPython clears every module and runs a full collection (even with the collector
    off): some 8 ms of a one-shot audit's 40 (issue 12), spent freeing memory the kernel frees
    anyway. A read-only command has written its report (atomically, fsynced) before returning,
    runs no threads and registers no atexit handler; its streams are flushed here. Where a flush
    fails (a closed pipe) this returns, and the normal exit reports it as it always did.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
