"""Unit-test fixtures: no IMDS traffic ever leaves a unit test."""

from __future__ import annotations

import pytest

from netagent.host import imds, platform


def _refuse(host: str, port: int, timeout_s: float) -> imds.Connection:
    raise AssertionError(f"a unit test tried to reach IMDS at {host}:{port}; fake the connection")


@pytest.fixture(autouse=True)
def no_imds_traffic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any real IMDS connection from a unit test fail loudly instead of leaving the machine.

    Scope: function, autouse. Tests of the client pass their own fake connection factory; the
    CLI, which asks IMDS by default, sees IMDS as unavailable.
    """
    monkeypatch.setattr(imds, "_http_connection", _refuse)
    # Unit tests run as on an EC2 instance: the lookup below stands in for IMDS.
    monkeypatch.setattr(platform, "read_platform_ids", lambda: {"vendor": "amazon ec2"})
    monkeypatch.setattr(imds, "lookup", lambda *a, **k: imds.Ec2Unavailable("unit tests send no IMDS traffic"))
