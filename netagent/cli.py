"""The `netagent` command: parse arguments, wire the core to the adapters, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netagent import DEFAULT_STATE_DIR, __version__
from netagent.app import logs
from netagent.core.ec2 import Ec2Lookup
from netagent.core.errors import ExitCode, NetagentError, OutputError, UsageError
from netagent.core.model import BAKE, RUNTIME, AuditContext, Plan, Profile, Report
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Any, TextIO

    from netagent.app.ports import Host

# Operators drop their own profile here; otherwise the packaged EC2 default applies.
SYSTEM_PROFILE = "/etc/netagent/profile.yaml"
DEFAULT_PROFILE_NAME = "ec2-default.yaml"

log = logs.get_logger()


def default_profile_path(root: str = "/") -> str:
    """Return ROOT/etc/netagent/profile.yaml when present, else the packaged ec2-default profile.

    With an image root (`audit --root IMG`), the image's own profile is the one that matters (issue 16).
    """
    image_profile = os.path.join(root, SYSTEM_PROFILE.lstrip("/"))
    if os.path.exists(image_profile):
        return image_profile
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "profiles", DEFAULT_PROFILE_NAME)  # wheel: netagent/profiles/
    checkout = os.path.join(os.path.dirname(here), "profiles", DEFAULT_PROFILE_NAME)  # source tree, editable
    return installed if os.path.exists(installed) else checkout


def _english_argparse() -> None:
    """Let argparse's own words (`usage:`, `options`...) be English without asking gettext.

    argparse passes each of them through gettext's default `messages` domain, which netagent
    never binds (its own output is English): every lookup searches the locale directories, and the
    first one imports `locale`, 2 ms of a one-shot audit's 35 (issue 12). An unrelated
    `messages.mo` could otherwise translate argparse's half of a help screen.
    """
    import gettext

    if getattr(argparse, "_", None) is gettext.gettext:
        argparse._ = str  # type: ignore[attr-defined]  # str(text) is the text itself


_english_argparse()


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that sizes help to the terminal once, without importing shutil.

    argparse makes a HelpFormatter for every add_argument, and each asks shutil (3 ms to import,
    with bz2 and lzma) for the terminal size: about half the cost of a one-shot audit's parser
    (issue 8). The width is the one shutil.get_terminal_size() gives (COLUMNS, else the tty, else 80).
    """

    def _get_formatter(self) -> argparse.HelpFormatter:
        return self.formatter_class(prog=self.prog, width=_help_width())  # type: ignore[call-arg]  # HelpFormatter takes width


_width: list[int] = []


def _help_width() -> int:
    if not _width:
        try:
            columns = int(os.environ.get("COLUMNS", "0"))
        except ValueError:
            columns = 0
        if columns <= 0:
            stdout = sys.__stdout__
            try:
                columns = os.get_terminal_size(stdout.fileno()).columns if stdout is not None else 0
            except (AttributeError, ValueError, OSError):
                columns = 0
        _width.append((columns if columns > 0 else 80) - 2)  # HelpFormatter's own margin
    return _width[0]


class _Unused:
    """Stands in for the parser of a subcommand that is not being run: takes its arguments, keeps nothing."""

    def add_argument(self, *args: object, **kwargs: object) -> None:
        """Ignore an argument."""

    def add_mutually_exclusive_group(self, **kwargs: object) -> _Unused:
        """Return itself: a group of arguments to ignore."""
        return self

    def add_argument_group(self, *args: object, **kwargs: object) -> _Unused:
        """Return itself: a group of arguments to ignore."""
        return self


# Options of the top-level parser that take a value (`--state-dir DIR`), to find the command word.
_VALUE_OPTIONS = ("--log-format", "--log-level", "--state-dir", "--lock-timeout-s", "--color")


def command_of(argv: Sequence[str]) -> str | None:
    """Return the subcommand argv names, when that is certain; None when help, the version,
    an abbreviated or unknown option, or no known command word comes first."""
    expect_value = False
    for word in argv:
        if expect_value:
            expect_value = False
        elif word in _VALUE_OPTIONS:
            expect_value = True
        elif word == "--debug" or (word.startswith(_VALUE_OPTIONS) and "=" in word):
            continue
        elif word.startswith("-"):
            return None  # -h, --version, an abbreviation or a mistake: argparse decides with every subcommand
        else:
            return word if word in COMMANDS else None
    return None


