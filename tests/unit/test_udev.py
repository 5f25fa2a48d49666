"""The udev adapter's reading of udev's database: when udev has finished with a network device."""

from __future__ import annotations

from pathlib import Path

from netagent.host.udev import Udev


def entry(run_dir: Path, ifindex: int, text: str) -> None:
    data = run_dir / "data"
    data.mkdir(exist_ok=True)
    (data / f"n{ifindex}").write_text(text)


def test_device_without_a_database_entry_is_not_initialized(tmp_path: Path) -> None:
    assert Udev(str(tmp_path)).is_initialized(7) is False


def test_device_being_renamed_is_not_initialized(tmp_path: Path) -> None:
    # What udev 252 writes just before renaming eth0 (rename_netif): the entry exists, marked renaming.
    entry(tmp_path, 7, "I:4133405\nE:ID_NET_NAME_SLOT=ens7\nE:ID_RENAMING=1\nG:systemd\n")
    assert Udev(str(tmp_path)).is_initialized(7) is False


def test_device_udev_finished_with_is_initialized(tmp_path: Path) -> None:
    entry(tmp_path, 7, "I:4133405\nE:ID_NET_NAME_SLOT=ens7\nE:ID_NET_LINK_FILE=/etc/systemd/network/x.link\n")
    assert Udev(str(tmp_path)).is_initialized(7) is True


def test_control_socket_tells_whether_udevd_runs(tmp_path: Path) -> None:
    assert Udev(str(tmp_path)).control_exists() is False
    (tmp_path / "control").write_text("")
    assert Udev(str(tmp_path)).control_exists() is True
