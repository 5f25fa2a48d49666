"""The udev adapter: udev's database entry of a network device, and whether udevd runs."""

from __future__ import annotations

import os
import select
from pathlib import Path

import pytest

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


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


def test_database_watch_wakes_when_udev_renames_an_entry_into_place(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    udev = Udev(str(tmp_path))
    fd = udev.open_db_watch()
    try:
        assert not _readable(fd)
        # udev's device_update_db: a temporary file in the same directory, renamed over n<ifindex>.
        tmp = tmp_path / "data" / ".#n7abc"
        tmp.write_text("I:1\nE:ID_NET_NAME=ens7\n")
        udev.drain()  # writing the temporary file closes it: a wake-up too, drained
        assert not _readable(fd)
        os.rename(tmp, tmp_path / "data" / "n7")
        assert _readable(fd)
        udev.drain()
        assert not _readable(fd)
        assert udev.entry(7) == {"ID_NET_NAME": "ens7"}
    finally:
        udev.close()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)  # closed with the adapter


def test_database_watch_of_a_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="inotify_add_watch"):
        Udev(str(tmp_path)).open_db_watch()
