"""ENA health: statistics decoding and allowance counters, on fixtures from ../shared/ENA.md §2."""

from __future__ import annotations

import ctypes
import errno
import re
import struct
from pathlib import Path

import pytest

from netagent.core import ena
from netagent.core.errors import NotSupported
from netagent.core.model import Link, Unreadable
from netagent.core.settings.channels import Channels
from netagent.core.settings.driver import DriverInfo
from netagent.host import ethtool
from netagent.host.health import read_ena_health


def parse_stats_text(text: str) -> list[tuple[str, int]]:
    """Return the (name, value) pairs of `ethtool -S` text (ENA.md's samples); netagent itself reads
    the counters with ETHTOOL_GSTATS, never from text."""
    pairs = []
    for line in text.splitlines():
        m = re.match(r"^\s*([^:]+):\s*(\d+)$", line)
        if m:
            pairs.append((m.group(1).strip(), int(m.group(2))))
    return pairs


DATA = Path(__file__).resolve().parents[1] / "data"
ALLOWANCE = (DATA / "ena_ethtool_S_allowance.txt").read_text()
OLD_DRIVER = (DATA / "ena_ethtool_S_1.2.0k.txt").read_text()
NAMES = (DATA / "ena_gstrings.bin").read_bytes()
VALUES = (DATA / "ena_gstats.bin").read_bytes()
ALL_PAIRS = parse_stats_text(OLD_DRIVER) + parse_stats_text(ALLOWANCE)


def test_parse_stats_text_reads_the_verbatim_allowance_lines() -> None:
    assert parse_stats_text(ALLOWANCE) == [
        ("bw_in_allowance_exceeded", 0),
        ("bw_out_allowance_exceeded", 0),
        ("pps_allowance_exceeded", 0),
        ("conntrack_allowance_exceeded", 0),
        ("linklocal_allowance_exceeded", 0),
        ("conntrack_allowance_available", 136812),
    ]


def test_parse_stats_text_skips_the_header_and_keeps_big_values() -> None:
    pairs = parse_stats_text(OLD_DRIVER)
    assert pairs[0] == ("tx_timeout", 0)
    assert ("queue_0_rx_bytes", 64430725908) in pairs
    assert all(name != "NIC statistics" for name, _ in pairs)


def test_decoded_ioctl_buffers_equal_the_text_fixtures() -> None:
    count = len(NAMES) // ena.ETH_GSTRING_LEN
    assert list(zip(ena.decode_gstrings(NAMES, count), ena.decode_gstats(VALUES, count))) == ALL_PAIRS


def test_decode_refuses_short_buffers() -> None:
    with pytest.raises(ValueError, match="fewer than"):
        ena.decode_gstrings(NAMES[:40], 2)
    with pytest.raises(ValueError, match="fewer than"):
        ena.decode_gstats(VALUES[:8], 2)


def test_health_picks_the_allowance_counters_by_name_not_position() -> None:
    health = ena.health("eth0", reversed(ALL_PAIRS))
    assert [name for name, _ in health.counters] == list(ena.COUNTERS)
    assert dict(health.counters)["conntrack_allowance_available"] == 136812
    assert health.exceeded() == ()
    assert health.warnings() == []


def test_non_zero_counter_is_a_warning_naming_interface_and_counter() -> None:
    pairs = [(n, 7) if n == "pps_allowance_exceeded" else (n, v) for n, v in ALL_PAIRS]
    health = ena.health("ens5", pairs)
    assert health.exceeded() == (("pps_allowance_exceeded", 7),)
    [warning] = health.warnings()
    assert warning.startswith("ens5: pps_allowance_exceeded = 7: packets per second")


def test_old_driver_without_counters_says_why() -> None:
    health = ena.health("eth0", parse_stats_text(OLD_DRIVER))
    assert health.counters == ()
    assert "2.2.10" in health.reason


# ---------------------------------------------------------------- the ioctl adapter


def _fake_kernel(names: bytes, values: bytes, count: int):  # type: ignore[no-untyped-def]
    """An ioctl stand-in that answers GSSET_INFO/GSTRINGS/GSTATS into the caller's buffer."""

    def ioctl(_sock: object, request: int, ifreq: bytes) -> bytes:
        assert request == ethtool.SIOCETHTOOL
        _name, addr = struct.unpack("16sP", ifreq)
        cmd = struct.unpack("=I", ctypes.string_at(addr, 4))[0]
        if cmd == ethtool.ETHTOOL_GSSET_INFO:
            reply = struct.pack("=IIQI", cmd, 0, 1 << ethtool.ETH_SS_STATS, count)
        elif cmd == ethtool.ETHTOOL_GSTRINGS:
            reply = struct.pack("=III", cmd, ethtool.ETH_SS_STATS, count) + names
        elif cmd == ethtool.ETHTOOL_GSTATS:
            reply = struct.pack("=II", cmd, count) + values
        else:
            raise OSError(errno.EOPNOTSUPP, "not supported")
        ctypes.memmove(addr, reply, len(reply))
        return ifreq

    return ioctl


def test_statistics_ioctls_decode_the_fixture_buffers(mocker) -> None:  # type: ignore[no-untyped-def]
    count = len(NAMES) // ena.ETH_GSTRING_LEN
    mocker.patch("fcntl.ioctl", side_effect=_fake_kernel(NAMES, VALUES, count))
    with ethtool.Ethtool() as tool:
        assert tool.statistics("eth0") == ALL_PAIRS


def test_statistics_of_a_device_without_them_is_not_supported(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("fcntl.ioctl", side_effect=_fake_kernel(b"", b"", 0))
    with ethtool.Ethtool() as tool, pytest.raises(NotSupported, match="no statistics"):
        tool.statistics("lo")


def _link(name: str, driver: str) -> Link:
    return Link(
        name, 2, 9001, "up", {"driver": DriverInfo(driver, "2.17.0g"), "channels": Channels(0, 0, 0, 8, 0, 0, 0, 8)}
    )


def test_read_ena_health_reads_only_ena_links(mocker) -> None:  # type: ignore[no-untyped-def]
    stats = mocker.patch.object(ethtool.Ethtool, "statistics", return_value=ALL_PAIRS)
    unreadable = Link("eth9", 9, 1500, "up", {"driver": Unreadable("gone"), "channels": Unreadable("gone")})
    [health] = read_ena_health([_link("eth0", "ena"), _link("eth1", "virtio_net"), unreadable])
    stats.assert_called_once_with("eth0")
    assert health.ifname == "eth0"
    assert dict(health.counters)["bw_in_allowance_exceeded"] == 0


def test_read_ena_health_turns_an_ioctl_failure_into_a_reason(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch.object(ethtool.Ethtool, "statistics", side_effect=NotSupported("eth0", "get statistics", 95, "nope"))
    [health] = read_ena_health([_link("eth0", "ena")])
    assert health.counters == ()
    assert health.reason == "statistics unreadable: nope"
