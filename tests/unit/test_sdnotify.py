"""sd_notify: the datagram, abstract sockets, the watchdog interval."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from netagent.host.sdnotify import Notifier, socket_address, watchdog_interval_s


def test_notify_sends_one_datagram_of_lines(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(path)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": path})
        assert notifier.notify(READY="1", STATUS="tuned")
        assert server.recv(4096) == b"READY=1\nSTATUS=tuned"
        notifier.close()
    finally:
        server.close()


def test_notify_without_socket_does_nothing() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.notify(READY="1")


def test_notify_to_a_dead_socket_is_not_fatal(tmp_path: Path) -> None:
    assert not Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")}).notify(READY="1")


def test_abstract_socket_name() -> None:
    assert socket_address("@netagent/notify") == b"\0netagent/notify"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("vsock:2:1234") is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "2000000"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "42"}, 1.0),
        ({"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "43"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec_for_our_pid(env: dict[str, str], expected: float | None) -> None:
    assert watchdog_interval_s(env, 42) == expected
