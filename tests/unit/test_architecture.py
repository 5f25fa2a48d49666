"""The functional core stays pure: no kernel, process or network imports."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "netagent"
CORE = PACKAGE / "core"
# The functional core decides; it never touches the kernel, the clock, files or processes (STYLE.md).
FORBIDDEN = ("netagent.host", "netagent.app", "netagent.cli", "os", "socket", "subprocess", "time", "pyroute2", "fcntl")


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def impurities(source: str) -> list[str]:
    """Return what a module's source does that the core must not: forbidden imports, open() calls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _forbidden(node.module):
                found.append(f"from {node.module} import ...")
            elif node.module == "netagent":
                found += [f"from netagent import {a.name}" for a in node.names if _forbidden(f"netagent.{a.name}")]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append("relative import")  # the package never uses them; they would hide a path
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("open", "__import__"):
            found.append(f"{node.func.id}() call")
    return found


CORE_MODULES = sorted(str(p.relative_to(PACKAGE)) for p in CORE.rglob("*.py"))


def test_core_has_modules() -> None:
    assert len(CORE_MODULES) >= 20, CORE_MODULES  # the walk found the package, not an empty folder


@pytest.mark.parametrize("module", CORE_MODULES)
def test_core_module_is_pure(module: str) -> None:
    bad = impurities((PACKAGE / module).read_text())
    assert not bad, f"netagent/{module}: {bad}"


@pytest.mark.parametrize(
    "source",
    [
        "import os",
        "import os.path",
        "from os import path",
        "import time",
        "from netagent.host import link",
        "from netagent import host",
        "from netagent.app.apply import apply_plan",
        "import pyroute2.iproute",
        "import subprocess",
        "def f():\n    import socket",
        "def f(p):\n    return open(p).read()",
    ],
)
def test_purity_check_catches(source: str) -> None:
    assert impurities(source)


@pytest.mark.parametrize("source", ["import re", "import struct", "from netagent.core import model", "import osmosis"])
def test_purity_check_allows(source: str) -> None:
    assert impurities(source) == []


def test_audit_path_does_not_import_pyroute2_or_structlog() -> None:
    import subprocess
    import sys

    code = (
        "import sys, netagent.cli, netagent.host.observe, netagent.core.diff, netagent.core.reports.text,"
        " netagent.host.owner_files, netagent.core.owners, netagent.core.reports.plan;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyroute2', 'structlog')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_audit_path_imports_no_http_until_imds_is_asked() -> None:
    import subprocess
    import sys

    code = (
        "import sys, netagent.cli, netagent.host.observe, netagent.host.health, netagent.core.notes,"
        " netagent.core.diff, netagent.core.reports.text, netagent.core.reports.json,"
        " netagent.core.reports.junit, netagent.core.reports.prometheus;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('http', 'pyroute2', 'structlog')"
        " or m == 'netagent.host.imds'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# Modules the one-shot audit no longer imports (issue 8): each costs milliseconds against a
# ~40 ms floor. yaml: yamlite composes the shipped profiles; dataclasses/inspect: value classes;
# typing, json, contextlib, signal, shutil: imported only where used.
AUDIT_NEVER_IMPORTS = (
    "yaml",
    "dataclasses",
    "inspect",
    "typing",
    "json",
    "contextlib",
    "signal",
    "shutil",
    "structlog",
    "pyroute2",
    "http",
    "netagent.host.imds",
    "netagent.app.daemon",
    # parsers of tools the root has no files of (the test's root has none of NetworkManager's or TuneD's)
    "netagent.core.owners.networkmanager",
    "netagent.core.owners.tuned",
)


def test_one_shot_audit_imports_none_of_the_heavy_modules(tmp_path: Path) -> None:
    import subprocess
    import sys

    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: t\ninterfaces:\n  - match: lo\n    mtu: 9001\n    driver: x\n    channels: {combined: max}\n"
        "sysctl:\n  net.ipv4.tcp_mtu_probing: 0\n  net.ipv4.tcp_rmem: 4096 131072 6291456\n"
    )
    code = (
        "import sys\nbefore = set(sys.modules)  # what the interpreter (and an editable install) loaded\n"
        "from netagent.cli import main\n"
        f"main(['audit', '--no-imds', '--profile', {str(profile)!r}, '--root', {str(tmp_path)!r}])\n"
        f"bad = sorted(m for m in set(sys.modules) - before if m.startswith({AUDIT_NEVER_IMPORTS!r}))\n"
        "print('IMPORTED', bad, file=sys.stderr)\n"
    )
    # -S: no site, so nothing a .pth file imports (an editable install's finder imports contextlib)
    # is already loaded when the audit starts; the package comes from the source tree.
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    run = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True, check=True, env=env)
    assert "IMPORTED []" in run.stderr, run.stderr


