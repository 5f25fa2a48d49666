"""Helpers run inside a lab namespace by the daemon tests (`python daemon_tools.py CMD ...`).

fight IFNAME MTU SECONDS PERIOD_S: keep resetting an MTU, as a misbehaving DHCP client would.
probe MTU WANT IFNAME...: for each interface time from the request setting MTU until it reads
WANT again (the daemon's heal), printing one JSON list of seconds (None when never healed).
"""

from __future__ import annotations

import json
import sys
import time


def _mtu(ifname: str) -> int:
    with open(f"/sys/class/net/{ifname}/mtu") as f:
        return int(f.read())


def fight(ifname: str, mtu: int, seconds: float, period_s: float) -> None:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        index = ipr.link_lookup(ifname=ifname)[0]
        end = time.monotonic() + seconds
        resets = 0
        while time.monotonic() < end:
            if _mtu(ifname) != mtu:
                ipr.link("set", index=index, mtu=mtu)
                resets += 1
            time.sleep(period_s)
    print(json.dumps({"resets": resets}))


def probe(mtu: int, want: int, ifnames: list[str], deadline_s: float = 5.0) -> None:
    from pyroute2 import IPRoute

    out: list[float | None] = []
    with IPRoute() as ipr:
        for ifname in ifnames:
            index = ipr.link_lookup(ifname=ifname)[0]
            start = time.perf_counter()  # from the request, as `ip link set` would be timed
            ipr.link("set", index=index, mtu=mtu)
            healed: float | None = None
            while time.perf_counter() - start < deadline_s:
                if _mtu(ifname) == want:
                    healed = time.perf_counter() - start
                    break
                time.sleep(0.0002)
            out.append(healed)
            time.sleep(0.05)  # one event at a time, as the benchmark does
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "fight":
        fight(args[0], int(args[1]), float(args[2]), float(args[3]))
    else:
        probe(int(args[0]), int(args[1]), args[2:])
