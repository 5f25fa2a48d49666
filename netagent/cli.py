"""The `netagent` command: parse arguments, wire the core to the adapters, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netagent import __version__
from netagent.app import logs
from netagent.core.ec2 import Ec2Lookup, Ec2Unavailable
from netagent.core.errors import ExitCode, NetagentError, OutputError, UsageError
from netagent.core.model import BAKE, RUNTIME, AuditContext, Plan, Profile, Report
from netagent.core.value import TYPE_CHECKING
from netagent.host.statefile import DEFAULT_STATE_DIR, StateDir

if TYPE_CHECKING:
    from typing import Any, TextIO

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


# Options of the top-level parser that take a value (`--state-dir DIR`), to find the command word.
_VALUE_OPTIONS = ("--log-format", "--log-level", "--state-dir", "--lock-timeout-s")


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


def _common_options(default: object) -> argparse.ArgumentParser:
    """Return the options every command takes; `default` is SUPPRESS for the subcommands' copies."""

    def d(value: object) -> object:
        return value if default is None else default

    common = _Parser(add_help=False)
    common.add_argument(
        "--log-format",
        choices=("console", "json"),
        default=d(None),
        help="log renderer (default: console on a terminal, else json)",
    )
    common.add_argument("--log-level", choices=tuple(logs.LEVELS), default=d(None), help="least level logged to stderr")
    common.add_argument("--debug", action="store_true", default=d(False), help="show a traceback on an internal error")
    common.add_argument(
        "--state-dir",
        metavar="DIR",
        default=d(DEFAULT_STATE_DIR),
        help=f"originals and lock (default: {DEFAULT_STATE_DIR})",
    )
    common.add_argument(
        "--insecure-profile",
        action="store_true",
        default=d(False),
        help="use a profile even if others can write it or it is not owned by root or you (tests, image bakes)",
    )
    common.add_argument(
        "--lock-timeout-s",
        metavar="S",
        type=float,
        default=d(30.0),
        help="wait at most S seconds for the lock (default: 30)",
    )
    return common


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand, or of `only` that one.

    Building the parsers of commands that are not run costs a one-shot audit about 5 ms
    (issue 8); main() builds just the named command's parser when argv names it plainly,
    so help, errors and parsing are the full parser's.
    """

    def add(name: str, **kwargs: Any) -> Any:
        return sub.add_parser(name, **kwargs) if only in (None, name) else _Unused()

    # The same options are accepted before and after the subcommand. The subcommands' copies
    # default to SUPPRESS, so they never overwrite a value given before the subcommand.
    top, common = _common_options(None), _common_options(argparse.SUPPRESS)

    parser = _Parser(
        prog="netagent", description="Audit and apply a network tuning profile on this host.", parents=[top]
    )
    parser.add_argument("--version", action="version", version=f"netagent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = add(
        "validate",
        parents=[common],
        help="check a profile without touching the host",
        description="Check a profile; exit 0 if valid, 2 with one line per problem if not.",
    )
    p.add_argument("profile", metavar="PROFILE")

    p = add(
        "audit",
        parents=[common],
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
    p.add_argument("--output", metavar="FILE", help="write the report to FILE atomically instead of stdout")
    _add_imds_options(p)

    p = add(
        "plan",
        parents=[common],
        help="show what apply would change, and who would change it back at boot",
        description="Print the changes apply would make as a diff, each with the owners that would revert it at boot.",
    )
    _add_scan_options(p, ("text", "json"))
    _add_imds_options(p)

    p = add(
        "apply",
        parents=[common],
        help="change what drifted, all or nothing",
        description="Change only what drifted; on any failure undo this run's changes and exit 3.",
    )
    _add_profile_option(p)
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _add_imds_options(p)

    p = add(
        "restore",
        parents=[common],
        help="put back every value netagent changed",
        description="Restore every recorded original value (MTU, channels, sysctls) and clear the state.",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be restored and change nothing")
    p.add_argument(
        "--forget-gone",
        action="store_true",
        help="forget the originals of interfaces or keys that no longer exist (hot-unplugged ENIs)",
    )

    p = add(
        "persist",
        parents=[common],
        help="write boot-time configuration (sysctl.d, .link files, unit) under a root",
        description="Write the files that make the profile hold at every boot of an image built from ROOT;"
        " only changed files are written.",
    )
    _add_profile_option(p)
    p.add_argument("--root", metavar="DIR", required=True, help="root of the image's file system (/ on a live host)")
    p.add_argument("--dry-run", action="store_true", help="list the files that would change and write nothing")

    p = add(
        "daemon",
        parents=[common],
        help="apply the profile, then heal drift as it happens",
        description="Apply the profile like `apply`, then watch link events and resync periodically, healing drift.",
    )
    _add_profile_option(p)
    p.add_argument(
        "--resync-s", metavar="N", type=_positive_float, default=60.0, help="full re-read every N seconds (default: 60)"
    )
    _add_imds_options(p)

    p = add(
        "status",
        parents=[common],
        help="show what the daemon healed, and when",
        description="Print the daemon's status file (pid, last resync, heals per check, contested checks).",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return parser


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
    """Ask IMDSv2 for the instance facts, unless --no-imds; never raises for an absent IMDS.

    Off EC2 (by DMI and hypervisor ids, read without any network) no request is sent unless
    --imds-endpoint names an endpoint explicitly.

    Raises:
        UsageError: --imds-endpoint is not an http://HOST[:PORT] URL.
    """
    if getattr(args, "no_imds", False):
        return None
    from netagent.core.ec2 import is_ec2
    from netagent.host.platform import read_platform_ids

    endpoint = getattr(args, "imds_endpoint", None)
    if endpoint is None and not is_ec2(read_platform_ids()):
        return Ec2Unavailable("not an EC2 instance (DMI and hypervisor ids); no IMDS request sent")
    from netagent.host import imds  # http.client: imported only when IMDS is asked

    endpoint = endpoint or imds.DEFAULT_ENDPOINT
    try:
        imds.parse_endpoint(endpoint)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    found = imds.lookup(endpoint)
    if isinstance(found, Ec2Unavailable):
        log.warning("imds_unavailable", endpoint=endpoint, reason=found.reason)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser(only=command_of(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    # An interface name need not be UTF-8: os.listdir() keeps its bad bytes as lone surrogates,
    # which strict stdout cannot encode. Print them escaped (\udcff), as stderr does (issue 9).
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")
    writes = args.command in ("apply", "restore", "daemon") and not getattr(args, "dry_run", False)
    default_level = "info" if writes else "warning"
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


def observe_and_audit(
    profile: Profile,
    ec2: Ec2Lookup = None,
    phase: str = RUNTIME,
    root: str | None = None,
    strict: bool = False,
) -> Report:
    """Read the host and compare it with the profile; add ENA health and notes, and with `root`
    the other owners of each setting."""
    from netagent.core.diff import audit
    from netagent.core.ec2 import instance_type
    from netagent.core.notes import report_notes, wants_ena
    from netagent.host.health import read_ena_health, read_macs
    from netagent.host.observe import observe

    globs = tuple(g for rule in profile.interfaces for g in rule.match)
    state = observe(globs, [s.key for s in profile.sysctls])
    healths = read_ena_health(state.links.values())
    macs = read_macs(state.links) if wants_ena(profile) else {}
    notes = report_notes(profile, state, ec2, macs, healths)
    ctx = AuditContext(phase=phase, instance_type=instance_type(ec2))
    checks = audit(profile, state, ctx)
    if root is not None:
        from netagent.core.owners import attach_owners, scan
        from netagent.host.owner_files import read_link_facts, read_owner_files

        facts = read_link_facts(root, state.links)
        checks = attach_owners(checks, state.links, scan(read_owner_files(root)), facts)
    return Report(
        profile=profile,
        host=host_facts(),
        checks=tuple(checks),
        ec2=ec2,
        ena=healths,
        notes=notes,
        strict=strict,
        context=ctx,
    )


def host_facts() -> dict[str, str]:
    """Return the facts that identify this host in a report."""
    uname = os.uname()
    return {"hostname": uname.nodename, "kernel": uname.release}


def cmd_audit(args: argparse.Namespace) -> ExitCode:
    """Audit the host against a profile."""
    root = _root(args)
    profile = _load(args, root)
    report = observe_and_audit(profile, instance_facts(args), args.phase, root=root, strict=args.strict)
    text = _render(report, args.format)
    if args.output:
        from netagent.host.files import write_atomic

        write_atomic(args.output, text)
    else:
        sys.stdout.write(text)
    if args.output:  # the report went to a file: say its notes where a person looks
        for note in report.notes:
            log.warning("audit_note", note=note)
    log.info("audit_finished", compliant=report.compliant, **report.counts())
    return ExitCode.OK if report.compliant else ExitCode.DRIFT


def _render(report: Report, fmt: str) -> str:
    import importlib

    renderer = importlib.import_module(f"netagent.core.reports.{fmt}")  # fmt is one of REPORT_FORMATS
    return str(renderer.render(report))


def cmd_apply(args: argparse.Namespace) -> ExitCode:
    """Change what drifted, as one transaction, holding the state directory's lock."""
    from netagent.core.diff import plan as make_plan

    profile = _load(args)
    ec2 = instance_facts(args)
    if args.dry_run:
        plan = make_plan(list(observe_and_audit(profile, ec2).checks))
        _write_plan(plan, args.format, dry_run=True, after=None)
        return ExitCode.OK
    state = StateDir(args.state_dir)
    with state.lock(args.lock_timeout_s):
        return _apply_locked(args, profile, ec2, state)


