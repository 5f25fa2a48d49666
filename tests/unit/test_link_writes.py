"""Link writes (issue 12): the RTM_NEWLINK netagent sends and the kernel's acks, as bytes.

The acks are what Linux 6.18 answered in a namespace to `setlink_request(...)` for a veth
(`a0`, maximum MTU 65535) with NETLINK_EXT_ACK on, with and without NETLINK_CAP_ACK.
tests/integration/test_link_writes_lab.py sends the same requests to a real kernel.
"""

from __future__ import annotations

import errno
import socket
import struct

import pytest
from pytest_mock import MockerFixture

from netagent.core.errors import AdapterError, Detached
from netagent.host import link, rtnetlink

# seq 7: IFLA_MTU 70000 refused, EINVAL and "mtu greater than device maximum"
REFUSED_CAPPED = bytes.fromhex(
    "480000000200000307000000b80e0000eaffffff30000000100005000700000000000000"
    "240001006d74752067726561746572207468616e20646576696365206d6178696d756d00"
)
# The same without NETLINK_CAP_ACK: the request comes back whole before the attributes.
REFUSED_UNCAPPED = bytes.fromhex(
    "680000000200000207000000b80e0000eaffffff3000000010000500070000000000000000000000000000000000"
    "00000000000007000300613000000800040070110100240001006d74752067726561746572207468616e20646576"
    "696365206d6178696d756d00"
)
# seq 9: IFLA_MTU 1400 accepted
ACCEPTED = bytes.fromhex("240000000200000109000000b80e00000000000030000000100005000900000000000000")


def test_setlink_request_is_an_rtm_newlink_by_name_asking_for_an_ack() -> None:
    raw = rtnetlink.setlink_request(1, "lab0", rtnetlink.IFLA_MTU, 9001)
    length, mtype, flags, seq, pid = struct.unpack_from("=IHHII", raw)
    assert (length, mtype, flags, seq, pid) == (len(raw), rtnetlink.RTM_NEWLINK, 0x1 | 0x4, 1, 0)
    family, _type, index, ifflags, change = struct.unpack_from("=BxHiII", raw, 16)
    assert (family, index, ifflags, change) == (socket.AF_UNSPEC, 0, 0, 0)  # index 0: the kernel looks the name up
    assert raw[32:] == struct.pack("=HH", 9, rtnetlink.IFLA_IFNAME) + b"lab0\0" + bytes(3) + struct.pack(
        "=HHI", 8, rtnetlink.IFLA_MTU, 9001
    )


@pytest.mark.parametrize("name", ["a", "ab", "abc", "abcd", "abcdefghijklmno"])
def test_setlink_request_pads_every_name_length(name: str) -> None:
    raw = rtnetlink.setlink_request(3, name, rtnetlink.IFLA_TXQLEN, 5000)
    assert len(raw) % 4 == 0
    alen = struct.unpack_from("=H", raw, 32)[0]
    assert alen == 4 + len(name) + 1
    txq = 32 + ((alen + 3) & ~3)
    assert struct.unpack_from("=HHI", raw, txq) == (8, rtnetlink.IFLA_TXQLEN, 5000)
    assert txq + 8 == len(raw)


