"""Hostile interface names: audited and applied as written, never run by a shell, exact in every report.

Linux takes any name of 1..15 bytes without '/', ':' or whitespace (dev_valid_name), so a
name can hold quotes, `;`, `$(...)` and backquotes, or look like an option. The canary names
would create files in the working directory if anything ever handed them to a shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.lab import Lab, run
from tests.integration.syscalls import ENV, have_strace

HOSTILE = (
    "e;$(id)|`x",
    "-h",
    "a'b\"c",
    "x\\y",
    "$(touch${IFS}c)",  # 15 bytes; a shell would create ./c
    "`touch${IFS}d`",  # a shell would create ./d
    "abcdefghij12345",  # 15 bytes, the longest name (IFNAMSIZ - 1)
    "é-ü",  # UTF-8 (the kernel refuses 0xa0, a space in its ctype, so no "à")
)
# Reads sysfs from inside the lab: MTU and real queue counts, without any tool parsing the name.
SYSFS = """\
import json, os, sys
out = {}
for name in json.loads(sys.argv[1]):
    base = os.path.join("/sys/class/net", name)
    queues = os.listdir(os.path.join(base, "queues"))
    with open(os.path.join(base, "mtu")) as f:
        mtu = int(f.read())
    out[name] = [mtu, sum(q.startswith("rx-") for q in queues), sum(q.startswith("tx-") for q in queues)]
print(json.dumps(out))
"""


@pytest.fixture
def hostile_lab(netns_ok: None) -> Iterator[Lab]:
    """A netns with one veth per hostile name (peers hp0..), 8 queues each; deleted in teardown."""
    lab = Lab.create()
    try:
        q = ["numtxqueues", "8", "numrxqueues", "8"]
        for i, name in enumerate(HOSTILE):
            run(["ip", "-n", lab.name, "link", "add", "name", name, *q, "type", "veth", "peer", "name", f"hp{i}", *q])
            run(["ip", "-n", lab.name, "link", "set", "dev", name, "up"])
            lab.ifnames.append(name)
        yield lab
    finally:
        lab.delete()


def _sysfs(lab: Lab) -> dict[str, list[int]]:
    out = lab.exec(sys.executable, "-c", SYSFS, json.dumps(list(HOSTILE))).stdout
    return {k: list(v) for k, v in json.loads(out).items()}


def _netagent(lab: Lab, cwd: Path, *args: str, strace_to: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI inside the lab from `cwd` (where a shell would drop the canaries)."""
    tracer = (
        ["strace", "-f", "-qq", "-o", str(strace_to), "-e", "trace=execve,execveat,fork,vfork"] if strace_to else []
    )
    cmd = ["ip", "netns", "exec", lab.name, *tracer, sys.executable, "-m", "netagent", args[0]]
    cmd += ["--state-dir", lab.state_dir, *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=ENV, check=False)


def test_hostile_names_are_audited_applied_and_reported_exactly(hostile_lab: Lab, tmp_path: Path) -> None:
    lab = hostile_lab
    canaries = tmp_path / "cwd"
    canaries.mkdir()
    profile = tmp_path / "hostile.yaml"
    # JSON strings are YAML double-quoted scalars: every name exactly, as an exact-name rule.
    match = ", ".join(json.dumps(n, ensure_ascii=False) for n in HOSTILE)
    profile.write_text(
        f"name: hostile\ninterfaces:\n  - match: [{match}]\n    mtu: 9001\n    channels: {{rx: 4, tx: 4}}\n"
    )
    before = _sysfs(lab)
    assert before == {n: [1500, 8, 8] for n in HOSTILE}

    audit = _netagent(lab, canaries, "audit", "--profile", str(profile), "--format", "json")
    assert audit.returncode == 1, audit.stderr
    checks = {c["id"]: c for c in json.loads(audit.stdout)["checks"]}
    for name in HOSTILE:
        assert checks[f"{name}/mtu"]["subject"] == name
        assert checks[f"{name}/mtu"]["status"] == "drift"
        assert checks[f"{name}/channels"]["status"] == "drift"

    trace = tmp_path / "execve.trace"
    applied = _netagent(lab, canaries, "apply", "--profile", str(profile), strace_to=trace)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for name in HOSTILE:
        assert f"set {name} mtu 1500 -> 9001" in applied.stdout
    assert _sysfs(lab) == {n: [9001, 4, 4] for n in HOSTILE}
    # One execve: strace starting the interpreter. netagent itself spawns nothing, shell or not.
    execs = [line for line in trace.read_text().splitlines() if "exec" in line or "fork" in line]
    assert len(execs) == 1, execs
    assert sys.executable in execs[0]

    for fmt in ("json", "junit", "prometheus"):
        out = _netagent(lab, canaries, "audit", "--profile", str(profile), "--format", fmt)
        assert out.returncode == 0, f"{fmt}: {out.stdout}{out.stderr}"
        _assert_names_round_trip(fmt, out.stdout)

    restored = _netagent(lab, canaries, "restore")
    assert restored.returncode == 0, restored.stderr
    assert _sysfs(lab) == before
    assert os.listdir(canaries) == []  # no shell ever expanded a name


