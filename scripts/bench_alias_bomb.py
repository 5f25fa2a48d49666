#!/usr/bin/env python3
"""Time and memory of `netagent validate` on a 346-byte nine-deep alias bomb (issue 15).

Prints the median wall time and peak RSS of five runs each, with the packaged default profile
measured in the same run as the baseline. Before the node budget the bomb ran for minutes and
gigabytes (9**9 nodes expanded); it now exits 2 after counting the parser's events.

    .venv/bin/python scripts/bench_alias_bomb.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = 5
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(os.path.dirname(HERE), "profiles", "ec2-default.yaml")


def bomb(depth: int = 9, width: int = 9) -> str:
    """The billion-laughs shape: each level a list of `width` aliases to the level below."""
    names = "abcdefghij"
    lines = ["name: bomb", "a: &a [" + ",".join(["lol"] * width) + "]"]
    for level in range(1, depth):
        lines.append(f"{names[level]}: &{names[level]} [" + ",".join([f"*{names[level - 1]}"] * width) + "]")
    lines.append(f"sysctl: *{names[depth - 1]}")
    return "\n".join(lines) + "\n"


def measure(path: str) -> tuple[float, float, int]:
    """Run validate once; return (seconds, peak RSS in MB, exit code)."""
    argv = [sys.executable, "-m", "netagent", "validate", "--insecure-profile", path]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(bomb())
    try:
        for label, path in (("default profile", DEFAULT), (f"alias bomb ({os.path.getsize(f.name)} bytes)", f.name)):
            runs = [measure(path) for _ in range(RUNS)]
            secs = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            codes = sorted({r[2] for r in runs})
            print(f"{label:28} exit {codes}  median {secs * 1000:6.0f} ms  peak RSS {rss:5.1f} MB")
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    main()
