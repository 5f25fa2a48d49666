"""The daemon's textfile, served by Debian's real prometheus-node-exporter (issue 14).

The daemon runs in a namespace lab with `--textfile-dir`; node_exporter (only its textfile
collector) listens on a free 127.0.0.1 port and reads that directory; the test scrapes it over
HTTP and follows netagent's series through a heal, a failed reload and the daemon's stop.
"""

from __future__ import annotations

import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.fleet_tools import free_port, need
from tests.integration.lab import Lab
from tests.integration.test_daemon_lab import PROFILE, DaemonProc, wait_until

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def node_exporter(tmp_path: Path, netns_ok: None) -> Iterator[tuple[str, Path]]:
    """node_exporter with only the textfile collector on a free loopback port; yields (url, dir)."""
    binary = need("prometheus-node-exporter", "prometheus-node-exporter")
    textfile_dir = tmp_path / "textfile"
    textfile_dir.mkdir()
    url = f"http://127.0.0.1:{free_port()}/metrics"
    log = open(tmp_path / "node_exporter.log", "wb")  # noqa: SIM115 -- closed in teardown
    proc = subprocess.Popen(
        [
            binary,
            f"--web.listen-address={url.split('/')[2]}",
            "--collector.disable-defaults",
            "--collector.textfile",
            f"--collector.textfile.directory={textfile_dir}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: _get(url, proc, tmp_path) is not None, 10.0, "node_exporter to answer")
        yield url, textfile_dir
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _get(url: str, proc: subprocess.Popen[bytes], tmp_path: Path) -> str | None:
    if proc.poll() is not None:
        pytest.fail(f"node_exporter exited {proc.returncode}: {(tmp_path / 'node_exporter.log').read_text()}")
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return str(resp.read().decode())
    except OSError:
        return None


def scrape(url: str) -> Samples:
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
    }


def _until(url: str, pred: Callable[[Samples], bool], what: str) -> Samples:
    return wait_until(lambda: (lambda m: m if pred(m) else None)(scrape(url)), 15.0, what)  # type: ignore[no-any-return]


def test_node_exporter_serves_the_daemons_textfile_through_heal_reload_and_stop(
    lab: Lab, node_exporter: tuple[str, Path], tmp_path: Path
) -> None:
    url, textfile_dir = node_exporter
    profile = tmp_path / "profile.yaml"
    profile.write_text(PROFILE)
    daemon = DaemonProc(lab, str(profile), tmp_path, "--textfile-dir", str(textfile_dir), "--resync-s", "1")
    try:
        daemon.wait_event("daemon_started")
        m = _until(url, lambda m: ("netagent_daemon_running", ()) in m, "netagent's series")
        assert m[("node_textfile_scrape_error", ())] == 0.0
        assert m[("netagent_daemon_running", ())] == 1.0
        assert m[("netagent_compliant", (("profile", "lab"),))] == 1.0
        for i in range(3):
            assert m[("netagent_check_drift", (("check", f"lab{i}/mtu"), ("interface", f"lab{i}")))] == 0.0
        first_resync = m[("netagent_daemon_last_resync_timestamp_seconds", ())]

        lab.set_mtu("lab1", 1500)  # drift: the daemon heals it and the textfile says so
        key = ("netagent_daemon_heals_total", (("check", "lab1/mtu"),))
        m = _until(url, lambda m: m.get(key, 0) >= 1, "a heal of lab1/mtu in the textfile")
        assert lab.mtu("lab1") == 9001
        m = _until(
            url,
            lambda m: m[("netagent_daemon_last_resync_timestamp_seconds", ())] > first_resync,
            "a later resync time",
        )
        assert m[("netagent_check_drift", (("check", "lab1/mtu"), ("interface", "lab1")))] == 0.0
        assert m[("netagent_daemon_reload_failed", ())] == 0.0

        profile.write_text("name: [broken\n")
        daemon.signal(signal.SIGHUP)
        m = _until(url, lambda m: m[("netagent_daemon_reload_failed", ())] == 1.0, "the failed reload")
        assert m[("netagent_daemon_reload_failures_total", ())] == 1.0
        assert m[("netagent_compliant", (("profile", "lab"),))] == 1.0  # the old profile is kept

        assert daemon.stop() == 0
        m = scrape(url)
        assert m[("netagent_daemon_running", ())] == 0.0
        assert sorted(p.name for p in textfile_dir.iterdir()) == ["netagent.prom"]  # no temp file left
    finally:
        daemon.kill()
