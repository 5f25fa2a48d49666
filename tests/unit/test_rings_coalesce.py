"""Rings and interrupt moderation (issue 13): profile keys, checks, changes, originals, ioctl codec, boot lines.

The device values are ENA's documented ones (../shared/ENA.md sections 1 and 9: rings 1K each by
default, Rx up to 16K and Tx up to 1K; static Tx moderation of 64 us): ENA.md has no captured
`ethtool -g`/`-c` output, so the ioctl cases pack struct ethtool_ringparam / ethtool_coalesce
with those values, as the kernel would fill them in.
"""

from __future__ import annotations

import struct

import pytest

from netagent.app.apply import apply_plan
from netagent.core.diff import audit, plan
from netagent.core.errors import ProfileError
from netagent.core.model import Change, HostState, Link, Plan, Status, Unreadable
from netagent.core.profile.parser import parse_profile
from netagent.core.restore import restore_changes
from netagent.core.settings import kind_of_change
from netagent.core.settings.base import BootTarget
from netagent.core.settings.bounds import Bound
from netagent.core.settings.coalesce import KIND as COALESCE
from netagent.core.settings.coalesce import Coalesce, CoalesceSpec, SetCoalesce, check_coalesce
from netagent.core.settings.rings import KIND as RINGS
from netagent.core.settings.rings import RingSpec, SetRings, check_rings
from netagent.host import ethtool
from tests.unit.fakes import FakeHost, coalesce, rings

ENA_RINGS = rings(rx=1024, tx=1024, max_rx=16384, max_tx=1024)
ENA_COALESCE = coalesce(adaptive_rx=0, adaptive_tx=0, rx_usecs=0, tx_usecs=64)
UNSUPPORTED = Unreadable("the device does not support it", unsupported=True)


def profile(body: str) -> object:
    return parse_profile(f"name: t\ninterfaces:\n  - match: eth0\n{body}", "p.yaml")


def problems(body: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        profile(body)
    return info.value.lines()


# ---------------------------------------------------------------- profile keys


def test_rings_parse_numbers_max_and_bounds() -> None:
    p = profile("    rings: {rx: {at_least: 8192}, tx: max}\n")
    assert p.interfaces[0].settings["rings"] == RingSpec(rx=Bound("at_least", 8192), tx="max")  # type: ignore[attr-defined]
    p = profile("    rings: {rx: 4096, tx: {at_most: 512}}\n")
    assert p.interfaces[0].settings["rings"] == RingSpec(rx=4096, tx=Bound("at_most", 512))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("    rings: {rx: 0}\n", "rings.rx: expected an integer 1..65536, got '0'"),
        ("    rings: {rx: huge}\n", "rings.rx: expected an integer 1..65536, 'max', or {at_least: N}"),
        ("    rings: {rx: {at_least: 1, at_most: 2}}\n", "rings.rx: expected exactly one of at_least, at_most"),
        ("    rings: {rx: {more: 1}}\n", "rings.rx.more: unknown key"),
        ("    rings: {mini: 1}\n", "rings.mini: unknown key"),
        ("    rings: {}\n", "rings: expected at least one of rx, tx"),
        ("    coalesce: {adaptive_rx: on}\n", "coalesce.adaptive_rx: expected true or false, got 'on'"),
        ("    coalesce: {rx_usecs: -1}\n", "coalesce.rx_usecs: expected an integer 0..100000"),
        ("    coalesce: {rx_frames: 1}\n", "coalesce.rx_frames: unknown key"),
    ],
)
def test_bad_rings_and_coalesce_name_file_line_and_field(body: str, problem: str) -> None:
    [line] = problems(body)
    assert line.startswith("p.yaml:4: interfaces[0].")
    assert problem in line


def test_coalesce_parses_flags_and_usecs() -> None:
    p = profile("    coalesce: {adaptive_rx: false, rx_usecs: 0, tx_usecs: 64}\n")
    spec = p.interfaces[0].settings["coalesce"]  # type: ignore[attr-defined]
    assert spec == CoalesceSpec(adaptive_rx=False, rx_usecs=0, tx_usecs=64)
    assert spec.wanted() == {"adaptive_rx": 0, "rx_usecs": 0, "tx_usecs": 64}


# ---------------------------------------------------------------- checks


def test_rings_max_resolves_to_the_device_maximum_and_drifts() -> None:
    check = check_rings("eth0", RingSpec(rx="max"), ENA_RINGS)
    assert (check.status, check.expected, check.actual) == (Status.DRIFT, "rx=16384", "rx=1024")
    assert check.change == SetRings("eth0", old=(("rx", 1024),), new=(("rx", 16384),))


