"""Issue 16: netagent's reading of TuneD profiles against TuneD's own loader (Debian `tuned` 2.20).

For every shipped profile (tests/data/owners-corpus/tuned, from the Debian package) and one tree
per class of issue 16, /usr/bin/python3 tests/integration/tuned_reference.py loads the profile
with tuned.profiles and expands [sysctl] and [net] options as the plugins do. netagent, reading
the same tree through read_owner_files + parse_tuned, must find the same keys with the same
values; where TuneD's value still holds `${...}` (a function that reads the machine, which the
reference does not run), netagent must say "unknown value" and never show the literal.
No TuneD daemon runs and nothing is applied; this needs no namespace.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netagent.core.owners.sysctl_d import normalize_key
from netagent.core.owners.tuned import parse_tuned
from netagent.host.owner_files import read_owner_files

pytestmark = pytest.mark.integration
CORPUS = Path(__file__).resolve().parents[1] / "data" / "owners-corpus" / "tuned"
REFERENCE = Path(__file__).with_name("tuned_reference.py")
SYSTEM_PYTHON = "/usr/bin/python3"
# Where .ci/run and scripts/test extract Debian's tuned package (never installed, never started).
TUNED_TREE = Path(os.environ.get("NETAGENT_TUNED_TREE", "/var/cache/netagent-test/tuned"))
TUNED_PATH = str(TUNED_TREE / "usr/lib/python3/dist-packages")
PROFILES = sorted(p.name for p in (CORPUS / "usr/lib/tuned").iterdir() if (p / "tuned.conf").is_file())


@pytest.fixture(scope="module")
def tuned_loader() -> str:
    """The interpreter that has TuneD's module; CI must have it (apt: tuned), elsewhere the test skips."""
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import tuned.profiles"], capture_output=True, check=False, env=_env())
    if probe.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the TuneD differential: no tuned module under {TUNED_PATH} (see .ci/run)")
        pytest.skip("TuneD is not installed")
    return SYSTEM_PYTHON


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=TUNED_PATH)


def reference(python: str, root: Path, names: list[str]) -> dict:
    out = subprocess.run(
        [python, str(REFERENCE), str(root), *names], capture_output=True, text=True, check=True, env=_env()
    )
    return json.loads(out.stdout)


def compare(python: str, root: Path, active: str) -> list[str]:
    """Return the disagreements between TuneD's loader and netagent for one active profile."""
    (root / "etc/tuned").mkdir(parents=True, exist_ok=True)
    (root / "etc/tuned/active_profile").write_text(active + "\n")
    ref = reference(python, root, active.split())
    files = read_owner_files(str(root))
    sysctl, nets, problems = parse_tuned(files.tuned_profiles, files.tuned_variables)
    if "error" in ref:
        return [] if problems else [f"TuneD refuses the profile ({ref['error']}), netagent reports no problem"]
    out = []
    theirs = {normalize_key(k): v for k, v in ref["sysctl"]}
    ours = {s.key: s for s in sysctl}
    if set(theirs) != set(ours):
        out.append(f"sysctl keys: TuneD {sorted(theirs)}, netagent {sorted(ours)}")
    for key, value in theirs.items():
        mine = ours.get(key)
        if mine is None:
            continue
        if "${" in value:
            if mine.value or "unknown value" not in mine.note:
                out.append(f"{key}: TuneD cannot resolve {value!r} here, netagent says {mine.value!r}")
        elif mine.value != value:
            out.append(f"{key}: TuneD {value!r}, netagent {mine.value!r} ({mine.note})")
    if len(ref["net"]) != len(nets):
        out.append(f"net units: TuneD {len(ref['net'])}, netagent {len(nets)}")
    for theirs_net, mine_net in zip(ref["net"], nets):
        mtu = [s.value for s in mine_net.settings if s.key == "mtu"]
        if "mtu" in theirs_net and "${" not in theirs_net["mtu"] and mtu != [theirs_net["mtu"]]:
            out.append(f"net mtu: TuneD {theirs_net['mtu']!r}, netagent {mtu}")
        channels = " ".join(s.value for s in mine_net.settings if s.key == "channels")
        wanted = theirs_net.get("channels", "")
        if "${" in wanted:
            if channels:
                out.append(f"net channels: TuneD cannot resolve {wanted!r}, netagent says {channels!r}")
        elif channels != " ".join(f"{k}={v}" for k, v in zip(wanted.split()[::2], wanted.split()[1::2])):
            out.append(f"net channels: TuneD {wanted!r}, netagent {channels!r}")
    return out


def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(CORPUS, root)
    return root


@pytest.mark.parametrize("profile", PROFILES)
def test_shipped_profile_agrees_with_tuned_loader(tuned_loader: str, tmp_path: Path, profile: str) -> None:
    assert compare(tuned_loader, tree(tmp_path), profile) == []


CASES = {
    "include list with ; and a conditional -name": {
        "etc/tuned/a/tuned.conf": "[main]\ninclude=network-throughput; -absent ,network-latency\n"
        "[sysctl]\nnet.ipv4.tcp_ecn=1\n",
    },
    "missing include without - : TuneD refuses": {
        "etc/tuned/a/tuned.conf": "[main]\ninclude=absent\n[sysctl]\nnet.x=1\n"
    },
    "variables, functions, unknown ones": {
        "etc/tuned/a/tuned.conf": "[variables]\nq=8\nhalf=${f:s2kb:${q}}\n"
        "[sysctl]\nnet.core.somaxconn=${half}\nnet.core.busy_poll=${f:strip:  50 }\n"
        "net.core.busy_read=${nope}\nnet.ipv4.tcp_ecn=${f:virt_check:1:2}\n"
        'net.ipv4.tcp_rmem="4096 87380 ${q}"\nnet.ipv4.tcp_syn_retries=>3\n',
    },
    "replace=1 and enabled=false and drop=": {
        "etc/tuned/a/tuned.conf": "[main]\ninclude=network-latency\n"
        "[sysctl]\nreplace=1\nnet.ipv4.tcp_fastopen=1\n[vm]\nenabled=false\n",
        "etc/tuned/b/tuned.conf": "[main]\ninclude=network-throughput\n[sysctl]\ndrop=net.ipv4.tcp_rmem\n",
    },
    "a user profile includes the system one of the same name": {
        "etc/tuned/network-latency/tuned.conf": "[main]\ninclude=network-latency\n[sysctl]\nnet.core.busy_read=10\n",
    },
    "net units: devices, mtu, channels": {
        "etc/tuned/a/tuned.conf": "[variables]\nnics=eth0,!eth1\n"
        "[net]\ndevices=${nics}\nmtu=9001\nchannels=combined 4\n"
        "[nic2]\ntype=net\ndevices=ens*\nchannels=rx 2 tx 2\n",
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_issue16_tuned_class_agrees_with_tuned_loader(tuned_loader: str, tmp_path: Path, name: str) -> None:
    root = tree(tmp_path)
    for rel, text in CASES[name].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    actives = sorted({rel.split("/")[2] for rel in CASES[name]})
    for active in actives:
        assert compare(tuned_loader, root, active) == [], active