def _assert_names_round_trip(fmt: str, text: str) -> None:
    want = {f"{n}/{s}" for n in HOSTILE for s in ("mtu", "channels")}
    if fmt == "json":
        checks = json.loads(text)["checks"]
        assert {c["id"] for c in checks} == want
        assert {c["subject"] for c in checks} == set(HOSTILE)
    elif fmt == "junit":
        cases = ET.fromstring(text).iter("testcase")
        assert {c.get("name") for c in cases} == want
    else:
        families = {f.name: f for f in text_string_to_metric_families(text)}
        samples = families["netagent_check_drift"].samples
        assert {s.labels["check"] for s in samples} == want
        assert {s.labels["interface"] for s in samples} == set(HOSTILE)


@pytest.mark.skipif(not have_strace() and not os.environ.get("CI"), reason="needs strace")
def test_audit_spawns_no_process(hostile_lab: Lab, tmp_path: Path) -> None:
    trace = tmp_path / "audit.trace"
    profile = tmp_path / "star.yaml"
    profile.write_text('name: star\ninterfaces:\n  - match: "*"\n    mtu: 1500\n')
    out = _netagent(hostile_lab, tmp_path, "audit", "--profile", str(profile), "--format", "json", strace_to=trace)
    assert out.returncode == 0, out.stderr
    subjects = {c["subject"] for c in json.loads(out.stdout)["checks"]}
    assert subjects >= set(HOSTILE)
    execs = [line for line in trace.read_text().splitlines() if "exec" in line or "fork" in line]
    assert len(execs) == 1, execs


def _raw_mtu(lab: Lab, name: bytes) -> int:
    code = "import os, sys; print(open(b'/sys/class/net/' + bytes.fromhex(sys.argv[1]) + b'/mtu').read())"
    return int(lab.exec(sys.executable, "-c", code, name.hex()).stdout)


def test_issue9_non_utf8_interface_name_is_audited_applied_and_restored_not_a_crash(
    netns_ok: None, tmp_path: Path
) -> None:
    # Before the fix every audit on a host with such a name died with exit 70: the ethtool
    # adapter encoded names with str.encode(), which refuses os.listdir()'s surrogates.
    name = os.fsdecode(b"\xff\xfe")
    lab = Lab.create()
    try:
        run(["ip", "-n", lab.name, "link", "add", "name", name, "type", "veth", "peer", "name", "hp0"])
        profile = tmp_path / "star.yaml"
        profile.write_text('name: star\ninterfaces:\n  - match: "*"\n    mtu: 9000\n')
        audit = _netagent(lab, tmp_path, "audit", "--profile", str(profile), "--format", "json")
        assert audit.returncode == 1, audit.stderr
        # issue 16: one escaping in every format, an undecodable byte is :xNN (reports/names.py)
        audit.stdout.encode("utf-8")  # strict UTF-8: no lone surrogates
        assert {c["subject"] for c in json.loads(audit.stdout)["checks"]} == {":xff:xfe", "hp0"}
        junit = _netagent(lab, tmp_path, "audit", "--profile", str(profile), "--format", "junit")
        assert {c.get("name") for c in ET.fromstring(junit.stdout).iter("testcase")} == {
            ":xff:xfe/mtu",
            "hp0/mtu",
        }
        prom = _netagent(lab, tmp_path, "audit", "--profile", str(profile), "--format", "prometheus")
        families = {f.name: f for f in text_string_to_metric_families(prom.stdout)}
        assert {s.labels["interface"] for s in families["netagent_check_drift"].samples} == {":xff:xfe", "hp0"}
        applied = _netagent(lab, tmp_path, "apply", "--profile", str(profile))
        assert applied.returncode == 0, applied.stderr
        assert "set :xff:xfe mtu 1500 -> 9000" in applied.stdout
        assert _raw_mtu(lab, b"\xff\xfe") == 9000
        restored = _netagent(lab, tmp_path, "restore")
        assert restored.returncode == 0, restored.stderr
        assert _raw_mtu(lab, b"\xff\xfe") == 1500
    finally:
        lab.delete()
