"""The `netagent` command: parse arguments, wire the core to the adapters, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netagent import __version__, logs
from netagent.errors import ExitCode, NetagentError
from netagent.model import Plan, Profile, Report
from netagent.state import DEFAULT_STATE_DIR, StateDir

# Operators drop their own profile here; otherwise the packaged EC2 default applies.
SYSTEM_PROFILE = "/etc/netagent/profile.yaml"
DEFAULT_PROFILE_NAME = "ec2-default.yaml"

log = logs.get_logger()


def default_profile_path() -> str:
    """Return /etc/netagent/profile.yaml when present, else the packaged ec2-default profile."""
    if os.path.exists(SYSTEM_PROFILE):
        return SYSTEM_PROFILE
    here = os.path.dirname(os.path.abspath(__file__))
    installed = os.path.join(here, "profiles", DEFAULT_PROFILE_NAME)  # wheel: netagent/profiles/
    checkout = os.path.join(os.path.dirname(here), "profiles", DEFAULT_PROFILE_NAME)  # source tree, editable
    return installed if os.path.exists(installed) else checkout


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of every subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--log-format", choices=("console", "json"), help="log renderer (default: console on a terminal, else json)"
    )
    common.add_argument("--log-level", choices=tuple(logs.LEVELS), help="least level logged to stderr")
    common.add_argument("--debug", action="store_true", help="show a traceback on an internal error")
    common.add_argument(
        "--state-dir",
        metavar="DIR",
        default=DEFAULT_STATE_DIR,
        help=f"originals and lock (default: {DEFAULT_STATE_DIR})",
    )
    common.add_argument(
        "--lock-timeout-s", metavar="S", type=float, default=30.0, help="wait at most S seconds for the lock"
    )

    parser = argparse.ArgumentParser(
        prog="netagent", description="Audit and apply a network tuning profile on this host.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"netagent {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "validate",
        parents=[common],
        help="check a profile without touching the host",
        description="Check a profile; exit 0 if valid, 2 with one line per problem if not.",
    )
    p.add_argument("profile", metavar="PROFILE")

    p = sub.add_parser(
        "audit",
        parents=[common],
        help="compare the host with a profile",
        description="Compare the host with a profile; exit 0 compliant, 1 drift.",
    )
    p.add_argument(
        "--profile", metavar="P", help=f"profile file (default: {SYSTEM_PROFILE}, else the packaged ec2-default)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")

    p = sub.add_parser(
        "apply",
        parents=[common],
        help="change what drifted, all or nothing",
        description="Change only what drifted; on any failure undo this run's changes and exit 3.",
    )
    p.add_argument(
        "--profile", metavar="P", help=f"profile file (default: {SYSTEM_PROFILE}, else the packaged ec2-default)"
    )
    p.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")

    p = sub.add_parser(
        "restore",
        parents=[common],
        help="put back every value netagent changed",
        description="Restore every recorded original value (MTU, channels, sysctls) and clear the state.",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be restored and change nothing")

    p = sub.add_parser(
        "daemon",
        parents=[common],
        help="apply the profile, then heal drift as it happens",
        description="Apply the profile like `apply`, then watch link events and resync periodically, healing drift.",
    )
    p.add_argument(
        "--profile", metavar="P", help=f"profile file (default: {SYSTEM_PROFILE}, else the packaged ec2-default)"
    )
    p.add_argument(
        "--resync-s", metavar="N", type=_positive_float, default=60.0, help="full re-read every N seconds (default: 60)"
    )

    p = sub.add_parser(
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    writes = args.command in ("apply", "restore", "daemon") and not getattr(args, "dry_run", False)
    default_level = "info" if writes else "warning"
    logs.configure(
        level=args.log_level or default_level, json=None if args.log_format is None else args.log_format == "json"
    )
    try:
        return int(COMMANDS[args.command](args))
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


def _load(args: argparse.Namespace) -> Profile:
    from netagent.profile import load_profile

    return load_profile(args.profile or default_profile_path())


def cmd_validate(args: argparse.Namespace) -> ExitCode:
    """Validate a profile."""
    from netagent.profile import load_profile

    profile = load_profile(args.profile)
    rules, keys = len(profile.interfaces), len(profile.sysctls)
    print(f"{args.profile}: valid profile {profile.name!r}: {rules} interface rules, {keys} sysctls")
    return ExitCode.OK


def observe_and_audit(profile: Profile) -> Report:
    """Read the host and compare it with the profile."""
    from netagent.diff import audit
    from netagent.host.observe import observe

    globs = tuple(g for rule in profile.interfaces for g in rule.match)
    state = observe(globs, [s.key for s in profile.sysctls])
    return Report(profile=profile, host=host_facts(), checks=tuple(audit(profile, state)))


def host_facts() -> dict[str, str]:
    """Return the facts that identify this host in a report."""
    uname = os.uname()
    return {"hostname": uname.nodename, "kernel": uname.release}


def cmd_audit(args: argparse.Namespace) -> ExitCode:
    """Audit the host against a profile."""
    report = observe_and_audit(_load(args))
    _render(report, args.format)
    log.info("audit_finished", compliant=report.compliant, **report.counts())
    return ExitCode.OK if report.compliant else ExitCode.DRIFT


def _render(report: Report, fmt: str) -> None:
    if fmt == "json":
        from netagent.reports import json as renderer
    else:
        from netagent.reports import text as renderer  # type: ignore[no-redef]
    sys.stdout.write(renderer.render(report))


def cmd_apply(args: argparse.Namespace) -> ExitCode:
    """Change what drifted, as one transaction, holding the state directory's lock."""
    from netagent.diff import plan as make_plan

    profile = _load(args)
    if args.dry_run:
        plan = make_plan(list(observe_and_audit(profile).checks))
        _write_plan(plan, args.format, dry_run=True, after=None)
        return ExitCode.OK
    state = StateDir(args.state_dir)
    with state.lock(args.lock_timeout_s):
        return _apply_locked(args, profile, state)


