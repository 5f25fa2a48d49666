"""The audit use case: read the host, compare it with the profile, add what the report shows."""

from __future__ import annotations

import os

from netagent.app import logs
from netagent.core.ec2 import Ec2Lookup, Ec2Unavailable
from netagent.core.errors import UsageError
from netagent.core.model import RUNTIME, AuditContext, Profile, Report
from netagent.core.settings import kinds_to_read
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.app.ports import Host

log = logs.get_logger()


def lookup_instance(no_imds: bool, endpoint: str | None) -> Ec2Lookup:
    """Ask IMDSv2 for the instance facts, unless told not to; never raises for an absent IMDS.

    Off EC2 (by DMI and hypervisor ids, read without any network) no request is sent unless
    `endpoint` names one explicitly.

    Raises:
        UsageError: `endpoint` is not an http://HOST[:PORT] URL.
    """
    if no_imds:
        return None
    from netagent.core.ec2 import is_ec2
    from netagent.host.platform import read_platform_ids

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


def observe_and_audit(
    host: Host,
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

    globs = profile.globs()
    # The driver is always read: ENA health and the notes need it, whatever the profile checks.
    kinds = kinds_to_read(profile.interfaces, always=("driver",))
    state = host.observe(globs, [s.key for s in profile.sysctls], kinds)
    healths = read_ena_health(state.links.values())
    macs = read_macs(state.links) if wants_ena(profile) else {}
    notes = report_notes(profile, state, ec2, macs, healths)
    ctx = AuditContext(phase=phase, instance_type=instance_type(ec2))
    checks = audit(profile, state, ctx)
    if root is not None:
        from netagent.core.owners import attach_owners, scan
        from netagent.core.owners.precedence import facts_needed, for_settings, has_interface_units
        from netagent.host.owner_files import read_link_facts, read_owner_files

        found = for_settings(scan(read_owner_files(root)), {c.setting for c in checks})
        facts = {}
        if has_interface_units(found):
            facts = read_link_facts(root, state.links, facts_needed(found, os.path.realpath(root) == "/"))
        checks = attach_owners(checks, state.links, found, facts)
    return Report(
        profile=profile,
        host=host_facts(),
        checks=tuple(checks),
        ec2=ec2,
        ena=healths,
        notes=notes,
        strict=strict,
        context=ctx,
        generated_at=_utc_now(),
    )


def _utc_now() -> str:
    """Return the time now as datetime's isoformat(timespec="milliseconds") in UTC writes it,
    without importing datetime (1.5 ms of an audit's start-up)."""
    import time

    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}+00:00"


# systemd's machine-id(5): a host id that outlives a hostname change (the fleet report's key off EC2).
MACHINE_ID = "/etc/machine-id"


def host_facts() -> dict[str, str]:
    """Return the facts that identify this host in a report (machine_id when /etc/machine-id has one)."""
    uname = os.uname()
    facts = {"hostname": uname.nodename, "kernel": uname.release}
    try:
        with open(MACHINE_ID, encoding="ascii") as f:
            machine_id = f.read(64).strip()
    except (OSError, ValueError):
        machine_id = ""
    if len(machine_id) == 32:
        facts["machine_id"] = machine_id
    return facts
