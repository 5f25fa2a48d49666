"""Issue 16: NetworkManager keyfiles: which device a profile binds, and whether it runs at boot (pure)."""

from __future__ import annotations

import pytest

from netagent.core.model import Link
from netagent.core.owners import OwnerFiles, SourceFile, iface_owners, scan
from netagent.core.owners.networkd import MAYBE, NO, YES
from netagent.core.owners.networkmanager import match_interface_names, match_keyfile, parse_keyfile
from netagent.core.owners.sources import Unit
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo

ETH0 = Link("eth0", 2, 1500, "up", {"driver": DriverInfo("ena", "2"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)})


def keyfile(body: str) -> Unit:
    unit = parse_keyfile(SourceFile("/etc/NetworkManager/system-connections/a.nmconnection", body))
    assert isinstance(unit, Unit)
    return unit


@pytest.mark.parametrize(
    ("value", "ifname", "expected"),
    [
        ("eth0;eth1;", "eth1", True),
        ("eth*;!eth1;", "eth1", False),
        ("eth*;!eth1;", "eth0", True),
        ("&eth*;&!eth0;", "eth0", False),
        ("!eth0;", "ens5", True),
        ("eth[!0];", "eth0", False),
    ],
)
def test_issue16_match_interface_name_lists(value: str, ifname: str, expected: bool) -> None:
    unit = keyfile(f"[connection]\ntype=ethernet\n[match]\ninterface-name={value}\n")
    (key, patterns) = unit.match[-1]
    assert key == "match-interface-name"
    assert match_interface_names(patterns, ifname) is expected


def test_issue16_mac_address_binding_and_autoconnect_false() -> None:
    bound = keyfile("[connection]\ntype=ethernet\n[ethernet]\nmac-address=02:00:00:00:00:01\nmtu=9001\n")
    assert match_keyfile(bound, "eth0", "02:00:00:00:00:01") == (YES, "")
    assert match_keyfile(bound, "eth0", "02:00:00:00:00:02")[0] == NO
    assert match_keyfile(bound, "eth0", None)[0] == MAYBE
    off = keyfile("[connection]\ntype=ethernet\ninterface-name=eth0\nautoconnect=false\n[ethernet]\nmtu=9001\n")
    assert match_keyfile(off, "eth0", None)[0] == NO
    anything = keyfile("[connection]\ntype=ethernet\n[ethernet]\nmtu=9001\n")
    assert match_keyfile(anything, "eth0", None)[0] == MAYBE


def test_issue16_several_matching_profiles_claim_no_winner() -> None:
    files = OwnerFiles(
        networkmanager=(
            SourceFile(
                "/etc/NetworkManager/system-connections/a.nmconnection",
                "[connection]\ninterface-name=eth0\n[ethernet]\nmtu=9001\n",
            ),
            SourceFile(
                "/etc/NetworkManager/system-connections/b.nmconnection",
                "[connection]\ntype=ethernet\n[match]\ninterface-name=eth*;\n[ethernet]\nmtu=1500\n",
            ),
        )
    )
    owners = iface_owners(ETH0, "mtu", "9001", scan(files))
    assert [o.wins_at_boot for o in owners] == [False, False]
    assert all("autoconnect-priority" in o.note for o in owners)
    single = OwnerFiles(networkmanager=files.networkmanager[:1])
    (owner,) = iface_owners(ETH0, "mtu", "9001", scan(single))
    assert owner.wins_at_boot
