"""The packaging files agree with the code and the README (issue 15)."""

from __future__ import annotations

import re
from pathlib import Path

from netagent import __version__

REPO = Path(__file__).resolve().parents[2]


def _build_depends() -> set[str]:
    control = (REPO / "debian/control").read_text()
    field = re.search(r"^Build-Depends:(.*?)^\S", control, re.M | re.S)
    assert field is not None
    return {re.split(r"[\s(]", dep.strip())[0] for dep in field.group(1).split(",") if dep.strip()}


def test_package_versions_follow_netagent_version() -> None:
    first = (REPO / "debian/changelog").read_text().splitlines()[0]
    assert first.startswith(f"netagent ({__version__}) ")
    readme = (REPO / "README.md").read_text()
    assert f"dist/netagent_{__version__}_all.deb" in readme
    assert f"netagent-{__version__}-1.noarch.rpm" in readme


def test_readme_install_names_every_build_dependency() -> None:
    block = (REPO / "README.md").read_text().split("<!-- install: begin")[1].split("<!-- install: end -->")[0]
    apt_line = next(line for line in block.splitlines() if "dh-python" in line and "apt-get install" in line)
    wanted = _build_depends() - {"debhelper-compat"} | {"debhelper"}
    assert wanted <= set(apt_line.split()), wanted - set(apt_line.split())


def test_package_builds_rewrite_the_units_exec_start() -> None:
    # debian/rules and rpm/netagent.spec rewrite this exact prefix to /usr/bin/netagent (and fail
    # the build if the result lacks it).
    unit = (REPO / "systemd/netagent.service").read_text()
    assert "\nExecStart=/usr/local/bin/netagent daemon " in unit
    for recipe in ("debian/rules", "rpm/netagent.spec"):
        assert "s|^ExecStart=/usr/local/bin/netagent |ExecStart=" in (REPO / recipe).read_text(), recipe


def test_rpm_bundles_versions_within_pyprojects_floors() -> None:
    floors = dict(re.findall(r'"(pyroute2|structlog)>=([\d.]+)"', (REPO / "pyproject.toml").read_text()))
    pins = dict(re.findall(r"^(pyroute2|structlog)==([\d.]+)$", (REPO / "rpm/bundled.txt").read_text(), re.M))
    assert set(pins) == set(floors) == {"pyroute2", "structlog"}

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split("."))

    for name, floor in floors.items():
        assert key(pins[name]) >= key(floor), name
