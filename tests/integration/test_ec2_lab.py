"""EC2 awareness end to end: the real CLI against a stand-in IMDSv2 inside a test namespace.

IMDS traffic never leaves the namespaces these tests create: the stand-in listens on
169.254.169.254 and fd00:ec2::254 on a veth inside the lab, and the "unreachable" lab routes
169.254.0.0/16 into a veth where nothing answers.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.lab import Lab, run

SERVER = Path(__file__).with_name("imds_server.py")
PROFILE = """\
name: lab-ec2
interfaces:
  - match: "lab*"
    mtu: 1500
sysctl:
  net.ipv4.tcp_mtu_probing: 0
"""


@dataclass
class ImdsLab:
    lab: Lab
    log: Path
    profile: str

    def requests(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def _veth_with(lab: Lab, *addrs: str) -> None:
    """Put addresses on imds0, one end of a veth pair inside the lab (no dummy module needed)."""
    lab.exec("ip", "link", "add", "imds0", "type", "veth", "peer", "name", "imds1")
    for addr in addrs:
        lab.exec("ip", "addr", "add", addr, "dev", "imds0", *(["nodad"] if ":" in addr else []))
    lab.exec("ip", "link", "set", "imds0", "up")
    lab.exec("ip", "link", "set", "imds1", "up")


@pytest.fixture
def imds_lab(netns_ok: None, tmp_path: Path) -> Iterator[ImdsLab]:
    """A lab with veth lab0 and a stand-in IMDSv2 on 169.254.169.254 and [fd00:ec2::254].

    Scope: function. Depends: netns_ok. The server and the namespace go in teardown, always.
    """
    lab = Lab.create()
    server: subprocess.Popen[str] | None = None
    try:
        lab.add_veth("lab0", "peer0")
        lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
        _veth_with(lab, "169.254.169.254/16", "fd00:ec2::254/64")
        log = tmp_path / "imds.log"
        log.touch()
        cmd = ["ip", "netns", "exec", lab.name, sys.executable, str(SERVER), str(log)]
        server = subprocess.Popen([*cmd, "169.254.169.254", "fd00:ec2::254"], stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        ready, _, _ = select.select([server.stdout], [], [], 10)
        assert ready, "the stand-in IMDS did not start within 10 s"
        assert server.stdout.readline().strip() == "ready"
        profile = tmp_path / "profile.yaml"
        profile.write_text(PROFILE)
        yield ImdsLab(lab, log, str(profile))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        lab.delete()


# Off EC2 netagent sends no IMDS request unless an endpoint is named: name the stand-in's.
IMDS = ("--imds-endpoint", "http://169.254.169.254")


def test_audit_reads_instance_facts_through_imdsv2(imds_lab: ImdsLab) -> None:
    res = imds_lab.lab.netagent("audit", "--profile", imds_lab.profile, *IMDS, "--format", "json")
    assert res.returncode == 0, res.stderr
    ec2 = json.loads(res.stdout)["ec2"]
    assert ec2["status"] == "available"
    assert (ec2["instance_id"], ec2["instance_type"]) == ("i-0fedcba9876543210", "c6in.8xlarge")
    assert (ec2["region"], ec2["availability_zone"]) == ("eu-west-1", "eu-west-1b")
    assert [(e["mac"], e["device_number"], e["vpc_ipv4_cidr_block"]) for e in ec2["interfaces"]] == [
        ("0e:11:22:33:44:55", 0, "172.31.0.0/16"),
        ("0e:11:22:33:44:66", 1, "172.31.0.0/16"),
    ]
    requests = imds_lab.requests()
    assert (requests[0]["method"], requests[0]["status"]) == ("PUT", 200)
    assert sum(1 for r in requests if r["method"] == "PUT") == 1
    gets = [r for r in requests if r["method"] == "GET"]
    assert gets
    assert all(r["token_ok"] and r["status"] == 200 for r in gets)
    assert "TKN-" not in res.stderr + res.stdout  # the token is never printed


def test_stand_in_refuses_imdsv1(imds_lab: ImdsLab) -> None:
    code = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen('http://169.254.169.254/latest/meta-data/instance-id', timeout=5)\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code)\n"
    )
    res = imds_lab.lab.exec(sys.executable, "-c", code, env={"PATH": "/usr/bin:/bin", "NO_PROXY": "*"})
    assert res.stdout.strip() == "401"


def test_ipv6_endpoint(imds_lab: ImdsLab) -> None:
    res = imds_lab.lab.netagent(
        "audit", "--profile", imds_lab.profile, "--format", "json", "--imds-endpoint", "http://[fd00:ec2::254]"
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["ec2"]["instance_type"] == "c6in.8xlarge"


def test_prometheus_textfile_and_junit_carry_the_instance_type(imds_lab: ImdsLab, tmp_path: Path) -> None:
    prom = tmp_path / "netagent.prom"
    res = imds_lab.lab.netagent(
        "audit", "--profile", imds_lab.profile, *IMDS, "--format", "prometheus", "--output", str(prom)
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    [info] = families["netagent_ec2_info"].samples
    assert info.labels["instance_type"] == "c6in.8xlarge"
    assert families["netagent_compliant"].samples[0].value == 1
    drift = {s.labels["check"]: s.value for s in families["netagent_check_drift"].samples}
    assert drift == {"lab0/mtu": 0, "sysctl/net.ipv4.tcp_mtu_probing": 0}

    junit = imds_lab.lab.netagent("audit", "--profile", imds_lab.profile, *IMDS, "--format", "junit")
    suite = ET.fromstring(junit.stdout).find("testsuite")
    assert suite is not None
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["ec2.instance_type"] == "c6in.8xlarge"


def test_off_ec2_audit_reports_unavailable_within_a_second_more(netns_ok: None, tmp_path: Path) -> None:
    """Nothing answers at 169.254.169.254: the lookup gives up on its own deadline."""
    lab = Lab.create()
    try:
        lab.add_veth("lab0", "peer0")
        lab.set_sysctl("net.ipv4.tcp_mtu_probing", "0")
        _veth_with(lab, "169.254.0.1/16")  # a route to IMDS, and no one there to answer ARP
        profile = tmp_path / "profile.yaml"
        profile.write_text(PROFILE)
        timings = {}
        results = {}
        for mode in ("--no-imds", "--imds"):
            # An explicit endpoint makes netagent ask even though DMI says this is no EC2 instance.
            extra = ["--no-imds"] if mode == "--no-imds" else ["--imds-endpoint", "http://169.254.169.254"]
            start = time.monotonic()
            results[mode] = lab.netagent("audit", "--profile", str(profile), "--format", "json", *extra)
            timings[mode] = time.monotonic() - start
        with_imds = results["--imds"]
        assert with_imds.returncode == results["--no-imds"].returncode == 0, with_imds.stderr
        assert json.loads(with_imds.stdout)["ec2"]["status"] == "unavailable"
        assert "imds_unavailable" in with_imds.stderr  # a warning, not a failure
        extra_s = timings["--imds"] - timings["--no-imds"]
        print(f"audit without IMDS {timings['--no-imds']:.3f} s, with unreachable IMDS {timings['--imds']:.3f} s")
        assert extra_s < 1.0, timings  # the bound; the design spends CONNECT_TIMEOUT_S (0.25 s)
    finally:
        lab.delete()


def test_statistics_ioctl_reads_veth_counters(lab: Lab) -> None:
    code = "import json; from netagent.host.ethtool import Ethtool; print(json.dumps(Ethtool().statistics('lab0')))"
    pairs = dict(json.loads(lab.exec(sys.executable, "-c", code).stdout))
    peer = json.loads(run(["ip", "-n", lab.name, "-j", "link", "show", "dev", "peer0"]).stdout)[0]["ifindex"]
    assert pairs["peer_ifindex"] == peer  # what `ethtool -S lab0` shows first
    tool = lab.exec("ethtool", "-S", "lab0").stdout
    assert f"peer_ifindex: {peer}" in tool
