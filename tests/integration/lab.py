"""Network-namespace labs for integration tests: create, inspect from inside, always delete."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

_counter = itertools.count()


def unique_name(tag: str = "") -> str:
    """Return a netns name unique to this process: na-<pid>-<n>."""
    return f"na-{os.getpid()}-{next(_counter)}{tag}"


def run(cmd: Sequence[str], check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command (never through a shell) and capture its output as text."""
    return subprocess.run(list(cmd), capture_output=True, text=True, check=check, **kw)  # type: ignore[call-overload]


@dataclass
class Lab:
    """A network namespace with veth pairs; `delete()` removes it and everything in it."""

    name: str
    ifnames: list[str] = field(default_factory=list)
    state_dir: str = ""

    @classmethod
    def create(cls, name: str | None = None) -> Lab:
        lab = cls(name or unique_name())
        lab.state_dir = tempfile.mkdtemp(prefix=f"{lab.name}-state-")
        run(["ip", "netns", "add", lab.name])
        run(["ip", "-n", lab.name, "link", "set", "lo", "up"])
        return lab

    def delete(self) -> None:
        run(["ip", "netns", "del", self.name], check=False)
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def add_veth(self, ifname: str, peer: str, queues: int = 8, up: bool = True) -> None:
        """Add a veth pair inside the lab, both ends with `queues` tx and rx queues."""
        q = ["numtxqueues", str(queues), "numrxqueues", str(queues)]
        run(["ip", "-n", self.name, "link", "add", ifname, *q, "type", "veth", "peer", "name", peer, *q])
        if up:
            run(["ip", "-n", self.name, "link", "set", ifname, "up"])
            run(["ip", "-n", self.name, "link", "set", peer, "up"])
        self.ifnames.append(ifname)

    def exec(
        self, *cmd: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside the lab (ip netns exec remounts /sys for it)."""
        return run(["ip", "netns", "exec", self.name, *cmd], check=check, env=env)

    def netagent(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the real CLI inside the lab with this interpreter and the lab's own state directory."""
        return self.exec(sys.executable, "-m", "netagent", command, "--state-dir", self.state_dir, *args, check=False)

    def mtu(self, ifname: str) -> int:
        out = run(["ip", "-n", self.name, "-j", "link", "show", "dev", ifname]).stdout
        return int(json.loads(out)[0]["mtu"])

    def set_mtu(self, ifname: str, mtu: int) -> None:
        run(["ip", "-n", self.name, "link", "set", "dev", ifname, "mtu", str(mtu)])

    def channels(self, ifname: str) -> dict[str, str]:
        """Return `ethtool -l` current settings as {"rx": "4", "tx": "4", ...}."""
        out = self.exec("ethtool", "-l", ifname).stdout
        current = out.split("Current hardware settings:")[1]
        pairs = (line.split(":", 1) for line in current.splitlines() if ":" in line)
        return {k.strip().lower(): v.strip() for k, v in pairs}

    def set_channels(self, ifname: str, **counts: int) -> None:
        args = [x for k, n in counts.items() for x in (k, str(n))]
        self.exec("ethtool", "-L", ifname, *args)

    def sysctl(self, key: str) -> str:
        return " ".join(self.exec("sysctl", "-n", key).stdout.split())

    def set_sysctl(self, key: str, value: str) -> None:
        self.exec("sysctl", "-q", "-w", f"{key}={value}")

    def snapshot(self) -> dict[str, object]:
        """Return every MTU and channel count in the lab, and its guarded sysctls."""
        from tests.conftest import GUARDED_SYSCTLS

        keys = [k for k in GUARDED_SYSCTLS if not k.startswith("net.core.")]
        return {
            "mtu": {i: self.mtu(i) for i in self.ifnames},
            "channels": {i: self.channels(i) for i in self.ifnames},
            "sysctl": {k: self.sysctl(k) for k in keys},
        }
