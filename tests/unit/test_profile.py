"""Profile parsing and validation: every problem names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from netagent.core.errors import ProfileError
from netagent.core.model import MAX
from netagent.core.profile.parser import parse_profile
from netagent.core.settings.channels import ChannelSpec
from netagent.host.trust import load_profile

GOOD = """\
name: web
description: test
interfaces:
  - match: "lab*"
    driver: veth
    driver_min_version: 2.8
    mtu: 9001
    channels: {rx: 4, tx: max}
  - match: [eth0, ens5]
    channels: {combined: max}
sysctl:
  net.ipv4.tcp_rmem: "4096\\t131072   6291456"
  net.ipv4.tcp_mtu_probing: 1
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.yaml")
    return info.value.lines()


def test_parse_good_profile_yields_typed_rules_and_normalised_sysctls() -> None:
    profile = parse_profile(GOOD, "p.yaml")
    assert profile.name == "web"
    first, second = profile.interfaces
    assert first.match == ("lab*",)
    assert first.settings == {
        "driver": "veth",
        "driver_min_version": "2.8",
        "mtu": 9001,
        "channels": ChannelSpec(rx=4, tx=MAX),
    }
    assert second.match == ("eth0", "ens5")
    assert second.settings == {"channels": ChannelSpec(combined=MAX)}
    assert [(s.key, s.value, s.line) for s in profile.sysctls] == [
        ("net.ipv4.tcp_rmem", "4096 131072 6291456", 12),
        ("net.ipv4.tcp_mtu_probing", "1", 13),
    ]


def test_mtu_word_names_file_line_and_field() -> None:
    assert problems("name: x\ninterfaces:\n  - match: a\n    mtu: jumbo\n") == [
        "p.yaml:4: interfaces[0].mtu: expected an integer 68..9216, got 'jumbo'"
    ]


@pytest.mark.parametrize("mtu", ["67", "9217", "true", "on", "'9001'", "9001.0", "0x2329", "010", "1:30", "[9001]"])
def test_mtu_must_be_a_decimal_integer_in_range(mtu: str) -> None:
    (line,) = problems(f"name: x\ninterfaces:\n  - match: a\n    mtu: {mtu}\n")
    assert line.startswith("p.yaml:4: interfaces[0].mtu: expected an integer 68..9216, got ")


def test_yaml_11_boolean_is_named_as_such() -> None:
    (line,) = problems("name: x\ninterfaces:\n  - match: a\n    mtu: NO\n")
    assert "'NO' (YAML reads it as bool)" in line


def test_every_problem_is_reported_at_once() -> None:
    text = """\
name: x
colour: blue
interfaces:
  - match: a
    mtu: 9001
    speed: 10
  - mtu: 1500
sysctl:
  kernel.pid_max: 1
  net.ipv4.tcp_rmem: "4096 lots"
  net.ipv4..x: 1
  net/ipv4/x: 1
"""
    assert problems(text) == [
        "p.yaml:2: colour: unknown key; expected one of: name, description, interfaces, sysctl, kernel, guard",
        "p.yaml:6: interfaces[0].speed: unknown key; expected one of: "
        "match, driver, driver_min_version, mtu, channels, rings, coalesce, txqueuelen, rps, xps, bql, large_llq,"
        " severity, when",
        "p.yaml:7: interfaces[1].match: required key is missing",
        "p.yaml:9: sysctl.kernel.pid_max: expected a key under net. (dotted words, like net.ipv4.tcp_rmem)",
        "p.yaml:10: sysctl.net.ipv4.tcp_rmem: expected an integer or a string of integers, got '4096 lots'",
        "p.yaml:11: sysctl.net.ipv4..x: expected a key under net. (dotted words, like net.ipv4.tcp_rmem)",
        "p.yaml:12: sysctl.net/ipv4/x: expected a key under net. (dotted words, like net.ipv4.tcp_rmem)",
    ]


def test_duplicate_key_names_both_lines() -> None:
    assert problems("name: x\ninterfaces:\n  - match: a\n    mtu: 1500\n    mtu: 9001\n") == [
        "p.yaml:5: interfaces[0].mtu: duplicate key (first at line 4)"
    ]


