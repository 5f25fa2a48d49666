"""Who else sets a checked setting: sysctl.d, systemd .link/.network, NetworkManager, TuneD (pure).

The shell (`host/owner_files.py`) reads the files under a root into `OwnerFiles`; everything here
is a function of that snapshot: parsing (one module per file type), precedence, and the owners
attached to each check (`precedence`). Nothing here raises on a bad file: a file that cannot be
read or parsed becomes an `Owner` with a `problem`, attached to every check it might concern.
"""

from __future__ import annotations

from netagent.core.owners.networkd import NETWORKD_DIRS, parse_networkd
from netagent.core.owners.precedence import (
    OwnerScan,
    attach_owners,
    boot_value,
    iface_owners,
    iface_units,
    owners_of,
    reverted_by,
    scan,
    sysctl_owners,
    unit_matches,
)
from netagent.core.owners.sources import (
    NM_DIRS,
    TUNED_ACTIVE,
    TUNED_DIRS,
    TUNED_MAIN,
    OwnerFiles,
    Setting,
    SourceFile,
    Unit,
    parse_ini,
)
from netagent.core.owners.sysctl_d import (
    SYSCTL_CONF,
    SYSCTL_DIRS,
    SysctlLine,
    build_table,
    decide,
    kernel_value,
    normalize_key,
    parse_sysctl_file,
    sysctl_apply_order,
    sysctl_path,
)

# The NetworkManager and TuneD parsers (networkmanager.py, tuned.py) are not imported here: the scan
# loads them only for a host that has their files (most hosts have neither tool's).
__all__ = [
    "NETWORKD_DIRS",
    "NM_DIRS",
    "SYSCTL_CONF",
    "SYSCTL_DIRS",
    "TUNED_ACTIVE",
    "TUNED_DIRS",
    "TUNED_MAIN",
    "OwnerFiles",
    "OwnerScan",
    "Setting",
    "SourceFile",
    "SysctlLine",
    "Unit",
    "attach_owners",
    "boot_value",
    "build_table",
    "decide",
    "iface_owners",
    "iface_units",
    "kernel_value",
    "normalize_key",
    "owners_of",
    "parse_ini",
    "parse_networkd",
    "parse_sysctl_file",
    "reverted_by",
    "scan",
    "sysctl_apply_order",
    "sysctl_owners",
    "sysctl_path",
    "unit_matches",
]
