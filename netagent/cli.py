"""The `netagent` command: parse arguments, wire the core to the adapters, map errors to exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netagent import __version__, logs
from netagent.errors import ExitCode, NetagentError, UsageError
from netagent.model import BAKE, RUNTIME, AuditContext, Profile, Report

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
    _add_scan_options(p)
    p.add_argument(
        "--phase",
        choices=(BAKE, RUNTIME),
        default=RUNTIME,
        help="bake skips checks marked `when: runtime` (default: runtime, checks everything)",
    )
    p.add_argument("--strict", action="store_true", help="fail on any drift, recommended checks included")

    p = sub.add_parser(
        "plan",
        parents=[common],
        help="show what apply would change, and who would change it back at boot",
        description="Print the changes apply would make as a diff, each with the owners that would revert it at boot.",
    )
    _add_scan_options(p)

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
    return parser


def _add_scan_options(p: argparse.ArgumentParser) -> None:
    """Add --profile, --format and --root: what audit and plan read, and how they print it."""
    p.add_argument(
        "--profile", metavar="P", help=f"profile file (default: {SYSTEM_PROFILE}, else the packaged ec2-default)"
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    p.add_argument(
        "--root",
        metavar="DIR",
        default="/",
        help="read sysctl.d, networkd, NetworkManager and TuneD files under DIR (an image root; default: /)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    default_level = "info" if args.command == "apply" and not getattr(args, "dry_run", False) else "warning"
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


def observe_and_audit(
    profile: Profile, ctx: AuditContext | None = None, root: str | None = None, strict: bool = False
) -> Report:
    """Read the host and compare it with the profile; with `root`, name the other owners of each setting."""
    from netagent.diff import audit
    from netagent.host.observe import observe

    if root is not None and not os.path.isdir(root):
        raise UsageError(f"--root {root}: not a directory")
    globs = tuple(g for rule in profile.interfaces for g in rule.match)
    state = observe(globs, [s.key for s in profile.sysctls])
    ctx = ctx or AuditContext()
    checks = audit(profile, state, ctx)
    if root is not None:
        from netagent.host.owner_files import read_owner_files
        from netagent.owners import attach_owners, scan

        checks = attach_owners(checks, state.links, scan(read_owner_files(root)))
    return Report(profile=profile, host=host_facts(), checks=tuple(checks), strict=strict, context=ctx)


def host_facts() -> dict[str, str]:
    """Return the facts that identify this host in a report."""
    uname = os.uname()
    return {"hostname": uname.nodename, "kernel": uname.release}


def cmd_audit(args: argparse.Namespace) -> ExitCode:
    """Audit the host against a profile."""
    # The instance type stays unknown until the IMDS client provides it: such checks are skipped.
    ctx = AuditContext(phase=args.phase, instance_type=None)
    report = observe_and_audit(_load(args), ctx, root=args.root, strict=args.strict)
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
    """Change what drifted, as one transaction."""
    from netagent.apply import apply_plan
    from netagent.diff import plan as make_plan
    from netagent.host.writer import HostWriter
    from netagent.reports import json as json_report
    from netagent.reports import text as text_report

    profile = _load(args)
    before = observe_and_audit(profile)
    plan = make_plan(list(before.checks))
    if args.dry_run:
        out = (
            json_report.render_apply(plan, True, None) if args.format == "json" else text_report.render_plan(plan, True)
        )
        sys.stdout.write(out)
        return ExitCode.OK
    if plan.changes:
        with HostWriter() as host:
            apply_plan(plan, host)
    after = observe_and_audit(profile)
    log.info("plan_applied", changes=len(plan.changes), compliant=after.compliant)
    if args.format == "json":
        sys.stdout.write(json_report.render_apply(plan, False, after))
    else:
        sys.stdout.write(text_report.render_plan(plan, False))
        sys.stdout.write(text_report.summary(after) + "\n")
    return ExitCode.OK if after.compliant else ExitCode.DRIFT


def cmd_plan(args: argparse.Namespace) -> ExitCode:
    """Print what apply would change and which owners would revert each change at boot."""
    from netagent.diff import plan as make_plan
    from netagent.reports import plan as plan_report

    report = observe_and_audit(_load(args), root=args.root)
    plan = make_plan(list(report.checks))
    render = plan_report.render_json if args.format == "json" else plan_report.render_text
    sys.stdout.write(render(report, plan))
    return ExitCode.OK


COMMANDS = {"validate": cmd_validate, "audit": cmd_audit, "plan": cmd_plan, "apply": cmd_apply}
