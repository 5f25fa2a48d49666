"""yamlite composes exactly what PyYAML composes, or steps aside (issue 8: the audit skips `import yaml`)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from netagent.core.errors import ProfileError
from netagent.core.profile.parser import compose_pyyaml, parse_profile, profile_from_nodes
from netagent.core.profile.yamlite import Node, ScalarNode, SequenceNode, Unsupported, compose, from_pyyaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the loader netagent uses
PROFILES = sorted((Path(__file__).resolve().parents[2] / "profiles").glob("*.yaml"))


def tree(node: Node) -> Any:
    """Everything the profile walker reads from a node: kind, tag, value, style, line."""
    line = node.start_mark.line
    if isinstance(node, ScalarNode):
        return ("scalar", node.tag, node.value, node.style, line)
    if isinstance(node, SequenceNode):
        return ("seq", node.tag, line, [tree(n) for n in node.value])
    return ("map", node.tag, line, [(tree(k), tree(v)) for k, v in node.value])


def pyyaml_tree(text: str) -> Any:
    return tree(from_pyyaml(yaml.compose(text, Loader=LOADER)))


def assert_same_or_unsupported(text: str) -> bool:
    """Return True when yamlite composed the text (and agreed with PyYAML), False when it stepped aside."""
    try:
        mine = tree(compose(text))
    except Unsupported:
        return False
    assert mine == pyyaml_tree(text), text
    return True


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_shipped_profiles_take_the_fast_path_and_agree_with_pyyaml(path: Path) -> None:
    assert assert_same_or_unsupported(path.read_text())


FAST = [
    "name: x\n",
    "---\nname: x  # a comment\n",
    "# head\nname: 'it''s'\ndescription: \"quoted # not a comment\"\n",
    "name: x\ninterfaces:\n- match: eth*\n  mtu: 9001\n",
    'name: x\ninterfaces:\n  - match: ["eth*", ens*]\n    channels: {combined: max}\n  - match: lo\n',
    "name: x\nsysctl:\n  net.a.b: 4096 131072 6291456\n  net.a.c: -1\n  net.a.d: {value: 0, when: {phase: runtime}}\n",
    'name: x\nguard:\n  targets: [10.0.1.10, "fd00::1"]\n  timeout_s: 2\n',
    "name: x\ninterfaces:\n  -\n    match: a\n  - - nested\n    - seq\n",
    "name : x\nk: [a b , c]\nm: {}\nn: []\ndriver_min_version: 2.2.10\n",
    "a:\n  b:\n    c: 1\n  d: eth[0-3]\ne: fd00::1\n",
]


@pytest.mark.parametrize("text", FAST)
def test_subset_documents_compose_like_pyyaml(text: str) -> None:
    assert assert_same_or_unsupported(text)


STEP_ASIDE = [
    "",
    "just a scalar\n",
    "- a\n- b\n",
    "name: null\n",
    "name: ~\n",
    "mtu: 010\n",
    "mtu: 1:30\n",
    "timeout: 0.5\n",
    "date: 2024-01-01\n",
    "name:\n",
    "name: &a x\nother: *a\n",
    "name: !!str 1\n",
    "text: |\n  block\n",
    "name: a\n  continued\n",
    'name: "esc\\t"\n',
    "name: x\n...\n",
    "name:\tx\n",
    "name: x\r\n",
    "name: caf\u00e9\n",
    "k: [a, b,]\n",
    "k: [a,\n  b]\n",
    "k: {a:1}\n",
    "k: a: b\n",
    "? complex\n: value\n",
    "a:\n    b: 1\n  c: 2\n",
    "%YAML 1.1\n---\nname: x\n",
]


@pytest.mark.parametrize("text", STEP_ASIDE)
def test_yaml_beyond_the_subset_is_left_to_pyyaml(text: str) -> None:
    with pytest.raises(Unsupported):
        compose(text)


WORDS = ["x", "eth*", "ens5", "max", "runtime", "yes", "No", "on", "null", "ena", "lab[0-3]", "c6in.*", "fd00::1"]
NUMBERS = ["0", "1", "-1", "+1", "9001", "010", "0x1f", "1:30", "2.8", "2.2.10", "1e3", ".inf", "1_000", "4096 131072"]
KEYS = ["name", "description", "interfaces", "match", "mtu", "channels", "rx", "combined", "net.a.b", "1", "when"]


def _scalar(rng: random.Random) -> str:
    word = rng.choice(WORDS + NUMBERS)
    style = rng.random()
    if style < 0.2:
        return f'"{word}"'
    if style < 0.3:
        return f"'{word}'"
    return word


def _value(rng: random.Random, indent: int, depth: int) -> str:
    """Render a random value: inline (after `key: `) or a block on the following lines."""
    pick = rng.random() if depth < 3 else 0.0
    if pick < 0.45:
        return " " + _scalar(rng) + (" # c" if rng.random() < 0.2 else "") + "\n"
    if pick < 0.6:
        items = ", ".join(_scalar(rng) for _ in range(rng.randint(0, 3)))
        return f" [{items}]\n"
    if pick < 0.7:
        items = ", ".join(f"{rng.choice(KEYS)}: {_scalar(rng)}" for _ in range(rng.randint(0, 3)))
        return f" {{{items}}}\n"
    step = rng.choice([2, 4])
    if pick < 0.85:
        return "\n" + _mapping(rng, indent + step, depth + 1)
    dash_indent = indent if rng.random() < 0.5 else indent + step
    return "\n" + _sequence(rng, dash_indent, depth + 1)


def _mapping(rng: random.Random, indent: int, depth: int) -> str:
    out = ""
    for _ in range(rng.randint(1, 4)):
        out += " " * indent + rng.choice(KEYS) + ":" + _value(rng, indent, depth)
        if rng.random() < 0.1:
            out += " " * indent + "# comment\n"
    return out


def _sequence(rng: random.Random, indent: int, depth: int) -> str:
    out = ""
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.5:
            out += " " * indent + "- " + _scalar(rng) + "\n"
        else:
            body = _mapping(rng, indent + 2, depth + 1)
            out += " " * indent + "- " + body[indent + 2 :]
    return out


def test_random_documents_compose_like_pyyaml_or_step_aside() -> None:
    rng = random.Random(8)  # seeded: the same documents on every run
    composed = 0
    for _ in range(3000):
        text = _mapping(rng, 0, 0)
        try:
            yaml.compose(text, Loader=LOADER)
        except yaml.YAMLError:
            with pytest.raises(Unsupported):
                compose(text)
            continue
        composed += assert_same_or_unsupported(text)
    assert composed > 500  # the generator mostly writes the subset: the comparison is not vacuous


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.name)
def test_parse_profile_equals_the_pyyaml_reading(path: Path) -> None:
    text = path.read_text()
    assert parse_profile(text, "p.yaml") == profile_from_nodes(compose_pyyaml(text, "p.yaml"), "p.yaml")


def test_invalid_profile_errors_come_from_pyyaml_nodes() -> None:
    text = "name: x\ninterfaces:\n  - match: eth0\n    mtu: jumbo\n"
    with pytest.raises(ProfileError) as fast:
        parse_profile(text, "p.yaml")
    with pytest.raises(ProfileError) as reference:
        profile_from_nodes(compose_pyyaml(text, "p.yaml"), "p.yaml")
    assert fast.value.lines() == reference.value.lines()


@pytest.mark.parametrize("word", ["true", "False", "yes", "NO", "on", "Off"])
def test_bool_words_compose_as_pyyaml_does_without_pyyaml(word: str) -> None:
    """Issue 13: `coalesce: {adaptive_rx: false}` stays in the subset, so the audit never imports yaml."""
    text = f"k: {word}\nf: {{a: {word}}}\n"
    assert assert_same_or_unsupported(text)
    assert tree(compose(text))[3][0][1][1] == "tag:yaml.org,2002:bool"