def test_rings_above_the_maximum_is_an_error_and_never_a_change() -> None:
    check = check_rings("eth0", RingSpec(tx=2048), ENA_RINGS)
    assert check.status is Status.ERROR
    assert check.change is None
    assert check.message == "tx=2048 is more than the device's maximum of 1024"


def test_rings_at_least_is_capped_at_the_device_maximum() -> None:
    # AWS's ENA Express checker: Tx ring >= min(1024, max), Rx ring >= min(8192, max).
    small = rings(rx=512, tx=256, max_rx=4096, max_tx=512)
    check = check_rings("eth0", RingSpec(**{"rx": Bound("at_least", 8192), "tx": Bound("at_least", 1024)}), small)
    assert check.status is Status.DRIFT
    assert check.expected == "rx>=4096 tx>=512"
    assert check.change == SetRings("eth0", old=(("rx", 512), ("tx", 256)), new=(("rx", 4096), ("tx", 512)))


def test_rings_value_above_an_at_least_bound_is_ok_and_never_lowered() -> None:
    check = check_rings("eth0", RingSpec(**{"rx": Bound("at_least", 2048)}), rings(rx=8192))
    assert (check.status, check.change, check.actual) == (Status.OK, None, "rx=8192")


def test_rings_at_most_sets_exactly_the_bound() -> None:
    check = check_rings("eth0", RingSpec(**{"rx": Bound("at_most", 2048)}), rings(rx=8192))
    assert check.change == SetRings("eth0", old=(("rx", 8192),), new=(("rx", 2048),))


def test_rings_only_the_rings_that_differ_are_changed() -> None:
    check = check_rings("eth0", RingSpec(**{"rx": 4096, "tx": 1024}), ENA_RINGS)
    assert check.change == SetRings("eth0", old=(("rx", 1024),), new=(("rx", 4096),))


def test_rings_and_coalesce_on_a_device_without_them_are_unsupported() -> None:
    assert check_rings("lab0", RingSpec(rx=4096), UNSUPPORTED).status is Status.UNSUPPORTED
    assert check_coalesce("lab0", CoalesceSpec(rx_usecs=0), UNSUPPORTED).status is Status.UNSUPPORTED
    no_tx = rings(max_tx=0, tx=0)
    assert check_rings("eth0", RingSpec(tx="max"), no_tx).status is Status.UNSUPPORTED


def test_coalesce_latency_recipe_drifts_from_ena_defaults() -> None:
    want = CoalesceSpec(adaptive_rx=False, rx_usecs=0, tx_usecs=0)
    check = check_coalesce("eth0", want, ENA_COALESCE)
    assert check.status is Status.DRIFT
    assert check.expected == "adaptive_rx=off rx_usecs=0 tx_usecs=0"
    assert check.change == SetCoalesce("eth0", old=(("tx_usecs", 64),), new=(("tx_usecs", 0),))


def test_audit_plan_and_apply_against_a_fake_ena() -> None:
    p = profile("    rings: {rx: 8192}\n    coalesce: {adaptive_rx: true}\n")
    host = FakeHost({"eth0/rings": ENA_RINGS, "eth0/coalesce": ENA_COALESCE})
    state = host.observe(("eth0",), (), ("rings", "coalesce"))
    checks = audit(p, state)  # type: ignore[arg-type]
    todo = plan(checks)
    assert [c.describe() for c in todo.changes] == [  # APPLY_ORDER: rings before moderation
        "eth0 rings rx=1024 -> rx=8192",
        "eth0 coalesce adaptive_rx=off -> adaptive_rx=on",
    ]
    apply_plan(todo, host)
    assert host.values["eth0/rings"] == ENA_RINGS.replace(rx=8192)
    assert host.values["eth0/coalesce"] == ENA_COALESCE.replace(adaptive_rx=1)
    after = audit(p, host.observe(("eth0",), (), ("rings", "coalesce")))  # type: ignore[arg-type]
    assert {c.status for c in after} == {Status.OK}


