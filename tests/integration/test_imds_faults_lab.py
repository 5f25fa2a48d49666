"""IMDS faults: a silent endpoint, expired tokens, a black-hole proxy; the token never reaches a log.

Every request stays inside the namespaces these tests create: the stand-ins listen on
169.254.169.254 on a veth inside the lab, the proxy on 127.0.0.1 of the lab's own loopback.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lab import Lab
from tests.integration.test_ec2_lab import IMDS, PROFILE, SERVER, ImdsLab, _veth_with

# Accepts TCP connections and never answers; prints `ready`, and on SIGTERM how many it accepted.
SILENT = """\
import signal, socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((sys.argv[1], int(sys.argv[2]))); srv.listen(64)
held = []
signal.signal(signal.SIGTERM, lambda *_: (print(len(held), flush=True), sys.exit(0)))
print("ready", flush=True)
while True:
    held.append(srv.accept()[0])
"""


def _start(lab: Lab, *cmd: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(["ip", "netns", "exec", lab.name, *cmd], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready, f"{cmd} did not start within 10 s"
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc: subprocess.Popen[str]) -> str:
    """Stop a stand-in with SIGTERM; return what it printed after `ready`."""
    proc.terminate()
    out, _ = proc.communicate(timeout=10)
    return out


@pytest.fixture
def imds_netns(netns_ok: None, tmp_path: Path) -> Iterator[tuple[Lab, str]]:
    """A lab with veth lab0, 169.254.169.254 on a veth of its own, and a profile; no server yet."""
    lab = Lab.create()
    try:
        lab.add_veth("lab0", "peer0")
        lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
        _veth_with(lab, "169.254.169.254/16")
        profile = tmp_path / "profile.yaml"
        profile.write_text(PROFILE)
        yield lab, str(profile)
    finally:
        lab.delete()


def _timed_audit(lab: Lab, profile: str, *extra: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.monotonic()
    res = lab.netagent("audit", "--profile", profile, "--format", "json", *extra)
    return time.monotonic() - start, res


def test_endpoint_that_accepts_and_never_answers_costs_less_than_a_second(imds_netns: tuple[Lab, str]) -> None:
    lab, profile = imds_netns
    silent = _start(lab, sys.executable, "-c", SILENT, "169.254.169.254", "80")
    try:
        # Medians of 3, so one slow interpreter start does not decide the bound.
        base = sorted(_timed_audit(lab, profile, "--no-imds")[0] for _ in range(3))[1]
        runs = [_timed_audit(lab, profile, *IMDS, "--log-level", "debug", "--log-format", "json") for _ in range(3)]
    finally:
        accepted = int(_stop(silent).strip() or 0)
    assert accepted >= 3  # it did get the connections, and answered none
    for _, res in runs:
        assert res.returncode == 0, res.stderr
        ec2 = json.loads(res.stdout)["ec2"]
        assert ec2["status"] == "unavailable"
        assert "within" in ec2["reason"], ec2
    extra_s = sorted(t for t, _ in runs)[1] - base
    print(f"silent IMDS endpoint: audit {base:.3f} s without IMDS, +{extra_s:.3f} s with it")
    # The client's budget is 1 s (connect 0.15 s + reads); a generous bound on a loaded 2-core
    # machine, with the measured figure printed above (issue 12).
    assert extra_s < 2.0, extra_s


@pytest.fixture
def stale_imds(imds_netns: tuple[Lab, str], tmp_path: Path) -> Iterator[ImdsLab]:
    """The stand-in IMDSv2, with every token it hands out already expired (GET -> 401)."""
    lab, profile = imds_netns
    log = tmp_path / "imds.log"
    log.touch()
    env = {"PATH": "/usr/bin:/bin", "IMDS_FAULT": "stale-tokens"}
    server = _start(lab, sys.executable, str(SERVER), str(log), "169.254.169.254", env=env)
    try:
        yield ImdsLab(lab, log, profile)
    finally:
        _stop(server)


def test_401_on_every_get_refreshes_the_token_once_and_never_falls_back_to_imdsv1(stale_imds: ImdsLab) -> None:
    debug = ("--log-level", "debug", "--log-format", "json")
    res = stale_imds.lab.netagent("audit", "--profile", stale_imds.profile, *IMDS, "--format", "json", *debug)
    assert res.returncode == 0, res.stderr
    assert "imds_unavailable" in res.stderr  # the warning names the endpoint and the 401 ...
    assert "TKN-" not in res.stdout + res.stderr  # ... and never the two tokens it was refused
    ec2 = json.loads(res.stdout)["ec2"]
    assert ec2["status"] == "unavailable"
    assert "HTTP 401" in ec2["reason"]
    requests = stale_imds.requests()
    # PUT, GET with that token (401), one fresh PUT, GET with it (401), then stop: no tokenless GET.
    assert [r["method"] for r in requests] == ["PUT", "GET", "PUT", "GET"], requests
    assert [r["status"] for r in requests] == [200, 401, 200, 401]


# A proxy that would see any request sent through it: 127.0.0.1:3128 on the lab's loopback.
PROXY = "http://127.0.0.1:3128"
PROXY_ENV = {"http_proxy": PROXY, "https_proxy": PROXY, "HTTP_PROXY": PROXY, "HTTPS_PROXY": PROXY, "ALL_PROXY": PROXY}


@pytest.fixture
def imds_and_proxy(netns_ok: None, tmp_path: Path) -> Iterator[tuple[ImdsLab, subprocess.Popen[str]]]:
    """The regular stand-in IMDSv2 plus a black-hole proxy listening inside the same lab."""
    lab = Lab.create()
    procs: list[subprocess.Popen[str]] = []
    try:
        lab.add_veth("lab0", "peer0")
        lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
        _veth_with(lab, "169.254.169.254/16")
        log = tmp_path / "imds.log"
        log.touch()
        procs.append(_start(lab, sys.executable, str(SERVER), str(log), "169.254.169.254"))
        procs.append(_start(lab, sys.executable, "-c", SILENT, "127.0.0.1", "3128"))
        profile = tmp_path / "profile.yaml"
        profile.write_text(PROFILE)
        yield ImdsLab(lab, log, str(profile)), procs[1]
    finally:
        for proc in procs:
            if proc.returncode is None:
                _stop(proc)
        lab.delete()


def test_proxy_variables_never_divert_imds_and_the_token_never_reaches_a_log(
    imds_and_proxy: tuple[ImdsLab, subprocess.Popen[str]],
) -> None:
    imds, proxy = imds_and_proxy
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **PROXY_ENV}
    cmd = [sys.executable, "-m", "netagent", "audit", "--state-dir", imds.lab.state_dir, "--profile", imds.profile]
    cmd += [*IMDS, "--format", "json", "--log-level", "debug", "--log-format", "json"]
    res = imds.lab.exec(*cmd, check=False, env=env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["ec2"]["instance_type"] == "c6in.8xlarge"  # answered directly
    assert int(_stop(proxy).strip()) == 0  # the proxy never saw a connection
    requests = imds.requests()
    assert requests[0]["method"] == "PUT"
    assert all(r["token_ok"] for r in requests if r["method"] == "GET")  # facts only through PUT-then-GET
    # The stand-in's tokens all start TKN-: none may reach stdout or the debug JSON log.
    assert res.stderr.strip(), "expected debug log lines"
    for line in res.stderr.splitlines():
        json.loads(line)
    assert "TKN-" not in res.stdout + res.stderr
