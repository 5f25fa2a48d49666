"""The state directory: durable originals, first value kept, corrupt files refused, the lock."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from netagent.core.errors import StateError
from netagent.core.model import Unreadable
from netagent.core.restore import restore_changes
from netagent.core.settings.channels import Channels, SetChannels
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import SetSysctl
from netagent.host.statefile import LockBusy, StateDir, netns_id


def test_first_value_seen_is_kept_for_good(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    first = [SetMtu("lab0", old=1500, new=9001), SetSysctl("net.a", old="0", new="1")]
    assert state.record_originals(first) == ["lab0/mtu", "sysctl/net.a"]
    assert state.record_originals([SetMtu("lab0", old=9001, new=1400), SetSysctl("net.a", old="1", new="2")]) == []
    originals = state.load()
    assert originals["lab0/mtu"] == {"type": "mtu", "ifname": "lab0", "value": 1500}
    assert originals["sysctl/net.a"] == {"type": "sysctl", "key": "net.a", "value": "0"}


def test_channel_kinds_first_touched_later_are_added(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    state.record_originals([SetChannels("lab0", old=(("rx", 8),), new=(("rx", 4),))])
    state.record_originals([SetChannels("lab0", old=(("rx", 4), ("tx", 8)), new=(("rx", 2), ("tx", 2)))])
    assert state.load()["lab0/channels"]["value"] == {"rx": 8, "tx": 8}


def test_state_file_is_replaced_atomically_and_leaves_no_temp(tmp_path: Path, mocker) -> None:  # type: ignore[no-untyped-def]
    state = StateDir(str(tmp_path))
    fsync = mocker.spy(os, "fsync")
    rename = mocker.spy(os, "replace")  # output.replace_file, the one atomic writer
    state.record_originals([SetMtu("lab0", 1500, 9001)])
    assert rename.call_count == 1
    assert fsync.call_count == 2  # the file, then the directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["originals.json"]


def test_failed_write_keeps_the_old_file(tmp_path: Path, mocker) -> None:  # type: ignore[no-untyped-def]
    state = StateDir(str(tmp_path))
    state.record_originals([SetMtu("lab0", 1500, 9001)])
    before = Path(state.state_path).read_bytes()
    mocker.patch("os.fsync", side_effect=OSError(5, "Input/output error"))
    with pytest.raises(StateError, match="cannot write"):
        state.record_originals([SetMtu("lab1", 1500, 9001)])
    assert Path(state.state_path).read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["originals.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "netagent-originals", "version": 1, "originals": {"a"', "corrupt state file"),
        ('{"format": "something-else", "version": 1, "originals": {}}', "not a netagent"),
        ('{"format": "netagent-originals", "version": 1, "originals": {"x": {"type": "mtu"}}}', "malformed"),
        ("[]", "not a netagent"),
    ],
)
def test_corrupt_or_foreign_state_is_refused_and_untouched(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "originals.json"
    path.write_text(content)
    state = StateDir(str(tmp_path))
    with pytest.raises(StateError, match=message):
        state.record_originals([SetMtu("lab0", 1500, 9001)])
    assert path.read_text() == content


def test_forget_removes_the_file_when_empty(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    state.record_originals([SetMtu("lab0", 1500, 9001), SetSysctl("net.a", "0", "1")])
    state.forget(["lab0/mtu"])
    assert list(state.load()) == ["sysctl/net.a"]
    state.forget(["sysctl/net.a"])
    assert not os.path.exists(state.state_path)


def test_lock_held_elsewhere_times_out_naming_the_pid(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    with state.lock(), pytest.raises(LockBusy) as info, StateDir(str(tmp_path)).lock(timeout_s=0.1):
        pass
    assert info.value.pid == os.getpid()
    assert f"(pid {os.getpid()})" in str(info.value)
    with state.lock(timeout_s=0.1):  # released after the holder left
        pass


def test_restore_changes_from_originals_and_current_values() -> None:
    originals = {
        "lab0/mtu": {"type": "mtu", "ifname": "lab0", "value": 1500},
        "lab0/channels": {"type": "channels", "ifname": "lab0", "value": {"rx": 8, "tx": 8}},
        "sysctl/net.a": {"type": "sysctl", "key": "net.a", "value": "4096 131072 6291456"},
        "lab9/mtu": {"type": "mtu", "ifname": "lab9", "value": 1500},
        "lo/channels": {"type": "channels", "ifname": "lo", "value": {"rx": 1}},
    }
    current = {
        "lo/channels": Unreadable("the device does not support it", unsupported=True),
        "lab0/mtu": 9001,
        "lab0/channels": Channels(8, 8, 0, 8, rx=4, tx=4, other=0, combined=0),
        "sysctl/net.a": "4096\t131072\t6291456",
        "lab9/mtu": None,
    }
    todo = restore_changes(originals, current)  # type: ignore[arg-type]
    assert list(todo.changes) == [
        SetMtu("lab0", old=9001, new=1500),  # undone in the reverse of apply's order: channels last
        SetChannels("lab0", old=(("rx", 4), ("tx", 4)), new=(("rx", 8), ("tx", 8))),
    ]
    assert todo.already == ("sysctl/net.a",)
    assert todo.gone == ("lab9/mtu",)
    assert todo.unreadable == (("lo/channels", "the device does not support it"),)


def test_state_file_is_plain_documented_json(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    state.record_originals([SetMtu("lab0", 1500, 9001)])
    doc = json.loads(Path(state.state_path).read_text())
    assert doc == {
        "format": "netagent-originals",
        "version": 1,
        "netns": netns_id(),
        "originals": {"lab0/mtu": {"type": "mtu", "ifname": "lab0", "value": 1500}},
    }

    assert doc["netns"].startswith("net:[")


@pytest.mark.parametrize(
    ("mode", "message"), [(0o777, "group- or world-writable"), (0o720, "group- or world-writable")]
)
def test_writable_state_directory_is_refused(tmp_path: Path, mode: int, message: str) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    state_dir.chmod(mode)
    with pytest.raises(StateError, match=message):
        StateDir(str(state_dir)).record_originals([SetMtu("lab0", 1500, 9001)])
    assert list(state_dir.iterdir()) == []


def test_symlinked_state_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir(mode=0o700)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(StateError, match="symlink"), StateDir(str(tmp_path / "link")).lock():
        pass


def test_state_directory_of_another_user_is_refused(tmp_path: Path, mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("os.geteuid", return_value=os.geteuid() + 1)
    with pytest.raises(StateError, match="owned by uid"):
        StateDir(str(tmp_path)).record_originals([SetMtu("lab0", 1500, 9001)])


def test_lock_file_planted_as_a_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    state_dir = tmp_path / "state"
    state_dir.mkdir(mode=0o700)
    (state_dir / "lock").symlink_to(victim)
    with pytest.raises(StateError, match="cannot open the lock"), StateDir(str(state_dir)).lock():
        pass
    assert victim.read_text() == "precious\n"


def test_originals_from_another_network_namespace_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "originals.json"
    doc = {"format": "netagent-originals", "version": 1, "netns": "net:[1]", "originals": {}}
    path.write_text(json.dumps(doc))
    with pytest.raises(StateError, match="another network namespace"):
        StateDir(str(tmp_path)).load()
    assert json.loads(path.read_text()) == doc


def test_issue9_temp_file_of_a_writer_killed_before_rename_is_removed_by_the_next_lock_holder(tmp_path: Path) -> None:
    state = StateDir(str(tmp_path))
    state.record_originals([SetMtu("lab0", old=1500, new=9001)])
    stale = tmp_path / "originals.json.x1y2z3ab"  # write_atomic's mkstemp name
    stale.write_text('{"format": "netagent-orig')  # what a SIGKILL between write and rename leaves
    with state.lock(timeout_s=1):
        assert not stale.exists()
    assert state.load()["lab0/mtu"]["value"] == 1500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lock", "originals.json"]


def _plant(tmp_path: Path, originals: dict[str, object]) -> StateDir:
    doc = {"format": "netagent-originals", "version": 1, "originals": originals}
    (tmp_path / "originals.json").write_text(json.dumps(doc))
    return StateDir(str(tmp_path))


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "sysctl", "key": "kernel.core_pattern", "value": "|/tmp/x"},  # root code execution if written back
        {"type": "sysctl", "key": "net.ipv4.tcp_rmem", "value": "4096 ; reboot"},
        {"type": "sysctl", "key": "net/../../kernel/x", "value": "1"},
        {"type": "mtu", "ifname": "../../x", "value": 1500},
        {"type": "mtu", "ifname": "a-name-longer-than-15", "value": 1500},
        {"type": "mtu", "ifname": "lab0", "value": -1},
        {"type": "channels", "ifname": "lab0", "value": {"evil": 1}},
    ],
)
def test_issue9_forged_state_entry_is_refused_before_anything_is_written(tmp_path: Path, entry: dict) -> None:  # type: ignore[type-arg]
    state = _plant(tmp_path, {"x": entry})
    with pytest.raises(StateError, match="malformed originals; left untouched"):
        state.load()


def test_issue9_state_file_others_can_write_is_not_trusted(tmp_path: Path) -> None:
    state = _plant(tmp_path, {})
    (tmp_path / "originals.json").chmod(0o666)
    with pytest.raises(StateError, match=r"originals.json: not trusted: group- and world-writable \(mode 0666\)"):
        state.load()


def test_issue9_symlinked_state_file_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"format": "netagent-originals", "version": 1, "originals": {}}))
    (tmp_path / "state").mkdir(mode=0o700)
    (tmp_path / "state" / "originals.json").symlink_to(elsewhere)
    with pytest.raises(StateError, match="cannot read"):
        StateDir(str(tmp_path / "state")).load()
