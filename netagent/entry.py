"""The `netagent` console script and `python -m netagent`: the CLI, with the cyclic GC off for
one-shot commands.

A one-shot audit allocates its whole life in one go (imports, then a few thousand checks) and
frees it at exit, so the cyclic garbage collector only re-scans live objects: here it cost a
256-interface audit about 15 ms of ~100 (issue 8). Reference counting still frees everything
that is not a cycle. The daemon runs for weeks and gets its collector back before it starts;
so does any command line whose command is not certain (command_of() is None).
"""

from __future__ import annotations

import gc
import sys


def main() -> int:
    """Run the CLI on sys.argv; return its exit code."""
    gc.disable()  # before importing the CLI: imports are most of a one-shot command's allocations
    from netagent.cli import command_of
    from netagent.cli import main as cli_main

    if command_of(sys.argv[1:]) in (None, "daemon"):
        gc.enable()
    return cli_main()
