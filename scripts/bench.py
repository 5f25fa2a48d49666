#!/usr/bin/env python3
"""Benchmarks of netagent (issue 8): audit cost against the floor and the shell, daemon heal
latency, footprint and start-up, in throwaway network namespaces.

    sudo scripts/bench                      # everything: 1, 64, 256, 1024 interfaces (~5 min)
    sudo scripts/bench --quick              # about one minute
    sudo scripts/bench --smoke              # 1 and 8 interfaces, a few runs: CI, no goals
    sudo scripts/bench --json out.json --python /opt/netagent/bin/python

Each lab is a netns `nab-<pid>-<n>` holding N veth interfaces lab0..labN-1 (8 tx/rx queues,
MTU 9000, the profile's sysctls set); their peers live in a second netns `<lab>-p`, so the
audited namespace holds exactly N interfaces and lo. Both are deleted at the end, after an
error or Ctrl-C too. Nothing touches the machine's own interfaces or initial-namespace sysctls.

Timing runs inside the lab (`ip netns exec` once, for a runner that spawns every command), so
no command pays for entering the namespace. floor.py, `netagent audit` and the shell audit run
interleaved (ABC, BCA, CAB, ...) so machine noise hits all of them alike; the table shows
medians, and ratios are medians of the ratios paired within one round. Never read one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# The yardstick lives beside the repository: /work/shared here, ../shared in a CI checkout.
FLOOR = os.path.join(os.path.dirname(REPO), "shared", "bench", "floor.py")
SHELL_AUDIT = os.path.join(HERE, "shell_audit.sh")
# Issue 13: the floor also reads rings and coalescing per interface; this wraps the shared floor.
FLOOR_ENA = os.path.join(HERE, "floor_ena.py")

GLOB = "lab*"
DRIVER = "veth"
MTU = 9000  # the profile's MTU; the lab starts compliant, the heal test drifts it to DRIFT_MTU
DRIFT_MTU = 1500
QUEUES = 8
SYSCTLS = {  # per-netns keys, set in the lab before it is measured
    "net.ipv4.tcp_rmem": "4096 131072 6291456",
    "net.ipv4.tcp_wmem": "4096 16384 4194304",
    "net.ipv4.tcp_mtu_probing": "1",
    "net.ipv4.tcp_slow_start_after_idle": "0",
}
# Issue 13: a bounded sysctl (per netns; 4096 by default, above the bound: ok). The shell audit
# does not read it (an operator's script has no bounds); the floor and the audit do.
BOUNDS = {"net.core.somaxconn": 1024}
PROFILE = (
    f"""\
name: bench
description: scripts/bench (issues 8, 13) - driver, MTU, channels, rings, coalescing, sysctls and a bound
interfaces:
  - match: "{GLOB}"
    driver: {DRIVER}
    mtu: {MTU}
    channels: {{rx: {QUEUES}, tx: {QUEUES}}}
    rings: {{rx: {{at_least: 1024}}, tx: max}}
    coalesce: {{adaptive_rx: false, rx_usecs: 0}}
