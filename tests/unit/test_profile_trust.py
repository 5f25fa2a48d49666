"""Profile trust: only a regular file that others cannot change, checked on the open descriptor."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from netagent.core.errors import ProfileError
from netagent.host.trust import check_profile_stat, load_profile

GOOD = "name: t\nsysctl:\n  net.ipv4.tcp_mtu_probing: 1\n"
ME = os.geteuid()


def _stat(mode: int, uid: int = 0) -> os.stat_result:
    return os.stat_result((mode, 1, 1, 1, uid, 0, 10, 0, 0, 0))


@pytest.mark.parametrize(
    ("mode", "uid", "reason"),
    [
        (stat.S_IFREG | 0o644, 0, None),
        (stat.S_IFREG | 0o600, ME, None),
        (stat.S_IFREG | 0o444, 0, None),
        (stat.S_IFREG | 0o646, 0, "refused: world-writable (mode 0646)"),
        (stat.S_IFREG | 0o664, 0, "refused: group-writable (mode 0664)"),
        (stat.S_IFREG | 0o666, 0, "refused: group- and world-writable (mode 0666)"),
        (stat.S_IFREG | 0o644, 12345 if ME != 12345 else 12346, "refused: owned by uid 1234"),
        (stat.S_IFDIR | 0o755, 0, "refused: a directory, not a regular file"),
        (stat.S_IFIFO | 0o644, 0, "refused: a FIFO, not a regular file"),
        (stat.S_IFCHR | 0o666, 0, "refused: a character device, not a regular file"),
        (stat.S_IFSOCK | 0o644, 0, "refused: a socket, not a regular file"),
    ],
)
def test_check_profile_stat(mode: int, uid: int, reason: str | None) -> None:
    why = check_profile_stat(_stat(mode, uid), ME)
    if reason is None:
        assert why is None
    else:
        assert why is not None
        assert why.startswith(reason)


def test_insecure_allows_others_writable_or_owned_files_but_never_a_fifo_or_directory() -> None:
    assert check_profile_stat(_stat(stat.S_IFREG | 0o666, 4242), ME, insecure=True) is None
    assert check_profile_stat(_stat(stat.S_IFIFO | 0o600), ME, insecure=True) == "refused: a FIFO, not a regular file"
    assert check_profile_stat(_stat(stat.S_IFDIR | 0o700), ME, insecure=True) is not None


def _refused(path: Path, insecure: bool = False) -> str:
    with pytest.raises(ProfileError) as err:
        load_profile(str(path), insecure)
    (line,) = err.value.lines()
    assert line.startswith(f"{path}: refused: ")
    return line


def test_world_writable_profile_is_refused_and_insecure_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    path.chmod(0o666)
    assert "--insecure-profile" in _refused(path)
    assert load_profile(str(path), insecure=True).name == "t"


def test_group_writable_profile_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    path.chmod(0o620)
    assert "group-writable (mode 0620)" in _refused(path)


def test_symlink_to_a_world_writable_file_is_refused_and_to_a_good_one_followed(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text(GOOD)
    bad.chmod(0o666)
    good.write_text(GOOD)
    (tmp_path / "to-bad.yaml").symlink_to(bad)
    (tmp_path / "to-good.yaml").symlink_to(good)
    assert "world-writable" in _refused(tmp_path / "to-bad.yaml")
    assert load_profile(str(tmp_path / "to-good.yaml")).name == "t"


def test_fifo_is_refused_without_blocking_even_when_insecure(tmp_path: Path) -> None:
    fifo = tmp_path / "p.yaml"
    os.mkfifo(fifo)  # no writer: a plain open() would block for ever
    assert _refused(fifo, insecure=True) == f"{fifo}: refused: a FIFO, not a regular file"


def test_directory_is_refused(tmp_path: Path) -> None:
    assert _refused(tmp_path) == f"{tmp_path}: refused: a directory, not a regular file"
