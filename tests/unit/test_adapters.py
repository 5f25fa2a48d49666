"""Adapters with the kernel mocked: paths, errno translation, ioctl layouts."""

from __future__ import annotations

import errno
import re
import struct
from pathlib import Path

import pytest

from netagent.core.errors import DETACHED, AdapterError, Detached, NotSupported
from netagent.host import ethtool, sysctl


def test_key_to_path() -> None:
    assert sysctl.key_to_path("net.ipv4.tcp_rmem") == "/proc/sys/net/ipv4/tcp_rmem"


def test_read_sysctl_folds_tabs(tmp_path: Path) -> None:
    (tmp_path / "net" / "ipv4").mkdir(parents=True)
    (tmp_path / "net" / "ipv4" / "tcp_rmem").write_text("4096\t131072\t6291456\n")
    assert sysctl.read_sysctl("net.ipv4.tcp_rmem", root=str(tmp_path)) == "4096 131072 6291456"


def test_missing_sysctl_is_not_supported(tmp_path: Path) -> None:
    with pytest.raises(NotSupported, match="no such key"):
        sysctl.read_sysctl("net.core.busy_poll", root=str(tmp_path))


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (errno.EINVAL, "the kernel refused 0 (Invalid argument)"),
        (errno.EACCES, "read-only here"),
        (errno.ENOENT, "no such key"),
    ],
)
def test_write_sysctl_translates_errno(mocker, code: int, text: str) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("os.open", return_value=99)
    mocker.patch("os.write", side_effect=OSError(code, __import__("os").strerror(code)))
    mocker.patch("os.close")
    with pytest.raises(AdapterError, match=re.escape(text)) as info:
        sysctl.write_sysctl("net.ipv4.ip_default_ttl", "0")
    assert info.value.errno == code


