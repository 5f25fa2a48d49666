"""Shell completion for bash and zsh, generated from the CLI's argparse parser (issue 15).

The scripts are rendered from `netagent.cli.build_parser()`, never written by hand, so a new
option or --format value reaches them when they are regenerated (`scripts/generate-docs`); a unit
test regenerates them and compares with the committed files under share/. What each option's
value completes to follows from the parser: its choices; a directory for DIR; a YAML file for a
profile; a file for FILE; nothing for numbers and URLs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

# Value kinds an option or positional completes to.
WORDS, DIR, PROFILE, FILE, NONE = "words", "dir", "profile", "file", "none"


@dataclass(frozen=True)
class Option:
    """One option of one command as completion sees it."""

    flags: tuple[str, ...]
    help: str
    kind: str | None  # None: a flag that takes no value
    words: tuple[str, ...] = ()
    metavar: str = ""


@dataclass(frozen=True)
class Command:
    """A subcommand (or, with name "", the top level): its options and positionals."""

    name: str
    help: str
    description: str
    options: tuple[Option, ...]
    positionals: tuple[Option, ...]


def _kind(action: argparse.Action) -> tuple[str | None, tuple[str, ...]]:
    if action.nargs == 0:
        return None, ()
    if action.choices:
        return WORDS, tuple(str(c) for c in action.choices)
    metavar = str(action.metavar or action.dest).upper()
    if metavar in ("PROFILE", "P"):
        return PROFILE, ()
    if metavar == "DIR":
        return DIR, ()
    if metavar == "FILE":
        return FILE, ()
    return NONE, ()


def _option(action: argparse.Action) -> Option:
    kind, words = _kind(action)
    help_text = "" if action.help in (None, argparse.SUPPRESS) else str(action.help)
    if action.help is None and isinstance(action, argparse._VersionAction):
        help_text = "show the version and exit"
    metavar = str(action.metavar or action.dest.upper())
    return Option(tuple(action.option_strings), help_text % vars(action), kind, words, metavar)


def _command(name: str, parser: argparse.ArgumentParser, help_text: str) -> Command:
    options: list[Option] = []
    positionals: list[Option] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        (options if action.option_strings else positionals).append(_option(action))
    return Command(name, help_text, parser.description or "", tuple(options), tuple(positionals))


def describe(parser: argparse.ArgumentParser) -> list[Command]:
    """Return the top level (name "") and then each subcommand, in the parser's order."""
    commands = [_command("", parser, parser.description or "")]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: str(a.help or "") for a in action._choices_actions}
            for name, sub in action.choices.items():
                commands.append(_command(name, sub, helps.get(name, "")))
    return commands


# ---------------------------------------------------------------- bash

_BASH_KIND = {
    DIR: "_netagent_dirs",
    PROFILE: "_netagent_profiles",
    FILE: "_netagent_files",
    NONE: "COMPREPLY=()",
}


