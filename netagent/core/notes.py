"""The plain-language notes of a report: ENA warnings and profile/host mismatches (pure)."""

from __future__ import annotations

from netagent.core import ec2
from netagent.core.model import HostState, Profile
from netagent.core.settings.driver import DriverInfo
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from netagent.core import ena


def wants_ena(profile: Profile) -> bool:
    """Tell whether any interface rule of the profile expects the ena driver."""
    return any(rule.get("driver") == ec2.ENA_DRIVER for rule in profile.interfaces)


def report_notes(
    profile: Profile,
    state: HostState,
    lookup: ec2.Ec2Lookup,
    macs: Mapping[str, str],
    healths: Sequence[ena.EnaHealth],
) -> tuple[str, ...]:
    """Return the notes of an audit, most important first; they never change compliance."""
    notes: list[str] = []
    primary = ec2.primary_ifname(lookup, macs)
    link = state.links.get(primary) if primary is not None else None
    info = link.get("driver") if link is not None else None
    driver = info.driver if isinstance(info, DriverInfo) else None
    mismatch = ec2.ena_profile_note(wants_ena(profile), primary, driver)
    if mismatch is not None:
        notes.append(mismatch)
    if healths:  # only ENA interfaces have them; no import of ena otherwise (issue 8)
        from netagent.core import ena

        notes.extend(ena.warnings(healths))
    notes.extend(f"{h.ifname}: ENA allowance counters not read: {h.reason}" for h in healths if h.reason)
    return tuple(notes)
