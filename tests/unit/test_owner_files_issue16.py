"""Issue 16, the shell side: drop-ins, TuneD's locator order, and per-interface facts."""

from __future__ import annotations

from pathlib import Path

from netagent.core.model import Link
from netagent.core.owners import iface_owners, scan
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from netagent.host.owner_files import _pairs, read_link_facts, read_owner_files

LAB0 = Link("lab0", 7, 1500, "up", {"driver": DriverInfo("veth", "1"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)})


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def test_issue16_networkd_dropins_are_read_and_the_first_directory_wins_a_name(tmp_path: Path) -> None:
    write(tmp_path, "etc/systemd/network/10-a.link", "[Match]\nOriginalName=lab*\n[Link]\nMTUBytes=1400\n")
    write(tmp_path, "etc/systemd/network/10-a.link.d/mtu.conf", "[Link]\nMTUBytes=1300\n")
    write(tmp_path, "usr/lib/systemd/network/10-a.link.d/mtu.conf", "[Link]\nMTUBytes=1200\n")
    write(tmp_path, "usr/lib/systemd/network/10-a.link.d/zz.conf", "[Match]\nOriginalName=!lab1\n")
    found = scan(read_owner_files(str(tmp_path)))
    (owner,) = iface_owners(LAB0, "mtu", "1300", found)
    assert (owner.source, owner.value, owner.wins_at_boot) == (
        "/etc/systemd/network/10-a.link.d/mtu.conf",
        "1300",
        True,
    )
    assert iface_owners(LAB0.replace(name="lab1"), "mtu", "1300", found) == ()


def test_issue16_tuned_user_profile_may_include_the_system_one_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "etc/tuned/active_profile", "network-latency\n")
    write(tmp_path, "etc/tuned/network-latency/tuned.conf", "[main]\ninclude=network-latency\n[sysctl]\nnet.a=2\n")
    write(tmp_path, "usr/lib/tuned/network-latency/tuned.conf", "[sysctl]\nnet.a=1\nnet.b=1\n")
    files = read_owner_files(str(tmp_path))
    assert [f.path for f in files.tuned_profiles] == [
        "/usr/lib/tuned/network-latency/tuned.conf",
        "/etc/tuned/network-latency/tuned.conf",
    ]
    assert [(s.key, s.value) for s in scan(files).tuned_sysctl] == [("net.a", "2"), ("net.b", "1")]


def test_issue16_link_facts_from_sysfs_and_udev_records() -> None:
    lo = Link("lo", 1, 65536, "unknown", {"driver": DriverInfo("", ""), "channels": Channels(0, 0, 0, 0, 0, 0, 0, 0)})
    facts = read_link_facts("/nonexistent-root", {"lo": lo})["lo"]
    assert (facts.ifname, facts.iftype, facts.link_file) == ("lo", "loopback", None)
    assert facts.properties is None  # an image root: udev's /run is not the boot's truth
    assert _pairs("E:ID_PATH=pci-0000:00:05.0\nI:123\nE:ID_NET_LINK_FILE=/x.link\n", "E:") == {
        "ID_PATH": "pci-0000:00:05.0",
        "ID_NET_LINK_FILE": "/x.link",
    }