def _add_global_options(target: Any, default: object, shown: Collection[str] | None = None) -> None:
    """Add the options every command takes to a parser or an argument group.

    `default` is SUPPRESS for the subcommands' copies, so a value given before the command is
    never overwritten. Options a command ignores are still accepted after it (scripts pass
    --state-dir to every command) but left out of its help (`shown`; None shows all).
    """

    def d(value: object) -> object:
        return value if default is None else default

    def h(option: str, text: str) -> str:
        return text if shown is None or option in shown else argparse.SUPPRESS

    target.add_argument(
        "--log-format",
        choices=("console", "json"),
        default=d(None),
        help=h("--log-format", "log renderer (default: console on a terminal, else json)"),
    )
    target.add_argument(
        "--log-level",
        choices=tuple(logs.LEVELS),
        default=d(None),
        help=h(
            "--log-level",
            "least level logged to stderr (default: info for writes, but warning when a terminal shows the report)",
        ),
    )
    target.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=d("auto"),
        help=h("--color", "colour statuses in text reports (default: auto: on a terminal, unless NO_COLOR is set)"),
    )
    target.add_argument(
        "--debug", action="store_true", default=d(False), help=h("--debug", "show a traceback on an internal error")
    )
    target.add_argument(
        "--state-dir",
        metavar="DIR",
        default=d(DEFAULT_STATE_DIR),
        help=h("--state-dir", f"originals, locks and the daemon's status (default: {DEFAULT_STATE_DIR})"),
    )
    target.add_argument(
        "--insecure-profile",
        action="store_true",
        default=d(False),
        help=h(
            "--insecure-profile",
            "use a profile even if others can write it or it is not owned by root or you (tests, image bakes)",
        ),
    )
    target.add_argument(
        "--lock-timeout-s",
        metavar="S",
        type=float,
        default=d(30.0),
        help=h("--lock-timeout-s", "wait at most S seconds for the state lock (default: 30)"),
    )


