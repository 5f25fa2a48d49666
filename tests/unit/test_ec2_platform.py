"""EC2 detection from DMI and hypervisor ids: pure, and no request is sent off EC2."""

from __future__ import annotations

import argparse

import pytest

from netagent import cli
from netagent.core.ec2 import Ec2Unavailable, is_ec2


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"vendor": "amazon ec2", "uuid": "ec2abcd-1234"}, True),  # Nitro
        ({"hypervisor_uuid": "ec2e1916-9099-7caf-fd21-012345abcdef"}, True),  # Xen
        ({"uuid": "ec2e1916-9099", "serial": "ec2e1916-9099"}, True),
        ({"uuid": "ec2e1916-9099", "serial": "something-else"}, False),
        ({"vendor": "qemu", "uuid": "1234"}, False),
        ({}, False),
    ],
)
def test_is_ec2(ids: dict[str, str], expected: bool) -> None:
    assert is_ec2(ids) is expected


def test_off_ec2_no_imds_request_is_sent(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.platform.read_platform_ids", return_value={"vendor": "qemu"})
    lookup = mocker.patch("netagent.host.imds.lookup")
    found = cli.instance_facts(argparse.Namespace(no_imds=False, imds_endpoint=None))
    assert isinstance(found, Ec2Unavailable)
    assert "no IMDS request sent" in found.reason
    lookup.assert_not_called()


def test_explicit_endpoint_is_asked_even_off_ec2(mocker) -> None:  # type: ignore[no-untyped-def]
    mocker.patch("netagent.host.platform.read_platform_ids", return_value={})
    lookup = mocker.patch("netagent.host.imds.lookup", return_value=Ec2Unavailable("x"))
    cli.instance_facts(argparse.Namespace(no_imds=False, imds_endpoint="http://127.0.0.1:9"))
    lookup.assert_called_once_with("http://127.0.0.1:9")
