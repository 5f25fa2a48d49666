"""The ownership scan: parsing and precedence on plain values, and on the fixture trees under tests/data/roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netagent.core.model import Check, Link, Owner, Profile, Report, Status
from netagent.core.owners import (
    OwnerFiles,
    SourceFile,
    attach_owners,
    iface_owners,
    normalize_key,
    parse_networkd,
    parse_sysctl_file,
    reverted_by,
    scan,
    sysctl_apply_order,
    sysctl_owners,
)
from netagent.core.owners.networkmanager import parse_keyfile
from netagent.core.owners.precedence import OwnerScan
from netagent.core.owners.sysctl_d import SysctlLine, decide, sysctl_path
from netagent.core.reports import json as json_report
from netagent.core.reports import plan as plan_report
from netagent.core.reports import text as text_report
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from netagent.core.settings.mtu import SetMtu
from netagent.host.owner_files import read_owner_files

ROOTS = Path(__file__).resolve().parents[1] / "data" / "roots"
VETH_CH = Channels(8, 8, 0, 0, 8, 8, 0, 0)


def veth(name: str, driver: str = "veth") -> Link:
    return Link(name, 2, 1500, "up", {"driver": DriverInfo(driver, "1.0"), "channels": VETH_CH})


def sysctl_winner(key: str, found: OwnerScan) -> SysctlLine | None:
    """The sysctl.d line systemd-sysctl leaves the key at (TuneD aside)."""
    return decide(sysctl_path(key), found.sysctl_table).winner


def files(*sysctl_d: SourceFile, conf: SourceFile | None = None) -> OwnerFiles:
    return OwnerFiles(sysctl_d=sysctl_d, sysctl_conf=conf)


# ---------------------------------------------------------------- sysctl.d, pure


def test_normalize_key_swaps_separators_only_when_the_first_is_a_slash() -> None:
    assert normalize_key("net.ipv4.tcp_rmem") == "net.ipv4.tcp_rmem"
    assert normalize_key("net/ipv4/tcp_rmem") == "net.ipv4.tcp_rmem"
    assert normalize_key("net/ipv4/conf/eth0.100/rp_filter") == "net.ipv4.conf.eth0/100.rp_filter"


def test_parse_sysctl_file_skips_comments_and_non_assignments_and_keeps_lines() -> None:
    text = "# c\n; c\n\n net.a.b = 1 \n-net/a/c=2 3\nnot an assignment\n-net.a.d\n"
    found = parse_sysctl_file(text, "/etc/sysctl.d/x.conf")
    assert [(a.key, a.value, a.line, a.ignore_failure) for a in found] == [
        ("net/a/b", "1", 4, False),
        ("net/a/c", "2 3", 5, True),
        ("net/a/d", None, 7, False),
    ]


def test_earlier_directory_masks_the_same_name_and_files_sort_across_directories() -> None:
    order = sysctl_apply_order(
        (
            SourceFile("/etc/sysctl.d/50-x.conf", "a=etc"),
            SourceFile("/etc/sysctl.d/90-z.conf", masked=True),
            SourceFile("/run/sysctl.d/10-y.conf", "a=run"),
            SourceFile("/usr/lib/sysctl.d/50-x.conf", "a=usr"),
            SourceFile("/usr/lib/sysctl.d/90-z.conf", "a=masked"),
        ),
    )
    assert [f.path for f in order] == ["/run/sysctl.d/10-y.conf", "/etc/sysctl.d/50-x.conf"]


def test_issue16_sysctl_conf_applies_at_boot_only_through_a_sysctl_d_link() -> None:
    conf = SourceFile("/etc/sysctl.conf", "net.a=1\n")
    late = SourceFile("/usr/lib/sysctl.d/zz.conf", "net.a=2\n")
    found = scan(files(late, conf=conf))
    assert sysctl_winner("net.a", found).source == "/usr/lib/sysctl.d/zz.conf"  # type: ignore[union-attr]
    unread = [o for o in sysctl_owners("net.a", "1", found) if o.kind == "sysctl.conf"]
    assert [(o.wins_at_boot, o.conflicts) for o in unread] == [(False, False)]
    assert "not applied at boot" in unread[0].note
    linked = SourceFile("/etc/sysctl.d/99-sysctl.conf", "net.a=1\n", target="/etc/sysctl.conf")
    found = scan(files(linked, late, conf=conf))
    winner = sysctl_winner("net.a", found)
    assert winner is not None
    assert (winner.source, winner.value) == ("/usr/lib/sysctl.d/zz.conf", "2")
    assert [a.source for a in found.sysctl_lines] == ["/etc/sysctl.conf", "/usr/lib/sysctl.d/zz.conf"]


def test_explicit_key_beats_a_later_glob_and_excluded_keys_escape_globs() -> None:
    found = scan(
        files(
            SourceFile("/etc/sysctl.d/10-a.conf", "net.c.eth0.rp = 1\n-net.c.eth1.rp\n"),
            SourceFile("/etc/sysctl.d/20-b.conf", "net.c.*.rp = 2\n"),
        )
    )
    assert sysctl_winner("net.c.eth0.rp", found).value == "1"  # type: ignore[union-attr]
    assert sysctl_winner("net.c.eth2.rp", found).value == "2"  # type: ignore[union-attr]
    assert sysctl_winner("net.c.eth1.rp", found) is None


def test_sysctl_owner_message_names_file_line_value_and_boot_winner() -> None:
    found = scan(
        files(
            SourceFile("/usr/lib/sysctl.d/50-d.conf", "net.core.rmem_max = 4194304\n"),
            SourceFile("/etc/sysctl.d/99-local.conf", "# local\n\nnet.core.rmem_max = 212992\n"),
        )
    )
    first, last = sysctl_owners("net.core.rmem_max", "67108864", found)
    assert last.describe() == "/etc/sysctl.d/99-local.conf:3 sets 212992; wins at boot"
    assert (first.conflicts, first.wins_at_boot, last.conflicts, last.wins_at_boot) == (True, False, True, True)
    (agreeing,) = sysctl_owners(
        "net.core.rmem_max", "212992", scan(files(SourceFile("/etc/sysctl.d/1.conf", "net.core.rmem_max=212992")))
    )
    assert not agreeing.conflicts


def test_tuned_sysctl_wins_only_where_sysctl_d_is_silent_or_reapply_is_off() -> None:
    tuned = SourceFile("/etc/tuned/t/tuned.conf", '[sysctl]\nnet.a = "1 2"\nnet.b=5\n')
    base = OwnerFiles(sysctl_d=(SourceFile("/etc/sysctl.d/1.conf", "net.a = 3 4\n"),), tuned_profiles=(tuned,))
    owners = {o.source: o for o in sysctl_owners("net.a", "3 4", scan(base))}
    assert owners["/etc/sysctl.d/1.conf"].wins_at_boot
    assert not owners["/etc/tuned/t/tuned.conf"].wins_at_boot
    assert owners["/etc/tuned/t/tuned.conf"].value == "1 2"
    (b,) = sysctl_owners("net.b", "6", scan(base))
    assert (b.kind, b.wins_at_boot, b.conflicts) == ("tuned", True, True)
    off = OwnerFiles(
        sysctl_d=base.sysctl_d,
        tuned_profiles=(tuned,),
        tuned_main=SourceFile("/etc/tuned/tuned-main.conf", "reapply_sysctl = 0\n"),
    )
    owners = {o.source: o for o in sysctl_owners("net.a", "3 4", scan(off))}
    assert owners["/etc/tuned/t/tuned.conf"].wins_at_boot
    assert not owners["/etc/sysctl.d/1.conf"].wins_at_boot


# ---------------------------------------------------------------- networkd and NetworkManager, pure


def test_networkd_first_matching_file_applies_and_network_beats_link() -> None:
    found = scan(
        OwnerFiles(
            networkd=(
                SourceFile("/etc/systemd/network/05-ena.link", "[Match]\nDriver=ena\n[Link]\nMTUBytes=9001\n"),
                SourceFile("/etc/systemd/network/10-lab.link", "[Match]\nOriginalName=lab*\n[Link]\nMTUBytes=1500\n"),
                SourceFile("/etc/systemd/network/20-a.network", "[Match]\nName=!lab0\n[Link]\nMTUBytes=1400\n"),
                SourceFile("/etc/systemd/network/30-b.network", "[Match]\nName=lab0 lab1\n[Link]\nMTUBytes=9K\n"),
                SourceFile("/etc/systemd/network/40-c.network", "[Match]\nName=lab*\n[Link]\nMTUBytes=7000\n"),
            )
        )
    )
    owners = iface_owners(veth("lab0"), "mtu", "9001", found)
    assert [(o.source.rsplit("/", 1)[-1], o.value, o.wins_at_boot) for o in owners] == [
        ("10-lab.link", "1500", False),
        ("30-b.network", "9216", True),
    ]
    ena = iface_owners(veth("lab0", driver="ena"), "mtu", "9001", found)
    assert ena[0].source.endswith("05-ena.link")
    assert not ena[0].conflicts


def test_keyfile_channels_compare_per_kind_and_mtu_0_sets_nothing() -> None:
    text = "[connection]\ninterface-name=lab1\n[ethernet]\nmtu=0\n[ethtool]\nchannels-rx=4\nchannels-tx=2\n"
    keyfile = SourceFile("/etc/NetworkManager/system-connections/x.nmconnection", text)
    unit = parse_keyfile(keyfile)
    assert not isinstance(unit, Owner)
    assert unit.match == (("interface-name", ("lab1",)),)
    found = scan(OwnerFiles(networkmanager=(keyfile,)))
    assert iface_owners(veth("lab1"), "mtu", "9001", found) == ()  # mtu=0: NetworkManager leaves it alone
    rx, tx = iface_owners(veth("lab1"), "channels", "rx=4 tx=4", found)
    assert (rx.value, rx.conflicts, tx.value, tx.conflicts) == ("rx=4", False, "tx=2", True)
    assert iface_owners(veth("lab0"), "channels", "rx=4 tx=4", found) == ()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/etc/systemd/network/a.link", "# c\nName=x\n[Match]\nOriginalName=lab0\n[Link]\nMTUBytes=1400\n"),
        ("/etc/systemd/network/a.link", "[Match]\nOriginalName=lab0\nbogus line\n[Link]\nMTUBytes=1400\n"),
        ("/etc/systemd/network/a.link", "[Match]\nOriginalName=lab0\n[Foo]\nX=1\n[Link]\nMTUBytes=1400\n"),
    ],
)
def test_issue16_systemd_ignores_bad_lines_not_the_file(path: str, text: str) -> None:
    """udevadm test-builtin net_setup_link (252): "Missing '=', ignoring line", "Assignment outside
    of section. Ignoring", "Unknown section 'Foo'. Ignoring": the file still applies."""
    unit = parse_networkd(SourceFile(path, text))
    assert unit is not None
    assert [(s.key, s.value) for s in unit.settings] == [("mtu", "1400")]


