"""The console script turns the cyclic GC off for one-shot commands only (issue 8)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import gc, sys
import netagent.cli
netagent.cli.main = lambda: print("gc enabled:", gc.isenabled()) or 0
from netagent.entry import main
sys.argv = ["netagent", *sys.argv[1:]]
raise SystemExit(main())
"""


@pytest.mark.parametrize(
    ("argv", "enabled"),
    [
        (["audit", "--no-imds"], False),
        (["--log-level", "debug", "apply", "--dry-run"], False),
        (["daemon", "--no-imds"], True),  # runs for weeks: it keeps its collector
        (["--help"], True),  # command not certain: the default
        (["audti"], True),
    ],
)
def test_gc_is_off_only_for_one_shot_commands(argv: list[str], enabled: bool) -> None:
    out = subprocess.run([sys.executable, "-c", CODE, *argv], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"gc enabled: {enabled}"
