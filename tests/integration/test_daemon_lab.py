"""The real daemon as a subprocess inside a namespace lab: start-up apply, heals, fights, signals,
sd_notify, and a quiet host that sees no kernel write. Each test kills its daemon in teardown.

No timed assertions beyond generous safety bounds: latency figures are printed, and belong to
the benchmark (issue 8).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.integration.lab import Lab

TOOLS = str(Path(__file__).with_name("daemon_tools.py"))
PROFILE = """\
name: lab
interfaces:
  - match: "lab*"
    mtu: 9001
    channels: {rx: 4, tx: 4}
sysctl:
  net.ipv4.tcp_mtu_probing: 1
"""


def wait_until(pred: Callable[[], Any], deadline_s: float = 5.0, what: str = "condition") -> Any:
    """Poll until pred() is truthy; fail naming `what` after the deadline."""
    end = time.monotonic() + deadline_s
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out after {deadline_s} s waiting for {what}")
        time.sleep(0.02)


class DaemonProc:
    """`netagent daemon` running in a lab; logs (JSON lines) go to a file the test reads."""

    def __init__(
        self,
        lab: Lab,
        profile: str,
        tmp_path: Path,
        *args: str,
        env: dict[str, str] | None = None,
        wrap: tuple[str, ...] = (),
    ) -> None:
        self.log_path = tmp_path / f"daemon-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 -- closed in stop()
        cmd = ["ip", "netns", "exec", lab.name, *wrap, sys.executable, "-m", "netagent", "daemon"]
        cmd += ["--profile", profile, "--state-dir", lab.state_dir, "--log-format", "json", "--log-level", "debug"]
        self.proc = subprocess.Popen(
            [*cmd, *args], stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        self.lab = lab
        self.wrapped = bool(wrap)

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if isinstance(doc, dict) and (name is None or doc.get("event") == name):
                out.append(doc)
        return out

    def wait_event(self, name: str, deadline_s: float = 10.0, **match: Any) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            if self.proc.poll() is not None:
                pytest.fail(f"daemon exited {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            hits = [e for e in self.events(name) if all(e.get(k) == v for k, v in match.items())]
            return hits[-1] if hits else None

        return wait_until(found, deadline_s, f"event {name} {match}")  # type: ignore[no-any-return]

    @property
    def pid(self) -> int:
        """The daemon's own pid (under a wrapper such as strace, Popen's pid is the wrapper's)."""
        if not self.wrapped:
            return self.proc.pid
        return int(self.wait_event("daemon_starting")["pid"])

    def signal(self, sig: int) -> None:
        os.kill(self.pid, sig)

    def stop(self, timeout_s: float = 5.0) -> int:
        """SIGTERM and wait; returns the exit code (the daemon must exit within timeout_s)."""
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        finally:
            self.kill()

    def kill(self) -> None:
        """Kill the daemon, and its wrapper (strace) if any; the daemon's own pid is in its log."""
        if self.wrapped:
            for e in self.events("daemon_starting"):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(e["pid"]), signal.SIGKILL)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture
def profile(tmp_path: Path) -> str:
    path = tmp_path / "profile.yaml"
    path.write_text(PROFILE)
    return str(path)


@pytest.fixture
def start(lab: Lab, profile: str, tmp_path: Path) -> Iterator[Callable[..., DaemonProc]]:
    """Start daemons in the lab; every one is killed in teardown, even when the test fails."""
    started: list[DaemonProc] = []

    def _start(*args: str, **kw: Any) -> DaemonProc:
        daemon = DaemonProc(lab, kw.pop("profile_path", profile), tmp_path, *args, **kw)
        started.append(daemon)
        return daemon

    try:
        yield _start
    finally:
        for daemon in started:
            daemon.kill()


