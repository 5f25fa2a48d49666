"""Issue 16: sysctl.d as systemd-sysctl 252 applies it, one test per class (pure, no files).

Each expectation here was checked against the real /lib/systemd/systemd-sysctl in
tests/integration/test_owners_differential.py.
"""

from __future__ import annotations

import pytest

from netagent.core.owners import OwnerFiles, SourceFile, boot_value, scan, sysctl_owners
from netagent.core.owners.sysctl_d import (
    build_table,
    decide,
    derived_from,
    glob_matches,
    kernel_value,
    parse_sysctl_file,
    sysctl_path,
)


def table(*texts: str) -> tuple:
    lines = [e for i, t in enumerate(texts) for e in parse_sysctl_file(t, f"/etc/sysctl.d/{i}.conf")]
    return build_table(lines)


def value(key: str, *texts: str) -> str | None:
    return decide(sysctl_path(key), table(*texts)).value


def test_issue16_later_dash_key_cancels_an_earlier_assignment() -> None:
    assert value("net.ipv4.tcp_ecn", "net.ipv4.tcp_ecn = 0\n", "-net.ipv4.tcp_ecn\n") is None
    assert value("net.ipv4.tcp_ecn", "-net.ipv4.tcp_ecn\n", "net.ipv4.tcp_ecn = 0\n") == "0"


def test_issue16_dash_key_with_a_value_still_assigns() -> None:
    assert value("net.ipv4.tcp_ecn", "-net.ipv4.tcp_ecn = 2\n") == "2"


def test_issue16_glob_repeated_with_the_same_value_keeps_its_first_place() -> None:
    texts = ("net.ipv4.conf.*.rp_filter = 2\n", "net.ipv4.conf.e*.rp_filter = 0\n", "net.ipv4.conf.*.rp_filter = 2\n")
    assert value("net.ipv4.conf.eth0.rp_filter", *texts) == "0"
    # another value moves it to the end: it wins
    assert value("net.ipv4.conf.eth0.rp_filter", *texts[:2], "net.ipv4.conf.*.rp_filter = 1\n") == "1"


def test_issue16_same_value_again_keeps_the_first_line_as_the_owner() -> None:
    t = table("net.core.somaxconn = 4096\n", "net.core.somaxconn = 4096\n")
    winner = decide("net/core/somaxconn", t).winner
    assert winner is not None
    assert winner.source == "/etc/sysctl.d/0.conf"


def test_issue16_explicit_key_in_an_earlier_file_beats_any_glob() -> None:
    assert (
        value(
            "net.ipv4.conf.eth1.arp_ignore", "net.ipv4.conf.eth1.arp_ignore = 2\n", "net.ipv4.conf.*.arp_ignore = 0\n"
        )
        == "2"
    )
    assert (
        value("net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.eth*.rp_filter = 0\n-net.ipv4.conf.eth0.rp_filter\n")
        is None
    )


def test_issue16_inline_comment_reaches_the_kernel_which_keeps_the_number() -> None:
    (line,) = parse_sysctl_file("net.ipv4.tcp_ecn = 0 # off\n", "/etc/sysctl.d/a.conf")
    assert line.value == "0 # off"
    assert value("net.ipv4.tcp_ecn", "net.ipv4.tcp_ecn = 0 # off\n") == "0"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [('"2"', None), ("yes", None), ("", None), ("+1", None), ("1abc", None), ("0x2", "2"), ("010", "8"), ("1 2", "1")],
)
def test_issue16_kernel_reading_of_an_integer_value(raw: str, kept: str | None) -> None:
    assert kernel_value("net/ipv4/tcp_ecn", raw) == kept


def test_issue16_quoted_value_is_refused_and_the_earlier_line_is_gone() -> None:
    d = decide(
        "net/ipv4/tcp_rmem", table("net.ipv4.tcp_rmem = 4096 1 2\n", 'net.ipv4.tcp_rmem = "4096 20000 4194304"\n')
    )
    assert d.winner is None
    assert "refuses" in d.reason
    assert kernel_value("net/ipv4/tcp_rmem", "4096 20000 4194304 # c") == "4096 20000 4194304"


@pytest.mark.parametrize("key", ["net/ipv4//tcp_ecn", "net..ipv4.tcp_ecn", "net/ipv4/./tcp_ecn/", "net.ipv4.tcp_ecn"])
def test_issue16_empty_components_are_simplified(key: str) -> None:
    assert sysctl_path(key) == "net/ipv4/tcp_ecn"


def test_issue16_glob_classes_and_star_stops_at_a_slash() -> None:
    assert glob_matches("net/ipv4/conf/eth[!1]/rp_filter", "net/ipv4/conf/eth0/rp_filter")
    assert not glob_matches("net/ipv4/conf/eth[^1]/rp_filter", "net/ipv4/conf/eth1/rp_filter")
    assert not glob_matches("net/ipv4/*/rp_filter", "net/ipv4/conf/eth0/rp_filter")
    assert glob_matches("net/ipv4/conf/*/rp_filter", "net/ipv4/conf/eth0.100/rp_filter")