def test_short_sysctl_write_is_a_failure(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("os.open", return_value=99)
    mocker.patch("os.write", return_value=1)
    mocker.patch("os.close")
    with pytest.raises(AdapterError, match="short write"):
        sysctl.write_sysctl("net.ipv4.tcp_rmem", "4096 1 2")


def _fill(payload: bytes):  # type: ignore[no-untyped-def]
    """Return an ioctl stand-in that copies payload into the caller's buffer, as the kernel does."""
    import ctypes

    def ioctl(sock, request, ifreq):  # type: ignore[no-untyped-def]
        assert request == ethtool.SIOCETHTOOL
        _name, addr = struct.unpack("16sP", ifreq)
        ctypes.memmove(addr, payload, len(payload))
        return ifreq

    return ioctl


def test_driver_info_parses_drvinfo_layout(mocker) -> None:  # type: ignore[no-untyped-def]
    raw = struct.pack("I", ethtool.ETHTOOL_GDRVINFO) + b"ena".ljust(32, b"\0") + b"2.17.0g".ljust(32, b"\0")
    mocker.patch("fcntl.ioctl", side_effect=_fill(raw))
    with ethtool.Ethtool() as e:
        info = e.driver_info("eth0")
    assert (info.driver, info.version) == ("ena", "2.17.0g")


def test_channels_parses_struct(mocker) -> None:  # type: ignore[no-untyped-def]
    raw = struct.pack("9I", ethtool.ETHTOOL_GCHANNELS, 0, 0, 0, 8, 0, 0, 0, 2)
    mocker.patch("fcntl.ioctl", side_effect=_fill(raw))
    with ethtool.Ethtool() as e:
        ch = e.channels("eth0")
    assert (ch.max_combined, ch.combined, ch.max_rx) == (8, 2, 0)


@pytest.mark.parametrize(
    ("code", "kind"), [(errno.EOPNOTSUPP, NotSupported), (errno.ENODEV, AdapterError), (errno.EPERM, AdapterError)]
)
def test_ioctl_errno_becomes_domain_error(mocker, code: int, kind: type) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("fcntl.ioctl", side_effect=OSError(code, "x"))
    with ethtool.Ethtool() as e, pytest.raises(kind) as info:
        e.channels("eth0")
    assert info.value.errno == code


def test_set_channels_refusal_names_counts(mocker) -> None:  # type: ignore[no-untyped-def]
    raw = struct.pack("9I", ethtool.ETHTOOL_GCHANNELS, 8, 8, 0, 0, 8, 8, 0, 0)
    calls = {"n": 0}

    def ioctl(sock, request, ifreq):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            return _fill(raw)(sock, request, ifreq)
        raise OSError(errno.EINVAL, "Invalid argument")

    mocker.patch("fcntl.ioctl", side_effect=ioctl)
    with ethtool.Ethtool() as e, pytest.raises(AdapterError, match=r"the device refused rx=40 \(Invalid argument\)"):
        e.set_channels("lab0", {"rx": 40})


def _ioctl_enodev(present: bool):  # type: ignore[no-untyped-def]
    """fcntl.ioctl where every ethtool request answers ENODEV and the name resolves if `present`."""

    def ioctl(sock, request, ifreq):  # type: ignore[no-untyped-def]
        if request == ethtool.SIOCGIFINDEX and present:
            return struct.pack("16si20x", ifreq[:16], 7)
        raise OSError(errno.ENODEV, "No such device")

    return ioctl


@pytest.mark.parametrize(
    ("present", "kind", "reason"), [(True, Detached, DETACHED), (False, AdapterError, "no such device")]
)
def test_enodev_from_ethtool_is_detached_while_the_name_resolves_else_gone(mocker, present, kind, reason) -> None:  # type: ignore[no-untyped-def]
    # ENA detaches its netdev during a reset: ethtool says ENODEV, the interface is still there.
    mocker.patch("fcntl.ioctl", side_effect=_ioctl_enodev(present))
    with ethtool.Ethtool() as e, pytest.raises(AdapterError) as info:
        e.channels("eth0")
    assert type(info.value) is kind
    assert (info.value.errno, info.value.reason) == (errno.ENODEV, reason)


def _raise(exc: AdapterError):  # type: ignore[no-untyped-def]
    def read(_: object, ifname: str) -> object:
        raise exc

    return read


def test_observe_keeps_a_detached_interface_and_drops_a_gone_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from netagent.core.model import Unreadable
    from netagent.host import observe

    detached = Detached("eth0", "get channels", errno.ENODEV, DETACHED)
    gone = AdapterError("eth0", "get channels", errno.ENODEV, "no such device")
    monkeypatch.setitem(observe.DEVICE_READERS, "driver", lambda _, ifname: "veth")
    monkeypatch.setitem(observe.DEVICE_READERS, "channels", _raise(detached))
    kinds = observe._readers(("driver", "channels", "rings"))
    assert observe._read_kinds("eth0", None, kinds) == dict.fromkeys(  # type: ignore[arg-type]
        ("driver", "channels", "rings"), Unreadable(DETACHED)
    )
    monkeypatch.setitem(observe.DEVICE_READERS, "channels", _raise(gone))
    assert observe._read_kinds("eth0", None, observe._readers(("channels",))) is None  # type: ignore[arg-type]


def test_restore_reads_a_detached_device_as_unreadable_not_gone(mocker) -> None:  # type: ignore[no-untyped-def]
    from netagent.core.model import Unreadable
    from netagent.host import observe

    originals = {"eth0/channels": {"type": "channels", "ifname": "eth0"}}
    mocker.patch("fcntl.ioctl", side_effect=_ioctl_enodev(present=True))
    assert observe.read_recorded(originals) == {"eth0/channels": Unreadable(DETACHED)}
    mocker.patch("fcntl.ioctl", side_effect=_ioctl_enodev(present=False))
    assert observe.read_recorded(originals) == {"eth0/channels": None}  # gone: --forget-gone may drop it
