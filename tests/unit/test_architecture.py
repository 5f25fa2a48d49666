"""The functional core stays pure: no kernel, process or network imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "netagent"
CORE = [
    "model.py",
    "profile.py",
    "diff.py",
    "matching.py",
    "reports/text.py",
    "reports/json.py",
    "reports/junit.py",
    "reports/prometheus.py",
    "persist.py",
    "ec2.py",
    "ena.py",
    "notes.py",
    "conditions.py",
    "owners.py",
    "reports/plan.py",
    "events.py",
    "healing.py",
]
FORBIDDEN = ("netagent.host", "netagent.apply", "netagent.daemon", "socket", "subprocess", "pyroute2", "fcntl")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_no_side_effects(module: str) -> None:
    bad = {n for n in imports(PACKAGE / module) if n.startswith(FORBIDDEN)}
    assert not bad, f"{module} imports {bad}"


def test_audit_path_does_not_import_pyroute2_or_structlog() -> None:
    import subprocess
    import sys

    code = (
        "import sys, netagent.cli, netagent.host.observe, netagent.diff, netagent.reports.text,"
        " netagent.host.owner_files, netagent.owners, netagent.reports.plan;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyroute2', 'structlog')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_audit_path_imports_no_http_until_imds_is_asked() -> None:
    import subprocess
    import sys

    code = (
        "import sys, netagent.cli, netagent.host.observe, netagent.host.health, netagent.notes, netagent.diff,"
        " netagent.reports.text, netagent.reports.json, netagent.reports.junit, netagent.reports.prometheus;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('http', 'pyroute2', 'structlog')"
        " or m == 'netagent.host.imds'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
