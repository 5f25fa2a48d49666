"""Issue 16: .link/.network [Match] as systemd 252 reads it, one test per class (pure).

The expectations were checked with `udevadm test-builtin net_setup_link` of systemd 252 on veths
(tests/integration/test_owners_links.py).
"""

from __future__ import annotations

import pytest

from netagent.core.boot import match_line
from netagent.core.model import Link
from netagent.core.owners import OwnerFiles, SourceFile, iface_owners, scan
from netagent.core.owners.networkd import MAYBE, NO, YES, LinkFacts, match_unit, parse_networkd
from netagent.core.owners.precedence import iface_units
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

VETH = {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}

LAB0 = LinkFacts("lab0", driver="veth", mac="02:00:00:00:00:01", iftype="ether", kind="veth", path="")


def verdict(match: str, facts: LinkFacts = LAB0, suffix: str = ".link") -> str:
    unit = parse_networkd(
        SourceFile(f"/etc/systemd/network/10-x{suffix}", f"[Match]\n{match}\n[Link]\nMTUBytes=1400\n")
    )
    return "ignored" if unit is None else match_unit(unit, facts)[0]


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ("OriginalName=!lab1 lab0", NO),  # `!` negates every word of the line
        ("OriginalName=lab*\nOriginalName=!lab0", NO),  # lines join into one list
        ("OriginalName=lab[^0]", NO),
        ("OriginalName=lab[!1]", YES),
        ("Driver=veth\nType=ether\nKind=veth", YES),
        ("Kind=!veth", NO),
        ("Path=pci-*", NO),  # a veth has no ID_PATH
        ("MACAddress=00:11:22:33:44:55", NO),
        ("MACAddress=02:00:00:00:00:01", YES),
        ("OriginalName=lab0\nOriginalName=", "ignored"),  # reset: [Match] empty
        ("Name=lab0", "ignored"),  # not a .link key: [Match] empty, the whole file is ignored
        ("", "ignored"),
        ("Virtualization=no", MAYBE),  # a condition on the machine
        ("PermanentMACAddress=02:00:00:00:00:01", MAYBE),  # not known
    ],
)
def test_issue16_link_match_semantics(match: str, expected: str) -> None:
    assert verdict(match) == expected


def test_issue16_unknown_path_may_apply_never_applies_to_everything() -> None:
    facts = LinkFacts("ens5", driver="ena")
    assert match_unit(
        parse_networkd(SourceFile("/etc/systemd/network/a.link", "[Match]\nPath=pci-0000:00:05.0\n")), facts
    ) == (  # type: ignore[arg-type]
        MAYBE,
        "Path= (not known)",
    )


def test_issue16_netagent_persisted_link_matches_by_its_slot_name_property() -> None:
    text = f"[Match]\n{match_line('ens5')}\n[Link]\nMTUBytes=9001\n"
    unit = parse_networkd(SourceFile("/etc/systemd/network/60-netagent-ens5.link", text))
    assert unit is not None
    assert match_unit(unit, LinkFacts("ens5", driver="ena"))[0] == YES
    assert match_unit(unit, LinkFacts("ens6", driver="ena"))[0] == MAYBE
    known = LinkFacts("ens6", driver="ena", properties=(("ID_NET_NAME_SLOT", "ens6"),))
    assert match_unit(unit, known)[0] == NO


def lab(name: str = "lab0") -> Link:
    return Link(name, 2, 1500, "up", VETH)


def test_issue16_dropins_and_masks() -> None:
    files = OwnerFiles(
        networkd=(
            SourceFile("/etc/systemd/network/10-a.link", "[Match]\nOriginalName=lab0\n[Link]\nMTUBytes=1400\n"),
            SourceFile("/etc/systemd/network/10-a.link.d/mtu.conf", "[Link]\nMTUBytes=1300\n"),
            SourceFile("/usr/lib/systemd/network/10-a.link.d/mtu.conf", "[Link]\nMTUBytes=1200\n"),
            SourceFile("/etc/systemd/network/20-b.network", masked=True),
            SourceFile("/usr/lib/systemd/network/20-b.network", "[Match]\nName=lab0\n[Link]\nMTUBytes=9000\n"),
        )
    )
    (owner,) = iface_owners(lab(), "mtu", "1300", scan(files))
    assert (owner.source, owner.value, owner.wins_at_boot) == (
        "/etc/systemd/network/10-a.link.d/mtu.conf",
        "1300",
        True,
    )


def test_issue16_a_file_that_may_apply_blocks_the_winner_claim_after_it() -> None:
    files = OwnerFiles(
        networkd=(
            SourceFile("/etc/systemd/network/10-a.link", "[Match]\nPath=pci-*\n[Link]\nMTUBytes=1400\n"),
            SourceFile("/etc/systemd/network/20-b.link", "[Match]\nOriginalName=lab0\n[Link]\nMTUBytes=9001\n"),
        )
    )
    found = scan(files)
    units = iface_units(lab(), found)
    assert [(a.unit.source, a.maybe) for a in units] == [
        ("/etc/systemd/network/10-a.link", "may apply: Path= (not known)"),
        ("/etc/systemd/network/20-b.link", "applies unless /etc/systemd/network/10-a.link does"),
    ]
    owners = iface_owners(lab(), "mtu", "9001", found, units)
    assert not any(o.wins_at_boot for o in owners)
    live = iface_units(lab(), found, LinkFacts("lab0", link_file="/etc/systemd/network/20-b.link"))
    assert [(a.unit.source, a.maybe) for a in live] == [("/etc/systemd/network/20-b.link", "")]
