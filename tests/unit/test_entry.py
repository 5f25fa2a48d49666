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


EXIT_CODE = """
import atexit, sys
import netagent.cli
def fake_main():
    sys.stdout.write("x" * 1_000_000 + "\\n")  # more than any pipe buffer: must all arrive
    print("to stderr", file=sys.stderr)
    return 3
netagent.cli.main = fake_main
atexit.register(lambda: print("teardown ran", file=sys.stderr))
from netagent.entry import main
sys.argv = ["netagent", *sys.argv[1:]]
raise SystemExit(main())
"""


@pytest.mark.parametrize(
    ("argv", "teardown"),
    [
        (["audit", "--no-imds"], False),  # read-only: ends without the interpreter's teardown
        (["status"], False),
        (["apply"], True),  # writes the host: the full exit, atexit handlers included
        (["daemon"], True),
        (["--help"], True),
    ],
)
def test_one_shot_exit_keeps_output_and_code(argv: list[str], teardown: bool) -> None:
    proc = subprocess.run([sys.executable, "-c", EXIT_CODE, *argv], capture_output=True, text=True)
    assert proc.returncode == 3
    assert proc.stdout == "x" * 1_000_000 + "\n"
    assert proc.stderr.splitlines()[0] == "to stderr"
    assert ("teardown ran" in proc.stderr) is teardown
