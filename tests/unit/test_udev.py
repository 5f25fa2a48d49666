"""The udev adapter: udev's database entry of a network device, and whether udevd runs."""

from __future__ import annotations

from pathlib import Path

from netagent.host.udev import Udev


def write_entry(run_dir: Path, ifindex: int, text: str) -> None:
    data = run_dir / "data"
    data.mkdir(exist_ok=True)
    (data / f"n{ifindex}").write_text(text)


def test_device_without_a_database_entry_has_none(tmp_path: Path) -> None:
    assert Udev(str(tmp_path)).entry(7) is None


def test_entry_properties_are_read_from_its_e_lines(tmp_path: Path) -> None:
    # What udev 252 writes just before renaming eth0 (rename_netif), trimmed.
    write_entry(tmp_path, 7, "I:4133405\nE:ID_NET_NAME=ens7\nE:ID_RENAMING=1\nE:X=a=b\nG:systemd\nQ:systemd\n")
    assert Udev(str(tmp_path)).entry(7) == {"ID_NET_NAME": "ens7", "ID_RENAMING": "1", "X": "a=b"}


def test_control_socket_tells_whether_udevd_runs(tmp_path: Path) -> None:
    assert Udev(str(tmp_path)).control_exists() is False
    (tmp_path / "control").write_text("")
    assert Udev(str(tmp_path)).control_exists() is True
