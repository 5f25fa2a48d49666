"""Ask the real udev (systemd 252) which .link file applies to each interface, inside a netns.

Started as `ip netns exec NS python3 link_runner.py STAGE MNT_NS NET_NS` (see sysctl_runner.py
for the namespace checks): it bind-mounts staging directories over /etc/systemd/network,
/run/systemd/network and /usr/lib/systemd/network (and /usr/local/lib/systemd/network, on a
private tmpfs when the host has none) in this process's own mount namespace, then serves one
JSON request per line:

    {"files": {"etc/10-a.link": "text" | null (a /dev/null mask)}, "ifaces": ["lab0", ...]}

and answers, per interface, the file `udevadm test-builtin net_setup_link` reports
(ID_NET_LINK_FILE, or null) and what the kernel tells udev about it (uevent, address).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

DIRS = {
    "etc": "/etc/systemd/network",
    "run": "/run/systemd/network",
    "usrlocal": "/usr/local/lib/systemd/network",
    "usrlib": "/usr/lib/systemd/network",
}


def setup(stage: str, parent_mnt: str, parent_net: str) -> None:
    """Bind the staging directories over the real ones, in this process's own mount namespace."""
    if os.readlink("/proc/self/ns/mnt") == parent_mnt or os.readlink("/proc/self/ns/net") == parent_net:
        sys.exit("link_runner: refusing to run in the caller's namespaces")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    for short, target in DIRS.items():
        os.makedirs(os.path.join(stage, short), exist_ok=True)
        if not os.path.isdir(target):
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                parent = os.path.dirname(parent)
            subprocess.run(["mount", "-t", "tmpfs", "tmpfs", parent], check=True)
            os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "--bind", os.path.join(stage, short), target], check=True)


def _clear(path: str) -> None:
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            _clear(full)
            os.rmdir(full)
        else:
            os.unlink(full)


def serve(stage: str, request: dict) -> dict:
    for short in DIRS:
        _clear(os.path.join(stage, short))
    for rel, content in request["files"].items():
        path = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if content is None:
            os.symlink("/dev/null", path)
        else:
            with open(path, "w") as f:
                f.write(content)
    out = {}
    for ifname in request["ifaces"]:
        run = subprocess.run(
            ["udevadm", "test-builtin", "net_setup_link", f"/sys/class/net/{ifname}"],
            capture_output=True,
            text=True,
        )
        props = dict(line.split("=", 1) for line in run.stdout.splitlines() if "=" in line)
        with open(f"/sys/class/net/{ifname}/uevent") as f:
            uevent = dict(line.strip().split("=", 1) for line in f if "=" in line)
        with open(f"/sys/class/net/{ifname}/address") as f:
            mac = f.read().strip()
        out[ifname] = {"link_file": props.get("ID_NET_LINK_FILE"), "uevent": uevent, "mac": mac, "rc": run.returncode}
    return out


def main() -> None:
    stage, parent_mnt, parent_net = sys.argv[1:4]
    setup(stage, parent_mnt, parent_net)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(serve(stage, json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
