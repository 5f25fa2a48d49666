"""CPU lists and masks as the kernel reads and writes them (pure).

A list is what people write (`0-3,8`, cpuset(7)'s "List format"); a mask is what
/sys/class/net/DEV/queues/*/rps_cpus and xps_cpus hold: hex, in comma-separated 32-bit words,
the first word only as wide as it needs (lib/vsprintf.c bitmap_string(), `%*pb`).
"""

from __future__ import annotations

import re

_LIST = r"(?:[0-9]+(?:-[0-9]+)?)(?:,[0-9]+(?:-[0-9]+)?)*"  # compiled on first use
MAX_CPUS = 8192  # CONFIG_NR_CPUS tops out at 8192 on x86_64 and arm64


def parse_list(text: str) -> int | None:
    """Return the mask of a CPU list (`0-3,8` -> 0x10f), or None when it is not one."""
    text = text.strip()
    if not re.fullmatch(_LIST, text):
        return None
    mask = 0
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        first, last = int(lo), int(hi or lo)
        if first > last or last >= MAX_CPUS:
            return None
        mask |= ((1 << (last - first + 1)) - 1) << first
    return mask


def parse_mask(text: str) -> int | None:
    """Return the mask a sysfs cpumask file shows (`00000000,0000ff00` -> 0xff00), or None."""
    digits = text.strip().replace(",", "")
    if not digits or not re.fullmatch(r"[0-9a-fA-F]+", digits):
        return None
    return int(digits, 16)


def render_mask(mask: int, nr_cpus: int) -> str:
    """Render a mask as the kernel prints one for `nr_cpus` CPUs (`%*pb`): 32-bit words, commas."""
    nr_bits = max(nr_cpus, mask.bit_length(), 1)
    words = []
    first = nr_bits % 32 or 32
    top = ((nr_bits + 31) // 32) * 32 - 32
    width = (first + 3) // 4
    for shift in range(top, -1, -32):
        words.append(format((mask >> shift) & 0xFFFFFFFF, f"0{width}x"))
        width = 8
    return ",".join(words)


def render_list(mask: int) -> str:
    """Render a mask as a CPU list (`0x10f` -> `0-3,8`; 0 -> `none`)."""
    if mask == 0:
        return "none"
    parts = []
    cpu = 0
    while mask >> cpu:
        if mask >> cpu & 1:
            start = cpu
            while mask >> (cpu + 1) & 1:
                cpu += 1
            parts.append(str(start) if start == cpu else f"{start}-{cpu}")
        cpu += 1
    return ",".join(parts)


def all_cpus(nr_cpus: int) -> int:
    """Return the mask of CPUs 0..nr_cpus-1."""
    return (1 << nr_cpus) - 1