sysctl:
"""
    + "".join(f'  {k}: "{v}"\n' for k, v in SYSCTLS.items())
    + "".join(f"  {k}: {{at_least: {v}}}\n" for k, v in BOUNDS.items())
)
# Checks per interface: driver, mtu, channels ok; rings and coalescing unsupported on veth (EOPNOTSUPP).
OK_PER_IF, UNSUPPORTED_PER_IF = 3, 2

# Goals of issue 8: (description, key in the results, comparison, limit).
GOALS = {
    "audit/floor at 1": 1.5,  # issue 13: 1.5 at 1 and 256 interfaces, rings and coalescing in the profile
    "audit/floor at 256": 1.5,
    "shell/audit at 256": 18.0,
    "heal median ms": 10.0,
    "heal p99 ms": 100.0,
    "rss MB": 45.0,
    "rss growth %": 10.0,
    "idle cpu %": 0.5,
}

MODES = {
    # sizes, rounds per size (shell skipped above shell_max), heal events, link events, idle seconds, start-ups
    "full": {"sizes": (1, 64, 256, 1024), "rounds": 15, "rounds_1024": 7, "shell_max": 1024, "heal": 50,
             "heal_at": 256, "events": 10_000, "idle_s": 60.0, "starts": 3},
    "quick": {"sizes": (1, 64, 256, 1024), "rounds": 5, "rounds_1024": 3, "shell_max": 256, "heal": 50,
              "heal_at": 256, "events": 10_000, "idle_s": 10.0, "starts": 1},
    "smoke": {"sizes": (1, 8), "rounds": 2, "rounds_1024": 1, "shell_max": 8, "heal": 3,
              "heal_at": 8, "events": 50, "idle_s": 1.0, "starts": 1},
}  # fmt: skip


# ---------------------------------------------------------------- cleanup


class Cleanup:
    """Everything this run created: namespaces, daemons, temp dirs; `run()` undoes them all."""

    def __init__(self) -> None:
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        self.dirs: list[str] = []

    def run(self) -> None:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        try:
            for proc in self.processes:
                stop(proc)
            for name in reversed(self.namespaces):
                subprocess.run(["ip", "netns", "del", name], capture_output=True)
            for d in self.dirs:
                shutil.rmtree(d, ignore_errors=True)
            self.namespaces, self.processes, self.dirs = [], [], []
        finally:
            signal.signal(signal.SIGINT, old)


CLEANUP = Cleanup()


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    """Stop a daemon with SIGTERM, then SIGKILL after timeout_s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def remove_stale_labs() -> None:
    """Delete labs left by a bench run that was killed (its pid is gone)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"(nab-(\d+)-\d+(?:-p)?)\b", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            subprocess.run(["ip", "netns", "del", m.group(1)], capture_output=True)


# ---------------------------------------------------------------- labs

_lab_counter = 0


def make_lab(size: int) -> str:
    """Create a netns with `size` veth interfaces matching the profile; return its name."""
    global _lab_counter
    name = f"nab-{os.getpid()}-{_lab_counter}"
    _lab_counter += 1
    peer = f"{name}-p"
    for ns in (name, peer):
        subprocess.run(["ip", "netns", "add", ns], check=True)
        CLEANUP.namespaces.append(ns)
    q = f"numtxqueues {QUEUES} numrxqueues {QUEUES}"
    lines = [f"link add lab{i} mtu {MTU} {q} type veth peer name p{i} netns {peer} {q}" for i in range(size)]
    lines.append("link set lo up")
    subprocess.run(["ip", "-n", name, "-batch", "-"], input="\n".join(lines) + "\n", text=True, check=True)
    sysctl = ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in SYSCTLS.items())]
    subprocess.run(["ip", "netns", "exec", name, *sysctl], check=True)
    return name


def in_lab(lab: str, *cmd: str) -> list[str]:
    return ["ip", "netns", "exec", lab, *cmd]


# ---------------------------------------------------------------- runner (inside a lab)


def runner_time(spec: dict[str, Any]) -> dict[str, Any]:
    """Run each command `rounds` times, rotating the order every round; return the seconds."""
    commands: dict[str, list[str]] = spec["commands"]
    names = list(commands)
    times: dict[str, list[float]] = {n: [] for n in names}
    codes: dict[str, list[int]] = {n: [] for n in names}
    env = dict(os.environ, **spec.get("env", {}))
    for n in spec.get("unset", []):
        env.pop(n, None)
    for n in names:  # warm the page cache and the bytecode caches; not timed
        subprocess.run(commands[n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for r in range(spec["rounds"]):
        order = names[r % len(names) :] + names[: r % len(names)]
        for n in order:
            t0 = time.perf_counter()
            rc = subprocess.run(commands[n], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env).returncode
            times[n].append(time.perf_counter() - t0)
            codes[n].append(rc)
    return {"times": times, "codes": codes}


# rtnetlink (include/uapi/linux/rtnetlink.h, if_link.h): link notifications and their attributes.
RTMGRP_LINK = 1
RTM_NEWLINK = 16
IFLA_IFNAME = 3
IFLA_MTU = 4
_NLMSG = struct.Struct("=IHHII")
_RTA = struct.Struct("=HH")


def link_events(data: bytes) -> list[tuple[str | None, int | None]]:
    """Return (ifname, mtu) of every RTM_NEWLINK in a netlink datagram."""
    out = []
    off = 0
    while off + _NLMSG.size <= len(data):
        length, mtype = _NLMSG.unpack_from(data, off)[:2]
        if length < _NLMSG.size:
            break
        if mtype == RTM_NEWLINK:
            name: str | None = None
            mtu: int | None = None
            a, end = off + _NLMSG.size + 16, off + length  # 16: struct ifinfomsg
            while a + 4 <= end:
                alen, atype = _RTA.unpack_from(data, a)
                if alen < 4:
                    break
                if atype == IFLA_IFNAME:
                    name = data[a + 4 : a + alen].split(b"\0", 1)[0].decode()
                elif atype == IFLA_MTU:
                    mtu = struct.unpack_from("=I", data, a + 4)[0]
                a += (alen + 3) & ~3
            out.append((name, mtu))
        off += (length + 3) & ~3
    return out


def runner_heal(spec: dict[str, Any]) -> dict[str, Any]:
    """Drift each interface's MTU with `ip link set`, and time until the kernel announces the
    profile's MTU again; t0 is the kernel's announcement of the drift, both seen on one netlink
    socket, so the clock is the kernel's event order, not the `ip` command's start-up."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)  # NETLINK_ROUTE
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind((0, RTMGRP_LINK))
    samples, failures = [], []
    for ifname in spec["ifnames"]:
        t_cmd = time.perf_counter()
        proc = subprocess.Popen(["ip", "link", "set", "dev", ifname, "mtu", str(spec["drift"])])
        t0 = t1 = None
        deadline = t_cmd + spec["timeout_s"]
        while t1 is None and time.perf_counter() < deadline:
            sock.settimeout(max(0.001, deadline - time.perf_counter()))
            try:
                data = sock.recv(1 << 16)
            except socket.timeout:
                break
            now = time.perf_counter()
            for name, mtu in link_events(data):
                if name != ifname:
                    continue
                if t0 is None and mtu == spec["drift"]:
                    t0 = now
                elif t0 is not None and mtu == spec["want"]:
                    t1 = now
        proc.wait()
        with open(f"/sys/class/net/{ifname}/mtu") as f:
            read_back = int(f.read())
        if t0 is None or t1 is None or read_back != spec["want"]:
            failures.append(f"{ifname}: not healed within {spec['timeout_s']} s (mtu {read_back})")
        else:
            samples.append({"ifname": ifname, "heal_s": t1 - t0, "from_command_s": t1 - t_cmd})
        time.sleep(spec.get("gap_s", 0.02))
    return {"samples": samples, "failures": failures}


