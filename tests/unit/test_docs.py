"""Every subcommand is documented and has help that helps (after sqlite-utils' tests/test_docs.py; issue 15).

The old guard only checked that `COMMAND --help` printed a usage line, which argparse does for a
command without any help at all; these read the help text itself.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from netagent import cli
from netagent.core.errors import ExitCode

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
GLOBAL_OPTIONS = (
    "--log-format",
    "--log-level",
    "--color",
    "--debug",
    "--state-dir",
    "--insecure-profile",
    "--lock-timeout-s",
)


def _commands() -> argparse._SubParsersAction:  # type: ignore[type-arg]
    parser = cli.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


COMMANDS = sorted(cli.COMMANDS)


def _help(command: str) -> str:
    return str(_commands().choices[command].format_help())


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented_in_readme(command: str) -> None:
    assert re.search(rf"netagent {command}\b", README), f"README.md does not show `netagent {command}`"


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_a_summary_and_a_description(command: str) -> None:
    summaries = {a.dest: a.help for a in _commands()._choices_actions}
    assert (summaries.get(command) or "").strip(), f"`netagent {command}` has no summary in `netagent --help`"
    assert (_commands().choices[command].description or "").strip(), f"`netagent {command}` has no description"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_and_argument_has_help(command: str) -> None:
    for action in _commands().choices[command]._actions:
        if action.help is argparse.SUPPRESS:
            continue
        assert (action.help or "").strip(), f"`netagent {command}`: {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_own_options_then_the_global_ones_once_then_exit_codes_and_an_example(command: str) -> None:
    text = _help(command)
    heading = "\nglobal options (also accepted before the command):\n"
    assert text.count(heading) == 1, text
    own, rest = text.split(heading)
    shown = cli.GLOBALS_USED[command]
    for option in GLOBAL_OPTIONS:
        lines = [line for line in text.splitlines() if line.lstrip().startswith(option)]
        assert len(lines) == (1 if option in shown else 0), (option, text)
        own_options = re.split(r"\n(?:options|optional arguments):\n", own, maxsplit=1)[-1]  # 3.10+ | 3.9
        assert option not in own_options, f"{option} listed among {command}'s own options"
    assert "-h, --help" in own
    assert re.search(r"\nexit codes:\n(  \d+ +\S.*\n)+", rest), text
    assert re.search(r"\nexamples?:\n  netagent ", rest), text
    codes = [int(n) for n in re.findall(r"^  (\d+) ", rest.split("exit codes:")[1], re.M)]
    assert codes == sorted(codes), f"exit codes out of order: {codes}"
    assert set(codes) <= {int(c) for c in ExitCode}


def test_validate_help_lists_no_option_it_ignores() -> None:
    text = _help("validate")
    for option in ("--state-dir", "--lock-timeout-s", "--color", "--log-format", "--log-level", "--profile"):
        assert option not in text
    args = cli.build_parser().parse_args(["validate", "p.yaml", "--state-dir", "/x"])
    assert args.state_dir == "/x"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0_and_prints_the_command_usage(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0
    assert capsys.readouterr().out == _help(command)


@pytest.mark.parametrize("command", COMMANDS)
def test_exit_codes_and_examples_fit_80_columns(command: str) -> None:
    epilog = cli.EPILOGS[command]
    assert all(len(line) <= 78 for line in epilog.splitlines()), epilog
