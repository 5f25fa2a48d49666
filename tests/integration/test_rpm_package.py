"""The Amazon Linux 2023 RPM: built with rpmbuild, inspected, installed under an empty root, run.

scripts/package-rpm builds it (Debian's `rpm` package). The payload, requirements and scriptlets
are read back with rpm -qlp / -qp --requires / --scripts. It is then installed with
`rpm --root EMPTY --nodeps --noscripts`: the empty root has no shell for the scriptlets and no
Python to chroot into, so the installed /usr/bin/netagent is run by a Python 3.9 (AL2023's
version, from pyenv) whose environment holds only what the RPM requires from AL2023
(python3-pyyaml, python3-psutil): pyroute2 and structlog must come from the RPM's own
/opt/netagent/lib, which the launcher finds relative to itself, under the root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.container import REPO

# A Python like AL2023's: 3.9 with python3-pyyaml and python3-psutil, and nothing else.
AL2023_VENV = os.environ.get("NETAGENT_TEST_AL2023_VENV", "/var/cache/netagent-test/al2023-py39-venv")


def _need(ok: bool, what: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the RPM test: {what}")
    pytest.skip(what)


@pytest.fixture(scope="module")
def al2023_python() -> str:
    """A python3.9 venv with PyYAML and psutil only (built once, cached)."""
    _need(os.geteuid() == 0, "needs root (rpm --root)")
    _need(all(shutil.which(t) for t in ("rpm", "rpmbuild")), "needs rpm and rpmbuild (apt-get install rpm)")
    py39 = sorted(glob.glob("/root/.pyenv/versions/3.9*/bin/python3.9"))
    _need(bool(py39), "needs a python3.9 (pyenv)")
    python = os.path.join(AL2023_VENV, "bin", "python")
    if not os.path.exists(python):
        tmp = f"{AL2023_VENV}.tmp-{os.getpid()}"
        try:
            subprocess.run([py39[-1], "-m", "venv", tmp], check=True, capture_output=True)
            pip = [os.path.join(tmp, "bin", "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
            subprocess.run([*pip, "install", "pyyaml", "psutil"], check=True, capture_output=True)
            os.rename(tmp, AL2023_VENV)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return python


@pytest.fixture(scope="module")
def rpm_file(al2023_python: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        ["bash", str(REPO / "scripts/package-rpm"), str(out)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return built.stdout.strip().splitlines()[-1]


def _rpm(*args: str) -> str:
    return subprocess.run(["rpm", *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.integration
def test_rpm_payload_requirements_and_scriptlets(rpm_file: str) -> None:
    files = set(_rpm("-qlp", rpm_file).split())
    for path in (
        "/usr/bin/netagent",
        "/usr/lib/systemd/system/netagent.service",
        "/etc/netagent/profile.yaml",
        "/opt/netagent/lib/netagent/cli.py",
        "/opt/netagent/lib/pyroute2/__init__.py",
        "/opt/netagent/lib/structlog/__init__.py",
        "/opt/netagent/lib/typing_extensions.py",
        "/usr/share/bash-completion/completions/netagent",
        "/usr/share/zsh/site-functions/_netagent",
        "/var/lib/netagent",
    ):
        assert path in files, path
    assert any(f.startswith("/usr/share/man/man8/netagent.8") for f in files)
    # Bytecode for AL2023's Python 3.9, none for the build machine's.
    assert any(f.endswith(".cpython-39.pyc") for f in files)
    assert not [f for f in files if f.endswith(".pyc") and ".cpython-39." not in f]
    assert _rpm("-qpc", rpm_file).split() == ["/etc/netagent/profile.yaml"]

    requires = {line.split()[0] for line in _rpm("-qp", "--requires", rpm_file).splitlines()}
    assert {"python3", "python3-pyyaml", "python3-psutil", "/usr/bin/python3"} <= requires
    # The bundled libraries neither need nor provide anything in the rpmdb.
    assert not [r for r in requires if "pyroute2" in r or "structlog" in r or r.startswith("python(abi)")]
    provides = _rpm("-qp", "--provides", rpm_file)
    assert "pyroute2" not in provides
    assert "structlog" not in provides

    scripts = _rpm("-qp", "--scripts", rpm_file)
    assert "systemctl --no-reload preset netagent.service" in scripts  # enabled only by a preset
    assert "systemctl --no-reload disable --now netagent.service" in scripts
    assert "systemctl try-restart netagent.service" in scripts


@pytest.mark.integration
def test_rpm_installed_under_an_empty_root_runs(rpm_file: str, al2023_python: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    subprocess.run(
        ["rpm", "--root", str(root), "--nodeps", "--noscripts", "--force-debian", "-i", rpm_file],
        check=True,
        capture_output=True,
    )
    unit = (root / "usr/lib/systemd/system/netagent.service").read_text()
    assert "\nExecStart=/usr/bin/netagent daemon " in unit
    # The copy `netagent persist` writes into an image root is the same unit.
    assert (root / "opt/netagent/lib/netagent/systemd/netagent.service").read_text() == unit
    assert (root / "usr/bin/netagent").stat().st_mode & 0o111

    env = {"PATH": os.environ["PATH"], "LC_ALL": "C.UTF-8"}
    run = [al2023_python, "-s", str(root / "usr/bin/netagent")]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env, check=False)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == "netagent 0.1.0"
    profile = str(root / "etc/netagent/profile.yaml")
    valid = subprocess.run([*run, "validate", profile], capture_output=True, text=True, env=env, check=False)
    assert valid.returncode == 0, valid.stderr
    assert valid.stdout.startswith(f"{profile}: valid profile 'ec2-default'")

    # What the daemon imports comes from the root's /opt/netagent/lib; yaml from "the system".
    probe = (
        "import runpy, sys; sys.argv = [sys.argv[1], '--version']\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "import netagent.app.daemon, pyroute2, structlog, yaml\n"
        "for m in (netagent.app.daemon, pyroute2, structlog, yaml): print(m.__file__)\n"
    )
    where = subprocess.run(
        [al2023_python, "-s", "-c", probe, str(root / "usr/bin/netagent")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    lines = where.stdout.splitlines()[1:]
    lib = str(root / "opt/netagent/lib") + "/"
    assert [os.path.normpath(line).startswith(lib) for line in lines] == [True, True, True, False], lines
