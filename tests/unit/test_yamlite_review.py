"""Regressions from a review of the YAML subset composer and the link dump (issue 8 follow-up)."""

from __future__ import annotations

import struct

import pytest

from netagent.core.errors import ProfileError
from netagent.core.profile.parser import parse_profile
from netagent.core.profile.yamlite import Unsupported, compose
from netagent.host.rtnetlink import NLMSG_DONE, parse_link_dump


@pytest.mark.parametrize(
    "text",
    [
        "name: x\x1b[2Jevil\n",  # a terminal escape: PyYAML refuses control characters
        "name: a\x00b\n",
        "# \x7f\nname: x\n",
        "  ---\nname: x\n",  # an indented `---` is no document start
        "---\n---\nname: x\n",  # two documents
        "name: x\nsysctl:\n  net." + "a" * 1100 + ": 1\n",  # PyYAML's 1024-character key limit
    ],
)
def test_text_outside_the_subset_goes_to_pyyaml_and_is_refused(text: str) -> None:
    with pytest.raises(Unsupported):
        compose(text)
    with pytest.raises(ProfileError):
        parse_profile(text, "p.yaml")


def test_one_leading_document_marker_is_accepted() -> None:
    assert parse_profile("---\nname: x\n", "p.yaml").name == "x"


@pytest.mark.parametrize(
    "text",
    ["name: x\nd: " + "[" * 1000 + "]" * 1000 + "\n", "name: x\n" + "".join(" " * i + f"k{i}:\n" for i in range(1000))],
)
def test_absurd_nesting_is_a_profile_error_not_a_crash(text: str) -> None:
    with pytest.raises(ProfileError):
        parse_profile(text, "p.yaml")


_HDR = struct.Struct("=IHHII")


def test_link_dump_done_with_an_error_code_is_an_error() -> None:
    data = _HDR.pack(_HDR.size + 4, NLMSG_DONE, 0x2, 1, 0) + struct.pack("=i", -90)
    with pytest.raises(OSError, match="Message too long"):
        parse_link_dump(data, {})


def test_interrupted_link_dump_is_an_error() -> None:
    data = _HDR.pack(_HDR.size + 4, NLMSG_DONE, 0x2 | 0x10, 1, 0) + struct.pack("=i", 0)
    with pytest.raises(OSError, match="interrupted"):
        parse_link_dump(data, {})


def test_truncated_link_dump_message_is_an_error_not_a_crash() -> None:
    data = _HDR.pack(_HDR.size + 100, 16, 0x2, 1, 0) + b"\0" * 8
    with pytest.raises(OSError, match="malformed"):
        parse_link_dump(data, {})