def render_bash(commands: list[Command]) -> str:
    """Return a bash completion script for `netagent` (`complete -F _netagent netagent`)."""
    top, subs = commands[0], commands[1:]
    value_cases, option_cases, positional_cases = [], [], []
    for cmd in commands:
        for opt in cmd.options:
            if opt.kind is None:
                continue
            action = f'_netagent_words "{" ".join(opt.words)}"' if opt.kind == WORDS else _BASH_KIND[opt.kind]
            pattern = "|".join(f'"{cmd.name} {flag}"' for flag in opt.flags)
            value_cases.append(f"        {pattern}) {action} ;;")
        flags = " ".join(flag for opt in cmd.options for flag in opt.flags)
        option_cases.append(f'        "{cmd.name}") opts="{flags}" ;;')
        kinds = [pos.kind for pos in cmd.positionals if pos.kind in _BASH_KIND]
        if cmd.name and kinds:
            positional_cases.append(f'        "{cmd.name}") {_BASH_KIND[kinds[0]]} ;;')
    value_options = sorted({flag for opt in top.options if opt.kind is not None for flag in opt.flags})
    names = " ".join(c.name for c in subs)
    lines = [
        "# bash completion for netagent(8). GENERATED from netagent's argparse parser by",
        "# netagent.app.completion (scripts/generate-docs): do not edit by hand.",
        "",
        '_netagent_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }',
        '_netagent_dirs() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); }',
        '_netagent_files() { compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }',
        "# A profile: a YAML file, or a directory that may hold one.",
        "_netagent_profiles() {",
        "    compopt -o filenames 2>/dev/null",
        "    local f",
        "    COMPREPLY=()",
        "    while IFS= read -r f; do",
        '        if [[ -d $f || $f == *.yaml || $f == *.yml ]]; then COMPREPLY+=("$f"); fi',
        '    done < <(compgen -f -- "$cur")',
        "}",
        "",
        "_netagent() {",
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' i opts",
        "    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}",
        "    # `--opt=value`: COMP_WORDBREAKS splits it into `--opt`, `=` and `value`.",
        "    if [[ $cur == = ]]; then",
        "        cur=''",
        "    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then",
        "        prev=${COMP_WORDS[COMP_CWORD-2]}",
        "    fi",
        "    # The command: the first word that is neither an option nor a top-level option's value.",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        "        case ${COMP_WORDS[i]} in",
        f"            {'|'.join(value_options)}) ((i++)) ;;",
        "            -*) ;;",
        "            *) cmd=${COMP_WORDS[i]}; break ;;",
        "        esac",
        "    done",
        "    # The value of the option before the cursor.",
        '    case "$cmd $prev" in',
        *value_cases,
        "        *) false ;;",
        "    esac && return",
        '    case "$cmd" in',
        *option_cases,
        "        *) return ;;  # an unknown command: nothing to offer",
        "    esac",
        "    if [[ $cur == -* ]]; then",
        '        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")',
        "        return",
        "    fi",
        '    case "$cmd" in',
        f'        "") _netagent_words "{names}" ;;',
        *positional_cases,
        '        *) _netagent_words "$opts" ;;',
        "    esac",
        "}",
        "complete -F _netagent netagent",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- zsh

_ZSH_KIND = {
    DIR: "_files -/",
    PROFILE: '_files -g "*.(yaml|yml)(-.)"',
    FILE: "_files",
    NONE: " ",
}


def _zsh_text(text: str) -> str:
    """Return help text safe inside an _arguments spec: [description] within single quotes."""
    first = text.split("; ")[0].replace("\n", " ")
    escaped = first.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
    return escaped.replace("'", "'\\''")


def _zsh_spec(opt: Option) -> str:
    help_text = _zsh_text(opt.help)
    if opt.kind is None:
        exclusive = "(- *)" if {"--version", "-h", "--help"} & set(opt.flags) else ""
        flags = opt.flags[0] if len(opt.flags) == 1 else "{" + ",".join(opt.flags) + "}"
        excl = f"({' '.join(opt.flags)})" if len(opt.flags) > 1 and not exclusive else exclusive
        return f"'{excl}'{flags}'[{help_text}]'" if len(opt.flags) > 1 else f"'{excl}{flags}[{help_text}]'"
    action = f"({' '.join(opt.words)})" if opt.kind == WORDS else _ZSH_KIND[opt.kind]
    return f"'{opt.flags[-1]}=[{help_text}]:{opt.metavar.lower()}:{action}'"


def render_zsh(commands: list[Command]) -> str:
    """Return a zsh completion function for `netagent` (the file `_netagent` on $fpath)."""
    top, subs = commands[0], commands[1:]
    lines = [
        "#compdef netagent",
        "# zsh completion for netagent(8). GENERATED from netagent's argparse parser by",
        "# netagent.app.completion (scripts/generate-docs): do not edit by hand.",
        "",
        "_netagent_commands() {",
        "  local -a commands",
        "  commands=(",
        *(f"    '{c.name}:{_zsh_text(c.help)}'" for c in subs),
        "  )",
        "  _describe -t commands 'netagent command' commands",
        "}",
        "",
        "_netagent() {",
        "  local curcontext=$curcontext state line",
        "  typeset -A opt_args",
        "  _arguments -C \\",
        *(f"    {_zsh_spec(opt)} \\" for opt in top.options),
        "    '1:command:_netagent_commands' \\",
        "    '*::arg:->args'",
        "  [[ $state == args ]] || return",
        "  curcontext=${curcontext%:*:*}:netagent-$line[1]:",
        "  case $line[1] in",
    ]
    for cmd in subs:
        lines.append(f"    ({cmd.name})")
        lines.append("      _arguments \\")
        specs = [_zsh_spec(opt) for opt in cmd.options]
        for pos in cmd.positionals:
            action = _ZSH_KIND.get(pos.kind or NONE, " ")
            specs.append(f"'1:{pos.metavar.lower()}:{action}'")
        lines += [f"        {spec} \\" for spec in specs[:-1]] + [f"        {specs[-1]}", "      ;;"]
    lines += ["  esac", "}", "", '_netagent "$@"', ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the bash or zsh completion script: `python -m netagent.app.completion bash|zsh`."""
    from netagent.cli import build_parser

    args = sys.argv[1:] if argv is None else argv
    render = {"bash": render_bash, "zsh": render_zsh}.get(args[0] if len(args) == 1 else "")
    if render is None:
        print("usage: python -m netagent.app.completion bash|zsh", file=sys.stderr)
        return 2
    sys.stdout.write(render(describe(build_parser())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