_LOG_OPTIONS = ("--log-format", "--log-level", "--debug")
# The global options each command reads; the others are accepted after it but not shown in its help.
GLOBALS_USED: dict[str, tuple[str, ...]] = {
    "validate": ("--debug", "--insecure-profile"),
    "audit": (*_LOG_OPTIONS, "--color", "--insecure-profile"),
    "plan": (*_LOG_OPTIONS, "--insecure-profile"),
    "apply": (*_LOG_OPTIONS, "--color", "--state-dir", "--insecure-profile", "--lock-timeout-s"),
    "restore": (*_LOG_OPTIONS, "--state-dir", "--lock-timeout-s"),
    "persist": (*_LOG_OPTIONS, "--insecure-profile"),
    "daemon": (*_LOG_OPTIONS, "--state-dir", "--lock-timeout-s"),
    "status": ("--debug", "--state-dir"),
    "fleet-report": _LOG_OPTIONS,
}
_BAD_INPUT = "  2   bad profile or arguments (file:line: field)"
_INTERNAL = "  70  internal error (a bug): run again with --debug"
_UNSAFE = "  4   state directory locked, unsafe or corrupt"
# Each command's exit codes (netagent.core.errors.ExitCode) and an example, shown after its options.
EPILOGS: dict[str, str] = {
    "validate": "\n".join(
        [
            "exit codes:",
            "  0   the profile is valid",
            _BAD_INPUT,
            _INTERNAL,
            "",
            "example:",
            "  netagent validate profiles/ec2-default.yaml",
        ]
    ),
    "audit": "\n".join(
        [
            "exit codes:",
            "  0   compliant",
            "  1   drift (required checks; every check with --strict)",
            _BAD_INPUT,
            _INTERNAL,
            "  74  the report could not be written",
            "",
            "examples:",
            "  netagent audit --failures",
            "  netagent audit --format json --no-imds | jq .summary",
        ]
    ),
    "plan": "\n".join(
        [
            "exit codes:",
            "  0   the plan was printed",
            _BAD_INPUT,
            _INTERNAL,
            "",
            "example:",
            "  netagent plan --root /mnt/image",
        ]
    ),
    "apply": "\n".join(
        [
            "exit codes:",
            "  0   applied, and the host is compliant",
            "  1   drift left that apply cannot fix (driver, read-only sysctl)",
            _BAD_INPUT,
            "  3   a change failed: this run's changes were rolled back",
            "  4   state locked or unsafe, or a daemon runs another profile (see --force)",
            _INTERNAL,
            "",
            "examples:",
            "  netagent apply --dry-run",
            "  netagent apply --profile /etc/netagent/profile.yaml",
        ]
    ),
    "restore": "\n".join(
        [
            "exit codes:",
            "  0   every original is back (or none was recorded)",
            "  1   some originals stay recorded (gone or unreadable settings)",
            "  3   a write failed: this run's changes were rolled back",
            "  4   state locked or unsafe, or the daemon runs (stop it, or --force)",
            _INTERNAL,
            "",
            "examples:",
            "  netagent restore --dry-run",
            "  systemctl stop netagent && netagent restore",
        ]
    ),
    "persist": "\n".join(
        [
            "exit codes:",
            "  0   written (or already up to date)",
            _BAD_INPUT,
            _INTERNAL,
            "",
            "example:",
            "  netagent persist --root /mnt/image --dry-run",
        ]
    ),
    "daemon": "\n".join(
        [
            "exit codes:",
            "  0   stopped by SIGTERM or SIGINT",
            _BAD_INPUT,
            "  3   the start-up apply failed and was rolled back",
            "  4   another daemon runs on this state directory, or the state is unsafe",
            _INTERNAL,
            "",
            "example:",
            "  netagent daemon --profile /etc/netagent/profile.yaml  # in the foreground",
        ]
    ),
    "status": "\n".join(
        [
            "exit codes:",
            "  0   the daemon runs",
            "  1   it does not",
            _UNSAFE,
            _INTERNAL,
            "",
            "example:",
            "  netagent status --format json | jq .last_reload",
        ]
    ),
    "fleet-report": "\n".join(
        [
            "exit codes:",
            "  0   every host's audit is compliant",
            "  1   some host's is not",
            "  2   no file is a netagent JSON audit, or bad arguments",
            _INTERNAL,
            "  74  the report could not be written",
            "",
            "example:",
            "  netagent fleet-report --format html --output fleet.html audits/",
        ]
    ),
}
TOP_EPILOG = """exit codes: 0 compliant, 1 drift, 2 bad input, 3 apply failed (rolled back), 4 locked or unsafe,
70 internal error, 74 output not written; each command's --help lists its own.

examples:
  netagent audit --failures
  netagent apply --dry-run
  netagent validate --help"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand, or of `only` that one.

    Building the parsers of commands that are not run costs a one-shot audit about 5 ms
    (issue 8); main() builds just the named command's parser when argv names it plainly,
    so help, errors and parsing are the full parser's.
    """
    built: dict[str, argparse.ArgumentParser] = {}

    def add(name: str, **kwargs: Any) -> Any:
        if only not in (None, name):
            return _Unused()
        built[name] = sub.add_parser(
            name, epilog=EPILOGS[name], formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs
        )
        return built[name]

    # The same options are accepted before and after the subcommand: each subcommand's help lists
    # its own options first, then the global ones it reads once, under their own heading.
    parser = _Parser(
        prog="netagent",
        description="Audit and apply a network tuning profile on this host.",
        epilog=TOP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"netagent {__version__}")
    _add_global_options(parser.add_argument_group("global options (before or after the command)"), None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = add(
        "validate",
        help="check a profile without touching the host",
        description="Check a profile; exit 0 if valid, 2 with one line per problem if not.",
    )
    p.add_argument("profile", metavar="PROFILE", help="the profile file to check")

    p = add(
        "audit",
        help="compare the host with a profile",
        description="Compare the host with a profile; exit 0 compliant, 1 drift.",
    )
    _add_scan_options(p, REPORT_FORMATS)
    p.add_argument(
        "--phase",
        choices=(BAKE, RUNTIME),
        default=RUNTIME,
        help="bake skips checks marked `when: runtime` (default: runtime, checks everything)",
    )
    p.add_argument("--strict", action="store_true", help="fail on any drift, recommended checks included")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--only",
        metavar="STATUSES",
        type=_statuses,
        help=f"show only checks of these statuses, comma-separated ({','.join(STATUSES)}); the summary counts all",
    )
    shown.add_argument(
        "--failures",
        dest="only",
        action="store_const",
        const=frozenset(("drift", "error")),
        help="show only what needs attention: --only drift,error",
    )
    p.add_argument("--output", metavar="FILE", help="write the report to FILE atomically instead of stdout")
    _add_imds_options(p)

    p = add(
        "plan",
        help="show what apply would change, and who would change it back at boot",
        description="Print the changes apply would make as a diff, each with the owners that would revert it at boot.",
    )
    _add_scan_options(p, ("text", "json"))
    _add_imds_options(p)

    p = add(
        "apply",
        help="change what drifted, all or nothing",
        description="Change only what drifted; on any failure undo this run's changes and exit 3.",
    )
    _add_profile_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _add_force_option(p, "apply another profile than the running daemon's (the daemon heals back to its own)")
    _add_imds_options(p)

    p = add(
        "restore",
        help="put back every value netagent changed",
        description="Restore every recorded original value (MTU, channels, sysctls) and clear the state.",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be restored and change nothing")
    p.add_argument(
        "--forget-gone",
        action="store_true",
        help="forget the originals of interfaces or keys that no longer exist (hot-unplugged ENIs)",
    )
    _add_force_option(p, "restore while the daemon runs (it heals the values back)")

    p = add(
        "persist",
        help="write boot-time configuration (sysctl.d, .link files, unit) under a root",
        description="Write the files that make the profile hold at every boot of an image built from ROOT;"
        " only changed files are written.",
    )
    _add_profile_option(p)
    p.add_argument("--root", metavar="DIR", required=True, help="root of the image's file system (/ on a live host)")
    p.add_argument("--dry-run", action="store_true", help="list the files that would change and write nothing")

    p = add(
        "daemon",
        help="apply the profile, then heal drift as it happens",
        description="Apply the profile like `apply`, then watch link events and resync periodically, healing drift.",
    )
    _add_profile_option(p)
    p.add_argument(
        "--resync-s", metavar="N", type=_positive_float, default=60.0, help="full re-read every N seconds (default: 60)"
    )
    p.add_argument(
        "--textfile-dir",
        metavar="DIR",
        help="write Prometheus metrics to DIR/netagent.prom at every resync and heal (node_exporter's"
        " --collector.textfile.directory; default: off)",
    )
    _add_imds_options(p)

    p = add(
        "status",
        help="show what the daemon healed, and when",
        description="Print the daemon's status file (pid, last resync, heals per check, contested checks).",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")

    p = add(
        "fleet-report",
        help="merge many hosts' JSON audits into one fleet summary",
        description="Merge `audit --format json` files (and directories of *.json) into one summary: compliance"
        " by profile, the checks that drift most, hosts by failures, owners that fight, ENA allowance hot spots;"
        " other files are listed as skipped with the reason.",
    )
    p.add_argument("paths", metavar="FILE|DIR", nargs="+", help="audit JSON files, or directories holding them")
    p.add_argument("--format", choices=("text", "json", "html"), default="text", help="output format (default: text)")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE atomically instead of stdout")
    p.add_argument("--top", metavar="N", type=int, default=20, help="text: rows per list (default: 20)")
    for name, command in built.items():
        group = command.add_argument_group("global options (also accepted before the command)")
        _add_global_options(group, argparse.SUPPRESS, GLOBALS_USED[name])
    return parser


STATUSES = ("ok", "drift", "error", "unsupported", "skipped")  # netagent.core.model.Status values


def _statuses(text: str) -> frozenset[str]:
    words = frozenset(w.strip() for w in text.split(",") if w.strip())
    unknown = sorted(words - set(STATUSES))
    if unknown or not words:
        raise argparse.ArgumentTypeError(f"expected statuses from {','.join(STATUSES)}, got {text!r}")
    return words


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


REPORT_FORMATS = ("text", "json", "junit", "prometheus")


def _add_imds_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-imds", action="store_true", help="do not ask the EC2 instance metadata service")
    p.add_argument(
        "--imds-endpoint",
        metavar="URL",
        help="IMDS endpoint (default: http://169.254.169.254; IPv6-only instances: http://[fd00:ec2::254])",
    )


def _add_force_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--force", action="store_true", help=f"{what}; without it: exit 4 while a daemon runs")


def _add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile", metavar="P", help=f"profile file (default: {SYSTEM_PROFILE}, else the packaged ec2-default)"
    )


def _add_scan_options(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """Add --profile, --format and --root: what audit and plan read, and how they print it."""
    _add_profile_option(p)
    p.add_argument("--format", choices=formats, default="text", help="output format (default: text)")
    p.add_argument(
        "--root",
        metavar="DIR",
        default="/",
        help="read sysctl.d, networkd, NetworkManager and TuneD files under DIR (an image root; default: /)",
    )


def instance_facts(args: argparse.Namespace) -> Ec2Lookup:
    """Ask IMDSv2 for the instance facts, unless --no-imds (netagent.app.audit.lookup_instance).

    Raises:
        UsageError: --imds-endpoint is not an http://HOST[:PORT] URL.
    """
    from netagent.app.audit import lookup_instance

    return lookup_instance(getattr(args, "no_imds", False), getattr(args, "imds_endpoint", None))


def system_host() -> Host:
    """Return the real host adapters (tests replace this with a fake)."""
    from netagent.host.system import SystemHost

    return SystemHost()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser(only=command_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    # An interface name need not be UTF-8: os.listdir() keeps its bad bytes as lone surrogates,
    # which strict stdout cannot encode. Print them escaped (\udcff), as stderr does (issue 9).
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    from netagent.core.reports.colour import use_colour

    args.colour = use_colour(args.color, _isatty(sys.stdout), os.environ)
    default_level = default_log_level(args.command, getattr(args, "dry_run", False), _isatty(sys.stdout))
    logs.configure(
        level=args.log_level or default_level, json=None if args.log_format is None else args.log_format == "json"
    )
    real_stdout, sys.stdout = sys.stdout, _Stdout(sys.stdout)
    try:
        code = int(COMMANDS[args.command](args))
        sys.stdout.flush()  # surface a full disk or a closed pipe here, not at interpreter exit
        return code
    except OutputError as exc:
        _silence(real_stdout)
        print(f"netagent: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except NetagentError as exc:
        for line in exc.lines():
            print(f"netagent: error: {line}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception:
        if args.debug:
            raise
        print("netagent: internal error (a bug); run again with --debug for the traceback", file=sys.stderr)
        return int(ExitCode.INTERNAL)
    finally:
        sys.stdout = real_stdout


def default_log_level(command: str, dry_run: bool, stdout_is_tty: bool) -> str:
    """Return the level logged to stderr when --log-level is not given.

    A write logs each change as an info event (the record journald or a log file keeps). On a
    terminal, `apply` and `restore` already print each change on stdout, so the events would say
    everything twice (issue 15): there they log warnings and errors only, and `--log-level info`
    brings the events back. The daemon has no report: it always logs its writes.
    """
    if command == "daemon":
        return "info"
    if command in ("apply", "restore") and not dry_run and not stdout_is_tty:
        return "info"
    return "warning"


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False


class _Stdout:
    """stdout whose write errors (a full disk, a closed pipe) are OutputError, not a crash."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write to standard output ({exc.strerror or exc})") from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(f"cannot write to standard output ({exc.strerror or exc})") from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _silence(stream: TextIO) -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import contextlib  # here: the audit imports this module and never fails to write (issue 8)

    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _load(args: argparse.Namespace, root: str = "/") -> Profile:
    """Load --profile, else the default under `root` (audit and plan: the image's own, issue 16)."""
    from netagent.host.trust import load_profile

    return load_profile(args.profile or default_profile_path(root), args.insecure_profile)


def _root(args: argparse.Namespace) -> str:
    """Return --root, checked before anything is read.

    Raises:
        UsageError: it is not a directory.
    """
    if not os.path.isdir(args.root):
        raise UsageError(f"--root {args.root}: not a directory")
    return str(args.root)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cmd_validate(args: argparse.Namespace) -> ExitCode:
    """Validate a profile."""
    from netagent.host.trust import load_profile

    profile = load_profile(args.profile, args.insecure_profile)
    rules, keys = len(profile.interfaces), len(profile.sysctls)
    print(
        f"{args.profile}: valid profile {profile.name!r}: {_count(rules, 'interface rule')}, {_count(keys, 'sysctl')}"
    )
    return ExitCode.OK


def cmd_audit(args: argparse.Namespace) -> ExitCode:
    """Audit the host against a profile."""
    import time

    from netagent.app.audit import observe_and_audit
    from netagent.core.exit import exit_code

    started = time.monotonic()
    root = _root(args)
    profile = _load(args, root)
    report = observe_and_audit(system_host(), profile, instance_facts(args), args.phase, root=root, strict=args.strict)
    text = _render(report, args.format, colour=args.colour and not args.output, only=args.only)
    if args.output:
        from netagent.host.files import write_atomic

        write_atomic(args.output, text)
        for note in report.notes:  # the report went to a file: say its notes where a person looks
            log.warning("audit_note", note=note)
    else:
        sys.stdout.write(text)
    duration_s = round(time.monotonic() - started, 4)
    log.info("audit_finished", compliant=report.compliant, duration_s=duration_s, **report.counts())
    return exit_code(report)


def _render(report: Report, fmt: str, colour: bool = False, only: frozenset[str] | None = None) -> str:
    import importlib

    renderer = importlib.import_module(f"netagent.core.reports.{fmt}")  # fmt is one of REPORT_FORMATS
    options: dict[str, object] = {} if only is None else {"only": only}
    if colour and fmt == "text":
        options["colour"] = True
    if only is not None and fmt not in ("text", "json"):
        raise UsageError(f"--only and --failures apply to the text and json formats, not {fmt}")
    return str(renderer.render(report, **options))


def cmd_apply(args: argparse.Namespace) -> ExitCode:
    """Change what drifted, as one transaction, holding the state directory's lock."""
    from netagent.core.exit import exit_code

    profile = _load(args)
    ec2 = instance_facts(args)
    if not args.dry_run:
        from netagent.app.exclusive import refuse_while_daemon_runs

        refuse_while_daemon_runs(args.state_dir, "apply", args.force, args.profile or default_profile_path())
    host = system_host()
    try:
        if args.dry_run:
            from netagent.app.audit import observe_and_audit
            from netagent.core.diff import plan as make_plan

            plan = make_plan(list(observe_and_audit(host, profile, ec2).checks))
            _write_plan(plan, args.format, dry_run=True, after=None)
            return ExitCode.OK
        from netagent.app.apply import apply_profile
        from netagent.host.statefile import StateDir

        plan, after = apply_profile(host, profile, ec2, StateDir(args.state_dir), args.lock_timeout_s)
    finally:
        host.close()
    _write_plan(plan, args.format, dry_run=False, after=after, colour=args.colour)
    return exit_code(after)


def _write_plan(plan: Plan, fmt: str, dry_run: bool, after: Report | None, colour: bool = False) -> None:
    from netagent.core.reports import json as json_report
    from netagent.core.reports import text as text_report

    if fmt == "json":
        sys.stdout.write(json_report.render_apply(plan, dry_run, after))
        return
    sys.stdout.write(text_report.render_plan(plan, dry_run))
    if after is not None:
        sys.stdout.write(text_report.summary(after, colour) + "\n")


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    """Print what apply would change and which owners would revert each change at boot."""
    from netagent.app.audit import observe_and_audit
    from netagent.core.diff import plan as make_plan
    from netagent.core.reports import plan as plan_report

    root = _root(args)
    profile = _load(args, root)
    report = observe_and_audit(system_host(), profile, instance_facts(args), root=root)
    plan = make_plan(list(report.checks))
    render = plan_report.render_json if args.format == "json" else plan_report.render_text
    sys.stdout.write(render(report, plan))
    return ExitCode.OK


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    """Put every recorded original back, then forget it."""
    from netagent.app.restore import restore
    from netagent.core.exit import restore_exit_code
    from netagent.core.reports.restore import render_restore

    if not args.dry_run:
        from netagent.app.exclusive import refuse_while_daemon_runs

        refuse_while_daemon_runs(args.state_dir, "restore", args.force)

    from netagent.host.statefile import StateDir

    state, host = StateDir(args.state_dir), system_host()
    try:
        todo = restore(host, state, args.dry_run, args.forget_gone, args.lock_timeout_s)
    finally:
        host.close()
    sys.stdout.write(render_restore(todo, state.path, args.dry_run, args.forget_gone))
    return restore_exit_code(todo, args.forget_gone)


def cmd_persist(args: argparse.Namespace) -> ExitCode:
    """Write the profile's boot-time configuration under --root."""
    from netagent.app.persist import persist
    from netagent.host.trust import read_profile_text

    path = args.profile or default_profile_path()
    profile = _load(args)
    text = read_profile_text(path, args.insecure_profile)  # the copy is checked like the parse
    actions, notes = persist(profile, text, args.root, args.dry_run)
    for action, rel in actions:
        print(f"{action} {rel}")
        if action in ("written", "removed"):
            log.info("file_persisted", path=os.path.join(args.root, rel), action=action)
    for note in notes:
        print(f"note: {note}")
    return ExitCode.OK


def cmd_daemon(args: argparse.Namespace) -> ExitCode:
    """Apply the profile, then heal drift until SIGTERM/SIGINT (exit 0)."""
    from netagent.app.daemon import Daemon
    from netagent.core.ec2 import instance_type
    from netagent.host.daemonlock import DaemonLock

    if args.textfile_dir is not None and not os.path.isdir(args.textfile_dir):
        raise UsageError(f"--textfile-dir {args.textfile_dir}: not a directory")
    lock = DaemonLock(args.state_dir, args.profile or default_profile_path())
    lock.acquire()  # one daemon per state directory, for its whole life; exit 4 at once if taken
    ctx = AuditContext(phase=RUNTIME, instance_type=instance_type(instance_facts(args)))
    daemon = Daemon(
        args.profile or default_profile_path(),
        args.state_dir,
        resync_s=args.resync_s,
        lock_timeout_s=args.lock_timeout_s,
        ctx=ctx,
        host=system_host(),
        textfile_dir=args.textfile_dir,
    )
    try:
        return ExitCode(daemon.run())
    finally:
        lock.release()


def cmd_status(args: argparse.Namespace) -> ExitCode:
    """Print the daemon's status file; exit 0 when the daemon runs, 1 when it does not."""
    import json

    from netagent.app.status import daemon_status
    from netagent.core.reports.status import render_status_text
    from netagent.host.statusfile import status_path

    doc, alive = daemon_status(args.state_dir)
    if doc is None:
        if args.format == "json":
            print(json.dumps({"alive": False, "running": False, "path": status_path(args.state_dir)}, indent=2))
        else:
            print(f"no daemon status: {status_path(args.state_dir)} does not exist")
    elif args.format == "json":
        print(json.dumps({**doc, "alive": alive}, indent=2))
    else:
        sys.stdout.write(render_status_text(doc, alive))
    return ExitCode.OK if alive else ExitCode.DRIFT


def cmd_fleet_report(args: argparse.Namespace) -> ExitCode:
    """Merge many hosts' JSON audits into one summary; exit 1 when a host is not compliant."""
    from netagent.app.fleet_report import collect, render

    summary, files = collect(args.paths)
    if not summary.hosts:
        raise UsageError(f"no netagent JSON audit among {_count(files, 'file')} ({len(summary.skipped)} skipped)")
    text = render(summary, args.format, files, args.top)
    if args.output:
        from netagent.host.files import write_atomic

        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    log.info("fleet_report_finished", hosts=len(summary.hosts), skipped=len(summary.skipped), files=files)
    return ExitCode.OK if summary.compliant == len(summary.hosts) else ExitCode.DRIFT


COMMANDS = {
    "validate": cmd_validate,
    "audit": cmd_audit,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "restore": cmd_restore,
    "persist": cmd_persist,
    "daemon": cmd_daemon,
    "status": cmd_status,
    "fleet-report": cmd_fleet_report,
}
