"""The pure audit: desired vs observed gives checks and a plan."""

from __future__ import annotations

import pytest

from netagent.core.diff import audit, merge_rules, plan, wanted_by_interface
from netagent.core.model import MAX, HostState, InterfaceRule, Link, Profile, Status, Unreadable
from netagent.core.settings.channels import Channels, ChannelSpec, SetChannels, check_channels
from netagent.core.settings.driver import DriverInfo, parse_driver_version
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import SetSysctl, SysctlSetting, check_sysctl

VETH = DriverInfo("veth", "1.0")
ENA = DriverInfo("ena", "2.17.0g")
VETH_CH = Channels(max_rx=8, max_tx=8, max_other=0, max_combined=0, rx=8, tx=8, other=0, combined=0)
ENA_CH = Channels(max_rx=0, max_tx=0, max_other=0, max_combined=8, rx=0, tx=0, other=0, combined=2)


def link(name: str, mtu: int = 1500, driver: DriverInfo | Unreadable = VETH, channels: object = VETH_CH) -> Link:
    return Link(name, 2, mtu, "up", {"driver": driver, "channels": channels})  # type: ignore[arg-type]


def host(*links: Link, **sysctls: str | Unreadable) -> HostState:
    return HostState(
        ifnames=tuple(lk.name for lk in links),
        links={lk.name: lk for lk in links},
        sysctls={k.replace("__", "."): v for k, v in sysctls.items()},
    )


def profile(*rules: InterfaceRule, sysctls: tuple[SysctlSetting, ...] = ()) -> Profile:
    return Profile(name="t", path="t.yaml", interfaces=rules, sysctls=sysctls)


def by_id(checks: list) -> dict:
    return {c.id: c for c in checks}


def test_mtu_drift_yields_set_mtu_change() -> None:
    checks = audit(profile(InterfaceRule(0, ("lab*",), settings={"mtu": 9001})), host(link("lab0")))
    (check,) = checks
    assert (check.id, check.status, check.expected, check.actual) == ("lab0/mtu", Status.DRIFT, "9001", "1500")
    assert check.change == SetMtu("lab0", old=1500, new=9001)


def test_matching_mtu_is_ok_without_change() -> None:
    (check,) = audit(profile(InterfaceRule(0, ("lab0",), settings={"mtu": 9001})), host(link("lab0", mtu=9001)))
    assert check.status is Status.OK
    assert check.change is None


def test_wrong_driver_is_drift_naming_both_and_unfixable() -> None:
    checks = audit(profile(InterfaceRule(0, ("lab0",), settings={"driver": "ena"})), host(link("lab0")))
    (check,) = checks
    assert check.status is Status.DRIFT
    assert (check.expected, check.actual) == ("ena", "veth")
    assert "veth" in check.message
    assert "ena" in check.message
    assert plan(checks).changes == ()
    assert plan(checks).unfixable == (check,)


def test_rule_matching_nothing_is_drift() -> None:
    checks = audit(profile(InterfaceRule(0, ("ens5",), settings={"mtu": 9001})), host(link("lab0")))
    (check,) = checks
    assert check.id == "interfaces[0]/match"
    assert check.status is Status.DRIFT
    assert "ens5" in check.message


def test_loopback_is_not_matched_by_a_wildcard() -> None:
    checks = audit(profile(InterfaceRule(0, ("*",), settings={"mtu": 9001})), host(link("lo", mtu=65536), link("lab0")))
    assert [c.id for c in checks] == ["lab0/mtu"]


def test_later_rule_overrides_earlier_fields_per_interface() -> None:
    rules = (
        InterfaceRule(0, ("lab*",), settings={"mtu": 1500, "driver": "veth"}),
        InterfaceRule(1, ("lab1",), settings={"mtu": 9001}),
    )
    checks = by_id(audit(profile(*rules), host(link("lab0"), link("lab1"))))
    assert checks["lab0/mtu"].status is Status.OK
    assert checks["lab1/mtu"].change == SetMtu("lab1", 1500, 9001)
    assert checks["lab1/driver"].status is Status.OK


def test_wanted_by_interface_merges_once_per_set_of_matching_rules() -> None:
    rules = (
        InterfaceRule(0, ("lab*",), settings={"mtu": 1500, "driver": "veth"}),
        InterfaceRule(1, ("lab1", "lab2"), settings={"mtu": 9001}),
    )
    wanted = wanted_by_interface(profile(*rules), ("lab0", "lab1", "lab2", "lab3", "eth0"))
    assert sorted(wanted) == ["lab0", "lab1", "lab2", "lab3"]
    assert wanted["lab1"] == merge_rules(rules)
    assert wanted["lab0"] == merge_rules(rules[:1])
    assert wanted["lab1"].settings == {"mtu": 9001, "driver": "veth"}
    # The daemon keeps one of these per interface: interfaces with the same rules share one.
    assert wanted["lab1"] is wanted["lab2"]
    assert wanted["lab0"] is wanted["lab3"]
    assert wanted["lab0"] is not wanted["lab1"]