def test_issue16_unparsable_mtu_is_ignored_not_the_file() -> None:
    unit = parse_networkd(SourceFile("/etc/systemd/network/a.network", "[Match]\nName=lab0\n[Link]\nMTUBytes=jumbo\n"))
    assert unit is not None
    assert unit.settings == ()


# ---------------------------------------------------------------- the fixture trees


@pytest.fixture(scope="module")
def layered() -> OwnerFiles:
    return read_owner_files(str(ROOTS / "layered"))


def test_layered_tree_sysctl_winners(layered: OwnerFiles) -> None:
    found = scan(layered)

    def winner(key: str) -> tuple[str, int, str]:
        w = sysctl_winner(key, found)
        assert w is not None
        return w.source, w.line, w.value

    assert winner("net.core.rmem_max") == ("/etc/sysctl.d/99-local.conf", 3, "212992")
    assert winner("net.ipv4.tcp_mtu_probing") == ("/etc/sysctl.d/99-local.conf", 2, "1")
    assert winner("net.ipv4.tcp_wmem") == (
        "/etc/sysctl.conf",
        2,
        "4096 16384 4194304",
    )  # not /lib's shadowed 50-default
    assert winner("net.ipv4.conf.lab0.rp_filter") == ("/usr/local/lib/sysctl.d/80-glob.conf", 2, "1")
    assert winner("net.ipv4.conf.lab1.rp_filter") == ("/usr/local/lib/sysctl.d/80-glob.conf", 1, "2")
    # 60-vendor.conf is masked by a /dev/null link: its tcp_rmem never applies, TuneD's is the only one.
    assert sysctl_winner("net.ipv4.tcp_rmem", found) is None
    (tuned,) = sysctl_owners("net.ipv4.tcp_rmem", "4096 131072 67108864", found)
    assert tuned.describe() == "/usr/lib/tuned/network-throughput/tuned.conf:5 sets 4096 131072 16777216; wins at boot"
    # Issue 16: TuneD >= 2.13 reapplies only /run and /etc sysctl.d and /etc/sysctl.conf, so a
    # /usr/lib/sysctl.d line loses to TuneD's [sysctl] even with reapply_sysctl=1.
    owners = sysctl_owners("net.ipv4.tcp_slow_start_after_idle", "0", found)
    assert [(o.kind, o.value, o.wins_at_boot, o.conflicts) for o in owners] == [
        ("sysctl.d", "1", False, True),
        ("tuned", "0", True, False),
    ]
    assert not found.sysctl_problems