def test_originals_are_recorded_and_restored() -> None:
    host = FakeHost({"eth0/rings": ENA_RINGS, "eth0/coalesce": ENA_COALESCE})
    changes = (
        SetRings("eth0", old=(("rx", 1024),), new=(("rx", 8192),)),
        SetCoalesce("eth0", old=(("adaptive_rx", 0), ("tx_usecs", 64)), new=(("adaptive_rx", 1), ("tx_usecs", 0))),
    )
    originals = {}
    for change in changes:
        entry = kind_of_change(change.kind).original(change)
        assert kind_of_change(change.kind).valid_original(entry)
        originals[change.setting] = entry
    apply_plan(Plan(changes), host)
    back = restore_changes(originals, host.read_recorded(originals))
    apply_plan(Plan(back.changes), host)
    assert host.values["eth0/rings"] == ENA_RINGS
    assert host.values["eth0/coalesce"] == ENA_COALESCE


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "rings", "ifname": "eth0", "value": {"rx_mini": 1}},
        {"type": "rings", "ifname": "eth0", "value": {"rx": 0}},
        {"type": "rings", "ifname": "a/b", "value": {"rx": 1}},
        {"type": "coalesce", "ifname": "eth0", "value": {"adaptive_rx": 2}},
        {"type": "coalesce", "ifname": "eth0", "value": {"rx_frames": 1}},
        {"type": "coalesce", "ifname": "eth0", "value": {}},
    ],
)
def test_forged_originals_are_refused(entry: dict[str, object]) -> None:
    assert not kind_of_change(str(entry["type"])).valid_original(entry)


# ---------------------------------------------------------------- ioctl codec


def test_ringparam_bytes_decode_as_ethtool_g_shows_them() -> None:
    # struct ethtool_ringparam of an ENA c5n: Pre-set maximums RX 16384, TX 1024; current 1024/1024.
    raw = struct.pack("9I", ethtool.ETHTOOL_GRINGPARAM, 16384, 0, 0, 1024, 1024, 0, 0, 1024)
    assert ethtool.decode_rings(raw) == ENA_RINGS


def test_coalesce_bytes_decode_the_four_fields() -> None:
    fields = [0] * 23
    fields[0], fields[1], fields[5], fields[10], fields[11] = ethtool.ETHTOOL_GCOALESCE, 20, 64, 1, 0
    assert ethtool.decode_coalesce(struct.pack("23I", *fields)) == Coalesce(1, 0, 20, 64)


def test_set_rings_keeps_the_other_rings_and_set_coalesce_the_other_fields(mocker) -> None:  # type: ignore[no-untyped-def]
    sent: list[bytes] = []

    def fake_ioctl(self: ethtool.Ethtool, ifname: str, buf, op: str, refused: str = "") -> None:  # type: ignore[no-untyped-def]
        raw = buf.tobytes()
        sent.append(raw)
        cmd = struct.unpack_from("I", raw)[0]
        if cmd == ethtool.ETHTOOL_GRINGPARAM:
            buf[:] = type(buf)("B", struct.pack("9I", cmd, 16384, 0, 0, 1024, 1024, 7, 9, 1024))
        elif cmd == ethtool.ETHTOOL_GCOALESCE:
            buf[:] = type(buf)("B", struct.pack("23I", cmd, *range(1, 23)))

    mocker.patch.object(ethtool.Ethtool, "_ioctl", fake_ioctl)
    with ethtool.Ethtool() as eth:
        eth.set_rings("eth0", {"rx": 8192})
        eth.set_coalesce("eth0", {"adaptive_rx": 0, "tx_usecs": 0})
    assert struct.unpack("9I", sent[1]) == (ethtool.ETHTOOL_SRINGPARAM, 16384, 0, 0, 1024, 8192, 7, 9, 1024)
    written = struct.unpack("23I", sent[3])
    assert written[0] == ethtool.ETHTOOL_SCOALESCE
    assert (written[5], written[10]) == (0, 0)
    assert [written[i] for i in (2, 3, 4, 6, 22)] == [2, 3, 4, 6, 22]  # the other fields as read


# ---------------------------------------------------------------- boot lines


def test_link_lines_follow_the_target_systemd() -> None:
    want = {
        "rings": RingSpec(rx="max", tx=Bound("at_least", 1024)),
        "coalesce": CoalesceSpec(adaptive_rx=False, rx_usecs=0, tx_usecs=64),
    }
    new, old = BootTarget(252), BootTarget(249)
    assert RINGS.link_lines(want, new) == [
        "RxBufferSize=max",
        "# rings tx: at_least 1024 is not written: a .link file sets one size.",
    ]
    assert COALESCE.link_lines(want, new) == ["UseAdaptiveRxCoalesce=no", "RxCoalesceSec=0", "TxCoalesceSec=64us"]
    assert RINGS.link_lines(want, old)[0].startswith("# rings rx: max is not written: systemd 249")
    assert COALESCE.link_lines(want, old) == [
        "# coalesce is not written: systemd 249 has no coalescing keys in .link files."
    ]
    assert "rings tx: a bound is not persisted" in RINGS.persist_note(want, new)
    assert "max" not in RINGS.persist_note(want, new)
    assert "rings rx: max is not persisted (systemd 249" in RINGS.persist_note(want, old)
    assert COALESCE.persist_note(want, new) == ""
    assert COALESCE.persist_note(want, old).startswith("coalesce is not persisted (systemd 249")