def test_setlink_request_encodes_a_name_as_listdir_decodes_it() -> None:
    name = b"\xff\xfe-x".decode("utf-8", "surrogateescape")  # os.listdir's name of undecodable bytes
    assert b"\xff\xfe-x\0" in rtnetlink.setlink_request(1, name, rtnetlink.IFLA_MTU, 1500)


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("lab0", -1, "u32"),
        ("lab0", 1 << 32, "u32"),
        ("", 1500, "not an interface name"),
        ("a\0b", 1500, "not an interface name"),
        ("x" * 16, 1500, "not an interface name"),  # IFNAMSIZ: 15 bytes and the NUL
    ],
)
def test_setlink_request_refuses_what_the_message_cannot_say(name: str, value: int, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        rtnetlink.setlink_request(1, name, rtnetlink.IFLA_MTU, value)


@pytest.mark.parametrize("ack", [REFUSED_CAPPED, REFUSED_UNCAPPED])
def test_parse_ack_gives_the_error_and_the_kernels_message(ack: bytes) -> None:
    assert rtnetlink.parse_ack(ack, 7) == (errno.EINVAL, "mtu greater than device maximum")


def test_parse_ack_of_success() -> None:
    assert rtnetlink.parse_ack(ACCEPTED, 9) == (0, "")


def test_parse_ack_ignores_the_ack_of_another_request() -> None:
    assert rtnetlink.parse_ack(ACCEPTED, 10) is None
    assert rtnetlink.parse_ack(REFUSED_CAPPED + ACCEPTED, 9) == (0, "")


def test_parse_ack_without_extended_attributes_has_no_message() -> None:
    plain = bytearray(REFUSED_CAPPED[:36])
    struct.pack_into("=IH", plain, 0, 36, rtnetlink.NLMSG_ERROR)
    struct.pack_into("=H", plain, 6, 0x100)  # NLM_F_CAPPED, no NLM_F_ACK_TLVS
    assert rtnetlink.parse_ack(bytes(plain), 7) == (errno.EINVAL, "")


@pytest.mark.parametrize(
    "bad",
    [
        REFUSED_CAPPED[:-1],  # the message runs past the datagram
        struct.pack("=IHHII", 16, rtnetlink.NLMSG_ERROR, 0, 7, 0),  # no room for the error
        struct.pack("=I", 44) + REFUSED_CAPPED[4:36] + struct.pack("=HH", 40, 1) + b"abcd",  # an attribute runs past
        REFUSED_CAPPED[:16] + struct.pack("=i", 22) + REFUSED_CAPPED[20:],  # a positive error
        REFUSED_UNCAPPED[:20] + struct.pack("=I", 8) + REFUSED_UNCAPPED[24:],  # echoed request shorter than a header
        REFUSED_UNCAPPED[:20] + struct.pack("=I", 200) + REFUSED_UNCAPPED[24:],  # echoed request runs past the ack
    ],
)
def test_parse_ack_says_eproto_for_a_malformed_ack(bad: bytes) -> None:
    with pytest.raises(OSError, match="malformed netlink ack") as err:
        rtnetlink.parse_ack(bad, 7)
    assert err.value.errno == errno.EPROTO


class FakeSocket:
    """The netlink socket LinkWriter opens: records what it sends, answers from a script."""

    def __init__(self, answers: list[bytes | BaseException], old_kernel: bool = False) -> None:
        self.answers = answers
        self.old_kernel = old_kernel  # before 4.3: neither NETLINK_CAP_ACK nor NETLINK_EXT_ACK
        self.sent: list[bytes] = []
        self.options: list[tuple[int, int, int]] = []
        self.bound: tuple[int, int] | None = None
        self.closed = False

    def setsockopt(self, level: int, option: int, value: int) -> None:
        if self.old_kernel:
            raise OSError(errno.ENOPROTOOPT, "Protocol not available")
        self.options.append((level, option, value))

    def bind(self, address: tuple[int, int]) -> None:
        self.bound = address

    def settimeout(self, seconds: float) -> None:
        self.timeout = seconds

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        return len(data)

    def recv(self, size: int) -> bytes:
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        self.closed = True


def ack(seq: int, code: int = 0) -> bytes:
    return struct.pack("=IHHIIi", 36, rtnetlink.NLMSG_ERROR, 0x100, seq, 0, -code) + bytes(16)


def writer_with(mocker: MockerFixture, *answers: bytes | BaseException) -> tuple[link.LinkWriter, FakeSocket]:
    sock = FakeSocket(list(answers))
    mocker.patch.object(link.socket, "socket", return_value=sock)
    return link.LinkWriter(), sock


def test_writer_asks_for_the_kernels_reasons_and_sends_one_request(mocker: MockerFixture) -> None:
    writer, sock = writer_with(mocker, ack(1))
    writer.set_mtu("lab0", 9001)
    assert sock.options == [(270, 11, 1), (270, 10, 1)]  # NETLINK_EXT_ACK, NETLINK_CAP_ACK
    assert sock.bound == (0, 0)  # the kernel picks the port; no multicast groups
    assert sock.sent == [rtnetlink.setlink_request(1, "lab0", rtnetlink.IFLA_MTU, 9001)]


def test_writer_works_on_a_kernel_without_extended_acks(mocker: MockerFixture) -> None:
    sock = FakeSocket([ack(1, errno.EINVAL)], old_kernel=True)
    mocker.patch.object(link.socket, "socket", return_value=sock)
    with pytest.raises(AdapterError, match=r"the kernel refused mtu 70000 \(Invalid argument\)$"):
        link.LinkWriter().set_mtu("lab0", 70000)
    assert sock.bound == (0, 0)


def test_writer_sequence_wraps_to_one_never_zero(mocker: MockerFixture) -> None:
    writer, sock = writer_with(mocker, ack(1))
    writer._seq = 0xFFFFFFFF
    writer.set_mtu("lab0", 9001)
    assert struct.unpack_from("=I", sock.sent[0], 8)[0] == 1


def test_writer_skips_the_late_ack_of_an_earlier_request(mocker: MockerFixture) -> None:
    writer, sock = writer_with(mocker, ack(1), ack(1, errno.EINVAL), ack(2))
    writer.set_mtu("lab0", 9001)
    writer.set_txqueuelen("lab0", 5000)  # the first recv is a stray ack of seq 1
    assert sock.sent[1] == rtnetlink.setlink_request(2, "lab0", rtnetlink.IFLA_TXQLEN, 5000)
    assert sock.answers == []


def test_writer_says_what_the_kernel_refused_and_why(mocker: MockerFixture) -> None:
    writer, _ = writer_with(mocker, REFUSED_CAPPED)
    writer._seq = 6
    with pytest.raises(AdapterError) as err:
        writer.set_mtu("a0", 70000)
    assert (
        str(err.value)
        == "a0: set mtu: the kernel refused mtu 70000 (Invalid argument: mtu greater than device maximum)"
    )
    assert err.value.errno == errno.EINVAL


def test_writer_says_a_vanished_interface_is_gone(mocker: MockerFixture) -> None:
    writer, _ = writer_with(mocker, ack(1, errno.ENODEV))
    mocker.patch.object(link.socket, "if_nametoindex", side_effect=OSError(errno.ENODEV, "No such device"))
    with pytest.raises(AdapterError, match=r"^lab9: set txqueuelen: no such device$") as err:
        writer.set_txqueuelen("lab9", 1000)
    assert err.value.errno == errno.ENODEV
    assert not isinstance(err.value, Detached)


def test_writer_says_a_device_whose_name_resolves_is_detached(mocker: MockerFixture) -> None:
    """dev_set_mtu_ext answers ENODEV for a registered device that is not present (ENA resetting)."""
    writer, _ = writer_with(mocker, ack(1, errno.ENODEV))
    mocker.patch.object(link.socket, "if_nametoindex", return_value=3)
    with pytest.raises(Detached, match="device not present"):
        writer.set_mtu("eth1", 9001)


def test_writer_refuses_a_value_no_message_can_carry_without_sending(mocker: MockerFixture) -> None:
    writer, sock = writer_with(mocker)
    with pytest.raises(AdapterError, match="does not fit in a u32") as err:
        writer.set_txqueuelen("lab0", -1)
    assert err.value.errno == errno.EINVAL
    assert sock.sent == []


def test_writer_without_an_answer_closes_its_socket_and_opens_another(mocker: MockerFixture) -> None:
    first, second = FakeSocket([socket.timeout("timed out")]), FakeSocket([ack(2)])
    mocker.patch.object(link.socket, "socket", side_effect=[first, second])
    writer = link.LinkWriter()
    with pytest.raises(AdapterError, match="did not answer") as err:
        writer.set_mtu("lab0", 9001)
    assert err.value.errno == errno.ETIMEDOUT
    assert first.closed  # a late ack must not be read as the next request's
    writer.set_mtu("lab0", 9001)
    assert second.sent == [rtnetlink.setlink_request(2, "lab0", rtnetlink.IFLA_MTU, 9001)]


def test_writer_that_cannot_open_its_socket_says_so(mocker: MockerFixture) -> None:
    mocker.patch.object(link.socket, "socket", side_effect=OSError(errno.EMFILE, "Too many open files"))
    with pytest.raises(AdapterError, match="rtnetlink: open: Too many open files"):
        link.LinkWriter().open()
