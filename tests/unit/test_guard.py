"""The jumbo-path guard's decisions without sockets: schedule, retransmits, reply matching.

Review defect: targets were probed one after another with one echo each, so the guard could take
len(targets) x timeout_s (up to 60 s each) and one lost packet rolled back a good MTU.
"""

from __future__ import annotations

import errno
import socket
import struct

import pytest

from netagent.app.apply import apply_plan
from netagent.core.errors import AdapterError, ApplyFailed
from netagent.core.model import GuardSpec, Plan
from netagent.core.settings.mtu import SetMtu
from netagent.host import guard
from netagent.host.guard import ECHOES, PathGuard, ProbeRound, parse_reply
from tests.unit.fakes import FakeHost

NEAR, FAR = "10.0.1.2", "10.0.2.2"
IDENT = 4242


def new_round(targets: list[str], timeout_s: float = 3.0, first_seq: int = 100) -> ProbeRound:
    return ProbeRound(targets, timeout_s, now=0.0, ident=IDENT, first_seq=first_seq)


def test_every_target_gets_its_first_echo_at_once() -> None:
    rnd = new_round([NEAR, FAR])
    assert rnd.due(0.0) == [(NEAR, 100), (FAR, 101)]
    assert rnd.due(0.5) == []
    assert rnd.wait_s(0.5) == pytest.approx(0.5)  # the retransmit at timeout_s / 3


def test_unanswered_targets_get_a_retransmit_every_third_of_the_timeout() -> None:
    rnd = new_round([NEAR, FAR])
    rnd.due(0.0)
    assert rnd.reply(NEAR, IDENT, 100)
    assert rnd.due(1.0) == [(FAR, 102)]  # only the silent one
    assert rnd.due(2.0) == [(FAR, 103)]
    assert rnd.due(2.9) == []  # ECHOES sent: wait for the deadline
    assert rnd.wait_s(2.9) == pytest.approx(0.1)
    assert not rnd.is_done(2.9)
    assert rnd.is_done(3.0)
    assert rnd.unanswered() == {FAR: f"no reply to {ECHOES} echoes within 3 s"}


def test_a_reply_to_any_retransmit_answers_the_target() -> None:
    rnd = new_round([FAR])
    rnd.due(0.0)
    rnd.due(1.0)
    assert rnd.reply(FAR, IDENT, 100)  # the first echo's reply came late: still an answer
    assert rnd.is_done(1.1)
    assert rnd.unanswered() == {}


def test_the_round_ends_as_soon_as_every_target_answered() -> None:
    rnd = new_round([NEAR, FAR, "fd00:1::10"])
    sent = dict(rnd.due(0.0))
    for target, seq in sent.items():
        assert not rnd.is_done(0.1)
        rnd.reply(target, IDENT, seq)
    assert rnd.is_done(0.1)


@pytest.mark.parametrize(
    ("source", "ident", "seq"),
    [
        (NEAR, IDENT, 101),  # NEAR answering the echo sent to FAR
        (FAR, IDENT + 1, 101),  # another process's ping
        (FAR, IDENT, 999),  # a sequence number we never sent
    ],
)
def test_a_reply_counts_only_from_its_target_with_our_ident_and_seq(source: str, ident: int, seq: int) -> None:
    rnd = new_round([NEAR, FAR])
    rnd.due(0.0)
    assert not rnd.reply(source, ident, seq)
    assert rnd.unanswered().keys() == {NEAR, FAR}


def test_ipv6_sources_match_with_a_scope_and_any_spelling() -> None:
    rnd = new_round(["fd00:1:0::10", "fe80::1"])
    [(a, seq_a), (b, seq_b)] = rnd.due(0.0)
    assert rnd.reply("fd00:1::10", IDENT, seq_a)
    assert rnd.reply("fe80::1%lab0", IDENT, seq_b)
    assert (a, b) == ("fd00:1::10", "fe80::1")


