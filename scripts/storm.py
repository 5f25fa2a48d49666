#!/usr/bin/env python3
"""Storm test for the daemon (issue 9, item 7): link flaps and MTU changes by the thousand.

Builds a namespace lab of N veth pairs, starts `netagent daemon` in it, fires EVENTS link
changes (MTU changes and down/up flaps) in `ip -batch` chunks, and pauses the daemon with
SIGSTOP for PAUSE seconds in the middle so the kernel overruns its netlink socket. Then checks
what netagent promises:

  - the daemon stays up and logs an overrun and a full resync;
  - the lab is compliant (every MTU back at the profile's value) within 5 s of the end;
  - RSS grows by less than 20 MiB;
  - no setting is healed more than once per second.

    sudo scripts/storm.py                          # the full run: 256 veths, 10,000 events
    sudo scripts/storm.py --veths 32 --events 2000 # the short run CI uses
    sudo scripts/storm.py --json out.json

Exit 0 when every promise held, 1 when one did not. Everything it creates is deleted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

PROFILE = 'name: storm\ninterfaces:\n  - match: "lab*"\n    mtu: 9001\n'
COMPLIANT_WITHIN_S = 5.0  # issue 9, item 7
RSS_GROWTH_MAX = 20 * 2**20
HEAL_SPACING_MIN_S = 0.95  # "no setting healed more than once per second", with clock slack


def run(*cmd: str, stdin: str | None = None) -> str:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout


def build_lab(ns: str, veths: int) -> list[str]:
    run("ip", "netns", "add", ns)
    names = [f"lab{i}" for i in range(veths)]
    q = "numtxqueues 8 numrxqueues 8"
    batch = "".join(f"link add {n} {q} type veth peer name p{n} {q}\n" for n in names)
    batch += "".join(f"link set {n} up\nlink set p{n} up\n" for n in names)
    run("ip", "-n", ns, "-batch", "-", stdin=batch)
    return names


def mtus(ns: str) -> dict[str, int]:
    return {link["ifname"]: link["mtu"] for link in json.loads(run("ip", "-n", ns, "-j", "link", "show"))}


def events(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            out.append(doc)
    return out


def wait_for(pred: Any, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return bool(pred())


def storm_batches(names: list[str], count: int) -> list[str]:
    """Return `ip -batch` texts: MTU changes and down/up flaps, spread over the interfaces."""
    lines = []
    for k in range(count):
        name = names[k % len(names)]
        lines.append(f"link set {name} mtu {1400 + k % 97}" if k % 4 else f"link set {name} down")
        if k % 4 == 0:
            lines.append(f"link set {name} up")
    half = len(lines) // 2
    return ["\n".join(lines[:half]) + "\n", "\n".join(lines[half:]) + "\n"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--veths", type=int, default=256)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--pause-s", type=float, default=2.0, help="SIGSTOP the daemon this long mid-storm")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args(argv)

    ns = f"na-storm-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="netagent-storm-"))
    profile, log_path = work / "storm.yaml", work / "daemon.log"
    profile.write_text(PROFILE)
    daemon: subprocess.Popen[bytes] | None = None
    results: dict[str, Any] = {"veths": args.veths, "events": args.events, "pause_s": args.pause_s}
    try:
        names = build_lab(ns, args.veths)
        with open(log_path, "wb") as log:
            cmd = ["ip", "netns", "exec", ns, sys.executable, "-m", "netagent", "daemon", "--profile", str(profile)]
            cmd += ["--state-dir", str(work / "state"), "--log-format", "json", "--log-level", "debug", "--no-imds"]
            daemon = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: any(e.get("event") == "daemon_started" for e in events(log_path)), 120):
            raise SystemExit(f"daemon did not start: {log_path.read_text()[-2000:]}")
        pid = next(e["pid"] for e in events(log_path) if e.get("event") == "daemon_started")
        proc = psutil.Process(pid)
        rss_before = proc.memory_info().rss
        first, second = storm_batches(names, args.events)
        began = time.monotonic()
        run("ip", "-n", ns, "-batch", "-", stdin=first)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(args.pause_s / 2)
        run("ip", "-n", ns, "-force", "-batch", "-", stdin=second)  # changes while the daemon is paused
        time.sleep(args.pause_s / 2)
        proc.send_signal(signal.SIGCONT)
        ended = time.monotonic()
        compliant = wait_for(lambda: all(mtu == 9001 for n, mtu in mtus(ns).items() if n in names), 30)
        results["storm_s"] = round(ended - began, 2)
        results["compliant_after_s"] = round(time.monotonic() - ended, 2) if compliant else None
        time.sleep(1.5)  # let deferred heals run before counting
        results["rss_before_mib"] = round(rss_before / 2**20, 1)
        results["rss_after_mib"] = round(proc.memory_info().rss / 2**20, 1)
        log_events = events(log_path)
        results["overruns"] = sum(1 for e in log_events if e.get("event") == "netlink_overrun")
        results["resyncs"] = sum(1 for e in log_events if e.get("event") == "resync_finished")
        heals: dict[str, list[float]] = {}
        for e in log_events:
            if e.get("event") == "setting_healed":
                stamp = datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
                heals.setdefault(e["check"], []).append(stamp)
        gaps = [b - a for stamps in heals.values() for a, b in zip(stamps, stamps[1:])]
        results["heals"] = sum(len(v) for v in heals.values())
        results["min_heal_gap_s"] = round(min(gaps), 3) if gaps else None
        results["daemon_alive"] = daemon.poll() is None
        checks = {
            "daemon stayed up": results["daemon_alive"],
            "overrun logged and resynced": results["overruns"] >= 1 and results["resyncs"] >= 1,
            f"compliant within {COMPLIANT_WITHIN_S:g} s": compliant
            and results["compliant_after_s"] <= COMPLIANT_WITHIN_S,
            "RSS grew < 20 MiB": proc.memory_info().rss - rss_before < RSS_GROWTH_MAX,
            "no setting healed twice within a second": all(g >= HEAL_SPACING_MIN_S for g in gaps),
        }
        results["checks"] = checks
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    for key in ("veths", "events", "storm_s", "compliant_after_s", "rss_before_mib", "rss_after_mib",
                "overruns", "resyncs", "heals", "min_heal_gap_s"):  # fmt: skip
        print(f"{key:>18}: {results.get(key)}")
    for name, ok in results["checks"].items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(results["checks"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
