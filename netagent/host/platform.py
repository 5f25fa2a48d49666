"""Read the DMI and hypervisor identifiers that tell an EC2 instance, without any network."""

from __future__ import annotations

DMI = "/sys/class/dmi/id"
HYPERVISOR_UUID = "/sys/hypervisor/uuid"  # Xen instances


def read_platform_ids() -> dict[str, str]:
    """Return the identifiers that exist (vendor, uuid, serial, hypervisor_uuid), lower-cased."""
    sources = {
        "vendor": f"{DMI}/sys_vendor",
        "uuid": f"{DMI}/product_uuid",
        "serial": f"{DMI}/product_serial",
        "hypervisor_uuid": HYPERVISOR_UUID,
    }
    ids = {}
    for name, path in sources.items():
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                ids[name] = f.read().strip().lower()
        except OSError:
            continue  # absent on this platform, or root-only and we are not root
    return ids