def status(lab: Lab) -> dict[str, Any]:
    result = lab.netagent("status", "--format", "json")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_daemon_tunes_at_start_heals_mtu_and_measures_heal_latency(lab: Lab, start: Callable[..., DaemonProc]) -> None:
    for i in range(3, 24):  # 24 interfaces: one event on each, as the benchmark does (a repeat is a fight)
        lab.add_veth(f"lab{i}", f"peer{i}", queues=8, up=False)
    daemon = start()
    daemon.wait_event("daemon_started")
    for ifname in lab.ifnames:
        assert lab.mtu(ifname) == 9001
        assert lab.channels(ifname)["rx"] == "4"
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "1"

    out = lab.exec(sys.executable, TOOLS, "probe", "1500", "9001", *lab.ifnames).stdout
    latencies = json.loads(out)
    assert None not in latencies, f"some MTU changes were never healed: {latencies}"
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"\nheal latency over {len(ms)} events: median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms")
    assert all(x < 5000 for x in ms)  # safety bound only; the figures belong to the benchmark

    healed = daemon.events("setting_healed")
    assert {e["check"] for e in healed} == {f"{i}/mtu" for i in lab.ifnames}
    assert all(e["found"] == "1500" and e["set"] == "9001" for e in healed)
    doc = status(lab)
    assert doc["alive"] is True
    assert doc["heals"]["lab0/mtu"]["count"] == 1
    assert doc["heals"]["lab0/mtu"]["found"] == "1500"
    assert daemon.stop() == 0


def test_veth_added_later_is_tuned_and_a_vanished_one_forgotten(lab: Lab, start: Callable[..., DaemonProc]) -> None:
    daemon = start()
    daemon.wait_event("daemon_started")
    lab.add_veth("lab9", "peer9", queues=8)
    wait_until(lambda: lab.mtu("lab9") == 9001, what="lab9 tuned")
    wait_until(lambda: lab.channels("lab9")["rx"] == "4", what="lab9 channels")
    assert lab.mtu("peer9") == 1500  # not matched by the profile
    lab.exec("ip", "link", "del", "lab9")
    lab.ifnames.remove("lab9")
    daemon.wait_event("interface_forgotten", ifname="lab9")
    assert not daemon.events("heal_failed")
    assert not [e for e in daemon.events() if e.get("level") == "error"]
    assert daemon.proc.poll() is None
    assert daemon.stop() == 0


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_fight_backs_off_with_contested_warning_not_a_busy_loop(lab: Lab, start: Callable[..., DaemonProc]) -> None:
    daemon = start()
    daemon.wait_event("daemon_started")
    cpu_before = _cpu_s(daemon.proc.pid)
    fight_s = 8.0
    out = lab.exec(sys.executable, TOOLS, "fight", "lab0", "1500", str(fight_s), "0.05").stdout
    resets = json.loads(out)["resets"]
    cpu = _cpu_s(daemon.proc.pid) - cpu_before

    contested = daemon.wait_event("contested", check="lab0/mtu")
    assert contested["level"] == "warning"
    heals = [e for e in daemon.events("setting_healed") if e["check"] == "lab0/mtu"]
    times = [datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp() for e in heals]
    gaps = [round(b - a, 2) for a, b in zip(times, times[1:])]
    print(f"\nfight: {resets} resets in {fight_s} s, {len(heals)} heals (gaps {gaps} s), daemon CPU {cpu:.2f} s")
    # Debounce (1 s) allows at most ~fight_s + 1 heals; after 5 heals the waits double from 2 s.
    assert 5 <= len(heals) <= fight_s + 1
    assert all(g >= 0.95 for g in gaps)
    assert all(g >= 1.9 for g in gaps[4:])
    assert cpu < 0.5 * fight_s  # not a busy loop (generous bound)
    assert "lab0/mtu" in status(lab)["contested"]
    # The fight is over: the deferred heal puts the MTU back.
    wait_until(lambda: lab.mtu("lab0") == 9001, deadline_s=20, what="lab0 healed after the fight")
    assert daemon.stop() == 0


