"""sysctl.d precedence against systemd's own: `systemd-analyze cat-config --root=DIR sysctl.d`.

Generated trees (several directories, the same names across them, /dev/null masks, `-` keys,
slash keys, /etc/sysctl.conf through the 99-sysctl.conf link distributions ship): for every key,
netagent's boot winner is the last assignment in the files systemd prints, in its order.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from netagent.core.owners import SYSCTL_DIRS, boot_value, scan
from netagent.host.owner_files import read_owner_files

KEYS = [f"net.test.k{i}" for i in range(6)]
NAMES = ["10-a.conf", "50-b.conf", "50-c.conf", "90-d.conf", "99-z.conf"]


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    """The path of systemd-analyze; CI must have it (the reference), elsewhere the test skips."""
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the sysctl.d cross-check: systemd-analyze is missing")
        pytest.skip("systemd-analyze is not installed")
    return path


def generate(root: Path, rng: random.Random) -> None:
    """Write a random sysctl.d tree: values are unique, so each names the file and line it came from."""
    serial = iter(range(1, 10_000))
    for directory in SYSCTL_DIRS:
        d = root / directory.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        for name in rng.sample(NAMES, rng.randint(0, 3)):
            if rng.random() < 0.15:
                (d / name).symlink_to("/dev/null")
                continue
            lines = ["# generated"]
            for key in rng.sample(KEYS, rng.randint(1, 4)):
                shown = key.replace(".", "/") if rng.random() < 0.3 else key
                dash = "-" if rng.random() < 0.3 else ""
                lines.append(f"{dash}{shown} = {next(serial)}")
            (d / name).write_text("\n".join(lines) + "\n")
    if rng.random() < 0.7:
        (root / "etc/sysctl.conf").write_text(f"{rng.choice(KEYS)} = {next(serial)}\n{rng.choice(KEYS)} = 7\n")
        if not os.path.lexists(root / "etc/sysctl.d/99-sysctl.conf"):
            (root / "etc/sysctl.d/99-sysctl.conf").symlink_to("../sysctl.conf")


def systemd_winners(tool: str, root: Path) -> dict[str, str]:
    """Apply the files systemd-analyze prints, in its order, with a deliberately naive parser."""
    out = subprocess.run(
        [tool, "cat-config", f"--root={root}", "sysctl.d"], capture_output=True, text=True, check=True
    ).stdout
    values: dict[str, str] = {}
    for line in out.splitlines():
        line = line.strip().lstrip("-")
        if "=" in line and not line.startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            values[key.replace("/", ".")] = value
    return values


@pytest.mark.parametrize("seed", range(25))
def test_boot_winner_matches_systemd(systemd_analyze: str, tmp_path: Path, seed: int) -> None:
    generate(tmp_path, random.Random(seed))
    found = scan(read_owner_files(str(tmp_path)))
    ours = {}
    for key in KEYS:
        winner, value, _ = boot_value(key, found)
        if winner is not None:
            ours[key] = value
    assert ours == systemd_winners(systemd_analyze, tmp_path)


def test_generated_trees_cover_masks_shadows_dashes_and_sysctl_conf(tmp_path: Path) -> None:
    """The generator exercises every rule it claims to (so the cross-check above means something)."""
    seen = {"mask": False, "shadow": False, "dash": False, "slash": False, "conf": False}
    for seed in range(25):
        root = tmp_path / str(seed)
        generate(root, random.Random(seed))
        names = [
            p.name for d in SYSCTL_DIRS if (root / d.lstrip("/")).is_dir() for p in (root / d.lstrip("/")).iterdir()
        ]
        texts = [p.read_text() for p in root.rglob("*.conf") if p.is_file() and not p.is_symlink()]
        seen["mask"] |= any(p.is_symlink() and os.readlink(p) == "/dev/null" for p in root.rglob("*.conf"))
        seen["shadow"] |= len(names) != len(set(names))
        seen["dash"] |= any("\n-" in t for t in texts)
        seen["slash"] |= any("net/test" in t for t in texts)
        seen["conf"] |= (root / "etc/sysctl.conf").exists()
    assert all(seen.values()), seen
