"""Paths under a root resolved as chroot(2) would; atomic writes that never follow a symlink."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from netagent.host import rootpath
from netagent.host.files import write_atomic
from netagent.host.owner_files import read_owner_files


def test_resolve_restarts_an_absolute_target_at_the_root(tmp_path: Path) -> None:
    (tmp_path / "usr" / "lib" / "sysctl.d").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "sysctl.d").symlink_to("/usr/lib/sysctl.d")
    assert rootpath.resolve(str(tmp_path), "etc/sysctl.d/x.conf") == "/usr/lib/sysctl.d/x.conf"


def test_resolve_goes_up_real_directories_and_refuses_to_climb_above_the_root(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "up").symlink_to("b/../..")
    assert rootpath.resolve(str(tmp_path), "a/up/c") == "/c"
    (tmp_path / "a" / "out").symlink_to("../../x")
    with pytest.raises(rootpath.OutsideRoot, match=re.escape("/a/out -> ../../x leads outside the root")):
        rootpath.resolve(str(tmp_path), "a/out/c")
    with pytest.raises(rootpath.OutsideRoot):
        rootpath.resolve(str(tmp_path), "../etc")


def test_resolve_keeps_the_last_symlink_without_follow_last(tmp_path: Path) -> None:
    (tmp_path / "f").symlink_to("/elsewhere")
    assert rootpath.resolve(str(tmp_path), "f", follow_last=False) == "/f"
    assert rootpath.resolve(str(tmp_path), "f") == "/elsewhere"


def test_resolve_refuses_a_dangling_directory_link_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "d").symlink_to("/missing")
    assert rootpath.resolve(str(tmp_path), "d/x", follow_last=False) == "/missing/x"
    with pytest.raises(rootpath.DanglingLink, match="/d -> /missing, and /missing does not exist under the root"):
        rootpath.resolve(str(tmp_path), "d/x", follow_last=False, dangling_ok=False)
    assert rootpath.resolve(str(tmp_path), "new/dir/x", dangling_ok=False) == "/new/dir/x"  # plain missing: fine


def test_resolve_stops_a_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OSError, match="Too many levels") as exc:
        rootpath.resolve(str(tmp_path), "a/x")
    assert exc.value.errno == errno.ELOOP


def test_owner_scan_reads_the_images_directory_not_the_hosts(tmp_path: Path) -> None:
    root, host_dir = tmp_path / "img", tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "10-host.conf").write_text("net.ipv4.tcp_mtu_probing = 2\n")
    inside = root / str(host_dir).lstrip("/")
    inside.mkdir(parents=True)
    (inside / "10-image.conf").write_text("net.ipv4.tcp_mtu_probing = 1\n")
    (root / "etc").mkdir()
    (root / "etc" / "sysctl.d").symlink_to(host_dir)  # absolute: the image's copy of that path
    found = read_owner_files(str(root)).sysctl_d
    assert [f.path for f in found] == ["/etc/sysctl.d/10-image.conf"]


def test_a_directory_linked_absolutely_inside_the_image_is_read_once(tmp_path: Path) -> None:
    # /etc/systemd/network -> /usr/lib/systemd/network, absolute: inside the image that is the image's
    # directory, which the scan reads once (the host kernel would follow the link to the host's).
    root = tmp_path / "img"
    image_dir = root / "usr" / "lib" / "systemd" / "network"
    image_dir.mkdir(parents=True)
    (image_dir / "10-ens.link").write_text("[Match]\nOriginalName=ens*\n\n[Link]\nMTUBytes=9001\n")
    (root / "etc" / "systemd").mkdir(parents=True)
    (root / "etc" / "systemd" / "network").symlink_to("/usr/lib/systemd/network")
    found = read_owner_files(str(root)).networkd
    assert [(f.path, f.text) for f in found] == [
        ("/etc/systemd/network/10-ens.link", "[Match]\nOriginalName=ens*\n\n[Link]\nMTUBytes=9001\n")
    ]


def test_write_atomic_replaces_a_symlink_and_leaves_its_target_alone(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    report = tmp_path / "report.prom"
    report.symlink_to(victim)
    write_atomic(str(report), "netagent_compliant 1\n")
    assert not report.is_symlink()
    assert report.read_text() == "netagent_compliant 1\n"
    assert victim.read_text() == "keep\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.prom", "victim"]  # no temp file left
