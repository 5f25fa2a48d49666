"""Sysctl bounds (at_least/at_most) and boot files rendered for the image's systemd (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netagent.app import persist
from netagent.core import boot
from netagent.core.errors import ProfileError
from netagent.core.model import Status
from netagent.core.profile.parser import parse_profile
from netagent.core.settings.base import BootTarget
from netagent.core.settings.bounds import Bound
from netagent.core.settings.sysctl import SetSysctl, SysctlSetting, check_sysctl
from netagent.host.systemd_version import systemd_version

LIMIT = SysctlSetting("net.ipv4.tcp_limit_output_bytes", "", bound=Bound("at_least", 1048576))


def test_sysctl_bound_parses_in_the_mapping_form() -> None:
    text = "name: t\nsysctl:\n  net.ipv4.tcp_limit_output_bytes: {at_least: 1048576, severity: recommended}\n"
    [setting] = parse_profile(text, "p.yaml").sysctls
    assert setting.bound == Bound("at_least", 1048576)
    assert setting.value == "1048576"
    assert setting.severity.value == "recommended"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{at_least: 1, value: 2}", "sysctl.net.core.x: expected one of value, at_least, at_most, got value, at_least"),
        ("{at_most: '4096 8192'}", "sysctl.net.core.x.at_most: expected an integer"),
        ("{at_least: 1, at_most: 2}", "got at_least, at_most"),
    ],
)
def test_bad_sysctl_bounds_name_file_line_and_field(entry: str, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(f"name: t\nsysctl:\n  net.core.x: {entry}\n", "p.yaml")
    [line] = info.value.lines()
    assert line.startswith("p.yaml:3: ")
    assert problem in line


def test_value_already_above_an_at_least_bound_is_ok_and_never_lowered() -> None:
    check = check_sysctl(LIMIT, "4194304")
    assert (check.status, check.change, check.expected, check.actual) == (Status.OK, None, ">=1048576", "4194304")


def test_value_below_an_at_least_bound_is_raised_to_exactly_the_bound() -> None:
    check = check_sysctl(LIMIT, "262144")
    assert check.status is Status.DRIFT
    assert check.change == SetSysctl("net.ipv4.tcp_limit_output_bytes", old="262144", new="1048576")


def test_at_most_bound_lowers_to_exactly_the_bound() -> None:
    setting = SysctlSetting("net.core.busy_poll", "", bound=Bound("at_most", 50))
    assert check_sysctl(setting, "50").status is Status.OK
    assert check_sysctl(setting, "70").change == SetSysctl("net.core.busy_poll", old="70", new="50")


def test_bound_on_a_multi_number_key_is_an_error_like_tuned_cannot_compare_it() -> None:
    setting = SysctlSetting("net.ipv4.tcp_rmem", "", bound=Bound("at_least", 4096))
    check = check_sysctl(setting, "4096\t131072\t6291456")
    assert check.status is Status.ERROR
    assert check.change is None
    assert "has 3 words" in check.message


def test_bounds_are_not_written_to_the_dropin_and_persist_says_so() -> None:
    text = "name: t\nsysctl:\n  net.ipv4.tcp_mtu_probing: 1\n  net.ipv4.tcp_limit_output_bytes: {at_least: 1048576}\n"
    profile = parse_profile(text, "p.yaml")
    dropin = boot.render(profile)[boot.SYSCTL_DROPIN]
    assert "net.ipv4.tcp_mtu_probing = 1\n" in dropin
    assert "# net.ipv4.tcp_limit_output_bytes: at_least 1048576 is not written" in dropin
    assert "\nnet.ipv4.tcp_limit_output_bytes" not in dropin
    [note] = boot.notes(profile)
    assert note.startswith("sysctl net.ipv4.tcp_limit_output_bytes: at_least 1048576 is not persisted")


# ---------------------------------------------------------------- systemd version of a root

MAXED = (
    "name: t\ninterfaces:\n  - match: eth0\n    channels: {combined: max}\n    rings: {rx: max, tx: 1024}\n"
    "    coalesce: {adaptive_rx: true, tx_usecs: 64}\n"
)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("libsystemd-shared-252.so", 252),
        ("libsystemd-shared-252.16-1.amzn2023.so", 252),
        ("libsystemd-shared-249.so", 249),
        (b"\x00libc.so.6\x00libsystemd-shared-255.so\x00", 255),
        ("libsystemd.so.0", None),
    ],
)
def test_systemd_version_of_library_names_and_binaries(name: str | bytes, version: int | None) -> None:
    assert boot.systemd_version_of(name) == version


def test_systemd_version_from_a_multiarch_library_or_from_udevadm(tmp_path: Path) -> None:
    debian = tmp_path / "debian"
    (debian / "usr/lib/x86_64-linux-gnu/systemd").mkdir(parents=True)
    (debian / "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so").write_bytes(b"")
    assert systemd_version(str(debian)) == 252
    ubuntu = tmp_path / "ubuntu"
    (ubuntu / "usr/bin").mkdir(parents=True)
    (ubuntu / "usr/bin/udevadm").write_bytes(b"\x7fELF...\x00libsystemd-shared-249.so\x00...")
    assert systemd_version(str(ubuntu)) == 249
    assert systemd_version(str(tmp_path / "empty")) is None


def test_link_file_writes_max_and_coalescing_for_systemd_252_and_notes_for_249() -> None:
    profile = parse_profile(MAXED, "p.yaml")
    [new] = boot.render(profile, BootTarget(252)).values()
    assert "CombinedChannels=max\n" in new
    assert "RxBufferSize=max\nTxBufferSize=1024\n" in new
    assert "UseAdaptiveRxCoalesce=yes\nTxCoalesceSec=64us\n" in new
    assert boot.notes(profile, BootTarget(252)) == []
    [old] = boot.render(profile, BootTarget(249)).values()
    assert "=max" not in old
    assert "TxBufferSize=1024\n" in old
    assert "Coalesce" not in old
    assert len(boot.notes(profile, BootTarget(249))) == 3  # channels max, rings max, coalesce


def test_persist_reads_the_image_systemd(tmp_path: Path) -> None:
    (tmp_path / "usr/lib/systemd").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/libsystemd-shared-252.so").write_bytes(b"")
    profile = parse_profile(MAXED, "p.yaml")
    actions, notes = persist.persist(profile, MAXED, str(tmp_path), dry_run=False)
    [link] = [rel for action, rel in actions if rel.endswith(".link")]
    assert "RxBufferSize=max" in (tmp_path / link).read_text()
    assert not [n for n in notes if "max" in n or "coalesce" in n or "unknown" in n]


def test_persist_with_an_unknown_systemd_writes_only_numbers_and_says_so(tmp_path: Path) -> None:
    profile = parse_profile(MAXED, "p.yaml")
    _, notes = persist.persist(profile, MAXED, str(tmp_path), dry_run=True)
    assert any("systemd version under the root is unknown" in n for n in notes)
    assert any("max is not persisted (an unknown systemd" in n for n in notes)


def test_a_file_that_meets_a_sysctl_bound_is_no_conflicting_owner() -> None:
    from netagent.core.owners import OwnerFiles, SourceFile, scan, sysctl_owners

    text = "net.ipv4.tcp_limit_output_bytes = 4194304\nnet.core.busy_poll = 70\n"
    found = scan(OwnerFiles(sysctl_d=(SourceFile("/etc/sysctl.d/1.conf", text),)))
    (above,) = sysctl_owners("net.ipv4.tcp_limit_output_bytes", ">=1048576", found)
    assert not above.conflicts
    (over,) = sysctl_owners("net.core.busy_poll", "<=50", found)
    assert over.conflicts
