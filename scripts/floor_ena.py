#!/usr/bin/env python3
"""The floor with issue 13's settings: ../shared/bench/floor.py's reads plus rings and coalescing.

    python3 scripts/floor_ena.py FLOOR [GLOB] [SYSCTL_KEY ...]

Per matching interface it does what FLOOR does (ETHTOOL_GDRVINFO, the sysfs MTU,
ETHTOOL_GCHANNELS) with FLOOR's own functions, then one ETHTOOL_GRINGPARAM and one
ETHTOOL_GCOALESCE ioctl (a device without them, like veth, answers EOPNOTSUPP: still one ioctl
each), then one procfs read per sysctl key. FLOOR is imported, not copied, so the yardstick
stays the shared one; a FLOOR without those functions (the smoke test's stand-in) runs alone.
"""

import array
import fnmatch
import os
import socket
import struct
import sys

ETHTOOL_GCOALESCE = 0x0E  # include/uapi/linux/ethtool.h
ETHTOOL_GRINGPARAM = 0x10


def rings(floor, sock, ifname):
    buf = array.array("B", struct.pack("9I", ETHTOOL_GRINGPARAM, *[0] * 8))
    floor._ethtool(sock, ifname, buf)
    return struct.unpack("9I", bytes(buf))[1:]


def coalesce(floor, sock, ifname):
    buf = array.array("B", struct.pack("23I", ETHTOOL_GCOALESCE, *[0] * 22))
    floor._ethtool(sock, ifname, buf)
    return struct.unpack("23I", bytes(buf))[1:]


def main(argv):
    path = argv[1]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    floor = __import__(os.path.basename(path)[: -len(".py")])
    if not hasattr(floor, "_ethtool"):
        return  # a stand-in floor: nothing to extend
    pattern = argv[2] if len(argv) > 2 else "*"
    keys = argv[3:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seen = {}
    for ifname in sorted(os.listdir("/sys/class/net")):
        if ifname == "lo" or not fnmatch.fnmatch(ifname, pattern):
            continue
        with open(f"/sys/class/net/{ifname}/mtu") as f:
            mtu = int(f.read())
        found = []
        for read in (floor.channels, lambda s, n: rings(floor, s, n), lambda s, n: coalesce(floor, s, n)):
            try:
                found.append(read(sock, ifname))
            except OSError:
                found.append(None)
        seen[ifname] = (floor.driver(sock, ifname), mtu, *found)
    values = {}
    for key in keys:
        with open("/proc/sys/" + key.replace(".", "/")) as f:
            values[key] = " ".join(f.read().split())
    print(f"floor+rings+coalesce: {len(seen)} interfaces, {len(values)} sysctl keys")


if __name__ == "__main__":
    main(sys.argv)
