"""Issue 15: a profile whose aliases expand past a small node budget is refused before expansion."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netagent import cli
from netagent.core.errors import ExitCode, ProfileError
from netagent.core.profile.parser import MAX_NODES, exceeds_node_budget, parse_profile


def bomb(depth: int, width: int = 9) -> str:
    """The billion-laughs shape: each level a list of `width` aliases to the level below."""
    names = "abcdefghij"
    lines = ["name: bomb", "a: &a [" + ",".join(["lol"] * width) + "]"]
    for level in range(1, depth):
        name, below = names[level], names[level - 1]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{below}"] * width) + "]")
    lines.append(f"sysctl: *{names[depth - 1]}")
    return "\n".join(lines) + "\n"


def expanded_size(node: yaml.Node) -> int:
    """Count nodes the slow way, expanding every alias (reference; small documents only)."""
    if isinstance(node, yaml.ScalarNode):
        return 1
    if isinstance(node, yaml.SequenceNode):
        return 1 + sum(expanded_size(n) for n in node.value)
    return 1 + sum(expanded_size(k) + expanded_size(v) for k, v in node.value)


@pytest.mark.parametrize(
    "text",
    [
        "name: x\n",
        bomb(3),
        bomb(4, width=3),
        "z: &z 3\na: &x {k: &y [1, 2, *z]}\nb: [*x, *x, *y]\nc: {*y : *x}\n",
        "base: &ch {rx: 4, tx: 4}\ninterfaces:\n  - {match: eth0, channels: *ch}\n  - {match: eth1, channels: *ch}\n",
    ],
)
def test_node_count_equals_the_expanded_tree_size(text: str) -> None:
    size = expanded_size(yaml.compose(text, Loader=yaml.SafeLoader))
    assert exceeds_node_budget(yaml.parse(text, Loader=yaml.SafeLoader), size) is None
    assert exceeds_node_budget(yaml.parse(text, Loader=yaml.SafeLoader), size - 1) is not None


def test_issue15_alias_bomb_is_refused_before_expansion() -> None:
    # Nine levels of nine: 9**9 nodes expanded; a few hundred bytes of text.
    # Counted on the event stream, so a regression here fails instead of expanding 387 million nodes.
    text = bomb(9)
    assert len(text.encode()) < 400
    assert exceeds_node_budget(yaml.parse(text, Loader=yaml.SafeLoader), MAX_NODES) == 6


def test_issue15_bomb_just_over_the_budget_is_refused_not_walked() -> None:
    # 9**5 = 59,049 nodes: quick to expand even before the fix, which then reported the sysctl type.
    with pytest.raises(ProfileError) as info:
        parse_profile(bomb(5), "bomb.yaml")
    assert info.value.lines() == [
        f"bomb.yaml:6: the document has more than {MAX_NODES} nodes with its aliases expanded (an alias bomb?); refused"
    ]


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(ProfileError):
        parse_profile("name: x\nsysctl: &a [*a]\n", "loop.yaml")


def test_a_profile_sharing_a_spec_by_alias_still_parses() -> None:
    text = "name: x\ninterfaces:\n  - match: eth0\n    channels: &ch {rx: 4, tx: 4}\n"
    profile = parse_profile(text + "  - match: eth1\n    channels: *ch\n", "p.yaml")
    first, second = profile.interfaces
    assert first.settings["channels"] == second.settings["channels"]
    assert first.settings["channels"] is not None


def test_issue15_validate_of_an_alias_bomb_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb(5))  # bomb(9) exits 2 the same way: scripts/bench_alias_bomb.py times it
    path.chmod(0o600)
    assert cli.main(["validate", str(path)]) == ExitCode.BAD_INPUT
    assert "alias bomb" in capsys.readouterr().err
