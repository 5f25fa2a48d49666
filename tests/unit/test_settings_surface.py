"""The ENA tuning surface added in issue 13: RPS/XPS, txqueuelen, BQL, large LLQ, kernel (pure kinds)."""

from __future__ import annotations

import pytest

from netagent.app.apply import apply_plan
from netagent.core import boot, cpumask
from netagent.core.diff import audit, plan
from netagent.core.errors import ProfileError
from netagent.core.model import HostState, Link, Status, Unreadable
from netagent.core.originals import valid_entry
from netagent.core.profile.parser import parse_profile
from netagent.core.restore import restore_changes
from netagent.core.settings import bql, kernel, large_llq, rps, txqueuelen, xps
from netagent.core.settings.rps import QueueMasks, SetRps
from tests.unit.fakes import FakeHost

PROFILE = """\
name: surface
interfaces:
  - match: lab*
    txqueuelen: 5000
    rps: {cpus: all}
    xps: {cpus: "0-1"}
    bql: off
    large_llq: off
kernel: {min_version: "6.1"}
"""


def masks(n: int, mask: int, prefix: str = "rx-") -> QueueMasks:
    return QueueMasks(0xF, tuple((f"{prefix}{i}", mask) for i in range(n)))  # CPUs 0-3 online


# ---------------------------------------------------------------- cpumask


@pytest.mark.parametrize(
    ("text", "mask"), [("0", 1), ("0-3", 0xF), ("0-3,8", 0x10F), ("8-15", 0xFF00), ("1,3", 0b1010)]
)
def test_cpu_lists_parse_as_cpuset_7_writes_them(text: str, mask: int) -> None:
    assert cpumask.parse_list(text) == mask
    assert cpumask.render_list(mask) == text


@pytest.mark.parametrize("text", ["", "a", "3-1", "0-", ",1", "1,,2", "0-8192"])
def test_bad_cpu_lists_are_refused(text: str) -> None:
    assert cpumask.parse_list(text) is None


@pytest.mark.parametrize(
    ("mask", "nr", "shown"),
    [
        (0x3, 2, "3"),
        (0xFF, 8, "ff"),
        (0x0, 8, "00"),
        (0xFF00, 64, "00000000,0000ff00"),  # ENA's guide: CPUs 8-15 on a 64-CPU host
        (0xFFFFFFFFF, 36, "f,ffffffff"),
    ],
)
def test_masks_render_as_the_kernel_prints_them(mask: int, nr: int, shown: str) -> None:
    assert cpumask.render_mask(mask, nr) == shown
    assert cpumask.parse_mask(shown) == mask


# ---------------------------------------------------------------- profile


def test_profile_with_the_new_keys_parses() -> None:
    profile = parse_profile(PROFILE, "p.yaml")
    rule = profile.interfaces[0]
    assert rule.settings == {
        "txqueuelen": 5000,
        "rps": rps.CpuSpec("all"),
        "xps": rps.CpuSpec("0-1"),
        "bql": "off",  # YAML 1.1 reads a bare off as false: it means off here
        "large_llq": "off",
    }
    assert profile.host == {"kernel": "6.1"}