# ---------------------------------------------------------------- measurements


def time_in_lab(lab: str, python: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run runner_time inside the lab and return its result."""
    out = subprocess.run(
        in_lab(lab, python, os.path.abspath(__file__), "_time", json.dumps(spec)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def netagent_cmd(python: str) -> list[str]:
    """The installed console script beside the interpreter, else `python -m netagent`."""
    script = os.path.join(os.path.dirname(python), "netagent")
    return [script] if os.access(script, os.X_OK) else [python, "-m", "netagent"]


def check_audit(lab: str, python: str, profile: str, size: int) -> None:
    """Check once, outside the timing, that the audit sees the whole lab and finds it compliant."""
    out = subprocess.run(
        in_lab(lab, *netagent_cmd(python), "audit", "--no-imds", "--profile", profile, "--format", "json"),
        capture_output=True,
        text=True,
    )
    checks = json.loads(out.stdout)["checks"] if out.stdout.strip() else []
    want = OK_PER_IF * size + len(SYSCTLS) + len(BOUNDS)  # driver, mtu, channels per interface, the sysctls
    ok = [c for c in checks if c.get("status") == "ok"]
    unsupported = [c for c in checks if c.get("status") == "unsupported"]
    if out.returncode != 0 or len(ok) != want or len(unsupported) != UNSUPPORTED_PER_IF * size:
        raise SystemExit(
            f"bench: the audit of {size} interfaces found {len(ok)}/{len(checks)} ok checks, expected {want}"
            f" (exit {out.returncode}): {out.stderr.strip()[:400]}"
        )


def measure_audit(
    lab: str, size: int, python: str, profile: str, floor: str, mode: dict[str, Any], env: dict[str, Any]
) -> dict[str, Any]:
    """Time floor, audit and shell (and the bare interpreter at 1 interface) interleaved."""
    check_audit(lab, python, profile, size)
    keys = [*SYSCTLS, *BOUNDS]
    commands = {
        "floor": [python, FLOOR_ENA, floor, GLOB, *keys],
        "audit": [*netagent_cmd(python), "audit", "--no-imds", "--profile", profile],
    }
    if size <= mode["shell_max"]:
        commands["shell"] = ["bash", SHELL_AUDIT, GLOB, DRIVER, str(MTU), str(QUEUES), str(QUEUES),
                             *(f"{k}={v}" for k, v in SYSCTLS.items())]  # fmt: skip
    if size == 1:
        commands["python"] = [python, "-c", "pass"]
    rounds = mode["rounds_1024"] if size >= 1024 else mode["rounds"]
    result = time_in_lab(lab, python, {"commands": commands, "rounds": rounds, **env})
    bad = {n: sorted(set(c)) for n, c in result["codes"].items() if any(c)}
    if bad:
        raise SystemExit(f"bench: non-zero exits at {size} interfaces: {bad}")
    t = result["times"]
    summary: dict[str, Any] = {"rounds": rounds, "median_ms": {n: 1e3 * statistics.median(v) for n, v in t.items()}}
    summary["audit/floor"] = statistics.median(a / f for a, f in zip(t["audit"], t["floor"]))
    if "shell" in t:
        summary["shell/audit"] = statistics.median(s / a for s, a in zip(t["shell"], t["audit"]))
    summary["samples_s"] = t
    return summary


class Daemon:
    """`netagent daemon` in a lab, its JSON log in a file; started() waits for daemon_started."""

    def __init__(self, lab: str, python: str, profile: str, env: dict[str, Any]) -> None:
        self.state_dir = tempfile.mkdtemp(prefix=f"{lab}-state-")
        CLEANUP.dirs.append(self.state_dir)
        self.log_path = os.path.join(self.state_dir, "daemon.log")
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [*netagent_cmd(python), "daemon", "--profile", profile, "--state-dir", self.state_dir]
        cmd += ["--log-format", "json", "--no-imds"]
        penv = dict(os.environ, **env.get("env", {}))
        for n in env.get("unset", []):
            penv.pop(n, None)
        penv.pop("NOTIFY_SOCKET", None)
        self.t_spawn = time.perf_counter()
        self.proc = subprocess.Popen(in_lab(lab, *cmd), stdout=subprocess.DEVNULL, stderr=self.log, env=penv)
        CLEANUP.processes.append(self.proc)

    def started(self, timeout_s: float = 120.0) -> float:
        """Wait for the daemon_started event; return seconds since spawn.

        Raises:
            RuntimeError: the daemon exited or did not start in time.
        """
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited with {self.proc.returncode}: {self.tail()}")
            with open(self.log_path, "rb") as f:
                if b'"daemon_started"' in f.read():
                    return time.perf_counter() - self.t_spawn
            time.sleep(0.002)
        raise RuntimeError(f"the daemon did not start within {timeout_s} s: {self.tail()}")

    def tail(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read()[-600:].decode(errors="replace")

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


def daemon_available(python: str) -> bool:
    out = subprocess.run([*netagent_cmd(python), "daemon", "--help"], capture_output=True)
    return out.returncode == 0


def wait_quiet(pid: int, timeout_s: float = 180.0, window_s: float = 1.0, cpu_s: float = 0.01) -> float:
    """Wait until a process used less than cpu_s of CPU in window_s; return how long it took."""
    import psutil

    p = psutil.Process(pid)
    t0 = time.perf_counter()
    before = sum(p.cpu_times()[:2])
    while time.perf_counter() - t0 < timeout_s:
        time.sleep(window_s)
        now = sum(p.cpu_times()[:2])
        if now - before < cpu_s:
            break
        before = now
    return time.perf_counter() - t0


def measure_heal_and_footprint(
    lab: str, size: int, python: str, profile: str, mode: dict[str, Any], env: dict[str, Any]
) -> dict[str, Any]:
    """Heal latency (one event per interface), RSS before/after many link events, idle CPU."""
    import psutil

    d = Daemon(lab, python, profile, env)
    try:
        out: dict[str, Any] = {"interfaces": size, "start_s": d.started()}
        proc = psutil.Process(d.proc.pid)
        wait_quiet(d.proc.pid)
        out["rss_start_mb"] = proc.memory_info().rss / 2**20
        # Link events the profile does not care about: txqueuelen flips, round robin over the lab.
        n = mode["events"]
        lines = [f"link set dev lab{i % size} txqueuelen {1000 + (i // size) % 2 + 1}" for i in range(n)]
        t0 = time.perf_counter()
        subprocess.run(["ip", "-n", lab, "-batch", "-"], input="\n".join(lines) + "\n", text=True, check=True)
        out["events"] = n
        out["events_digest_s"] = wait_quiet(d.proc.pid) + (time.perf_counter() - t0)
        out["rss_after_events_mb"] = proc.memory_info().rss / 2**20
        out["rss_growth_pct"] = 100.0 * (out["rss_after_events_mb"] / out["rss_start_mb"] - 1.0)
        step = max(1, size // mode["heal"])
        ifnames = [f"lab{(i * step) % size}" for i in range(mode["heal"])]
        spec = {"ifnames": ifnames, "drift": DRIFT_MTU, "want": MTU, "timeout_s": 10.0}
        heal = json.loads(
            subprocess.run(
                in_lab(lab, python, os.path.abspath(__file__), "_heal", json.dumps(spec)),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        lat = [1e3 * s["heal_s"] for s in heal["samples"]]
        ranked = sorted(lat)
        out["heal"] = {
            "events": len(ifnames),
            "healed": len(lat),
            "failures": heal["failures"],
            "median_ms": statistics.median(lat) if lat else None,
            # p99 by nearest rank: with 50 events it is the slowest one.
            "p99_ms": ranked[math.ceil(0.99 * len(ranked)) - 1] if lat else None,
            "first_ms": lat[0] if lat else None,
            "max_after_first_ms": max(lat[1:]) if len(lat) > 1 else None,
            "median_from_command_ms": statistics.median(1e3 * s["from_command_s"] for s in heal["samples"])
            if lat
            else None,
            "samples_ms": lat,
        }
        wait_quiet(d.proc.pid)
        out["rss_after_heals_mb"] = proc.memory_info().rss / 2**20
        before = sum(proc.cpu_times()[:2])
        time.sleep(mode["idle_s"])
        out["idle_s"] = mode["idle_s"]
        out["idle_cpu_pct"] = 100.0 * (sum(proc.cpu_times()[:2]) - before) / mode["idle_s"]
        if d.proc.poll() is not None:
            raise RuntimeError(f"the daemon died: {d.tail()}")
        return out
    finally:
        d.stop()


def measure_startup(lab: str, python: str, profile: str, runs: int, env: dict[str, Any]) -> dict[str, Any]:
    """Spawn-to-daemon_started seconds, `runs` times, each with a fresh state directory."""
    times = []
    for _ in range(runs):
        d = Daemon(lab, python, profile, env)
        try:
            times.append(d.started())
        finally:
            d.stop()
    return {"runs": runs, "median_ms": 1e3 * statistics.median(times), "samples_s": times}


# ---------------------------------------------------------------- report


def machine(python: str, env: dict[str, Any]) -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    probe = (
        "import sys, os, netagent; print(sys.version.split()[0]); print(netagent.__file__);"
        "print(os.path.isdir(os.path.join(os.path.dirname(netagent.__file__), '__pycache__')))"
    )
    pyenv = dict(os.environ, **env.get("env", {}))
    for n in env.get("unset", []):
        pyenv.pop(n, None)
    version, where, cached = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, env=pyenv
    ).stdout.split("\n")[:3]
    writes = "PYTHONDONTWRITEBYTECODE" not in pyenv
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": version,
        "netagent": where,
        "bytecode_caches": "written and used" if writes else ("used (installed)" if cached == "True" else "none"),
        "PYTHONDONTWRITEBYTECODE": pyenv.get("PYTHONDONTWRITEBYTECODE", ""),
        "load_avg_at_start": os.getloadavg(),
    }


def _goal(name: str, value: float | None, above: bool = False) -> str:
    if value is None:
        return ""
    limit = GOALS[name]
    met = value >= limit if above else value <= limit
    return f"{'ok' if met else 'MISSED'} ({'>=' if above else '<='} {limit:g})"


def render(results: dict[str, Any], check_goals: bool) -> str:
    m = results["machine"]
    lines = [
        f"machine: {m['nproc']} CPUs, {m['cpu']}, kernel {m['kernel']}, Python {m['python']},"
        f" bytecode caches: {m['bytecode_caches']}",
        "",
    ]
    audit = results["audit"]
    sizes = sorted(audit, key=int)
    head = f"{'audit wall time, median ms':<34}" + "".join(f"{s + ' if':>11}" for s in sizes)
    lines += [head, "-" * len(head)]
    labels = {
        "python": "python -c pass",
        "floor": "floor.py + rings, coalescing",
        "audit": "netagent audit",
        "shell": "shell audit (ethtool/ip/sysctl)",
    }
    for key, label in labels.items():
        cells = [audit[s]["median_ms"].get(key) for s in sizes]
        if any(c is not None for c in cells):
            lines.append(f"{label:<34}" + "".join(f"{c:>11.1f}" if c is not None else f"{'-':>11}" for c in cells))
    for key in ("audit/floor", "shell/audit"):
        cells = [audit[s].get(key) for s in sizes]
        lines.append(f"{key + ' (paired median)':<34}" + "".join(f"{c:>11.2f}" if c else f"{'-':>11}" for c in cells))
    base = audit[sizes[0]]["median_ms"]["audit"]
    per = [(audit[s]["median_ms"]["audit"] - base) / (int(s) - int(sizes[0])) if s != sizes[0] else None for s in sizes]
    lines.append(f"{'audit ms per extra interface':<34}" + "".join(f"{c:>11.3f}" if c else f"{'-':>11}" for c in per))
    lines.append(f"{'runs per command':<34}" + "".join(f"{audit[s]['rounds']:>11}" for s in sizes))
    if check_goals:
        lines.append("")
        for size, key, name, above in (
            ("1", "audit/floor", "audit/floor at 1", False),
            ("256", "audit/floor", "audit/floor at 256", False),
            ("256", "shell/audit", "shell/audit at 256", True),
        ):
            if size in audit and audit[size].get(key):
                lines.append(f"goal {name}: {audit[size][key]:.2f} {_goal(name, audit[size][key], above)}")
    d = results.get("daemon")
    lines.append("")
    if d is None:
        lines.append("daemon: not measured (`netagent daemon` is not available in this install)")
        return "\n".join(lines) + "\n"
    if "error" in d:
        lines.append(f"daemon: FAILED: {d['error']}")
    h = d.get("heal_footprint")
    if h:
        heal = h["heal"]
        g = check_goals
        lines += [
            f"daemon at {h['interfaces']} interfaces",
            f"  heal latency, {heal['events']} MTU drifts on distinct interfaces ({heal['healed']} healed):"
            f" median {heal['median_ms']:.2f} ms {_goal('heal median ms', heal['median_ms']) if g else ''},"
            f" p99 {heal['p99_ms']:.2f} ms {_goal('heal p99 ms', heal['p99_ms']) if g else ''}",
            f"  (p99 of 50 is the slowest: the first heal took {heal['first_ms']:.2f} ms, the slowest of the"
            f" others {heal['max_after_first_ms'] or 0:.2f} ms; from the `ip link set` command: median"
            f" {heal['median_from_command_ms']:.2f} ms)",
            f"  RSS after start {h['rss_start_mb']:.1f} MB {_goal('rss MB', h['rss_start_mb']) if g else ''},"
            f" after {h['events']} link events {h['rss_after_events_mb']:.1f} MB"
            f" ({h['rss_growth_pct']:+.1f}%) {_goal('rss growth %', h['rss_growth_pct']) if g else ''},"
            f" after the heals {h['rss_after_heals_mb']:.1f} MB",
            f"  idle CPU over {h['idle_s']:g} s: {h['idle_cpu_pct']:.3f}% of a core"
            f" {_goal('idle cpu %', h['idle_cpu_pct']) if g else ''}",
        ]
        lines += [f"  heal failure: {f}" for f in heal["failures"]]
    starts = d.get("startup", {})
    if starts:
        ss = sorted(starts, key=int)
        cells = ", ".join(f"{s} if {starts[s]['median_ms']:.0f} ms" for s in ss)
        lines.append(f"daemon start-up (spawn to daemon_started, median): {cells}")
        if len(ss) > 1:
            a, b = ss[0], ss[-1]
            per_if = (starts[b]["median_ms"] - starts[a]["median_ms"]) / (int(b) - int(a))
            lines.append(f"  start-up ms per extra interface ({a}..{b}): {per_if:.3f}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def default_python() -> str:
    venv = os.path.join(REPO, ".venv", "bin", "python")
    return venv if os.path.exists(venv) else sys.executable


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="about one minute: fewer runs, 10 s idle, no shell at 1024")
    g.add_argument("--smoke", action="store_true", help="1 and 8 interfaces, a few runs, no goals (CI)")
    p.add_argument("--json", metavar="FILE", help="also write every sample and the summary as JSON")
    p.add_argument("--python", default=default_python(), help="interpreter with netagent installed (default: .venv)")
    p.add_argument("--floor", default=FLOOR, help=f"the yardstick (default: {FLOOR})")
    p.add_argument("--sizes", help="comma-separated interface counts (default: 1,64,256,1024)")
    p.add_argument("--rounds", type=int, help="runs per command and size")
    p.add_argument("--no-daemon", action="store_true", help="measure the audit only")
    p.add_argument(
        "--fleet", action="store_true", help="only the fleet report: 1000, 10000, 50000 host audits (--sizes)"
    )
    p.add_argument(
        "--write-bytecode",
        action="store_true",
        help="unset PYTHONDONTWRITEBYTECODE for the measured commands, as in production",
    )
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == ["_time"]:
        print(json.dumps(runner_time(json.loads(argv[1]))))
        return 0
    if argv[:1] == ["_heal"]:
        print(json.dumps(runner_heal(json.loads(argv[1]))))
        return 0
    args = parse_args(argv)
    if args.fleet:
        return main_fleet(args)
    json_path = os.path.abspath(args.json) if args.json else None
    if os.geteuid() != 0:
        print("bench: needs root (network namespaces)", file=sys.stderr)
        return 2
    if not os.path.exists(args.floor):
        print(f"bench: no floor at {args.floor} (pass --floor)", file=sys.stderr)
        return 2
    mode = dict(MODES["smoke" if args.smoke else "quick" if args.quick else "full"])
    if args.sizes:
        mode["sizes"] = tuple(int(s) for s in args.sizes.split(","))
    if args.rounds:
        mode["rounds"] = mode["rounds_1024"] = args.rounds
    env: dict[str, Any] = {"unset": ["PYTHONDONTWRITEBYTECODE"]} if args.write_bytecode else {}
    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    remove_stale_labs()
    workdir = tempfile.mkdtemp(prefix="netagent-bench-")
    CLEANUP.dirs.append(workdir)
    os.chdir(workdir)  # so `python -c`/`-m` never import a netagent that happens to sit in the caller's cwd
    profile = os.path.join(workdir, "bench.yaml")
    with open(profile, "w") as f:
        f.write(PROFILE)
    results: dict[str, Any] = {"mode": "smoke" if args.smoke else "quick" if args.quick else "full"}
    results["machine"] = machine(args.python, env)
    results["audit"] = {}
    with_daemon = not args.no_daemon and daemon_available(args.python)
    daemon: dict[str, Any] | None = {"startup": {}} if with_daemon else None
    results["daemon"] = daemon
    try:
        for size in mode["sizes"]:
            lab = make_lab(size)
            print(f"bench: {size} interfaces ...", file=sys.stderr, flush=True)
            results["audit"][str(size)] = measure_audit(lab, size, args.python, profile, args.floor, mode, env)
            if daemon is not None and "error" not in daemon:
                try:
                    if size == mode["heal_at"]:
                        daemon["heal_footprint"] = measure_heal_and_footprint(
                            lab, size, args.python, profile, mode, env
                        )
                    if size in (mode["sizes"][0], mode["heal_at"], mode["sizes"][-1]):
                        runs = mode["starts"] if size == mode["sizes"][-1] else 1
                        daemon["startup"][str(size)] = measure_startup(lab, args.python, profile, runs, env)
                except (RuntimeError, subprocess.CalledProcessError) as exc:
                    daemon["error"] = str(exc)
            subprocess.run(["ip", "netns", "del", lab], capture_output=True)
            subprocess.run(["ip", "netns", "del", f"{lab}-p"], capture_output=True)
    finally:
        CLEANUP.run()
    text = render(results, check_goals=not args.smoke)
    sys.stdout.write(text)
    if json_path:
        results["table"] = text
        with open(json_path, "w") as f:
            json.dump(results, f, indent=2)
    return 1 if daemon is not None and "error" in daemon else 0


# ---------------------------------------------------------------- fleet report (issue 14)
# `scripts/bench --fleet`: `netagent fleet-report` over N synthetic host audits (tests/fleet_gen.py,
# rendered by netagent's own JSON renderer, one file per host as a bucket would hold them). Each
# size runs the floor (read and json.loads every file, nothing else) and the report (text, and
# the HTML page) interleaved, `rounds` times; medians of wall time and of peak RSS (wait4).
# Needs no root and no namespace.

FLEET_SIZES = (1000, 10000, 50000)
FLEET_GOALS = {"seconds at 10000": 5.0, "peak MB at 10000": 300.0}
FLEET_FLOOR = """
import json, os, sys
d = sys.argv[1]
n = 0
for name in sorted(os.listdir(d)):
    with open(os.path.join(d, name), "rb") as f:
        json.loads(f.read())
    n += 1
print(n)
"""


def fleet_write(python: str, directory: str, hosts: int) -> None:
    """Write the synthetic fleet with the netagent under test (its JSON renderer)."""
    code = f"import sys; sys.path.insert(0, {REPO!r}); from tests import fleet_gen; fleet_gen.write_fleet(sys.argv[1], {hosts})"  # noqa: E501
    subprocess.run([python, "-c", code, directory], check=True)


def fleet_run(cmd: list[str]) -> tuple[float, float, float]:
    """Run one command; return its wall seconds, peak RSS in MB and CPU seconds (its own, from wait4).

    CPU time (user + system) is what the growth is judged on: on a machine shared with other
    jobs, wall time also measures the neighbours.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:4]} exited {proc.returncode}: {err[-500:]}")
    return took, usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime


