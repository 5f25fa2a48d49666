"""Parsing an RTM_GETLINK dump (host/rtnetlink.py, issue 8) from crafted netlink datagrams."""

from __future__ import annotations

import errno
import struct

import pytest

from netagent.host import rtnetlink


def attr(kind: int, payload: bytes) -> bytes:
    raw = struct.pack("=HH", 4 + len(payload), kind) + payload
    return raw + bytes(-len(raw) % 4)


def newlink(index: int, *attrs: bytes) -> bytes:
    body = struct.pack("=BxHiII", 0, 1, index, 0, 0) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), rtnetlink.RTM_NEWLINK, 2, 1, 0) + body


def done() -> bytes:
    return struct.pack("=IHHII", 20, rtnetlink.NLMSG_DONE, 2, 1, 0) + bytes(4)


def test_dump_gives_index_mtu_and_operstate_by_name() -> None:
    lab0 = newlink(
        7,
        attr(rtnetlink.IFLA_IFNAME, b"lab0\0"),
        attr(13, b"\0\0\0\0"),  # IFLA_TXQLEN and other attributes are skipped
        attr(rtnetlink.IFLA_OPERSTATE, b"\x06"),
        attr(rtnetlink.IFLA_MTU, struct.pack("=I", 9001)),
    )
    lo = newlink(1, attr(rtnetlink.IFLA_MTU, struct.pack("=I", 65536)), attr(rtnetlink.IFLA_IFNAME, b"lo\0"))
    out: dict[str, tuple[int, int, str]] = {}
    assert rtnetlink.parse_link_dump(lab0 + lo, out) is False
    assert rtnetlink.parse_link_dump(done(), out) is True
    assert out == {"lab0": (7, 9001, "up"), "lo": (1, 65536, "unknown")}


def test_dump_error_is_an_oserror() -> None:
    err = struct.pack("=IHHII", 36, rtnetlink.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -errno.EPERM) + bytes(16)
    with pytest.raises(OSError, match="not permitted") as exc:
        rtnetlink.parse_link_dump(err, {})
    assert exc.value.errno == errno.EPERM


def test_a_name_that_is_not_utf8_is_named_as_os_listdir_names_it() -> None:
    out: dict[str, tuple[int, int, str]] = {}
    rtnetlink.parse_link_dump(
        newlink(3, attr(rtnetlink.IFLA_IFNAME, b"\xff\xfe\0"), attr(rtnetlink.IFLA_MTU, bytes(4))), out
    )
    assert list(out) == [b"\xff\xfe".decode("utf-8", "surrogateescape")]