@pytest.mark.parametrize(
    ("snippet", "problem"),
    [
        ("    rps: {cpus: most}\n", "interfaces[0].rps.cpus: expected all, none or a CPU list like 0-3,8, got 'most'"),
        ("    rps: {}\n", "interfaces[0].rps.cpus: required key is missing"),
        ("    txqueuelen: -1\n", "interfaces[0].txqueuelen: expected an integer 0..4294967294, got '-1'"),
        ("    bql: maybe\n", "interfaces[0].bql: expected off or on, got 'maybe'"),
    ],
)
def test_bad_values_name_the_field(snippet: str, problem: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile("name: x\ninterfaces:\n  - match: lab*\n" + snippet, "p.yaml")
    assert any(problem in line for line in info.value.lines()), info.value.lines()


def test_bad_kernel_floor_names_the_field() -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile("name: x\nkernel: {min_version: latest}\n", "p.yaml")
    assert "p.yaml:2: kernel.min_version: expected a version like 6.1 or 5.10.0, got 'latest'" in info.value.lines()[0]


# ---------------------------------------------------------------- checks and apply


def host(**values: object) -> FakeHost:
    base: dict[str, object] = {
        "lab0/mtu": 1500,
        "lab0/txqueuelen": 1000,
        "lab0/rps": masks(2, 0),
        "lab0/xps": masks(2, 0, "tx-"),
        "lab0/bql": bql.BqlState(None, (("tx-0", 0), ("tx-1", 0))),
        "lab0/large_llq": "1",
    }
    base.update({k.replace("__", "/"): v for k, v in values.items()})
    return FakeHost(base)


def test_audit_of_the_surface_reports_drift_and_the_unfixable_kernel() -> None:
    fake = host()
    fake.kernel = "5.10.0-32-cloud-amd64"
    profile = parse_profile(PROFILE, "p.yaml")
    state = fake.observe(profile.globs(), [], ("driver", "txqueuelen", "rps", "xps", "bql", "large_llq"))
    checks = {c.id: c for c in audit(profile, state)}
    assert checks["lab0/txqueuelen"].status is Status.DRIFT
    assert checks["lab0/rps"].expected == "0-3 on 2 queues"
    assert checks["lab0/rps"].actual == "none on 2 queues"
    assert isinstance(checks["lab0/xps"].change, xps.SetXps)
    assert checks["lab0/bql"].change is not None
    assert checks["lab0/large_llq"].status is Status.DRIFT
    assert checks["lab0/large_llq"].change is None
    assert "force_large_llq_header=0" in checks["lab0/large_llq"].message
    kern = checks["kernel/release"]
    assert (kern.status, kern.change) == (Status.DRIFT, None)
    assert "older than 6.1" in kern.message
    todo = plan(list(checks.values()))
    # The queue length first, the per-queue settings last, in APPLY_ORDER (not by name).
    assert [c.setting for c in todo.changes] == ["lab0/txqueuelen", "lab0/rps", "lab0/xps", "lab0/bql"]
    assert {c.id for c in todo.unfixable} == {"kernel/release", "lab0/large_llq"}


def test_apply_then_restore_returns_every_original() -> None:
    fake = host()
    profile = parse_profile(PROFILE, "p.yaml")
    state = fake.observe(profile.globs(), [], ("txqueuelen", "rps", "xps", "bql", "large_llq"))
    todo = plan(audit(profile, state))
    originals: dict[str, dict[str, object]] = {}
    for change in todo.changes:
        from netagent.core.originals import original_entry

        originals[change.setting] = original_entry(change)
    assert all(valid_entry(e) for e in originals.values())
    before = dict(fake.values)
    apply_plan(todo, fake)
    assert fake.values["lab0/txqueuelen"] == 5000
    assert fake.values["lab0/rps"] == masks(2, 0xF)
    assert fake.values["lab0/xps"] == masks(2, 0x3, "tx-")
    assert fake.values["lab0/bql"] == bql.BqlState(None, (("tx-0", bql.DQL_MAX_LIMIT), ("tx-1", bql.DQL_MAX_LIMIT)))
    back = restore_changes(originals, fake.read_recorded(originals))
    apply_plan(type(todo)(back.changes), fake)
    assert fake.values == before


def test_rps_already_right_is_ok_and_a_cpu_list_beyond_the_host_is_an_error() -> None:
    link = Link("lab0", 2, 1500, "up", {"rps": masks(2, 0xF)})
    assert rps.KIND.check("lab0", {"rps": rps.CpuSpec("all")}, link)[0].status is Status.OK
    too_many = rps.KIND.check("lab0", {"rps": rps.CpuSpec("0-7")}, link)[0]
    assert too_many.status is Status.ERROR
    assert "CPUs 4-7 are not online here (online: 0-3)" in too_many.message
    assert too_many.change is None


def test_rps_unreadable_is_unsupported_not_a_crash() -> None:
    link = Link("lab0", 2, 1500, "up", {"rps": Unreadable("the kernel has no rps_cpus here", unsupported=True)})
    assert rps.KIND.check("lab0", {"rps": rps.CpuSpec("all")}, link)[0].status is Status.UNSUPPORTED


def test_bql_is_off_when_the_driver_does_not_use_it() -> None:
    link = Link("eth0", 2, 9001, "up", {"bql": bql.BqlState("0", (("tx-0", 0),))})
    check = bql.KIND.check("eth0", {"bql": "off"}, link)[0]
    assert (check.status, check.change) == (Status.OK, None)


def test_txqueuelen_round_trips_and_persists() -> None:
    change = txqueuelen.SetTxqueuelen("lab0", 1000, 5000)
    entry = txqueuelen.KIND.original(change)
    assert txqueuelen.KIND.valid_original(entry)
    assert txqueuelen.KIND.restore(entry, 5000) == change.inverse()
    assert txqueuelen.KIND.restore(entry, 1000) is None
    assert txqueuelen.KIND.link_lines({"txqueuelen": 5000}) == ["TransmitQueueLength=5000"]


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "rps", "ifname": "lab0", "value": {"rx-0": "zz"}},
        {"type": "rps", "ifname": "lab0", "value": {"../x": "ff"}},
        {"type": "xps", "ifname": "a/b", "value": {"tx-0": "ff"}},
        {"type": "bql", "ifname": "lab0", "value": {"rx-0": 5}},
        {"type": "txqueuelen", "ifname": "lab0", "value": -1},
        {"type": "large_llq", "ifname": "lab0", "value": "0"},  # never changed, so never recorded
    ],
)
def test_forged_state_entries_are_refused(entry: dict[str, object]) -> None:
    assert not valid_entry(entry)