def bench_fleet(python: str, sizes: tuple[int, ...], rounds: int) -> dict[str, Any]:
    """Measure the fleet report at each size; return medians per size and command."""
    workdir = tempfile.mkdtemp(prefix="netagent-bench-fleet-")
    CLEANUP.dirs.append(workdir)
    results: dict[str, Any] = {}
    commands = {
        "floor": lambda d: [python, "-c", FLEET_FLOOR, d],
        "report text": lambda d: [python, "-m", "netagent", "fleet-report", d, "--format", "text"],
        "report html": lambda d: [
            python,
            "-m",
            "netagent",
            "fleet-report",
            d,
            "--format",
            "html",
            "--output",
            os.path.join(workdir, "f.html"),
        ],
    }
    try:
        for hosts in sizes:
            bucket = os.path.join(workdir, f"fleet-{hosts}")
            print(f"bench: writing {hosts} host audits ...", file=sys.stderr, flush=True)
            fleet_write(python, bucket, hosts)
            samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
            names = list(commands)
            for r in range(rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:  # ABC, BCA, CAB
                    samples[name].append(fleet_run(commands[name](bucket)))
            results[str(hosts)] = {
                name: {
                    "seconds": statistics.median(t for t, _, _ in runs),
                    "peak_mb": statistics.median(m for _, m, _ in runs),
                    "cpu_s": statistics.median(c for _, _, c in runs),
                    "samples": runs,
                }
                for name, runs in samples.items()
            }
            shutil.rmtree(bucket, ignore_errors=True)
    finally:
        CLEANUP.run()
    return results


def render_fleet(results: dict[str, Any]) -> str:
    """Render the fleet bench as a table, with its goals and the growth per host."""
    lines = ["fleet-report: medians over interleaved runs (floor = read + json.loads every file)", ""]
    columns = ("wall s", "cpu s", "peak MB")
    lines.append(f"{'hosts':>7} {'command':<12} " + " ".join(f"{c:>8}" for c in columns) + " cpu us/host cpu x floor")
    for hosts, by_cmd in results.items():
        floor = by_cmd["floor"]["cpu_s"]
        for name, m in by_cmd.items():
            per_host = 1e6 * m["cpu_s"] / int(hosts)
            lines.append(
                f"{hosts:>7} {name:<12} {m['seconds']:>8.2f} {m['cpu_s']:>8.2f} {m['peak_mb']:>8.1f} {per_host:>11.0f} "
                f"{m['cpu_s'] / floor:>11.2f}"
            )
    if "10000" in results:
        html = results["10000"]["report html"]
        lines.append("")
        for goal, value in (("seconds at 10000", html["seconds"]), ("peak MB at 10000", html["peak_mb"])):
            limit = FLEET_GOALS[goal]
            lines.append(f"goal {goal} < {limit:g}: {value:.2f} {'ok' if value < limit else 'MISSED'}")
    sizes = list(results)
    for first, last in zip(sizes, sizes[1:]):  # start-up and imports weigh on the smallest size only
        for name in ("report text", "report html"):
            a = results[first][name]["cpu_s"] / int(first)
            b = results[last][name]["cpu_s"] / int(last)
            lines.append(f"growth, {name}: CPU time per host at {last} / at {first} = {b / a:.2f} (1.00 is linear)")
    return "\n".join(lines) + "\n"


def main_fleet(args: argparse.Namespace) -> int:
    """`scripts/bench --fleet`: the fleet report alone."""
    sizes = tuple(int(s) for s in args.sizes.split(",")) if args.sizes else FLEET_SIZES
    results = {"fleet": bench_fleet(args.python, sizes, args.rounds or 3)}
    results["machine"] = {"cpus": os.cpu_count(), "python": args.python, "platform": platform.platform()}
    text = render_fleet(results["fleet"])
    sys.stdout.write(text)
    if args.json:
        results["table"] = text
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        CLEANUP.run()
        sys.exit(130)
