"""YAML traps: YAML 1.1 conversions in typed fields are errors naming file, line and field."""

from __future__ import annotations

import pytest

from netagent.core.errors import ProfileError
from netagent.core.profile.parser import parse_profile

IFACE = "name: x\ninterfaces:\n  - match: a\n    {field}\n"
SYSCTL = "name: x\nsysctl:\n  net.ipv4.tcp_mtu_probing: {value}\n"
GUARD = "name: x\nguard:\n  targets: [10.0.0.1]\n  timeout_s: {value}\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # A bool is not an MTU, whichever YAML 1.1 spelling makes it one.
        *[
            (
                IFACE.format(field=f"mtu: {v}"),
                4,
                f"interfaces[0].mtu: expected an integer 68..9216, got '{v}' (YAML reads it as bool)",
            )
            for v in ("on", "off", "NO", "yes", "true", "True", "FALSE")
        ],
        # Octal, base 60, hex, underscores, floats and nulls are not decimal MTUs either.
        *[
            (
                IFACE.format(field=f"mtu: {v}"),
                4,
                f"interfaces[0].mtu: expected an integer 68..9216, got '{v}' (YAML reads it as {kind})",
            )
            for v, kind in (
                ("0100", "a non-decimal int"),
                ("2:30:00", "a non-decimal int"),
                ("0x2329", "a non-decimal int"),
                ("9_001", "a non-decimal int"),
                ("9001.0", "float"),
                ("~", "null"),
            )
        ],
        (
            IFACE.format(field="channels: {rx: on}"),
            4,
            "interfaces[0].channels.rx: expected an integer 1..4096 or 'max', got 'on'",
        ),
        (
            IFACE.format(field="channels: {combined: 010}"),
            4,
            "interfaces[0].channels.combined: expected an integer 1..4096, got '010'",
        ),
        (IFACE.format(field="severity: on"), 4, "interfaces[0].severity: expected required or recommended, got 'on'"),
        (IFACE.format(field="driver: no"), 4, "interfaces[0].driver: expected a driver name, got 'no'"),
        *[
            (
                SYSCTL.format(value=v),
                3,
                f"sysctl.net.ipv4.tcp_mtu_probing: expected an integer or a string of integers, got '{v}'",
            )
            for v in ("on", "NO", "010", "1:30", "0x1", "1.0")
        ],
        (
            SYSCTL.format(value="{value: off}"),
            3,
            "sysctl.net.ipv4.tcp_mtu_probing.value: expected an integer or a string of integers, got 'off'",
        ),
        (GUARD.format(value="1:30"), 4, "guard.timeout_s: expected a number of seconds 0.1..5, got '1:30'"),
        (GUARD.format(value="on"), 4, "guard.timeout_s: expected a number of seconds 0.1..5, got 'on'"),
        ("name: x\nguard:\n  targets: [yes]\n", 3, "guard.targets[0]: expected an IP address, got 'yes'"),
        ("name: on\n", 1, "name: expected a non-empty string, got 'on' (YAML reads it as bool); quote it"),
        ("name: 2001-12-14\n", 1, "name: expected a non-empty string, got '2001-12-14' (YAML reads it as timestamp)"),
        (
            "name: x\ninterfaces:\n  - match: [eth0, NO]\n",
            3,
            "interfaces[0].match: expected an interface-name glob, got 'NO'",
        ),
        ("name: x\nsysctl:\n  on: 1\n", 3, "sysctl: expected a text key, got 'on' (YAML reads it as bool)"),
    ],
)
def test_yaml_1_1_surprise_in_a_typed_field_is_an_error(text: str, line: int, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "p.yaml")
    assert any(problem.startswith(f"p.yaml:{line}: {message}") for problem in err.value.lines()), err.value.lines()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nname: y\n", "p.yaml:2: name: duplicate key (first at line 1)"),
        ("name: x\nsysctl:\n  net.a.b: 1\n  net.a.b: 2\n", "p.yaml:4: sysctl.net.a.b: duplicate key (first at line 3)"),
        (
            "name: x\ninterfaces:\n  - match: a\n    mtu: 9001\n    mtu: 1500\n",
            "p.yaml:5: interfaces[0].mtu: duplicate key (first at line 4)",
        ),
    ],
)
def test_duplicate_key_names_both_lines(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "p.yaml")
    assert message in err.value.lines()


def test_yaml_merge_key_is_not_a_silent_override() -> None:
    text = "name: x\ninterfaces:\n  - &r {match: a, mtu: 9001}\n  - <<: *r\n    mtu: 1500\n"
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "p.yaml")
    assert "p.yaml:4: interfaces[1]: expected a text key, got '<<'" in err.value.lines()