def test_boot_files_carry_txqueuelen_and_notes_for_what_systemd_cannot_hold() -> None:
    profile = parse_profile(PROFILE, "p.yaml")
    files = boot.render(profile)
    link_file = next(text for path, text in files.items() if path.endswith(".link"))
    assert "TransmitQueueLength=5000" in link_file
    notes = "\n".join(boot.notes(profile))
    assert "rps: not persisted" in notes
    assert "xps: no boot file sets it" in notes
    assert "bql: no boot file sets" in notes


@pytest.mark.parametrize(
    ("release", "version"),
    [
        ("6.1.0-27-cloud-amd64", (6, 1, 0)),
        ("6.1.115-126.197.amzn2023.x86_64", (6, 1, 115)),
        ("5.15.0-1051-aws", (5, 15, 0)),
        ("6.8.0-1008-aws", (6, 8, 0)),
        ("6.18.44", (6, 18, 44)),
    ],
)
def test_kernel_releases_parse_by_their_leading_numbers(release: str, version: tuple[int, int, int]) -> None:
    assert kernel.parse_release(release) == version


def test_kernel_at_the_floor_is_ok() -> None:
    state = HostState((), kernel="6.1.0-27-cloud-amd64")
    assert kernel.KIND.check("6.1", state).status is Status.OK
    assert kernel.KIND.check("6.1.1", state).status is Status.DRIFT


def test_large_llq_unsupported_off_ena() -> None:
    link = Link("lab0", 2, 1500, "up", {"large_llq": Unreadable("no parameter", unsupported=True)})
    assert large_llq.KIND.check("lab0", {"large_llq": "off"}, link)[0].status is Status.UNSUPPORTED


def test_xps_change_names_its_queues() -> None:
    change = xps.SetXps("lab0", old=(("tx-0", 0), ("tx-1", 0)), new=(("tx-0", 3), ("tx-1", 3)))
    assert change.describe() == "lab0 xps none on 2 queues -> 0-1 on 2 queues"
    assert change.new_text == "tx-0=3 tx-1=3"
    assert SetRps("lab0", (), ()).kind == "rps"


def test_rps_persists_as_a_link_key_only_where_systemd_has_it() -> None:
    from netagent.core.settings.base import BootTarget

    want = {"rps": rps.CpuSpec("0-3")}
    assert rps.KIND.link_lines(want, BootTarget(256)) == ["ReceivePacketSteeringCPUMask=0-3"]
    assert rps.KIND.persist_note(want, BootTarget(256)) == ""
    assert rps.KIND.link_lines(want, BootTarget(252)) == []
    assert "needs systemd 256" in rps.KIND.persist_note(want, BootTarget(252))
    assert xps.KIND.link_lines({"xps": rps.CpuSpec("all")}, BootTarget(256)) == []  # no systemd key for XPS
