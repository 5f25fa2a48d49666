"""A state directory written by the release before the redesign is read and restored (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

from netagent.app.restore import restore
from netagent.core.restore import RestorePlan
from netagent.core.settings.channels import Channels, SetChannels
from netagent.core.settings.mtu import SetMtu
from netagent.core.settings.sysctl import SetSysctl
from netagent.host.statefile import VERSION, StateDir, netns_id
from tests.unit.fakes import FakeHost

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "state-v1" / "originals.json"


def v1_state_dir(tmp_path: Path) -> StateDir:
    """Copy the v1 fixture into a state directory, stamped with this process's namespace."""
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    doc = json.loads(FIXTURE.read_text())
    assert doc["version"] == 1  # the fixture is the old format, whatever VERSION is now
    doc["netns"] = netns_id()
    (state / "originals.json").write_text(json.dumps(doc))
    return StateDir(str(state))


def test_the_current_format_is_still_version_1() -> None:
    """Entries keep their v1 shape; a new version must come with a migration and this test's update."""
    assert VERSION == 1


def test_v1_state_is_loaded_entry_for_entry(tmp_path: Path) -> None:
    originals = v1_state_dir(tmp_path).load()
    assert originals == json.loads(FIXTURE.read_text())["originals"]


def test_v1_state_is_restored_and_then_cleared(tmp_path: Path) -> None:
    state = v1_state_dir(tmp_path)
    host = FakeHost(
        {
            "lab0/channels": Channels(8, 8, 0, 0, rx=4, tx=4, other=0, combined=0),
            "lab0/mtu": 9001,
            "lab1/mtu": 9001,
            "sysctl/net.ipv4.tcp_mtu_probing": "1",
            "sysctl/net.ipv4.tcp_rmem": "4096 131072 8388608",
        }
    )
    todo = restore(host, state, dry_run=False, forget_gone=False, lock_timeout_s=1)
    assert todo == RestorePlan(
        changes=(
            SetMtu("lab0", old=9001, new=1500),  # each interface undone in reverse: channels last
            SetChannels("lab0", old=(("rx", 4), ("tx", 4)), new=(("rx", 8), ("tx", 8))),
            SetMtu("lab1", old=9001, new=1500),
            SetSysctl("net.ipv4.tcp_mtu_probing", old="1", new="0"),
            SetSysctl("net.ipv4.tcp_rmem", old="4096 131072 8388608", new="4096 131072 6291456"),
        )
    )
    assert host.values["lab0/mtu"] == 1500
    assert host.values["lab0/channels"] == Channels(8, 8, 0, 0, rx=8, tx=8, other=0, combined=0)
    assert host.values["sysctl/net.ipv4.tcp_rmem"] == "4096 131072 6291456"
    assert state.load() == {}
    assert not Path(state.state_path).exists()