def test_a_send_error_fails_the_target_without_retransmits() -> None:
    rnd = new_round([NEAR, FAR])
    rnd.due(0.0)
    rnd.send_failed(FAR, "Message too long")
    assert rnd.due(1.0) == [(NEAR, 102)]
    assert rnd.unanswered() == {NEAR: "no reply to 3 echoes within 3 s", FAR: "send failed: Message too long"}


def test_sequence_numbers_wrap_at_16_bits() -> None:
    rnd = new_round([NEAR, FAR], first_seq=0xFFFF)
    assert [seq for _, seq in rnd.due(0.0)] == [0xFFFF, 0]


def test_silent_targets_take_one_timeout_in_all_not_one_each() -> None:
    # Drive the round as probe_all does, with a clock that jumps by wait_s and no reply ever.
    rnd, now, sends = new_round([NEAR, FAR, "10.0.3.2"], timeout_s=1.5), 0.0, 0
    while not rnd.is_done(now):
        sends += len(rnd.due(now))
        now += rnd.wait_s(now)
    assert now == pytest.approx(1.5)
    assert sends == 3 * ECHOES


def _icmp(kind: int, ident: int, seq: int) -> bytes:
    return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + b"payload"


def test_parse_reply_skips_the_ipv4_header_and_ignores_requests() -> None:
    ip_header = bytes([0x45]) + bytes(19)
    assert parse_reply(ip_header + _icmp(guard.ICMP_ECHO_REPLY, IDENT, 7), v6=False) == (IDENT, 7)
    assert parse_reply(ip_header + _icmp(guard.ICMP_ECHO_REQUEST, IDENT, 7), v6=False) is None
    assert parse_reply(_icmp(guard.ICMP6_ECHO_REPLY, IDENT, 7), v6=True) == (IDENT, 7)
    assert parse_reply(_icmp(guard.ICMP6_ECHO_REQUEST, IDENT, 7), v6=True) is None
    assert parse_reply(b"", v6=False) is None
    assert parse_reply(b"\x81\x00", v6=True) is None


# ---------------------------------------------------------------- PathGuard, probe_all's edges


def test_guard_probes_only_the_targets_routed_through_the_interface_in_one_round(mocker) -> None:  # type: ignore[no-untyped-def]
    probe_all = mocker.patch.object(guard, "probe_all", return_value={FAR: "no reply to 3 echoes within 1 s"})
    routes = {NEAR: "lab0", FAR: "lab0", "10.9.9.9": "lab1"}
    check = PathGuard(GuardSpec((NEAR, FAR, "10.9.9.9"), 1.0), routes.get)
    with pytest.raises(AdapterError) as info:
        check.check(SetMtu("lab0", 1500, 9001))
    probe_all.assert_called_once_with([NEAR, FAR], 9001, 1.0, what="lab0 mtu")
    assert info.value.reason == (
        f"guard: {FAR} did not answer a 9001-byte don't-fragment ping (no reply to 3 echoes within 1 s)"
    )
    check.check(SetMtu("lab0", 9001, 1500))  # lowering the MTU needs no probe
    assert probe_all.call_count == 1


def test_no_cap_net_raw_is_an_adapter_error_and_apply_rolls_back(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(socket, "socket", side_effect=PermissionError(errno.EPERM, "Operation not permitted"))
    change = SetMtu("lab0", 1500, 9001)
    host = FakeHost({change.setting: 1500})
    with pytest.raises(ApplyFailed) as info:
        apply_plan(Plan((change,)), host, guard=PathGuard(GuardSpec((NEAR,), 1.0), lambda _: "lab0"))
    assert str(info.value).startswith(
        "lab0 mtu: guard: cannot open a raw ICMP socket (needs CAP_NET_RAW): Operation not permitted"
    )
    assert info.value.rolled_back == 1
    assert host.values == {change.setting: 1500}