def test_observed_link_carries_rings_and_coalesce_for_the_checks() -> None:
    link = Link("eth0", 2, 9001, "up", {"rings": ENA_RINGS, "coalesce": UNSUPPORTED})
    want = {"rings": RingSpec(rx=1024), "coalesce": CoalesceSpec(adaptive_rx=True)}
    assert [c.status for c in RINGS.check("eth0", want, link)] == [Status.OK]
    assert [c.status for c in COALESCE.check("eth0", want, link)] == [Status.UNSUPPORTED]
    assert HostState(("eth0",), {"eth0": link}, {}).links["eth0"].get("rings") == ENA_RINGS


# ---------------------------------------------------------------- owners


def test_link_file_and_keyfile_are_named_as_owners_of_rings_and_coalescing() -> None:
    from netagent.core.owners import OwnerFiles, SourceFile, iface_owners, scan
    from netagent.core.settings.driver import DriverInfo

    link = SourceFile(
        "/etc/systemd/network/10-ena.link",
        "[Match]\nOriginalName=eth0\n[Link]\nRxBufferSize=max\nTxBufferSize=512\n"
        "UseAdaptiveRxCoalesce=yes\nRxCoalesceSec=64us\nTxCoalesceSec=1ms\n",
    )
    keyfile = SourceFile(
        "/etc/NetworkManager/system-connections/e.nmconnection",
        "[connection]\ninterface-name=eth0\n[ethtool]\nring-rx=2048\ncoalesce-adaptive-rx=false\n",
    )
    found = scan(OwnerFiles(networkd=(link,), networkmanager=(keyfile,)))
    eth0 = Link("eth0", 2, 9001, "up", {"driver": DriverInfo("ena", "2.8.0g")})
    ring_owners = {(o.source, o.value): o for o in iface_owners(eth0, "rings", "rx>=8192 tx>=1024", found)}
    assert set(ring_owners) == {
        ("/etc/systemd/network/10-ena.link", "rx=max"),
        ("/etc/systemd/network/10-ena.link", "tx=512"),
        ("/etc/NetworkManager/system-connections/e.nmconnection", "rx=2048"),
    }
    assert not ring_owners[("/etc/systemd/network/10-ena.link", "rx=max")].conflicts  # max meets at_least
    assert ring_owners[("/etc/systemd/network/10-ena.link", "tx=512")].conflicts
    keyfile_rx = ring_owners[("/etc/NetworkManager/system-connections/e.nmconnection", "rx=2048")]
    assert keyfile_rx.conflicts
    assert keyfile_rx.wins_at_boot  # NetworkManager applies after udev's .link
    moderation = {o.value: o.conflicts for o in iface_owners(eth0, "coalesce", "adaptive_rx=off rx_usecs=64", found)}
    assert moderation == {
        "adaptive_rx=on": True,
        "rx_usecs=64": False,
        "tx_usecs=1000": False,
        "adaptive_rx=off": False,
    }


# ---------------------------------------------------------------- fields a driver does not support


def _coalesce_reply(family: int, attrs: dict[int, bytes]) -> bytes:
    """A COALESCE_GET_REPLY as the kernel builds it: the header, then only the supported fields."""
    from netagent.host import genetlink as g

    body = g.GENL.pack(g.ETHTOOL_MSG_COALESCE_GET_REPLY, 1, 0)
    body += g.attr(b"", g.ETHTOOL_A_HEADER | g.NLA_F_NESTED, g.attr(b"", g.ETHTOOL_A_HEADER_DEV_NAME, b"ens5\0"))
    for kind, value in attrs.items():
        body += g.attr(b"", kind, value)
    return g.NLMSG.pack(g.NLMSG.size + len(body), family, 0, 2, 0) + body


