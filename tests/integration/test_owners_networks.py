"""Issue 16: netagent's choice of .network file against systemd-networkd's own (252).

systemd-networkd runs in a throwaway namespace (tests/integration/networkd_runner.py: private
/run, the tree bind-mounted over the .network directories) and logs which file it applies to
each veth; netagent must claim the same file, or list it among the files that "may apply".
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netagent.core.model import Link
from netagent.core.owners import scan
from netagent.core.owners.networkd import LinkFacts
from netagent.core.owners.precedence import iface_units
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from tests.integration.lab import Lab
from tests.integration.test_owners_links import IFACES, MACS, owner_files

VETH = {"driver": DriverInfo("veth", "1.0"), "channels": Channels(8, 8, 0, 0, 8, 8, 0, 0)}

pytestmark = pytest.mark.integration
RUNNER = Path(__file__).with_name("networkd_runner.py")
CORPUS = Path(__file__).resolve().parents[1] / "data" / "owners-corpus" / "networkd"
NETWORKD = "/lib/systemd/systemd-networkd"
GENERATED = 150


class NetworkReference:
    """systemd-networkd in a namespace with veths lab0-lab1 and ens5-eth1."""

    def __init__(self) -> None:
        self.lab = Lab.create()
        self.stage = tempfile.mkdtemp(prefix="na-networkd-stage-")
        self.proc: subprocess.Popen[str] | None = None
        try:
            self.lab.add_veth("lab0", "lab1", up=False)
            self.lab.add_veth("ens5", "eth1", up=False)
            for ifname, mac in MACS.items():
                subprocess.run(["ip", "-n", self.lab.name, "link", "set", ifname, "address", mac], check=True)
            links = json.loads(
                subprocess.run(
                    ["ip", "-n", self.lab.name, "-j", "link"], capture_output=True, text=True, check=True
                ).stdout
            )
            self.index = {link["ifname"]: link["ifindex"] for link in links}
            ns = (os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/net"))
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.name, sys.executable, str(RUNNER), self.stage, *ns],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self.proc.stdout is not None
            if not self.proc.stdout.readline():
                raise RuntimeError("networkd_runner did not start")
        except BaseException:
            self.close()
            raise

    def ask(self, files: dict[str, str | None]) -> dict[str, str | None]:
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"files": files, "ifaces": list(IFACES)}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        assert answer["missing"] == [], f"networkd said nothing about {answer['missing']}: {''.join(answer['log'])}"
        return answer["files"]

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=60)
        self.lab.delete()
        shutil.rmtree(self.stage, ignore_errors=True)


@pytest.fixture(scope="module")
def networkd(netns_ok: None) -> Iterator[NetworkReference]:
    """One runner for the module. Scope: module. Depends: netns_ok; CI fails without systemd-networkd."""
    if not os.access(NETWORKD, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("CI must run the .network differential: systemd-networkd is missing")
        pytest.skip("systemd-networkd is not installed")
    ref = NetworkReference()
    try:
        yield ref
    finally:
        ref.close()


def disagreements(ref: NetworkReference, files: dict[str, str | None]) -> tuple[list[str], int]:
    actual = ref.ask(files)
    found = scan(owner_files(files))
    out, claims = [], 0
    for ifname in IFACES:
        props = (("IFINDEX", str(ref.index[ifname])), ("INTERFACE", ifname))
        facts = LinkFacts(ifname, "veth", MACS[ifname], None, "ether", "veth", "", props)
        link = Link(
            ifname,
            ref.index[ifname],
            1500,
            "down",
            VETH,
        )
        chosen = [a for a in iface_units(link, found, facts) if a.unit.kind == "networkd"]
        if chosen and not chosen[0].maybe:
            claims += 1
            if chosen[0].unit.source != actual[ifname]:
                out.append(f"{ifname}: netagent {chosen[0].unit.source}, networkd {actual[ifname]}")
        elif not chosen:
            claims += 1
            if actual[ifname] is not None:
                out.append(f"{ifname}: netagent none, networkd {actual[ifname]}")
        elif actual[ifname] is not None and actual[ifname] not in {a.unit.source for a in chosen}:
            out.append(f"{ifname}: netagent may-apply {[a.unit.source for a in chosen]}, networkd {actual[ifname]}")
    return out, claims


MTU = "\n[Link]\nMTUBytes=1400\n"
CASES: dict[str, dict[str, str | None]] = {
    "Name lists, negation, classes": {
        "etc/10-a.network": "[Match]\nName=!lab1 lab0" + MTU,
        "etc/20-b.network": "[Match]\nName=lab*\nName=!lab0" + MTU,
        "etc/30-c.network": "[Match]\nName=e[!t]*" + MTU,
    },
    "OriginalName is not a .network key: the file is ignored": {
        "etc/10-a.network": "[Match]\nOriginalName=lab0" + MTU,
        "etc/20-b.network": "[Match]\nName=*" + MTU,
    },
    "MAC, Driver, Kind, Type, Path, Property, WLAN keys": {
        "etc/10-mac.network": "[Match]\nMACAddress=02:00:00:00:00:02" + MTU,
        "etc/20-ssid.network": "[Match]\nSSID=home" + MTU,
        "etc/30-path.network": "[Match]\nPath=pci-*" + MTU,
        "etc/40-prop.network": "[Match]\nProperty=INTERFACE=ens*" + MTU,
        "etc/50-kind.network": "[Match]\nKind=veth\nType=ether\nDriver=veth" + MTU,
    },
    "drop-ins and masks": {
        "etc/10-a.network": None,
        "usrlib/10-a.network": "[Match]\nName=*" + MTU,
        "usrlib/20-b.network": "[Match]\nName=lab*" + MTU,
        "etc/20-b.network.d/x.conf": "[Match]\nName=!lab1\n",
    },
    "real: amazon-ec2-net-utils and systemd's container network": {
        "usrlib/80-ec2.network": (CORPUS / "ec2-net-utils-80-ec2.network").read_text(),
        "usrlib/80-container-ve.network": (CORPUS / "80-container-ve.network").read_text().replace("ve-*", "lab*"),
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_issue16_network_choice_agrees_with_networkd(networkd: NetworkReference, name: str) -> None:
    problems, claims = disagreements(networkd, CASES[name])
    assert problems == [], CASES[name]
    assert claims, "netagent claimed nothing: the case compares nothing"


MATCH_LINES = (
    "Name=lab*",
    "Name=!lab1",
    "Name=!lab1 ens5",
    "Name=lab[!0] ens?",
    "Name=",
    "Driver=veth",
    "Driver=!ena",
    "Kind=!veth",
    "Type=ether",
    "MACAddress=02:00:00:00:00:05 02:00:00:00:00:01",
    "Property=INTERFACE=lab*",
    "OriginalName=lab0",
    "bogus line",
)


@st.composite
def network_trees(draw: st.DrawFn) -> dict[str, str | None]:
    files: dict[str, str | None] = {}
    for short in ("etc", "run", "usrlib"):
        for name in draw(st.lists(st.sampled_from(("10-a.network", "20-b.network")), max_size=2, unique=True)):
            if draw(st.integers(0, 7)) == 0:
                files[f"{short}/{name}"] = None
                continue
            lines = draw(st.lists(st.sampled_from(MATCH_LINES), max_size=3))
            files[f"{short}/{name}"] = "[Match]\n" + "\n".join(lines) + MTU
            if draw(st.integers(0, 4)) == 0:
                files[f"{short}/{name}.d/x.conf"] = "[Match]\n" + draw(st.sampled_from(MATCH_LINES)) + "\n"
    return files


def test_generated_network_trees_agree_with_networkd(networkd: NetworkReference) -> None:
    """Random .network trees: zero disagreements with systemd-networkd."""
    seen: list[int] = []

    @settings(
        max_examples=GENERATED, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(files=network_trees())
    def check(files: dict[str, str | None]) -> None:
        problems, _ = disagreements(networkd, files)
        seen.append(1)
        assert problems == [], files

    check()
    assert len(seen) >= GENERATED
