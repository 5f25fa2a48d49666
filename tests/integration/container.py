"""A minimal Debian under a real systemd (systemd-nspawn) for testing the shipped unit.

The rootfs is built once with debootstrap and cached; every boot runs on a throwaway overlay
(--volatile=overlay) in its own network namespace (--private-network), so nothing inside can
touch the host's interfaces or sysctls. netagent goes in from wheels built on the host, since
the container has no network.
"""

from __future__ import annotations

import contextlib
import glob
import os
import platform
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOTFS = os.environ.get("NETAGENT_TEST_ROOTFS", "/var/cache/netagent-test/rootfs-bookworm")
SUITE = "bookworm"
PACKAGES = "systemd,systemd-sysv,dbus,python3,python3-venv,iproute2,ethtool,procps"
REPO = Path(__file__).resolve().parents[2]


def debian_mirror() -> str:
    """Return the Debian mirror configured in this machine's apt sources."""
    for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*"))]:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split()
            if path.endswith(".sources") and words[:1] == ["URIs:"]:
                uri = words[1]
            elif words[:1] == ["deb"]:
                uri = next((w for w in words[1:] if "://" in w), "")
            else:
                continue
            if "security" not in uri and uri:
                return uri
    return "http://deb.debian.org/debian"


def ensure_rootfs() -> str:
    """Build the cached rootfs if it is missing (about a minute), atomically; return its path."""
    if os.path.exists(os.path.join(ROOTFS, "usr/lib/systemd/systemd")):
        return ROOTFS
    tmp = f"{ROOTFS}.tmp-{os.getpid()}"
    os.makedirs(os.path.dirname(ROOTFS), exist_ok=True)
    try:
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, tmp, debian_mirror()],
            check=True,
            capture_output=True,
            text=True,
        )
        os.rename(tmp, ROOTFS)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ROOTFS


def container_python(rootfs: str) -> str:
    """Return the container's python3 version as `3.11`."""
    found = sorted(glob.glob(os.path.join(rootfs, "usr/bin/python3.[0-9]*")))
    names = [os.path.basename(p) for p in found if os.path.basename(p).replace("python", "").count(".") == 1]
    return names[-1].replace("python", "")


def build_wheels(dest: str, python_version: str) -> None:
    """Put netagent's wheel and its dependencies' binary wheels for the container's Python in dest."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", dest, str(REPO)], check=True, capture_output=True)
    machine = platform.machine()
    tag = python_version.replace(".", "")
    subprocess.run(
        [*pip, "download", "--only-binary=:all:", "-d", dest, "--python-version", python_version,
         "--implementation", "cp", "--abi", f"cp{tag}", "--abi", "abi3", "--abi", "none",
         "--platform", f"manylinux2014_{machine}", "--platform", f"manylinux_2_17_{machine}",
         "--platform", f"manylinux_2_28_{machine}", "--platform", "any",
         "psutil", "pyroute2", "pyyaml", "structlog"],
        check=True,
        capture_output=True,
    )  # fmt: skip


def boot(rootfs: str, binds: dict[str, str], writable: dict[str, str], timeout_s: float) -> int:
    """Boot the rootfs on a volatile overlay with the check unit; return the container's exit code."""
    data = REPO / "tests/data/container"
    cmd = [
        "systemd-nspawn", "-q", "-b", "-D", rootfs, "--volatile=overlay", "--private-network",
        "--register=no", "--keep-unit", "--console=passive",
        f"--bind-ro={data / 'netagent-check.service'}:/etc/systemd/system/netagent-check.service",
        f"--bind-ro={data / 'netagent-check.target'}:/etc/systemd/system/netagent-check.target",
    ]  # fmt: skip
    cmd += [f"--bind-ro={src}:{dst}" for src, dst in binds.items()]
    cmd += [f"--bind={src}:{dst}" for src, dst in writable.items()]
    # Arguments after `--` go to systemd: boot the normal system plus the check. (A unit file
    # bound into a .wants/ directory is ignored: systemd wants a symlink there.)
    cmd += ["--", "--unit=netagent-check.target"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.terminate()  # nspawn powers the container off on SIGTERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        kill_container_processes()
        raise
    finally:
        remove_empty_nspawn_cgroups()


def kill_container_processes() -> None:
    """Kill whatever a timed-out container left running in nspawn's payload cgroups."""
    for procs in glob.glob("/sys/fs/cgroup/*/payload/**/cgroup.procs", recursive=True):
        with contextlib.suppress(OSError):
            for pid in Path(procs).read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def remove_empty_nspawn_cgroups() -> None:
    """nspawn without systemd as PID 1 leaves empty payload/ and supervisor/ cgroups behind."""
    for hierarchy in [*glob.glob("/sys/fs/cgroup/*/"), "/sys/fs/cgroup/"]:
        for name in ("payload", "supervisor"):
            top = os.path.join(hierarchy, name)
            if not os.path.isdir(top):
                continue
            for path, _dirs, _files in os.walk(top, topdown=False):
                with contextlib.suppress(OSError):  # not empty (a live process), or not ours: leave it
                    os.rmdir(path)


# ---------------------------------------------------------------- the .deb's dependencies (issue 15)

DEB_CACHE = os.environ.get("NETAGENT_TEST_DEB_CACHE", "/var/cache/netagent-test/debs-bookworm")


def build_deb(dest: str, version: str | None = None) -> str:
    """Build netagent's .deb with scripts/package-deb into dest (as `version`, if given); return its path."""
    env = {**os.environ, **({"NETAGENT_DEB_VERSION": version} if version else {})}
    out = subprocess.run(
        ["bash", str(REPO / "scripts/package-deb"), dest], check=True, capture_output=True, text=True, env=env
    ).stdout
    return out.strip().splitlines()[-1]


def deb_repo(deb: str, rootfs: str, dest: str) -> list[str]:
    """Make dest a flat apt repository of the Debian packages the rootfs lacks to install `deb`.

    apt on this host works out what the container is missing (its dpkg status file stands in for
    this machine's; both are Debian 12) and downloads those packages from the archive into DEB_CACHE, kept
    between runs; dest gets them and a Packages index, for `deb [trusted=yes] file:/repo ./`.
    Inside the container, apt resolves netagent's dependencies from that repository. Return the
    file names of the downloaded packages.
    """
    codename = next(
        (line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines()
         if line.startswith("VERSION_CODENAME=")), "",
    )  # fmt: skip
    if codename != SUITE:
        raise RuntimeError(f"this host's apt lists are {codename or 'unknown'}'s, the container is {SUITE}")
    partial = os.path.join(DEB_CACHE, "partial")
    os.makedirs(partial, exist_ok=True)
    subprocess.run(
        ["apt-get", "-q", "-y", "--download-only", "--no-install-recommends",
         "-o", f"Dir::State::status={rootfs}/var/lib/dpkg/status",
         "-o", f"Dir::Cache::archives={DEB_CACHE}", "-o", "Debug::NoLocking=true",
         "install", os.path.abspath(deb)],
        check=True, capture_output=True, text=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )  # fmt: skip
    os.makedirs(dest, exist_ok=True)
    names = sorted(n for n in os.listdir(DEB_CACHE) if n.endswith(".deb"))
    for name in names:
        shutil.copy(os.path.join(DEB_CACHE, name), os.path.join(dest, name))
    index = subprocess.run(["dpkg-scanpackages", "-m", "."], cwd=dest, check=True, capture_output=True, text=True)
    Path(dest, "Packages").write_text(index.stdout)
    return names
