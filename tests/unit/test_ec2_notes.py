"""Instance facts and report notes are pure functions of plain values."""

from __future__ import annotations

from netagent.core import ec2
from netagent.core.ec2 import Ec2Unavailable, EniFacts, InstanceFacts
from netagent.core.ena import EnaHealth
from netagent.core.model import HostState, InterfaceRule, Link, Profile, Unreadable
from netagent.core.notes import report_notes, wants_ena
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

MAC0, MAC1 = "06:aa:00:00:00:00", "06:aa:00:00:00:01"
FACTS = InstanceFacts("i-1", "c6in.8xlarge", "us-east-1", "us-east-1a", (EniFacts(MAC1, 1), EniFacts(MAC0, 0)))
ENA_PROFILE = Profile("ec2", "p.yaml", (InterfaceRule(0, ("eth*", "ens*"), settings={"driver": "ena"}),))
PLAIN_PROFILE = Profile("plain", "p.yaml", (InterfaceRule(0, ("eth*",), settings={"mtu": 9001}),))
CH = Channels(0, 0, 0, 2, 0, 0, 0, 2)


def state(**drivers: str) -> HostState:
    links = {
        n: Link(n, i + 2, 1500, "up", {"driver": DriverInfo(d, "1.0"), "channels": CH})
        for i, (n, d) in enumerate(drivers.items())
    }
    return HostState(tuple(links), links)


def test_instance_type_only_from_facts() -> None:
    assert ec2.instance_type(FACTS) == "c6in.8xlarge"
    assert ec2.instance_type(Ec2Unavailable("off EC2")) is None
    assert ec2.instance_type(None) is None


def test_describe_each_lookup() -> None:
    assert ec2.describe(FACTS) == "c6in.8xlarge i-1 in us-east-1a"
    assert ec2.describe(Ec2Unavailable("no route")) == "unavailable (no route)"
    assert ec2.describe(None) == "not checked (--no-imds)"


def test_primary_is_the_interface_with_device_index_0s_mac() -> None:
    macs = {"ens5": MAC1.upper(), "ens6": MAC0}
    assert ec2.primary_ifname(FACTS, macs) == "ens6"


def test_primary_without_imds_is_eth0_or_ens5() -> None:
    assert ec2.primary_ifname(None, {"ens5": MAC0, "ens6": MAC1}) == "ens5"
    assert ec2.primary_ifname(Ec2Unavailable("x"), {"lab0": MAC0}) is None


def test_ena_profile_on_a_non_ena_primary_says_so() -> None:
    [note] = report_notes(ENA_PROFILE, state(eth0="virtio_net"), None, {"eth0": MAC0}, ())
    assert note.startswith("this profile is written for ENA, but the primary interface eth0 uses the virtio_net driver")


def test_no_note_on_ena_or_for_a_profile_without_ena() -> None:
    assert report_notes(ENA_PROFILE, state(eth0="ena"), None, {"eth0": MAC0}, ()) == ()
    assert report_notes(PLAIN_PROFILE, state(eth0="virtio_net"), None, {"eth0": MAC0}, ()) == ()
    assert wants_ena(ENA_PROFILE)
    assert not wants_ena(PLAIN_PROFILE)


def test_no_note_when_the_primary_driver_is_unreadable() -> None:
    link = Link("eth0", 2, 1500, "up", {"driver": Unreadable("gone"), "channels": CH})
    assert report_notes(ENA_PROFILE, HostState(("eth0",), {"eth0": link}), None, {"eth0": MAC0}, ()) == ()


def test_ena_warnings_and_unread_counters_become_notes() -> None:
    healths = (EnaHealth("eth0", (("pps_allowance_exceeded", 3),)), EnaHealth("eth1", reason="too old"))
    notes = report_notes(ENA_PROFILE, state(eth0="ena"), FACTS, {"eth0": MAC0}, healths)
    assert notes[0].startswith("eth0: pps_allowance_exceeded = 3:")
    assert notes[1] == "eth1: ENA allowance counters not read: too old"
