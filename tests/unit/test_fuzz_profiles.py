"""Fuzzing `netagent validate` with hypothesis: any document exits 0 or 2, never a traceback, never a write.

Derandomised, so CI runs the same examples every time. NETAGENT_FUZZ_EXAMPLES raises the count
(default 500 per strategy) for a longer local run.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any
from unittest import mock

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from netagent import cli

EXAMPLES = int(os.environ.get("NETAGENT_FUZZ_EXAMPLES", "500"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Scalars a profile author (or a YAML 1.1 accident) might write in any field.
_TRICKY = "on off NO yes ~ 010 0x1f 1:30 1_000 9001.0 .inf max * lab* [ runtime required recommended -1"
TRICKY = st.sampled_from([*_TRICKY.split(), "4096 131072 6291456", "10.0.0.1", "fd00::1", "2.2.10", "c6in.*", "", " "])
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    TRICKY,
)
_KEYS = (
    "name description interfaces sysctl guard match driver driver_min_version mtu channels combined rx tx"
    " rings coalesce adaptive_rx rx_usecs at_least at_most"
    " severity when phase instance_type value targets timeout_s net.ipv4.tcp_rmem net..x net/ipv4 <<"
)
KEYS = st.one_of(st.sampled_from(_KEYS.split()), st.text(max_size=12))
ANY = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5), max_leaves=20
)


def _rule() -> st.SearchStrategy[dict[str, Any]]:
    channels = st.dictionaries(
        st.sampled_from(["combined", "rx", "tx", "other"]), st.one_of(SCALAR, st.integers(0, 5000))
    )
    when = st.one_of(SCALAR, st.dictionaries(st.sampled_from(["phase", "instance_type", "x"]), st.one_of(SCALAR, ANY)))
    fields = {
        "match": st.one_of(SCALAR, st.lists(SCALAR, max_size=3)),
        "driver": SCALAR,
        "driver_min_version": SCALAR,
        "mtu": st.one_of(SCALAR, st.integers(0, 70000)),
        "channels": st.one_of(channels, SCALAR),
        "rings": st.one_of(SCALAR, st.dictionaries(st.sampled_from(["rx", "tx", "mini"]), ANY)),  # issue 13
        "coalesce": st.one_of(SCALAR, st.dictionaries(st.sampled_from(["adaptive_rx", "rx_usecs", "x"]), ANY)),
        "severity": SCALAR,
        "when": when,
    }
    return st.fixed_dictionaries({}, optional=fields)


def _valid_document() -> st.SearchStrategy[dict[str, Any]]:
    """Mostly valid profiles, so the fuzz also reaches the checks behind the first error."""
    rule = st.fixed_dictionaries(
        {
            "match": st.one_of(
                st.sampled_from(["lab*", "eth0", "*", "lo"]), st.lists(st.sampled_from(["a", "b*"]), min_size=1)
            )
        },
        optional={
            "mtu": st.one_of(st.integers(60, 9300), TRICKY),
            "channels": st.dictionaries(
                st.sampled_from(["combined", "rx", "tx"]), st.one_of(st.integers(0, 4100), st.just("max")), min_size=1
            ),
            "rings": st.dictionaries(  # issue 13
                st.sampled_from(["rx", "tx"]),
                st.one_of(
                    st.integers(0, 70000), st.just("max"), st.fixed_dictionaries({"at_least": st.integers(0, 9)})
                ),
                min_size=1,
            ),
            "coalesce": st.dictionaries(
                st.sampled_from(["adaptive_rx", "adaptive_tx", "rx_usecs", "tx_usecs"]),
                st.one_of(st.booleans(), st.integers(-1, 200000), st.just("on")),
                min_size=1,
            ),
            "driver": st.sampled_from(["ena", "veth", "e n a"]),
            "driver_min_version": st.sampled_from(["2.2.10", "2.17.0g", "1.3.0K", "x"]),
            "severity": st.sampled_from(["required", "recommended", "optional"]),
            "when": st.one_of(
                st.just("runtime"), st.fixed_dictionaries({}, optional={"instance_type": st.just("c6in.*")})
            ),
        },
    )
    sysctl = st.dictionaries(
        st.from_regex(r"net\.(ipv4|core)\.[a-z_]{1,12}", fullmatch=True),
        st.one_of(
            st.integers(-5, 2**40),
            st.just("4096 131072 6291456"),
            st.fixed_dictionaries({"value": st.integers(0, 9)}),
            st.fixed_dictionaries({"at_least": st.integers(0, 9)}),  # issue 13
            st.fixed_dictionaries({"at_most": st.just("1 2"), "value": st.integers(0, 9)}),
        ),
    )
    return st.fixed_dictionaries(
        {"name": st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)},
        optional={
            "interfaces": st.lists(rule, max_size=3),
            "sysctl": sysctl,
            "guard": st.fixed_dictionaries(
                {"targets": st.lists(st.sampled_from(["10.0.0.1", "fd00::1", "999.1.1.1"]), min_size=1, max_size=2)},
                optional={"timeout_s": st.one_of(st.floats(0, 100), st.integers(0, 100))},
            ),
        },
    )


def _document() -> st.SearchStrategy[Any]:
    sysctl_value = st.one_of(
        SCALAR, st.fixed_dictionaries({}, optional={"value": SCALAR, "severity": SCALAR, "when": ANY})
    )
    sysctl = st.dictionaries(
        st.one_of(KEYS, st.from_regex(r"net(\.[a-z0-9_]{1,8}){1,3}", fullmatch=True)), sysctl_value
    )
    guard = st.fixed_dictionaries(
        {}, optional={"targets": st.one_of(SCALAR, st.lists(SCALAR, max_size=3)), "timeout_s": SCALAR}
    )
    top = st.fixed_dictionaries(
        {},
        optional={
            "name": SCALAR,
            "description": SCALAR,
            "interfaces": st.one_of(SCALAR, st.lists(st.one_of(_rule(), ANY), max_size=3)),
            "sysctl": st.one_of(sysctl, SCALAR),
            "guard": st.one_of(guard, SCALAR),
        },
    )
    return st.one_of(_valid_document(), top, ANY)


# YAML text: profile-shaped lines, YAML syntax (anchors, tags, flow, block scalars) and noise.
FRAGMENTS = st.sampled_from(
    (
        "name: x|interfaces:|  - match: lab0|    mtu: 9001|    mtu: on|sysctl:|  net.ipv4.tcp_rmem: 1|guard:"
        "|  targets: [10.0.0.1]|  timeout_s: 1:30|- &a [1, 2]|- *a|*b|!!python/object:os.system|? complex|: value"
        "|key: >|  block|{a: [b, {c: d}]}|%YAML 1.1|---|...|\t|'|\"|name: x\nname: y|<<: *a|!!binary aGk=|@|`"
        "|\x00|\ufeff|\udcff|" + "  " * 30 + "x: 1"
    ).split("|")
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=15)), max_size=12).map("\n".join),
)


# Every function that writes to the kernel: sysctls, MTU (RTM_NEWLINK), channels (SIOCETHTOOL).
WRITES = (
    "netagent.host.sysctl.write_sysctl",
    "netagent.host.link.LinkWriter.set_mtu",
    "netagent.host.ethtool.Ethtool.set_channels",
    "netagent.host.ethtool.Ethtool.set_rings",
    "netagent.host.ethtool.Ethtool.set_coalesce",
)


@contextlib.contextmanager
def no_kernel_writes() -> Iterator[list[str]]:
    """Fail on any adapter write; record every path opened for writing."""
    opened: list[str] = []
    real_open = os.open

    def watch(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR):
            opened.append(os.fsdecode(path))
        return real_open(path, flags, *args, **kw)

    refuse = AssertionError("validate wrote to the kernel")
    with contextlib.ExitStack() as stack:
        for target in WRITES:
            stack.enter_context(mock.patch(target, side_effect=refuse))
        stack.enter_context(mock.patch("os.open", side_effect=watch))
        yield opened


def validate(text: str) -> tuple[int, str]:
    """Run `netagent validate` in-process on `text` as a file; return (exit code, stderr)."""
    with tempfile.TemporaryDirectory(prefix="netagent-fuzz-") as tmp:
        path = os.path.join(tmp, "p.yaml")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        err, out = io.StringIO(), io.StringIO()
        with no_kernel_writes() as opened, contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = cli.main(["validate", path])
        assert [p for p in opened if p.startswith(("/proc", "/sys"))] == []
        return code, err.getvalue()


def _check(text: str) -> None:
    code, err = validate(text)
    event(f"exit {code}")
    assert code in (0, 2), f"exit {code}: {err}"
    assert "Traceback" not in err
    assert "internal error" not in err
    if code == 2:
        assert err.startswith("netagent: error: "), err


@FUZZ
@given(TEXT)
def test_fuzz_yaml_text_validates_or_exits_2(text: str) -> None:
    _check(text)


@FUZZ
@given(_document())
def test_fuzz_structured_documents_validate_or_exit_2(doc: Any) -> None:
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except (yaml.YAMLError, ValueError, OverflowError):
        return  # not representable as YAML: nothing to validate
    _check(text)


@settings(max_examples=25, derandomize=True, deadline=None, database=None)
@given(st.one_of(TEXT, _document().map(lambda d: yaml.safe_dump(d, allow_unicode=True))))
def test_fuzz_sample_through_the_real_cli_process(text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="netagent-fuzz-") as tmp:
        path = os.path.join(tmp, "p.yaml")
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        res = subprocess.run(
            [sys.executable, "-m", "netagent", "validate", path], capture_output=True, text=True, timeout=30
        )
    assert res.returncode in (0, 2), res.stderr
    assert "Traceback" not in res.stderr