def _apply_locked(args: argparse.Namespace, profile: Profile, ec2: Ec2Lookup, state: StateDir) -> ExitCode:
    from netagent.app.apply import apply_plan
    from netagent.core.diff import plan as make_plan
    from netagent.host.guard import PathGuard
    from netagent.host.writer import HostWriter

    plan = make_plan(list(observe_and_audit(profile, ec2).checks))
    if plan.changes:
        with HostWriter() as host, _StopSignals() as stopped:
            guard = PathGuard(profile.guard, host.route_dev) if profile.guard else None
            apply_plan(plan, host, originals=state, guard=guard, should_stop=lambda: bool(stopped))
    after = observe_and_audit(profile, ec2)
    log.info("plan_applied", changes=len(plan.changes), compliant=after.compliant)
    _write_plan(plan, args.format, dry_run=False, after=after)
    return ExitCode.OK if after.compliant else ExitCode.DRIFT


class _StopSignals:
    """While applying, turn SIGTERM/SIGINT into a request to stop between changes (and roll back).

    A class that imports signal on entry, not a @contextlib.contextmanager: the one-shot audit
    imports this module and needs neither contextlib nor signal (2 ms together, issue 8).
    """

    def __enter__(self) -> list[int]:
        import signal

        self.received: list[int] = []
        stop = (signal.SIGTERM, signal.SIGINT)
        self.previous = {sig: signal.signal(sig, lambda signum, frame: self.received.append(signum)) for sig in stop}
        return self.received

    def __exit__(self, *exc: object) -> None:
        import signal

        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _write_plan(plan: Plan, fmt: str, dry_run: bool, after: Report | None) -> None:
    from netagent.core.reports import json as json_report
    from netagent.core.reports import text as text_report

    if fmt == "json":
        sys.stdout.write(json_report.render_apply(plan, dry_run, after))
        return
    sys.stdout.write(text_report.render_plan(plan, dry_run))
    if after is not None:
        sys.stdout.write(text_report.summary(after) + "\n")


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    """Print what apply would change and which owners would revert each change at boot."""
    from netagent.core.diff import plan as make_plan
    from netagent.core.reports import plan as plan_report

    root = _root(args)
    profile = _load(args, root)
    report = observe_and_audit(profile, instance_facts(args), root=root)
    plan = make_plan(list(report.checks))
    render = plan_report.render_json if args.format == "json" else plan_report.render_text
    sys.stdout.write(render(report, plan))
    return ExitCode.OK


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    """Put every recorded original back, then forget it."""
    state = StateDir(args.state_dir)
    if args.dry_run:
        return _restore(state, dry_run=True, forget_gone=args.forget_gone)
    with state.lock(args.lock_timeout_s):
        return _restore(state, dry_run=False, forget_gone=args.forget_gone)


