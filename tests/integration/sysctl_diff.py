"""Differential harness: netagent's sysctl.d boot winner against the real systemd-sysctl.

A `Tree` is a sysctl.d tree as data; `SysctlReference` runs systemd-sysctl on trees inside a
throwaway network namespace (tests/integration/sysctl_runner.py, one long-lived process, so
hundreds of trees cost one namespace); `predict` is netagent's answer for the same tree, read
through the real host adapter (`read_owner_files`) from a copy written under a temporary root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Union

from netagent.core.owners import boot_value, scan
from netagent.core.owners.sysctl_d import dotted_key
from netagent.core.settings.sysctl import normalize_sysctl
from netagent.host.owner_files import read_owner_files
from tests.integration.lab import Lab

RUNNER = Path(__file__).with_name("sysctl_runner.py")
DIRS = ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d")
IFACES = ("lo", "d0", "d1", "d2", "d3")
# Per-namespace integer keys (slash form) with a valid value range each, and the baseline each
# tree starts from. ipv4 conf keys of every interface, `all` and `default`.
IFACE_KEYS = {"rp_filter": (0, 2), "arp_ignore": (0, 2), "log_martians": (0, 1)}
NETNS_KEYS = {
    "net/ipv4/tcp_ecn": (0, 2),
    "net/ipv4/tcp_syn_retries": (1, 9),
    "net/ipv4/tcp_synack_retries": (1, 9),
    "net/ipv4/tcp_keepalive_probes": (1, 9),
    "net/ipv4/tcp_keepalive_intvl": (1, 9),
    "net/ipv4/tcp_fin_timeout": (1, 9),
    "net/core/somaxconn": (1, 9),
}
# File content: text; None is a /dev/null mask; {"link": target} a symlink.
Content = Union[str, None, dict]


def all_keys() -> dict[str, tuple[int, int]]:
    """Every key the differential compares, with its valid range."""
    keys = dict(NETNS_KEYS)
    for ifname in ("all", "default", *IFACES):
        for name, bounds in IFACE_KEYS.items():
            keys[f"net/ipv4/conf/{ifname}/{name}"] = bounds
    return keys


BASELINE = {key: str(lo + 1 if hi > lo + 1 else lo) for key, (lo, hi) in all_keys().items()}


class Tree:
    """A sysctl.d tree: files by path relative to the root, and /etc/sysctl.conf's text."""

    def __init__(self, files: dict[str, Content], sysctl_conf: str = "") -> None:
        self.files = files
        self.sysctl_conf = sysctl_conf

    def write(self, root: Path) -> None:
        """Write the tree under `root` (lib -> usr/lib, as Debian 12)."""
        for d in DIRS:
            (root / d).mkdir(parents=True, exist_ok=True)
        if not (root / "lib").exists():
            (root / "lib").symlink_to("usr/lib")
        for rel, content in self.files.items():
            path = root / rel
            if content is None:
                path.symlink_to("/dev/null")
            elif isinstance(content, dict):
                path.symlink_to(content["link"])
            else:
                path.write_text(content)
        if self.sysctl_conf:
            (root / "etc/sysctl.conf").write_text(self.sysctl_conf)

    def describe(self) -> str:
        """Return the tree as text, for a failure message."""
        parts = [f"--- {rel}\n{content!r}" for rel, content in sorted(self.files.items())]
        return "\n".join([*parts, f"--- etc/sysctl.conf\n{self.sysctl_conf!r}"])


def predict(tree: Tree, keys: list[str]) -> dict[str, str | None]:
    """Return netagent's boot value per key (None: sysctl.d leaves it alone); keys it will not
    claim (derived from another key: the value depends on order) are left out."""
    with tempfile.TemporaryDirectory(prefix="na-sysctl-") as tmp:
        tree.write(Path(tmp))
        found = scan(read_owner_files(tmp))
    out: dict[str, str | None] = {}
    for key in keys:
        winner, value, reason = boot_value(dotted_key(key), found)
        if winner is None and "depends on order" in reason:
            continue
        out[key] = None if winner is None else normalize_sysctl(value or "")
    return out


class SysctlReference:
    """systemd-sysctl in a namespace lab with veths d0..d3; `apply(tree)` returns the values read back."""

    def __init__(self) -> None:
        self.lab = Lab.create()
        self.proc: subprocess.Popen[str] | None = None
        self.stage = tempfile.mkdtemp(prefix="na-sysctl-stage-")
        try:
            self.lab.add_veth("d0", "d1")
            self.lab.add_veth("d2", "d3")
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.lab.name, sys.executable, str(RUNNER), self.stage, *own_namespaces()],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert self.proc.stdout is not None
            ready = self.proc.stdout.readline()
            if not ready:
                raise RuntimeError("sysctl_runner did not start")
        except BaseException:
            self.close()
            raise

    def apply(self, tree: Tree, baseline: dict[str, str]) -> dict[str, str]:
        """Run systemd-sysctl on the tree from `baseline`; return every baseline key's value after it."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        request = {"files": tree.files, "sysctl_conf": tree.sysctl_conf, "baseline": baseline}
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return {k: normalize_sysctl(v) for k, v in answer["values"].items()}

    def close(self) -> None:
        """Stop the runner and delete the namespace (its mounts go with its mount namespace)."""
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=30)
        self.lab.delete()
        shutil.rmtree(self.stage, ignore_errors=True)


def disagreements(reference: SysctlReference, tree: Tree, baseline: dict[str, str] | None = None) -> list[str]:
    """Return one line per key where netagent's boot value differs from what systemd-sysctl left."""
    return compare(reference, tree, baseline)[0]


def compare(reference: SysctlReference, tree: Tree, baseline: dict[str, str] | None = None) -> tuple[list[str], int]:
    """Return the disagreements and how many keys netagent claims a boot winner for."""
    baseline = baseline or BASELINE
    actual = reference.apply(tree, baseline)
    ours = predict(tree, list(baseline))
    out = []
    for key, value in ours.items():
        expected = normalize_sysctl(baseline[key]) if value is None else value
        if actual[key] != expected:
            out.append(f"{key}: netagent {value!r} (untouched: {baseline[key]!r}), systemd-sysctl {actual[key]!r}")
    return out, sum(v is not None for v in ours.values())


def own_namespaces() -> tuple[str, str]:
    """Return this process's mount and network namespace ids (the runner must be in others)."""
    return os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/net")


def have_systemd_sysctl() -> bool:
    """Tell whether the reference tool is installed."""
    return os.access("/lib/systemd/systemd-sysctl", os.X_OK)
