"""The audit's shortcuts (issue 12) change no result: each is checked against the long way.

- for_settings() keeps only the interface units that can decide an owner of the checked settings;
  attach_owners() on the trimmed scan equals attach_owners() on the whole one (Hypothesis trees).
- attach_owners() with no interface unit left attaches what iface_owners() would.
- read_source() with its directory resolved already names the same target as a full resolve.
- The report's timestamp without datetime is datetime's isoformat().
- A report counts its checks once: compliant, counts() and the recommended failures equal the
  per-check definitions, under --strict too, and after replace().
- attach_owners() with no interface unit and no unreadable file leaves interface checks bare.
- rootpath.host_path() is os.path.join(root, inner.lstrip("/")); read_bounded() reads what
  f.read(limit) reads.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netagent.app.audit import _utc_now
from netagent.core.model import STATUS_TEXT, Check, Link, Owner, Profile, Report, Severity, Status
from netagent.core.owners import OwnerFiles, SourceFile, iface_owners, scan
from netagent.core.owners.networkd import LinkFacts
from netagent.core.owners.precedence import attach_owners, for_settings, has_interface_units
from netagent.core.settings.driver import DriverInfo
from netagent.host import owner_files, rootpath

TREES = settings(
    max_examples=300, derandomize=True, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
LINKS = {n: Link(n, i + 2, 1500, "up", {"driver": DriverInfo("veth", "1")}) for i, n in enumerate(("lab0", "lab1"))}
FACTS = {n: LinkFacts(n, driver="veth", mac=f"02:00:00:00:00:0{i}") for i, n in enumerate(LINKS)}
SETTINGS = ("mtu", "channels", "rings", "coalesce")

# [Match] lines (one may apply: Path= is not known here) and [Link] lines of each setting.
MATCHES = ("OriginalName=lab0", "OriginalName=lab*", "Name=lab1", "Driver=veth", "Driver=ena", "Path=pci-*", "")
LINK_LINES = {
    "mtu": "MTUBytes=9000",
    "channels": "RxChannels=4",
    "rings": "RxBufferSize=1024",
    "coalesce": "RxCoalesceSec=10us",
    "other": "NamePolicy=kernel",
}


def _unit(match: str, sets: list[str], suffix: str, name: str) -> SourceFile:
    text = "[Match]\n" + (f"{match}\n" if match else "Name=*\n") + "[Link]\n"
    text += "".join(LINK_LINES[s] + "\n" for s in sets)
    return SourceFile(f"/etc/systemd/network/{name}{suffix}", text)


UNITS = st.lists(
    st.tuples(
        st.sampled_from(MATCHES),
        st.lists(st.sampled_from(sorted(LINK_LINES)), max_size=3, unique=True),
        st.sampled_from((".link", ".network")),
    ),
    max_size=7,
)


def _checks(checked: list[str]) -> list[Check]:
    return [Check(ifname, s, Status.OK, None, None) for ifname in LINKS for s in checked] + [
        Check("net.core.somaxconn", "sysctl", Status.OK, "4096", "4096")
    ]


@TREES
@given(units=UNITS, checked=st.lists(st.sampled_from(SETTINGS), min_size=1, unique=True), live=st.booleans())
def test_trimmed_scan_attaches_the_same_owners(
    units: list[tuple[str, list[str], str]], checked: list[str], live: bool
) -> None:
    files = OwnerFiles(networkd=tuple(_unit(m, s, sfx, f"{i:02d}-u") for i, (m, s, sfx) in enumerate(units)))
    found = scan(files)
    trimmed = for_settings(found, set(checked))
    facts = FACTS if live else None
    checks = _checks(checked)
    assert attach_owners(checks, LINKS, trimmed, facts) == attach_owners(checks, LINKS, found, facts)
    # Nothing that sets a checked setting is ever dropped; trailing units that set none are.
    kept = {u.source for u in (*trimmed.links, *trimmed.networks)}
    for u in (*found.links, *found.networks):
        if any(s.key in checked for s in u.settings):
            assert u.source in kept
    for group in (trimmed.links, trimmed.networks):
        assert not group or any(s.key in checked for s in group[-1].settings)


def test_a_first_match_unit_that_sets_nothing_still_hides_a_later_one() -> None:
    files = OwnerFiles(
        networkd=(
            _unit("OriginalName=lab0", ["other"], ".link", "10-name"),  # udev applies only this one to lab0
            _unit("Driver=veth", ["mtu"], ".link", "20-mtu"),
            _unit("Driver=veth", ["other"], ".link", "99-default"),
        )
    )
    trimmed = for_settings(scan(files), {"mtu"})
    assert [u.source.rsplit("/", 1)[-1] for u in trimmed.links] == ["10-name.link", "20-mtu.link"]
    assert iface_owners(LINKS["lab0"], "mtu", "1500", trimmed) == ()
    (owner,) = iface_owners(LINKS["lab1"], "mtu", "1500", trimmed)
    assert (owner.value, owner.conflicts, owner.wins_at_boot) == ("9000", True, True)


def test_no_interface_unit_attaches_the_scan_problems_as_iface_owners_would() -> None:
    problem = Owner("/etc/systemd/network/bad.link", 0, "networkd-link", None, False, False, "", problem="cannot read")
    found = scan(OwnerFiles()).replace(iface_problems=(problem,))
    assert not has_interface_units(found)
    checks = [*_checks(["mtu"]), Check("interfaces[0]", "mtu", Status.DRIFT, "9001", None)]
    out = attach_owners(checks, LINKS, found)
    long_way = [iface_owners(LINKS[n], "mtu", None, found) for n in LINKS]
    assert [c.owners for c in out[:2]] == long_way == [(problem,)] * 2
    assert out[-1].owners == ()  # no such interface: no owners, as before


def test_read_dir_resolves_like_a_full_resolve(tmp_path: Path) -> None:
    root = tmp_path / "img"
    (root / "usr/lib/sysctl.d").mkdir(parents=True)
    (root / "etc").mkdir()
    os.symlink("/usr/lib/sysctl.d", root / "etc/sysctl.d")  # a directory link inside the image
    (root / "usr/lib/sysctl.d/10-a.conf").write_text("net.core.somaxconn = 1\n")
    os.symlink("/dev/null", root / "usr/lib/sysctl.d/20-masked.conf")
    os.symlink("10-a.conf", root / "usr/lib/sysctl.d/30-link.conf")
    os.symlink("/nowhere/x.conf", root / "usr/lib/sysctl.d/40-dangling.conf")
    fast = owner_files.read_dir(str(root), "/etc/sysctl.d", (".conf",))
    names = sorted(os.listdir(root / "usr/lib/sysctl.d"))
    slow = [owner_files.read_source(str(root), f"/etc/sysctl.d/{n}") for n in names]
    assert fast == slow
    assert [(f.path, f.masked, f.target) for f in fast][:3] == [
        ("/etc/sysctl.d/10-a.conf", False, "/usr/lib/sysctl.d/10-a.conf"),
        ("/etc/sysctl.d/20-masked.conf", True, "/dev/null"),
        ("/etc/sysctl.d/30-link.conf", False, "/usr/lib/sysctl.d/10-a.conf"),
    ]
    assert fast[3].problem


@pytest.mark.parametrize("_", range(3))
def test_utc_now_is_datetime_isoformat(_: int) -> None:
    before = datetime.datetime.now(datetime.timezone.utc)
    stamp = _utc_now()
    after = datetime.datetime.now(datetime.timezone.utc)
    parsed = datetime.datetime.fromisoformat(stamp)
    assert stamp == parsed.isoformat(timespec="milliseconds")
    assert parsed.utcoffset() == datetime.timedelta(0)
    assert before - datetime.timedelta(milliseconds=1) <= parsed <= after


def test_the_parser_asks_no_locale_directory() -> None:
    # argparse's words go through gettext, whose first lookup imports `locale` (2 ms): not here.
    code = (
        "import sys, netagent.cli as c; c.build_parser('audit').parse_args(['audit', '--no-imds']);"
        " print('locale' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


CHECKS = st.lists(
    st.builds(
        Check,
        subject=st.sampled_from(("lab0", "lab1", "net.core.somaxconn")),
        setting=st.sampled_from(("mtu", "channels", "sysctl")),
        status=st.sampled_from(list(Status)),
        severity=st.sampled_from(list(Severity)),
    ),
    max_size=12,
)


@TREES
@given(checks=CHECKS, strict=st.booleans())
def test_a_report_counts_its_checks_as_each_check_says(checks: list[Check], strict: bool) -> None:
    report = Report(Profile(name="p", path="p.yaml"), {}, tuple(checks), strict=strict)
    for r in (report, report.replace(strict=not strict)):
        assert r.compliant == (not any(c.fails(r.strict) for c in r.checks))
        assert r.recommended_unmet == sum(1 for c in r.checks if c.is_failure and not c.fails(r.strict))
        assert r.counts() == {STATUS_TEXT[s]: sum(1 for c in r.checks if c.status is s) for s in Status}
    assert report == Report(Profile(name="p", path="p.yaml"), {}, tuple(checks), strict=strict)  # the cache is no field
    report.counts()["ok"] = -1  # a copy: the report's own counts stay
    assert report.counts()["ok"] == sum(1 for c in checks if c.status is Status.OK)


def test_no_interface_unit_and_no_problem_leaves_interface_checks_bare() -> None:
    files = OwnerFiles(sysctl_d=(SourceFile("/etc/sysctl.d/10-a.conf", "net.core.somaxconn = 100\n"),))
    found = scan(files)
    assert not has_interface_units(found)
    assert not found.iface_problems
    checks = _checks(["mtu", "channels"])
    out = attach_owners(checks, LINKS, found)
    assert out[:-1] == checks[:-1]  # the very same checks: nothing was looked up for them
    assert [o.value for o in out[-1].owners] == ["100"]  # the sysctl still gets its owner


PATHS = st.text(alphabet="/ab.", max_size=8)


@TREES
@given(root=PATHS, inner=PATHS)
def test_host_path_is_os_path_join(root: str, inner: str) -> None:
    assert rootpath.host_path(root, inner) == os.path.join(root, inner.lstrip("/"))


@pytest.mark.parametrize("size", [0, 1, 300, (1 << 16) - 1, 1 << 16, (1 << 16) + 1, 3 << 16, (1 << 20) + 5])
def test_read_bounded_reads_what_a_bounded_read_reads(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(bytes(i % 251 for i in range(size)))
    for limit in (1, 1 << 16, (1 << 20) + 1):
        with open(path, "rb") as a, open(path, "rb") as b:
            assert owner_files.read_bounded(a, limit) == b.read(limit)