def test_layered_tree_interface_owners(layered: OwnerFiles) -> None:
    found = scan(layered)
    lab0 = {o.source: o for o in iface_owners(veth("lab0"), "mtu", "9001", found)}
    assert set(lab0) == {"/etc/systemd/network/10-lab.link", "/etc/systemd/network/20-lab0.network"}
    assert lab0["/etc/systemd/network/20-lab0.network"].describe() == (
        "/etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot"
    )
    (lab1_link, lab1_nm) = iface_owners(veth("lab1"), "mtu", "9001", found)
    assert (lab1_link.wins_at_boot, lab1_nm.kind, lab1_nm.wins_at_boot) == (False, "networkmanager", True)
    lab2 = iface_owners(veth("lab2"), "mtu", "9001", found)
    assert [(o.kind, o.value, o.wins_at_boot) for o in lab2] == [
        ("networkd-link", "1500", False),
        ("tuned", "1400", True),
    ]
    channels = iface_owners(veth("lab0"), "channels", "rx=2 tx=2", found)
    assert [(o.value, o.conflicts) for o in channels] == [("rx=2", False), ("tx=8", True)]


def test_malformed_tree_reports_unreadable_owners_and_keeps_the_rest() -> None:
    found = scan(read_owner_files(str(ROOTS / "malformed")))
    problems = {o.source: o.problem for o in found.sysctl_problems}
    assert problems == {
        "/etc/sysctl.d/10-latin1.conf": "not UTF-8 text (invalid continuation byte)",
        "/etc/sysctl.d/30-loop.conf": "cannot resolve: Too many levels of symbolic links",
        "/etc/sysctl.d/40-dir.conf": "cannot read: Is a directory",
        # issue 16: TuneD's loader refuses a profile it cannot find; say so, never silently nothing
        "/etc/tuned/active_profile (ghost)": "profile 'ghost' not found: TuneD refuses to load the active profile",
    }
    owners = sysctl_owners("net.ipv4.tcp_mtu_probing", "1", found)
    assert [o.source for o in owners if not o.problem] == ["/etc/sysctl.d/20-ok.conf"]
    iface = {(o.source, o.line): o.problem for o in found.iface_problems}
    # Issue 16: systemd ignores a bad line or value, not the file (10-bad.link, 20-mtu.network).
    assert iface == {
        ("/etc/NetworkManager/system-connections/bad.nmconnection", 4): "mtu=big is not a number",
        (
            "/etc/tuned/active_profile (ghost)",
            None,
        ): "profile 'ghost' not found: TuneD refuses to load the active profile",
    }
    assert found.tuned_sysctl == ()  # active_profile names a profile that does not exist


