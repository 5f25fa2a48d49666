"""XPS: `xps: {cpus: all|none|"0-3,8"}` sets every Tx queue's `xps_cpus` mask (pure).

Transmit Packet Steering picks the Tx queue by the sending CPU (linux Documentation/networking/
scaling.rst). Same shape as RPS (netagent.core.settings.rps); no systemd version persists it.
"""

from __future__ import annotations

from netagent.core.settings.rps import QueueMaskKind, SetQueueMasks


class SetXps(SetQueueMasks):
    """Set `xps_cpus` of Tx queues."""

    kind = "xps"


class Xps(QueueMaskKind):
    """`xps_cpus` of every Tx queue."""

    name = "xps"
    rule_keys = ("xps",)
    checks = (("xps", "xps"),)
    change_class = SetXps
    queue_prefix, mask_file = "tx-", "xps_cpus"
    boot_note = "xps: no boot file sets it (systemd has no XPS key); the daemon, or `netagent apply` at boot, sets it"


KIND = Xps()