# Setting kinds (and their adapters) a profile of MTU, channels, driver and sysctls never uses: the
# daemon keeps whatever it imports for its whole life (its RSS, issue 12).
UNUSED_KINDS = (
    "netagent.core.settings.rings",
    "netagent.core.settings.coalesce",
    "netagent.core.settings.rps",
    "netagent.core.settings.xps",
    "netagent.core.settings.bql",
    "netagent.core.settings.txqueuelen",
    "netagent.host.queues",
    "netagent.app.textfile",
    "netagent.host.guard",
    "pyroute2",  # a path guard's route lookup; link writes are netagent's own RTM_NEWLINK
)


def test_loading_auditing_and_writing_a_profile_imports_only_its_kinds(tmp_path: Path) -> None:
    """What the daemon does with a profile of MTU, channels, driver and sysctls (load it, audit the
    host, plan, write each change through HostWriter) imports none of the other kinds, with the
    daemon's own modules loaded. The kernel calls are replaced by recorders: no I/O."""
    import subprocess
    import sys

    profile = tmp_path / "p.yaml"
    profile.write_text(
        "name: t\ninterfaces:\n  - match: lab*\n    driver: veth\n    mtu: 9001\n    channels: {combined: 4}\n"
        "sysctl:\n  net.ipv4.tcp_mtu_probing: 1\n"
    )
    code = (
        "import sys, netagent.cli, netagent.app.daemon, netagent.host.system\n"
        "from netagent.core.diff import audit, plan\n"
        "from netagent.core.model import HostState, Link\n"
        "from netagent.core.settings.channels import Channels\n"
        "from netagent.core.settings.driver import DriverInfo\n"
        "from netagent.host.trust import load_profile\n"
        "from netagent.host.writer import HostWriter\n"
        f"p = load_profile({str(profile)!r})\n"
        "ch = Channels(0, 0, 0, 8, 0, 0, 0, 2)\n"
        "link = Link('lab0', 3, 1500, 'up', {'driver': DriverInfo('veth', '1.0'), 'channels': ch})\n"
        "host = HostState(('lab0',), {'lab0': link}, {'net.ipv4.tcp_mtu_probing': '0'})\n"
        "calls = []\n"
        "w = HostWriter()\n"
        "w._links.set_mtu = lambda ifname, n: calls.append(('mtu', ifname, n))\n"
        "w._ethtool.set_channels = lambda ifname, c: calls.append(('channels', ifname, c))\n"
        "netagent.host.writer.sysctl.write_sysctl = lambda key, value: calls.append(('sysctl', key, value))\n"
        "for change in plan(audit(p, host)).changes:\n"
        "    w.execute(change)\n"
        "print(sorted(calls))\n"
        f"print(sorted(m for m in sys.modules if m in {UNUSED_KINDS!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "[('channels', 'lab0', {'combined': 4}), ('mtu', 'lab0', 9001), ('sysctl', 'net.ipv4.tcp_mtu_probing', '1')]",
        "[]",
    ]


def test_every_package_is_installed() -> None:
    """A package missing from pyproject's list is missing from the wheel (the container test found one)."""
    import re

    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    block = re.search(r"^packages = \[(.*?)\]", pyproject, re.M | re.S)
    assert block is not None
    listed = set(re.findall(r'"(netagent(?:\.[a-z_]+)*)"', block.group(1)))
    found = {".".join(p.parent.relative_to(PACKAGE.parent).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set()