def test_duplicate_sysctl_key_is_an_error() -> None:
    (line,) = problems("name: x\nsysctl:\n  net.ipv4.tcp_mtu_probing: 1\n  net.ipv4.tcp_mtu_probing: 2\n")
    assert line == "p.yaml:4: sysctl.net.ipv4.tcp_mtu_probing: duplicate key (first at line 3)"


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ("{rx: 0}", "interfaces[0].channels.rx: expected an integer 1..4096, got '0'"),
        ("{rx: lots}", "interfaces[0].channels.rx: expected an integer 1..4096 or 'max', got 'lots'"),
        ("{queues: 4}", "interfaces[0].channels.queues: unknown key; expected one of: combined, rx, tx"),
        ("{}", "interfaces[0].channels: expected at least one of combined, rx, tx"),
        ("4", "interfaces[0].channels: expected a mapping, got '4'"),
    ],
)
def test_channels_are_validated(channels: str, message: str) -> None:
    assert message in problems(f"name: x\ninterfaces:\n  - match: a\n    channels: {channels}\n")[0]


def test_sysctl_octal_looking_int_is_refused_not_converted() -> None:
    (line,) = problems("name: x\nsysctl:\n  net.ipv4.tcp_mtu_probing: 010\n")
    assert "'010' (YAML reads it as a non-decimal int)" in line


def test_quoted_numbers_and_negative_values_are_sysctl_values() -> None:
    profile = parse_profile('name: x\nsysctl:\n  net.a.b: "1"\n  net.a.c: -1\n  net.a.d: " 1  -2 "\n', "p.yaml")
    assert [s.value for s in profile.sysctls] == ["1", "-1", "1 -2"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "p.yaml: the profile is empty"),
        ("- a\n- b\n", "p.yaml:1: expected a mapping, got a list"),
        ("name: [unclosed\n", "p.yaml:2: YAML syntax error"),
        ("interfaces: []\n", "p.yaml:1: name: required key is missing"),
        ("name: x\ninterfaces: eth0\n", "p.yaml:2: interfaces: expected a list of rules, got 'eth0'"),
        ("name: x\n1: a\n", "p.yaml:2: expected a text key, got '1'"),
        ("name: yes\n", "p.yaml:1: name: expected a non-empty string, got 'yes' (YAML reads it as bool); quote it"),
        ("name: x\ninterfaces:\n  - match: []\n", "expected a glob or a non-empty list of globs"),
        ("name: x\ninterfaces:\n  - match: a/b\n", "interfaces[0].match: expected an interface-name glob"),
        ("name: x\ninterfaces:\n  - {match: a, driver_min_version: latest}\n", "expected a driver version like"),
        ("name: x\ninterfaces:\n  - {match: a, driver: 'e n a'}\n", "interfaces[0].driver: expected a driver name"),
    ],
)
def test_malformed_documents_are_profile_errors(text: str, message: str) -> None:
    assert message in problems(text)[0]


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert info.value.lines() == [f"{path}: cannot read: No such file or directory"]


def test_non_utf8_file_is_a_profile_error(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profile(str(path))


def test_shipped_profiles_are_valid() -> None:
    root = Path(__file__).resolve().parents[2] / "profiles"
    paths = sorted(root.glob("*.yaml"))
    assert paths, "no shipped profiles found"
    for path in paths:
        profile = load_profile(str(path))
        assert profile.interfaces or profile.sysctls


# Review defect: a guard timeout up to 60 s could hold a heal, and so the daemon's stop, far past 5 s.
@pytest.mark.parametrize("timeout", ["0.05", "5.5", "60"])
def test_guard_timeout_must_fit_the_daemons_stop_bound(timeout: str) -> None:
    (line,) = problems(f"name: x\nguard:\n  targets: [10.0.0.1]\n  timeout_s: {timeout}\n")
    assert line.startswith(f"p.yaml:4: guard.timeout_s: expected a number of seconds 0.1..5, got '{timeout}'")


def test_guard_timeout_of_five_seconds_is_accepted() -> None:
    profile = parse_profile("name: x\nguard:\n  targets: [10.0.0.1]\n  timeout_s: 5\n", "p.yaml")
    assert profile.guard is not None
    assert profile.guard.timeout_s == 5.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: x\ninterfaces:\n  - match: eth0\n    chanels: {rx: 4}\n",
            "p.yaml:4: interfaces[0].chanels: unknown key; did you mean `channels`? expected one of: ",
        ),
        (
            "name: x\nsysctls:\n  net.a.b: 1\n",
            "p.yaml:2: sysctls: unknown key; did you mean `sysctl`? expected one of: ",
        ),
        ("name: x\ninterfaces:\n  - {match: a, channels: {combnied: 4}}\n", "did you mean `combined`?"),
    ],
)
def test_issue15_misspelt_key_says_did_you_mean(text: str, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, "p.yaml")
    assert message in str(info.value)


def test_unknown_key_far_from_any_known_one_gets_no_guess() -> None:
    with pytest.raises(ProfileError) as info:
        parse_profile("name: x\nspeed: 10\n", "p.yaml")
    assert "did you mean" not in str(info.value)
