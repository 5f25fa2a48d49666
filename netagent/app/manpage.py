"""The netagent(8) manual page, generated from the CLI's argparse parser (issue 15).

Rendered from `netagent.cli.build_parser()` by `scripts/generate-docs` into share/man/netagent.8;
a unit test regenerates it and compares, so the page cannot fall behind the options. The exit
codes come from `errors.ExitCode` (a test checks each member has its sentence here).
"""

from __future__ import annotations

import sys

from netagent import __version__
from netagent.app.completion import Command, Option, describe
from netagent.core.errors import ExitCode

# One sentence per exit code: the README's "Exit codes" table, in code order.
EXIT_CODES = {
    ExitCode.OK: "compliant, or applied and compliant",
    ExitCode.DRIFT: "audit found drift, or apply left checks it cannot fix; status: no daemon running",
    ExitCode.BAD_INPUT: "bad profile, bad arguments or an unreadable file (the message names file, line and field)",
    ExitCode.APPLY_FAILED: "a change failed; this run's changes were rolled back",
    ExitCode.UNSAFE: "cannot proceed safely: the state lock is held, or the state file is corrupt",
    ExitCode.INTERNAL: "a bug (EX_SOFTWARE); run again with --debug for the traceback",
    ExitCode.OUTPUT: "the report could not be written (EX_IOERR: a full disk, a closed pipe)",
}

FILES = (
    ("/etc/netagent/profile.yaml", "the profile used when --profile is not given (else the packaged ec2-default)"),
    ("/var/lib/netagent", "the state directory: recorded originals, the lock and the daemon's status.json"),
    ("netagent.service", "the systemd unit that runs `netagent daemon`"),
)


def _roff(text: str) -> str:
    """Escape text for roff: backslashes, and a leading dot or quote that would read as a request."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def _usage(opt: Option) -> str:
    flags = ", ".join(f"\\fB{_roff(flag)}\\fR" for flag in opt.flags)
    if opt.kind is None:
        return flags
    value = "{" + ",".join(opt.words) + "}" if opt.words else opt.metavar
    return f"{flags} \\fI{_roff(value)}\\fR"


def _options(options: list[Option]) -> list[str]:
    lines = []
    for opt in options:
        if not opt.help:
            continue  # a positional without help is in the synopsis line above
        lines += [".TP", _usage(opt), _roff(opt.help[:1].upper() + opt.help[1:]) + "."]
    return lines


def render_man(commands: list[Command]) -> str:
    """Return netagent(8) in man(7) roff."""
    top, subs = commands[0], commands[1:]
    common = {opt.flags for opt in top.options}
    lines = [
        ".\\\" netagent(8). GENERATED from netagent's argparse parser by netagent.app.manpage",
        '.\\" (scripts/generate-docs): do not edit by hand.',
        f'.TH NETAGENT 8 "" "netagent {__version__}" "System Administration"',
        ".SH NAME",
        "netagent \\- audit and apply a network tuning profile on EC2 Linux hosts",
        ".SH SYNOPSIS",
        ".B netagent",
        "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fICOMMAND OPTIONS\\fR]",
        ".SH DESCRIPTION",
        _roff(top.description),
        "The options under",
        ".B OPTIONS",
        "are accepted before or after the command.",
        ".SH COMMANDS",
    ]
    for cmd in subs:
        positionals = " ".join(f"\\fI{_roff(p.metavar)}\\fR" for p in cmd.positionals)
        lines += [".SS " + f'"{cmd.name}"', f"\\fBnetagent {cmd.name}\\fR [\\fIoptions\\fR] {positionals}".rstrip()]
        lines += [".PP", _roff(cmd.description)]
        own = [opt for opt in cmd.options if opt.flags not in common]
        lines += _options([*cmd.positionals, *own])
    lines += [".SH OPTIONS", *_options(list(top.options))]
    lines += [".SH EXIT STATUS"]
    for code in sorted(ExitCode, key=int):
        lines += [".TP", f"\\fB{int(code)}\\fR", _roff(EXIT_CODES[code]) + "."]
    lines += [".SH FILES"]
    for path, what in FILES:
        lines += [".TP", f"\\fI{_roff(path)}\\fR", _roff(what) + "."]
    lines += [
        ".SH ENVIRONMENT",
        ".TP",
        ".B COLUMNS",
        "Width of the help text.",
        ".SH SEE ALSO",
        ".BR systemd.exec (5),",
        ".BR systemd.link (5),",
        ".BR sysctl.d (5),",
        ".BR ethtool (8)",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Print netagent(8): `python -m netagent.app.manpage`."""
    from netagent.cli import build_parser

    sys.stdout.write(render_man(describe(build_parser())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
