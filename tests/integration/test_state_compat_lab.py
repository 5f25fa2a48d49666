"""The real CLI restores a lab from a state directory the release before the redesign wrote (issue 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.lab import Lab

pytestmark = pytest.mark.integration
FIXTURE = Path(__file__).resolve().parents[1] / "data" / "state-v1" / "originals.json"


def test_restore_from_a_v1_state_directory(lab: Lab) -> None:
    # The lab as that release's apply left it (tests/data/state-v1/README.md).
    lab.set_channels("lab0", rx=4, tx=4)
    lab.set_mtu("lab0", 9001)
    lab.set_mtu("lab1", 9001)
    lab.set_sysctl("net.ipv4.tcp_mtu_probing", "1")
    lab.set_sysctl("net.ipv4.tcp_rmem", "4096 131072 8388608")
    doc = json.loads(FIXTURE.read_text())
    inode = lab.exec("stat", "-L", "-c", "%i", "/proc/self/ns/net").stdout.strip()
    doc["netns"] = f"net:[{inode}]"  # as if recorded in this lab's namespace
    Path(lab.state_dir, "originals.json").write_text(json.dumps(doc))

    out = lab.netagent("restore")
    assert out.returncode == 0, out.stderr
    assert "restored lab0 channels rx=4 tx=4 -> rx=8 tx=8" in out.stdout
    assert "restored net.ipv4.tcp_rmem 4096 131072 8388608 -> 4096 131072 6291456" in out.stdout
    assert lab.channels("lab0")["rx"] == "8"
    assert lab.channels("lab0")["tx"] == "8"
    assert (lab.mtu("lab0"), lab.mtu("lab1")) == (1500, 1500)
    assert lab.sysctl("net.ipv4.tcp_mtu_probing") == "0"
    assert lab.sysctl("net.ipv4.tcp_rmem") == "4096 131072 6291456"
    assert not os.path.exists(os.path.join(lab.state_dir, "originals.json"))