def test_sysctl_compares_by_meaning() -> None:
    setting = SysctlSetting("net.ipv4.tcp_rmem", "4096 131072 6291456")
    assert check_sysctl(setting, "4096\t131072\t6291456").status is Status.OK
    drift = check_sysctl(setting, "4096\t131072\t33554432")
    assert drift.status is Status.DRIFT
    assert drift.change == SetSysctl("net.ipv4.tcp_rmem", old="4096 131072 33554432", new="4096 131072 6291456")


def test_unreadable_sysctl_is_an_error_with_the_reason() -> None:
    check = check_sysctl(SysctlSetting("net.core.busy_poll", "50"), Unreadable("no such key", unsupported=True))
    assert check.status is Status.ERROR
    assert check.message == "no such key"
    assert check.change is None


def test_channels_max_resolves_to_device_maximum() -> None:
    check = check_channels("eth0", ChannelSpec(combined=MAX), ENA_CH)
    assert check.status is Status.DRIFT
    assert (check.expected, check.actual) == ("combined=8", "combined=2")
    assert check.change == SetChannels("eth0", old=(("combined", 2),), new=(("combined", 8),))


def test_channels_rx_tx_on_veth() -> None:
    check = check_channels("lab0", ChannelSpec(rx=4, tx=4), VETH_CH)
    assert check.change == SetChannels("lab0", old=(("rx", 8), ("tx", 8)), new=(("rx", 4), ("tx", 4)))


def test_channels_kind_the_device_lacks_is_unsupported() -> None:
    check = check_channels("eth0", ChannelSpec(rx=4), ENA_CH)
    assert check.status is Status.UNSUPPORTED
    assert "no rx queues" in check.message


def test_channels_above_device_maximum_is_an_error() -> None:
    check = check_channels("lab0", ChannelSpec(rx=16), VETH_CH)
    assert check.status is Status.ERROR
    assert "maximum of 8" in check.message
    assert check.change is None


def test_device_without_channel_control_is_unsupported() -> None:
    checks = audit(
        profile(InterfaceRule(0, ("lab0",), settings={"channels": ChannelSpec(combined=MAX)})),
        host(link("lab0", channels=Unreadable("the device does not support it", unsupported=True))),
    )
    assert checks[0].status is Status.UNSUPPORTED


@pytest.mark.parametrize(
    ("have", "status"),
    [("2.17.0g", Status.OK), ("2.2.10", Status.OK), ("2.2.9", Status.DRIFT), ("1.3.0K", Status.DRIFT)],
)
def test_driver_min_version(have: str, status: Status) -> None:
    rule = InterfaceRule(0, ("eth0",), settings={"driver": "ena", "driver_min_version": "2.2.10"})
    checks = by_id(audit(profile(rule), host(link("eth0", driver=DriverInfo("ena", have)))))
    assert checks["eth0/driver_version"].status is status


def test_in_tree_kernel_release_version_is_unsupported() -> None:
    rule = InterfaceRule(0, ("eth0",), settings={"driver_min_version": "2.2.10"})
    kernel = DriverInfo("ena", "6.11.2-cb1.0.lto.fc40.x86_64")
    (check,) = audit(profile(rule), host(link("eth0", driver=kernel)))
    assert check.status is Status.UNSUPPORTED
    assert "kernel release" in check.message


def test_version_of_another_driver_is_not_compared() -> None:
    rule = InterfaceRule(0, ("eth0",), settings={"driver": "ena", "driver_min_version": "2.2.10"})
    checks = by_id(audit(profile(rule), host(link("eth0"))))
    assert checks["eth0/driver_version"].status is Status.UNSUPPORTED
    assert checks["eth0/driver"].status is Status.DRIFT


def test_parse_driver_version() -> None:
    assert parse_driver_version("2.17.0g") == (2, 17, 0)
    assert parse_driver_version("2.8") == (2, 8, 0)
    assert parse_driver_version("4.18.0-305.12.1.el8_4.x86_64") is None


def test_audit_orders_failures_first_and_plan_orders_interfaces_then_sysctls() -> None:
    rules = (InterfaceRule(0, ("lab*",), settings={"mtu": 9001, "channels": ChannelSpec(rx=4)}),)
    sysctls = (SysctlSetting("net.ipv4.b", "1"), SysctlSetting("net.ipv4.a", "1"), SysctlSetting("net.ipv4.c", "0"))
    checks = audit(
        profile(*rules, sysctls=sysctls),
        host(link("lab1"), link("lab0"), net__ipv4__a="0", net__ipv4__b="0", net__ipv4__c="0"),
    )
    assert [c.status for c in checks] == sorted((c.status for c in checks), key=lambda s: s is Status.OK)
    assert checks[-1].id == "sysctl/net.ipv4.c"
    assert [ch.setting for ch in plan(checks).changes] == [
        "lab0/channels",
        "lab0/mtu",
        "lab1/channels",
        "lab1/mtu",
        "sysctl/net.ipv4.a",
        "sysctl/net.ipv4.b",
    ]
