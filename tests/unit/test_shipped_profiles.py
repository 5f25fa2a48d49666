"""The four shipped profiles validate, and hold what issue 13 asks of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from netagent import cli
from netagent.core.diff import audit
from netagent.core.errors import ExitCode
from netagent.core.model import HostState, Link, Severity, Status
from netagent.core.profile.parser import parse_profile
from netagent.core.settings.bql import BqlState
from netagent.core.settings.driver import DriverInfo
from netagent.core.settings.rings import Rings
from netagent.core.settings.rps import CpuSpec

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
SHIPPED = ("ec2-default.yaml", "ena-express.yaml", "low-latency.yaml", "throughput.yaml")


def load(name: str):  # type: ignore[no-untyped-def]
    return parse_profile((PROFILES / name).read_text(), name)


@pytest.mark.parametrize("name", SHIPPED)
def test_validate_accepts_the_shipped_profile(name: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["validate", str(PROFILES / name)]) == ExitCode.OK
    assert "valid profile" in capsys.readouterr().out


def test_every_profile_in_the_folder_is_one_of_the_four() -> None:
    assert sorted(p.name for p in PROFILES.glob("*.yaml")) == sorted(SHIPPED)


def test_ec2_default_holds_the_seed_recipe() -> None:
    profile = load("ec2-default.yaml")
    sysctls = {s.key: s.value for s in profile.sysctls}
    assert sysctls["net.core.rmem_max"] == sysctls["net.core.wmem_max"] == "134217728"
    assert sysctls["net.ipv4.tcp_rmem"].split()[2] == "134217728"  # autotuning may reach the same max
    assert sysctls["net.ipv4.tcp_wmem"].split()[2] == "134217728"
    rules = {tuple(r.match): r.settings for r in profile.interfaces}
    assert rules[("eth*", "ens*")]["driver"] == "ena"
    assert rules[("eth0", "ens5")]["mtu"] == 9001
    assert profile.host == {"kernel": "6.1"}


def ena_link(mtu: int) -> Link:
    values = {
        "driver": DriverInfo("ena", "2.13.0g"),
        "bql": BqlState("1", (("tx-0", 0),)),
        "rings": Rings(16384, 0, 0, 1024, 1024, 0, 0, 1024),  # ENA: Rx up to 16K, Tx 1K
        "large_llq": "0",
    }
    return Link("ens5", 2, mtu, "up", values)


def test_ena_express_names_the_8900_limit_and_requires_bql_off() -> None:
    profile = load("ena-express.yaml")
    host = HostState(
        ("ens5",),
        {"ens5": ena_link(9001)},
        {"net.ipv4.tcp_limit_output_bytes": "1048576", "net.ipv4.tcp_autocorking": "1"},
    )
    checks = {c.id: c for c in audit(profile, host)}
    mtu = checks["ens5/mtu"]
    assert (mtu.status, mtu.expected, mtu.actual, mtu.severity) == (Status.DRIFT, "8900", "9001", Severity.REQUIRED)
    assert checks["ens5/bql"].status is Status.DRIFT
    assert checks["ens5/bql"].severity is Severity.REQUIRED
    rings = checks["ens5/rings"]
    assert (rings.status, rings.severity) == (Status.DRIFT, Severity.RECOMMENDED)  # rx 1024 < 8192
    assert checks["sysctl/net.ipv4.tcp_limit_output_bytes"].status is Status.OK  # the bound is met
    assert checks["sysctl/net.ipv4.tcp_autocorking"].severity is Severity.RECOMMENDED
    assert checks["ens5/large_llq"].status is Status.OK


def test_low_latency_turns_moderation_off_and_busy_polls() -> None:
    profile = load("low-latency.yaml")
    coalesce = profile.interfaces[0].settings["coalesce"]
    assert "adaptive_rx" in str(coalesce)
    assert {s.key: s.value for s in profile.sysctls} == {"net.core.busy_read": "70", "net.core.busy_poll": "70"}


def test_throughput_steers_packets_only_as_a_recommendation() -> None:
    profile = load("throughput.yaml")
    rps_rule = next(r for r in profile.interfaces if "rps" in r.settings)
    assert rps_rule.settings["rps"] == CpuSpec("all")
    assert rps_rule.severity is Severity.RECOMMENDED