def test_sigterm_exits_0_promptly_and_releases_the_lock(
    lab: Lab, start: Callable[..., DaemonProc], profile: str
) -> None:
    daemon = start()
    daemon.wait_event("daemon_started")
    lab.set_mtu("lab1", 1500)  # a heal just before the signal
    started = time.monotonic()
    daemon.signal(signal.SIGTERM)
    code = daemon.proc.wait(10)
    elapsed = time.monotonic() - started
    print(f"\nSIGTERM to exit: {elapsed * 1000:.0f} ms")
    assert code == 0
    assert elapsed < 5.0
    assert daemon.events("daemon_stopped")[-1]["reason"] == "signal SIGTERM"
    doc = status(lab)
    assert doc["running"] is False
    assert doc["alive"] is False
    # The lock is free at once: an apply that will not wait gets it.
    applied = lab.netagent("apply", "--profile", profile, "--lock-timeout-s", "0")
    assert applied.returncode == 0, applied.stderr


def test_sigint_during_start_up_lock_wait_exits_0(lab: Lab, start: Callable[..., DaemonProc]) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from netagent.host.statefile import StateDir\n"
            "with StateDir(sys.argv[1]).lock(): print('held', flush=True); time.sleep(30)",
            lab.state_dir,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        daemon = start()
        daemon.wait_event("daemon_starting")
        time.sleep(0.3)  # the daemon now waits for the lock (30 s by default)
        daemon.signal(signal.SIGINT)
        assert daemon.proc.wait(5) == 0
        assert lab.mtu("lab0") == 1500  # it never applied
    finally:
        holder.kill()
        holder.wait()


def test_sighup_with_broken_profile_keeps_the_old_one(lab: Lab, start: Callable[..., DaemonProc], profile: str) -> None:
    daemon = start()
    daemon.wait_event("daemon_started")
    Path(profile).write_text(PROFILE.replace("mtu: 9001", "mtu: jumbo"))
    daemon.signal(signal.SIGHUP)
    failed = daemon.wait_event("profile_reload_failed")
    assert failed["level"] == "error"
    assert failed["kept"] == "lab"
    assert any(profile in p and "interfaces[0].mtu" in p for p in failed["problems"]), failed
    # Issue 15: `status` shows the profile in force and the failed reload with file:line: field.
    doc = wait_until(lambda: (status(lab).get("last_reload") or {}).get("ok") is False and status(lab), what="status")
    assert doc["profile"]["name"] == "lab"
    assert any(p.startswith(f"{profile}:") and "interfaces[0].mtu" in p for p in doc["last_reload"]["problems"]), doc
    text = lab.netagent("status").stdout
    assert "last reload: FAILED" in text
    assert "interfaces[0].mtu" in text
    lab.set_mtu("lab0", 1500)
    wait_until(lambda: lab.mtu("lab0") == 9001, what="heal under the old profile")

    Path(profile).write_text(PROFILE.replace("mtu: 9001", "mtu: 9000"))
    daemon.signal(signal.SIGHUP)
    daemon.wait_event("profile_reloaded")
    for ifname in lab.ifnames:
        wait_until(lambda i=ifname: lab.mtu(i) == 9000, what=f"{ifname} at the new profile's MTU")
    assert daemon.stop() == 0


def test_sighup_whose_apply_fails_keeps_healing_to_the_old_profile(
    lab: Lab, start: Callable[..., DaemonProc], profile: str
) -> None:
    """Review finding: a reload whose apply was rolled back used to stay in force for later heals."""
    daemon = start("--resync-s", "0.5")
    daemon.wait_event("daemon_started")
    # Valid, but the kernel refuses ip_default_ttl 0 (1..255): the reload's apply rolls back.
    Path(profile).write_text(PROFILE.replace("mtu: 9001", "mtu: 1600") + "  net.ipv4.ip_default_ttl: 0\n")
    daemon.signal(signal.SIGHUP)
    failed = daemon.wait_event("profile_reload_apply_failed")
    assert failed["kept"] == "lab"
    resyncs = len(daemon.events("resync_finished"))
    wait_until(lambda: len(daemon.events("resync_finished")) >= resyncs + 3, what="three resyncs after the reload")
    assert [lab.mtu(i) for i in lab.ifnames] == [9001] * len(lab.ifnames)
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "1"
    assert not daemon.events("heal_failed")
    lab.set_mtu("lab0", 1500)
    wait_until(lambda: lab.mtu("lab0") == 9001, what="heal to the old profile's MTU")
    assert daemon.stop() == 0


