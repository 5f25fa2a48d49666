"""main() builds only the named command's parser (issue 8); what it parses is the full parser's."""

from __future__ import annotations

import pytest

from netagent.cli import COMMANDS, build_parser, command_of


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["audit", "--no-imds"], "audit"),
        (["--log-level", "debug", "--state-dir", "/x", "apply"], "apply"),
        (["--state-dir=/x", "--debug", "daemon", "--resync-s", "5"], "daemon"),
        (["--color", "never", "audit"], "audit"),
        (["--help"], None),
        (["--version"], None),
        (["--log-l", "debug", "audit"], None),  # an abbreviation: argparse resolves it
        (["audti"], None),
        ([], None),
    ],
)
def test_command_of_names_the_command_only_when_certain(argv: list[str], command: str | None) -> None:
    assert command_of(argv) == command


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--no-imds", "--format", "json", "--phase", "bake", "--strict"],
        ["--log-level", "debug", "plan", "--profile", "p.yaml", "--root", "/r"],
        ["--state-dir", "/s", "apply", "--dry-run", "--lock-timeout-s", "2"],
        ["daemon", "--resync-s", "5", "--no-imds"],
        ["restore", "--dry-run"],
        ["persist", "--root", "/r"],
        ["validate", "p.yaml"],
        ["status", "--format", "json"],
    ],
)
def test_one_command_parser_parses_as_the_full_parser(argv: list[str]) -> None:
    assert vars(build_parser(only=command_of(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_built_alone_has_the_full_parsers_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    helps = []
    for parser in (build_parser(only=name), build_parser()):
        with pytest.raises(SystemExit):
            parser.parse_args([name, "--help"])
        helps.append(capsys.readouterr().out)
    assert helps[0] == helps[1]
    assert f"usage: netagent {name}" in helps[0]