def test_coalesce_netlink_request_and_reply_name_the_supported_fields() -> None:
    from netagent.host import genetlink as g

    request = g.coalesce_get_request(27, b"ens5", 2)
    length, family, flags, seq, _ = g.NLMSG.unpack_from(request)
    assert (length, family, flags, seq) == (len(request), 27, g.NLM_F_REQUEST, 2)
    assert g.GENL.unpack_from(request, g.NLMSG.size) == (g.ETHTOOL_MSG_COALESCE_GET, 1, 0)
    ((kind, header),) = list(g.attributes(request, g.NLMSG.size + g.GENL.size, len(request)))
    assert kind == g.ETHTOOL_A_HEADER
    assert dict(g.attributes(header, 0, len(header))) == {2: b"ens5\0"}
    # virtio_net (6.1: supported_coalesce_params = ETHTOOL_COALESCE_MAX_FRAMES): frames only.
    u32 = struct.pack("=I", 1)
    assert g.parse_coalesce_fields(_coalesce_reply(27, {3: u32, 7: u32}), 27) == frozenset()
    # ENA: usecs and adaptive Rx (ETHTOOL_COALESCE_USECS | ETHTOOL_COALESCE_USE_ADAPTIVE_RX).
    ena = {2: struct.pack("=I", 20), 6: struct.pack("=I", 64), 11: b"\x01"}
    assert g.parse_coalesce_fields(_coalesce_reply(27, ena), 27) == {"rx_usecs", "tx_usecs", "adaptive_rx"}
    error = g.NLMSG.pack(g.NLMSG.size + 4, g.NLMSG_ERROR, 0, 2, 0) + struct.pack("=i", -95)
    assert g.parse_coalesce_fields(error, 27) == 95  # EOPNOTSUPP: no moderation at all


def test_fields_the_driver_does_not_support_are_unsupported_and_never_set() -> None:
    virtio = Coalesce(0, 0, 0, 0, supported=frozenset())
    check = check_coalesce("ens5", CoalesceSpec(rx_usecs=64), virtio)
    assert (check.status, check.change, check.message) == (
        Status.UNSUPPORTED,
        None,
        "the device does not support rx_usecs",
    )
    some = Coalesce(1, 0, 20, 64, supported=frozenset({"adaptive_rx", "rx_usecs", "tx_usecs"}))
    check = check_coalesce("ens5", CoalesceSpec(**{"adaptive_rx": 0, "adaptive_tx": 0, "rx_usecs": 0}), some)
    assert check.status is Status.DRIFT
    assert check.message == "the device does not support adaptive_tx"
    assert check.change == SetCoalesce(
        "ens5", old=(("adaptive_rx", 1), ("rx_usecs", 20)), new=(("adaptive_rx", 0), ("rx_usecs", 0))
    )
    assert check_coalesce("ens5", CoalesceSpec(adaptive_tx=1), some).status is Status.UNSUPPORTED
    unknown = Coalesce(0, 0, 0, 0)  # no ethtool netlink: every field counts as settable
    assert check_coalesce("ens5", CoalesceSpec(rx_usecs=64), unknown).status is Status.DRIFT


def test_a_change_the_device_refuses_as_unsupported_is_skipped_not_rolled_back() -> None:
    from netagent.core.diff import mark_refused
    from netagent.core.errors import ApplyFailed

    p = profile("    mtu: 9001\n    coalesce: {rx_usecs: 64}\n")
    host = FakeHost({"eth0/mtu": 1500, "eth0/coalesce": Coalesce(0, 0, 0, 0)}, refuse={"eth0/coalesce"})
    checks = audit(p, host.observe(("eth*",), (), ("driver", "coalesce")))
    refused: list[tuple[Change, str]] = []
    done = apply_plan(plan(checks), host, refused=refused)
    assert [c.setting for c in done] == ["eth0/mtu"]  # kept: the refusal is no failure
    assert host.values["eth0/mtu"] == 9001
    ((change, reason),) = refused
    assert (change.setting, reason) == ("eth0/coalesce", "the device does not support it")
    after = mark_refused(audit(p, host.observe(("eth*",), (), ("driver", "coalesce"))), refused)
    by_id = {c.id: c for c in after}
    assert by_id["eth0/coalesce"].status is Status.UNSUPPORTED
    assert by_id["eth0/coalesce"].message == "the device refused rx_usecs=64: the device does not support it"
    assert by_id["eth0/mtu"].status is Status.OK
    # Without a `refused` list (restore), a refusal is a failure and the run is rolled back.
    host = FakeHost({"eth0/mtu": 1500, "eth0/coalesce": Coalesce(0, 0, 0, 0)}, refuse={"eth0/coalesce"})
    with pytest.raises(ApplyFailed, match="eth0 coalesce"):
        apply_plan(plan(audit(p, host.observe(("eth*",), (), ("driver", "coalesce")))), host)
    assert host.values["eth0/mtu"] == 1500