def _restore(state: StateDir, dry_run: bool, forget_gone: bool) -> ExitCode:
    from netagent.app.apply import apply_plan
    from netagent.core.model import Plan
    from netagent.core.restore import restore_changes
    from netagent.host.observe import read_recorded
    from netagent.host.writer import HostWriter

    originals = state.load()
    if not originals:
        print(f"nothing to restore: no originals recorded in {state.path}")
        return ExitCode.OK
    todo = restore_changes(originals, read_recorded(originals))
    if todo.changes and not dry_run:
        with HostWriter() as host, _StopSignals() as stopped:
            apply_plan(Plan(todo.changes), host, should_stop=lambda: bool(stopped))
    would = "would " if dry_run else ""
    for change in todo.changes:
        print(f"would restore {change.describe()}" if dry_run else f"restored {change.describe()}")
    for setting in todo.already:
        print(f"{setting}: already at its original value")
    for setting in todo.gone:
        fate = f"{would}forget its original (--forget-gone)" if forget_gone else "its original stays recorded"
        print(f"{setting}: not restored: the interface or key is gone; {fate}")
    for setting, reason in todo.unreadable:
        print(f"{setting}: not restored: cannot read it ({reason}); its original stays recorded")
    if not dry_run:
        state.forget([c.setting for c in todo.changes] + list(todo.already) + (list(todo.gone) if forget_gone else []))
        log.info("restore_finished", restored=len(todo.changes), already=len(todo.already), gone=len(todo.gone))
    left = todo.unreadable or (todo.gone and not forget_gone)
    return ExitCode.DRIFT if left else ExitCode.OK