def test_notify_socket_gets_ready_after_apply_and_watchdog_pings_from_the_loop(
    lab: Lab, start: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    path = str(tmp_path / "notify.sock")  # a path socket: abstract names are per network namespace
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    try:
        daemon = start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"})
        first = sock.recv(4096).decode()
        assert "READY=1" in first.splitlines()
        assert lab.mtu("lab0") == 9001  # READY only after the first apply
        assert "STATUS=" in first

        def pings(seconds: float) -> int:
            end, n = time.monotonic() + seconds, 0
            sock.settimeout(0.05)
            while time.monotonic() < end:
                with contextlib.suppress(socket.timeout):
                    n += sock.recv(4096) == b"WATCHDOG=1"
            return n

        assert pings(1.5) >= 3  # every 0.2 s
        daemon.signal(signal.SIGSTOP)  # a stalled loop stops the pings
        try:
            pings(0.1)  # drop what was already queued
            assert pings(1.0) == 0
        finally:
            daemon.signal(signal.SIGCONT)
        assert pings(1.0) >= 2
        daemon.signal(signal.SIGHUP)
        sock.settimeout(5)
        seen: list[str] = []
        while "READY=1" not in seen:
            seen += sock.recv(4096).decode().splitlines()
        assert "RELOADING=1" in seen
        assert daemon.stop() == 0
        rest: list[str] = []
        sock.settimeout(0.2)
        with contextlib.suppress(socket.timeout):
            while True:
                rest += sock.recv(4096).decode().splitlines()
        assert "STOPPING=1" in rest
    finally:
        sock.close()


def test_quiet_host_makes_no_kernel_write(
    lab: Lab, start: Callable[..., DaemonProc], profile: str, tmp_path: Path
) -> None:
    applied = lab.netagent("apply", "--profile", profile)
    assert applied.returncode == 0, applied.stderr
    trace = tmp_path / "strace.txt"
    wrap = ("strace", "-f", "-qq", "-e", "trace=openat,sendto,sendmsg", "-e", "signal=none", "-o", str(trace))
    daemon = start("--resync-s", "0.5", wrap=wrap)
    daemon.wait_event("daemon_started", deadline_s=20)
    # Issue 9 item 8 asks for 60 s: NETAGENT_QUIET_S=60 runs that; CI waits a few seconds.
    quiet_s = float(os.environ.get("NETAGENT_QUIET_S", "3"))
    began = time.monotonic()
    wait_until(lambda: status(lab).get("resyncs", 0) >= 6, deadline_s=15, what="six resyncs")
    time.sleep(max(0.0, quiet_s - (time.monotonic() - began)))
    print(f"\nquiet host: {time.monotonic() - began:.1f} s, {status(lab).get('resyncs')} resyncs")
    quiet = trace.read_text()

    lab.set_mtu("lab2", 1500)  # the control: a real drift must show up as a kernel write
    wait_until(lambda: lab.mtu("lab2") == 9001, what="lab2 healed")
    assert daemon.stop() == 0
    control = trace.read_text()[len(quiet) :]

    def kernel_writes(text: str) -> list[str]:
        return [
            line
            for line in text.splitlines()
            if ("openat(" in line and "/proc/sys/" in line and ("O_WRONLY" in line or "O_RDWR" in line))
            or (("sendto(" in line or "sendmsg(" in line) and ("nlmsg_type=0x10" in line or "RTM_NEWLINK" in line))
        ]

    assert "/proc/sys/net/ipv4/tcp_mtu_probing" in quiet  # the resyncs did read
    assert kernel_writes(quiet) == []
    assert len(kernel_writes(control)) == 1, kernel_writes(control)
    assert status(lab)["heals_total"] == 1
    assert [e["check"] for e in daemon.events("setting_healed")] == ["lab2/mtu"]


def test_storm_with_netlink_overrun_resyncs_and_heals_each_setting_at_most_once_a_second(
    lab: Lab, start: Callable[..., DaemonProc], tmp_path: Path
) -> None:
    for i in range(3, 32):
        lab.add_veth(f"lab{i}", f"peer{i}", queues=8, up=False)
    daemon = start()
    daemon.wait_event("daemon_started")
    batch = tmp_path / "storm.batch"
    rounds = 400  # 32 x 400 RTM_NEWLINKs of ~1.5 KiB: more than the 4 MiB socket buffer
    batch.write_text("".join(f"link set {i} mtu {1400 + r % 50}\n" for r in range(rounds) for i in lab.ifnames))
    daemon.signal(signal.SIGSTOP)  # paused, as under load: the kernel must drop events
    try:
        lab.exec("ip", "-batch", str(batch))
    finally:
        daemon.signal(signal.SIGCONT)
    ended = time.monotonic()
    daemon.wait_event("netlink_overrun")
    daemon.wait_event("resync_finished", cause="overrun")
    for ifname in lab.ifnames:
        wait_until(lambda i=ifname: lab.mtu(i) == 9001, deadline_s=5, what=f"{ifname} compliant after the storm")
    print(f"\nstorm: {rounds * len(lab.ifnames)} MTU changes; compliant {time.monotonic() - ended:.2f} s after the end")
    assert daemon.proc.poll() is None
    per_check: dict[str, list[float]] = {}
    for e in daemon.events("setting_healed"):
        stamp = datetime.datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")).timestamp()
        per_check.setdefault(e["check"], []).append(stamp)
    assert per_check
    for check, stamps in per_check.items():
        assert all(b - a >= 0.95 for a, b in zip(stamps, stamps[1:])), (check, stamps)
    assert daemon.stop() == 0


def test_issue15_second_daemon_on_one_state_dir_exits_4_and_sigkill_frees_the_lock(
    lab: Lab, start: Callable[..., DaemonProc], profile: str
) -> None:
    first = start()
    first.wait_event("daemon_started")
    second = start()
    assert second.proc.wait(10) == 4
    said = second.log_path.read_text()
    assert f"pid {first.pid}" in said, said
    assert "one daemon per state directory" in said
    assert first.proc.poll() is None  # the first one runs on
    assert status(lab)["pid"] == first.pid
    # restore and apply of another profile would be undone by the daemon: refused, exit 4.
    restored = lab.netagent("restore")
    assert restored.returncode == 4, restored.stderr
    assert f"pid {first.pid}" in restored.stderr
    assert "systemctl stop netagent" in restored.stderr
    assert lab.mtu("lab0") == 9001  # nothing was restored
    other = Path(profile).with_name("other.yaml")
    other.write_text(PROFILE.replace("mtu: 9001", "mtu: 1600"))
    refused = lab.netagent("apply", "--profile", str(other))
    assert refused.returncode == 4, refused.stderr
    assert f"pid {first.pid}" in refused.stderr
    assert lab.mtu("lab0") == 9001
    same = lab.netagent("apply", "--profile", profile)  # the daemon's own profile: they agree
    assert same.returncode == 0, same.stderr
    forced = lab.netagent("restore", "--force")
    assert forced.returncode == 0, forced.stderr
    # SIGKILL: no goodbye, but the kernel frees the flock, so a new daemon starts at once.
    first.proc.kill()
    first.proc.wait(5)
    third = start()
    third.wait_event("daemon_started")
    assert third.stop() == 0
