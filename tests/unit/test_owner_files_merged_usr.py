"""On merged-/usr roots (/lib -> usr/lib) the owner scan reads each directory once (issue 8)."""

from __future__ import annotations

from pathlib import Path

from netagent.core.owners import NETWORKD_DIRS, SYSCTL_DIRS, scan
from netagent.host.owner_files import read_dir, read_owner_files


def test_a_directory_seen_through_a_symlink_is_read_once_and_the_scan_is_unchanged(tmp_path: Path) -> None:
    (tmp_path / "usr/lib/sysctl.d").mkdir(parents=True)
    (tmp_path / "usr/lib/sysctl.d/50-x.conf").write_text("net.ipv4.tcp_mtu_probing = 1\n")
    (tmp_path / "usr/lib/systemd/network").mkdir(parents=True)
    (tmp_path / "usr/lib/systemd/network/10-x.link").write_text("[Match]\nName=lab*\n[Link]\nMTUBytes=9001\n")
    (tmp_path / "etc/sysctl.d").mkdir(parents=True)
    (tmp_path / "etc/sysctl.d/99-y.conf").write_text("net.ipv4.tcp_mtu_probing = 0\n")
    (tmp_path / "lib").symlink_to("usr/lib")
    root = str(tmp_path)

    files = read_owner_files(root)

    assert [f.path for f in files.sysctl_d] == ["/etc/sysctl.d/99-y.conf", "/usr/lib/sysctl.d/50-x.conf"]
    assert [f.path for f in files.networkd] == ["/usr/lib/systemd/network/10-x.link"]
    every = files.replace(
        sysctl_d=tuple(f for d in SYSCTL_DIRS for f in read_dir(root, d, (".conf",))),
        networkd=tuple(f for d in NETWORKD_DIRS for f in read_dir(root, d, (".link", ".network"))),
    )
    assert len(every.sysctl_d) == 3
    assert scan(files) == scan(every)