def _apply_locked(args: argparse.Namespace, profile: Profile, state: StateDir) -> ExitCode:
    from netagent.apply import apply_plan
    from netagent.diff import plan as make_plan
    from netagent.guard import PathGuard
    from netagent.host.writer import HostWriter

    plan = make_plan(list(observe_and_audit(profile).checks))
    if plan.changes:
        with HostWriter() as host:
            guard = PathGuard(profile.guard, host.route_dev) if profile.guard else None
            apply_plan(plan, host, originals=state, guard=guard)
    after = observe_and_audit(profile)
    log.info("plan_applied", changes=len(plan.changes), compliant=after.compliant)
    _write_plan(plan, args.format, dry_run=False, after=after)
    return ExitCode.OK if after.compliant else ExitCode.DRIFT


def _write_plan(plan: Plan, fmt: str, dry_run: bool, after: Report | None) -> None:
    from netagent.reports import json as json_report
    from netagent.reports import text as text_report

    if fmt == "json":
        sys.stdout.write(json_report.render_apply(plan, dry_run, after))
        return
    sys.stdout.write(text_report.render_plan(plan, dry_run))
    if after is not None:
        sys.stdout.write(text_report.summary(after) + "\n")


def cmd_restore(args: argparse.Namespace) -> ExitCode:
    """Put every recorded original back, then forget it."""
    state = StateDir(args.state_dir)
    if args.dry_run:
        return _restore(state, dry_run=True)
    with state.lock(args.lock_timeout_s):
        return _restore(state, dry_run=False)


def _restore(state: StateDir, dry_run: bool) -> ExitCode:
    from netagent.apply import apply_plan
    from netagent.host.observe import read_recorded
    from netagent.host.writer import HostWriter
    from netagent.model import Plan
    from netagent.restore import restore_changes

    originals = state.load()
    if not originals:
        print(f"nothing to restore: no originals recorded in {state.path}")
        return ExitCode.OK
    changes, already, gone = restore_changes(originals, read_recorded(originals))
    verb = "would restore" if dry_run else "restored"
    if changes and not dry_run:
        with HostWriter() as host:
            apply_plan(Plan(tuple(changes)), host)
    for change in changes:
        print(f"{verb} {change.describe()}")
    for setting in already:
        print(f"{setting}: already at its original value")
    for setting in gone:
        print(f"{setting}: not restored: the interface or key is gone; its original stays recorded")
    if not dry_run:
        state.forget([c.setting for c in changes] + already)
        log.info("restore_finished", restored=len(changes), already=len(already), gone=len(gone))
    return ExitCode.DRIFT if gone else ExitCode.OK


def cmd_daemon(args: argparse.Namespace) -> ExitCode:
    """Apply the profile, then heal drift until SIGTERM/SIGINT (exit 0)."""
    from netagent.daemon import Daemon

    daemon = Daemon(
        args.profile or default_profile_path(),
        args.state_dir,
        resync_s=args.resync_s,
        lock_timeout_s=args.lock_timeout_s,
    )
    return ExitCode(daemon.run())


def cmd_status(args: argparse.Namespace) -> ExitCode:
    """Print the daemon's status file; exit 0 when the daemon runs, 1 when it does not."""
    import json

    from netagent.status import is_alive, read_status, render_status_text, status_path

    doc = read_status(args.state_dir)
    if doc is None:
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
    "apply": cmd_apply,
    "restore": cmd_restore,
    "daemon": cmd_daemon,
    "status": cmd_status,
}
