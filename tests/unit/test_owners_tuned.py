"""Issue 16: TuneD profiles as TuneD 2.20's loader reads them (pure); checked against tuned.profiles
in tests/integration/test_owners_tuned.py."""

from __future__ import annotations

import pytest

from netagent.core.owners import OwnerFiles, SourceFile, scan, sysctl_owners
from netagent.core.owners.tuned import devices_match, expand, include_names, parse_tuned


def conf(path: str, text: str) -> SourceFile:
    return SourceFile(path, text)


def test_issue16_include_lists_split_on_commas_and_semicolons_and_keep_conditional_names() -> None:
    f = conf("/etc/tuned/a/tuned.conf", "[main]\ninclude=x; -y ,z\n")
    assert include_names(f) == ["x", "-y", "z"]
    assert include_names(conf("/etc/tuned/b/tuned.conf", "[main]\ninclude=${f:virt_check:a:b}\n")) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${q}", "8"),
        ("${f:s2kb:${q}}", "4"),
        ("${f:strip:  50 }", "50"),
        ("${f:regex_search_ternary:abc:b:yes:no}", "yes"),
        ("${nope}", None),
        ("${f:virt_check:1:2}", None),
        ("\\${q}", "${q}"),
    ],
)
def test_issue16_variables_and_functions(value: str, expected: str | None) -> None:
    assert expand(value, (("q", "8"),)) == expected


def test_issue16_unknown_values_are_never_shown_literally() -> None:
    profile = conf("/etc/tuned/a/tuned.conf", "[sysctl]\nnet.core.busy_read=${nope}\n")
    (setting,) = parse_tuned((profile,))[0]
    assert setting.value == ""
    assert "unknown value" in setting.note
    found = scan(OwnerFiles(tuned_profiles=(profile,)))
    (owner,) = sysctl_owners("net.core.busy_read", "50", found)
    assert owner.value is None
    assert not owner.wins_at_boot


def test_issue16_replace_drop_and_enabled_false() -> None:
    base = conf("/usr/lib/tuned/base/tuned.conf", "[sysctl]\nnet.a=1\nnet.b=2\n[net]\nmtu=9001\n")
    keep = conf("/etc/tuned/x/tuned.conf", "[sysctl]\ndrop=net.a\nnet.c=3\n[net]\nenabled=false\n")
    sysctl, nets, _ = parse_tuned((base, keep))
    assert [(s.key, s.value) for s in sysctl] == [("net.b", "2"), ("net.c", "3")]
    assert nets == []
    swap = conf("/etc/tuned/y/tuned.conf", "[sysctl]\nreplace=1\nnet.d=4\n")
    assert [(s.key, s.value) for s in parse_tuned((base, swap))[0]] == [("net.d", "4")]


def test_issue16_uname_regex_makes_a_unit_conditional() -> None:
    f = conf("/usr/lib/tuned/t/tuned.conf", "[sysctl]\nuname_regex=x86_64\nnet.a=1\n")
    (setting,) = parse_tuned((f,))[0]
    assert setting.value == "1"
    assert setting.note == "may apply: uname_regex=x86_64"


@pytest.mark.parametrize(
    ("rules", "ifname", "expected"),
    [
        (("eth0", "!eth1"), "eth0", True),
        (("!eth1",), "eth2", True),
        (("!eth1",), "eth1", False),
        (("ens*",), "eth0", False),
    ],
)
def test_issue16_tuned_devices_rules(rules: tuple[str, ...], ifname: str, expected: bool) -> None:
    assert devices_match(rules, ifname) is expected