def test_missing_root_scans_nothing(tmp_path: Path) -> None:
    assert scan(read_owner_files(str(tmp_path / "absent"))) == scan(OwnerFiles())


# ---------------------------------------------------------------- checks and reports


def test_owners_attach_to_checks_and_render_as_warnings_in_text_json_and_plan(layered: OwnerFiles) -> None:
    checks = [
        Check("lab0", "mtu", Status.DRIFT, "9001", "1500", change=SetMtu("lab0", 1500, 9001)),
        Check("net.core.rmem_max", "sysctl", Status.OK, "212992", "212992"),
        Check("lab0", "driver", Status.OK, "veth", "veth"),
    ]
    attached = attach_owners(checks, {"lab0": veth("lab0")}, scan(layered))
    assert [len(c.owners) for c in attached] == [2, 2, 0]
    report = Report(Profile("t", "t.yaml"), {}, tuple(attached))
    text = text_report.render(report)
    assert "    owner: /etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot" in text
    assert "owner: /etc/sysctl.d/99-local.conf" not in text  # agrees with the profile: no warning
    assert text.rstrip().endswith("; 3 owner warnings")  # 50-default.conf's 4194304 too, overridden
    doc = json.loads(json_report.render(report))
    assert doc["checks"][1]["owners"][1] == {
        "source": "/etc/sysctl.d/99-local.conf",
        "line": 3,
        "kind": "sysctl.d",
        "value": "212992",
        "conflicts": False,
        "wins_at_boot": True,
        "note": "TuneD reapplies it after its own sysctls",
        "problem": None,
    }
    from netagent.core.diff import plan

    p = plan(list(report.checks))
    assert [o.source for o in reverted_by(attached[0])] == ["/etc/systemd/network/20-lab0.network"]
    assert plan_report.render_text(report, p).splitlines() == [
        "lab0 mtu 1500 -> 9001",
        "    reverted at boot by /etc/systemd/network/20-lab0.network:5 sets 9216 (MTUBytes=); wins at boot",
        "",
        "1 change; 1 would be reverted at the next boot",
    ]
    (change,) = json.loads(plan_report.render_json(report, p))["changes"]
    assert change["change"] == "lab0 mtu 1500 -> 9001"
    assert [o["source"] for o in change["reverted_by"]] == ["/etc/systemd/network/20-lab0.network"]