def test_issue16_sysctl_conf_without_the_link_never_wins() -> None:
    found = scan(OwnerFiles(sysctl_conf=SourceFile("/etc/sysctl.conf", "net.ipv4.tcp_ecn = 0\n")))
    assert boot_value("net.ipv4.tcp_ecn", found)[0] is None
    (owner,) = sysctl_owners("net.ipv4.tcp_ecn", "1", found)
    assert (owner.kind, owner.wins_at_boot) == ("sysctl.conf", False)
    assert "sysctl --system" in owner.note


def test_issue16_derived_keys_claim_no_winner() -> None:
    assert ("net/ipv4/ip_forward", "writing ip_forward sets every interface's forwarding") in derived_from(
        "net/ipv4/conf/eth0/forwarding"
    )
    files = OwnerFiles(
        sysctl_d=(
            SourceFile("/etc/sysctl.d/10.conf", "net.ipv4.conf.eth0.forwarding = 0\n"),
            SourceFile("/etc/sysctl.d/20.conf", "net.ipv4.ip_forward = 1\n"),
        )
    )
    winner, _, reason = boot_value("net.ipv4.conf.eth0.forwarding", scan(files))
    assert winner is None
    assert "depends on order" in reason
    owners = sysctl_owners("net.ipv4.conf.eth0.forwarding", "0", scan(files))
    assert not any(o.wins_at_boot for o in owners)
    assert all("overridden" not in o.describe() for o in owners)
    # conf.default only reaches interfaces created later; the interface's own line is re-applied by udev
    files = OwnerFiles(sysctl_d=(SourceFile("/etc/sysctl.d/10.conf", "net.ipv4.conf.default.rp_filter = 1\n"),))
    assert boot_value("net.ipv4.conf.eth0.rp_filter", scan(files))[0] is None
    files = OwnerFiles(
        sysctl_d=(
            SourceFile(
                "/etc/sysctl.d/10.conf", "net.ipv4.conf.default.rp_filter = 1\nnet.ipv4.conf.eth0.rp_filter = 2\n"
            ),
        )
    )
    assert boot_value("net.ipv4.conf.eth0.rp_filter", scan(files))[1] == "2"


def test_issue16_tuned_modifiers_and_reapply_of_etc_only() -> None:
    tuned = SourceFile("/usr/lib/tuned/t/tuned.conf", "[sysctl]\nnet.core.somaxconn = >2048\n")
    files = OwnerFiles(
        sysctl_d=(SourceFile("/usr/lib/sysctl.d/10.conf", "net.core.somaxconn = 4096\n"),), tuned_profiles=(tuned,)
    )
    owners = sysctl_owners("net.core.somaxconn", "4096", scan(files))
    assert [(o.kind, o.conflicts, o.wins_at_boot) for o in owners] == [
        ("sysctl.d", False, True),
        ("tuned", False, False),
    ]
    raise_it = OwnerFiles(
        sysctl_d=(SourceFile("/usr/lib/sysctl.d/10.conf", "net.core.somaxconn = 1024\n"),), tuned_profiles=(tuned,)
    )
    assert boot_value("net.core.somaxconn", scan(raise_it))[1] == "2048"
    etc = OwnerFiles(
        sysctl_d=(SourceFile("/etc/sysctl.d/10.conf", "net.core.somaxconn = 1024\n"),),
        tuned_profiles=(SourceFile("/usr/lib/tuned/t/tuned.conf", "[sysctl]\nnet.core.somaxconn = 8192\n"),),
    )
    winner, kept, _ = boot_value("net.core.somaxconn", scan(etc))
    assert (getattr(winner, "source", None), kept) == ("/etc/sysctl.d/10.conf", "1024")


def test_owners_of_dispatches_by_setting_kind() -> None:
    from netagent.core.owners import owners_of

    found = scan(OwnerFiles(sysctl_d=(SourceFile("/etc/sysctl.d/1.conf", "net.ipv4.tcp_ecn = 1\n"),)))
    (owner,) = owners_of("sysctl", "net.ipv4.tcp_ecn", "1", found)
    assert (owner.source, owner.wins_at_boot, owner.conflicts) == ("/etc/sysctl.d/1.conf", True, False)
    assert owners_of("driver", "eth0", "ena", found) == ()


def test_issue16_tuned_reapply_brings_back_an_etc_line_that_usr_lib_overrode() -> None:
    files = OwnerFiles(
        sysctl_d=(
            SourceFile("/etc/sysctl.d/10-local.conf", "net.core.somaxconn = 1024\n"),
            SourceFile("/usr/lib/sysctl.d/90-vendor.conf", "net.core.somaxconn = 4096\n"),
        ),
        tuned_profiles=(SourceFile("/usr/lib/tuned/t/tuned.conf", "[sysctl]\nnet.ipv4.tcp_ecn = 1\n"),),
    )
    winner, kept, _ = boot_value("net.core.somaxconn", scan(files))
    assert (getattr(winner, "source", None), getattr(winner, "kind", None), kept) == (
        "/etc/sysctl.d/10-local.conf",
        "tuned",
        "1024",
    )
    no_tuned = OwnerFiles(sysctl_d=files.sysctl_d)
    assert boot_value("net.core.somaxconn", scan(no_tuned))[1] == "4096"