def cmd_persist(args: argparse.Namespace) -> ExitCode:
    """Write the profile's boot-time configuration under --root."""
    from netagent.app import persist
    from netagent.host.trust import read_profile_text

    path = args.profile or default_profile_path()
    profile = _load(args)
    files = persist.render(profile)
    files[persist.PROFILE_COPY] = read_profile_text(path, args.insecure_profile)  # checked like the parse
    notes = persist.notes(profile)
    unit = persist.find_unit()
    if unit is None:
        notes.append("the package ships no systemd/netagent.service: the daemon's unit was not written")
    else:
        files[persist.UNIT_PATH], unit_notes = persist.unit_for_this_install(unit)
        notes += unit_notes
    if not os.path.isdir(args.root):
        raise UsageError(f"--root {args.root}: not a directory")
    for action, rel in persist.install(files, args.root, dry_run=args.dry_run):
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

    ctx = AuditContext(phase=RUNTIME, instance_type=instance_type(instance_facts(args)))
    daemon = Daemon(
        args.profile or default_profile_path(),
        args.state_dir,
        resync_s=args.resync_s,
        lock_timeout_s=args.lock_timeout_s,
        ctx=ctx,
    )
    return ExitCode(daemon.run())


def cmd_status(args: argparse.Namespace) -> ExitCode:
    """Print the daemon's status file; exit 0 when the daemon runs, 1 when it does not."""
    import json

    from netagent.core.reports.status import render_status_text
    from netagent.host.statusfile import is_alive, read_status, status_path

    doc = read_status(args.state_dir)
    if doc is None:
        if args.format == "json":
            print(json.dumps({"alive": False, "running": False, "path": status_path(args.state_dir)}, indent=2))
        else:
            print(f"no daemon status: {status_path(args.state_dir)} does not exist")
        return ExitCode.DRIFT
    alive = bool(doc.get("running")) and is_alive(doc.get("pid"))
    if args.format == "json":
        print(json.dumps({**doc, "alive": alive}, indent=2))
    else:
        sys.stdout.write(render_status_text(doc, alive))
    return ExitCode.OK if alive else ExitCode.DRIFT


COMMANDS = {
    "validate": cmd_validate,
    "audit": cmd_audit,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "restore": cmd_restore,
    "persist": cmd_persist,
    "daemon": cmd_daemon,
    "status": cmd_status,
}
