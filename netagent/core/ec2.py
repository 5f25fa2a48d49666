"""EC2 instance facts as plain values, and what a report says about them (pure).

The IMDSv2 client (host/imds.py) fills these; the renderers, the profile's `when:` conditions and
the notes below only read them.
"""

from __future__ import annotations

from netagent.core.value import TYPE_CHECKING, Value, _set

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Union

# The driver of every current-generation EC2 ENI with enhanced networking (../shared/ENA.md §1).
ENA_DRIVER = "ena"
# Names a primary interface has with net.ifnames=0 (eth0) and under predictable naming on Nitro,
# where the primary ENI sits in PCI slot 5 (ENA.md §1, "Names"). Used only when IMDS is not there.
PRIMARY_IFNAMES = ("eth0", "ens5")


class EniFacts(Value):
    """One attached ENI, as IMDS lists it under network/interfaces/macs/<mac>/."""

    __slots__ = ("mac", "device_number", "interface_id", "vpc_ipv4_cidr_block")
    mac: str
    device_number: int | None
    interface_id: str | None
    vpc_ipv4_cidr_block: str | None

    def __init__(
        self,
        mac: str,
        device_number: int | None = None,
        interface_id: str | None = None,
        vpc_ipv4_cidr_block: str | None = None,
    ) -> None:
        _set(self, "mac", mac)
        _set(self, "device_number", device_number)
        _set(self, "interface_id", interface_id)
        _set(self, "vpc_ipv4_cidr_block", vpc_ipv4_cidr_block)


class InstanceFacts(Value):
    """What IMDS says about this instance."""

    __slots__ = ("instance_id", "instance_type", "region", "availability_zone", "enis")
    instance_id: str
    instance_type: str
    region: str | None
    availability_zone: str | None
    enis: tuple[EniFacts, ...]

    def __init__(
        self,
        instance_id: str,
        instance_type: str,
        region: str | None = None,
        availability_zone: str | None = None,
        enis: tuple[EniFacts, ...] = (),
    ) -> None:
        _set(self, "instance_id", instance_id)
        _set(self, "instance_type", instance_type)
        _set(self, "region", region)
        _set(self, "availability_zone", availability_zone)
        _set(self, "enis", enis)

    def primary_mac(self) -> str | None:
        """Return the MAC of the ENI at device index 0, if IMDS listed it."""
        return next((e.mac for e in self.enis if e.device_number == 0), None)


class Ec2Unavailable(Value):
    """IMDS was asked and did not answer usefully: off EC2, IMDS disabled, or too slow."""

    __slots__ = ("reason",)
    reason: str

    def __init__(self, reason: str) -> None:
        _set(self, "reason", reason)


# What an audit knows about EC2: facts, "asked but unavailable", or None when not asked (--no-imds).
if TYPE_CHECKING:
    Ec2Lookup = Union[InstanceFacts, Ec2Unavailable, None]
else:  # importable at run time; annotations are never evaluated (typing costs 3 ms to import)
    Ec2Lookup = object


def is_ec2(ids: Mapping[str, str]) -> bool:
    """Tell from DMI/hypervisor identifiers (lower-cased) whether this is an EC2 instance.

    As cloud-init's identify_aws: Nitro instances report the vendor "Amazon EC2"; Xen instances a
    hypervisor UUID, or a DMI UUID equal to the serial, that starts with "ec2".
    """
    if ids.get("vendor") == "amazon ec2":
        return True
    if ids.get("hypervisor_uuid", "").startswith("ec2"):
        return True
    uuid = ids.get("uuid", "")
    return uuid.startswith("ec2") and uuid == ids.get("serial")


def instance_type(lookup: Ec2Lookup) -> str | None:
    """Return the instance type when IMDS answered, else None (for `when: {instance_type: ...}`)."""
    return lookup.instance_type if isinstance(lookup, InstanceFacts) else None


def describe(lookup: Ec2Lookup) -> str:
    """Return the one-line `ec2:` summary of a report."""
    if lookup is None:
        return "not checked (--no-imds)"
    if isinstance(lookup, Ec2Unavailable):
        return f"unavailable ({lookup.reason})"
    where = lookup.availability_zone or lookup.region or "unknown zone"
    return f"{lookup.instance_type} {lookup.instance_id} in {where}"


def primary_ifname(lookup: Ec2Lookup, macs: Mapping[str, str]) -> str | None:
    """Return the primary interface: the one holding device index 0's MAC, else eth0 or ens5.

    `macs` maps interface names to their MAC addresses.
    """
    mac = lookup.primary_mac() if isinstance(lookup, InstanceFacts) else None
    if mac is not None:
        found = sorted(name for name, have in macs.items() if have.lower() == mac.lower())
        if found:
            return found[0]
    return next((name for name in PRIMARY_IFNAMES if name in macs), None)


def ena_profile_note(wants_ena: bool, primary: str | None, primary_driver: str | None) -> str | None:
    """Say plainly when a profile written for ENA meets a primary interface that is not ENA."""
    if not wants_ena or primary is None or primary_driver is None or primary_driver == ENA_DRIVER:
        return None
    return (
        f"this profile is written for ENA, but the primary interface {primary} uses the "
        f"{primary_driver} driver: this host is not an ENA instance (or lacks the ena driver), "
        "so the ENA checks cannot pass here and no ENA allowance counters were read"
    )


def to_dict(lookup: Ec2Lookup) -> dict[str, object]:
    """Return the report's `ec2` object: status, then the facts or the reason."""
    if lookup is None:
        return {"status": "skipped"}
    if isinstance(lookup, Ec2Unavailable):
        return {"status": "unavailable", "reason": lookup.reason}
    return {
        "status": "available",
        "instance_id": lookup.instance_id,
        "instance_type": lookup.instance_type,
        "region": lookup.region,
        "availability_zone": lookup.availability_zone,
        "interfaces": [
            {
                "mac": e.mac,
                "device_number": e.device_number,
                "interface_id": e.interface_id,
                "vpc_ipv4_cidr_block": e.vpc_ipv4_cidr_block,
            }
            for e in lookup.enis
        ],
    }
