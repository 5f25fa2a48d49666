"""Ask the real systemd-networkd (252) which .network file it applies to each interface, in a netns.

Started as `ip netns exec NS python3 networkd_runner.py STAGE MNT_NS NET_NS` (namespace checks as
in sysctl_runner.py). In this process's own mount namespace it puts a private tmpfs on /run
(networkd's state, and a udev database that marks each interface initialized, since no udevd
runs here) and bind-mounts staging directories over the .network directories. Per JSON request

    {"files": {"etc/10-a.network": "text" | null (a /dev/null mask)}, "ifaces": ["lab0", ...]}

it starts systemd-networkd, reads its debug log until every interface is either "found matching
network '<file>'" or "unmanaged" (a deadline, never a sleep), stops it, and answers {ifname: file
or null}. networkd configures only this namespace's veths.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time

NETWORKD = "/lib/systemd/systemd-networkd"
DIRS = {
    "etc": "/etc/systemd/network",
    "run": "/run/systemd/network",
    "usrlocal": "/usr/local/lib/systemd/network",
    "usrlib": "/usr/lib/systemd/network",
}
_FOUND = re.compile(r"^(\S+): found matching network '([^']+)'")
_UNMANAGED = re.compile(r"^(\S+): (?:State changed: \S+ -> unmanaged|Unmanaging interface\.)")
DEADLINE_S = 10.0


def setup(stage: str, parent_mnt: str, parent_net: str) -> None:
    if os.readlink("/proc/self/ns/mnt") == parent_mnt or os.readlink("/proc/self/ns/net") == parent_net:
        sys.exit("networkd_runner: refusing to run in the caller's namespaces")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/udev/data")
    os.makedirs("/run/systemd/netif/links")
    shutil.chown("/run/systemd/netif", "systemd-network", "systemd-network")
    shutil.chown("/run/systemd/netif/links", "systemd-network", "systemd-network")
    for short, target in DIRS.items():
        os.makedirs(os.path.join(stage, short), exist_ok=True)
        if not os.path.isdir(target):
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                parent = os.path.dirname(parent)
            if not parent.startswith("/run"):
                subprocess.run(["mount", "-t", "tmpfs", "tmpfs", parent], check=True)
            os.makedirs(target, exist_ok=True)
        subprocess.run(["mount", "--bind", os.path.join(stage, short), target], check=True)


def _clear(path: str) -> None:
    for name in os.listdir(path):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full)
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
    for name in os.listdir("/sys/class/net"):
        # The same start for every tree: the last networkd run brought links up and changed MTUs.
        mtu = "65536" if name == "lo" else "1500"
        subprocess.run(["ip", "link", "set", "dev", name, "down", "mtu", mtu], check=True)
        subprocess.run(["ip", "-6", "addr", "flush", "dev", name], check=True)
        with open(f"/sys/class/net/{name}/ifindex") as f:
            index = f.read().strip()
        with open(f"/run/udev/data/n{index}", "w") as f:
            f.write("I:1\n")  # "initialized by udev": networkd waits for this
    wanted = set(request["ifaces"])
    return run_networkd(wanted)


def run_networkd(wanted: set[str]) -> dict:
    """Run systemd-networkd until it has a verdict for every wanted interface (or a deadline)."""
    for leftover in os.listdir("/run/systemd/netif"):  # the last run's state: start afresh
        path = os.path.join("/run/systemd/netif", leftover)
        if os.path.isdir(path):
            for name in os.listdir(path):
                os.unlink(os.path.join(path, name))
        else:
            os.unlink(path)
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="debug", SYSTEMD_LOG_TARGET="console")
    proc = subprocess.Popen([NETWORKD], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    assert proc.stderr is not None
    out: dict[str, str | None] = {}
    deadline = time.monotonic() + DEADLINE_S
    # A reader thread, not select() on a buffered pipe: lines already in the file object's buffer
    # would never wake select().
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in iter(proc.stderr.readline, "")], daemon=True)
    reader.start()
    log: list[str] = []
    try:
        while wanted - set(out):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                break
            log.append(line)
            found, unmanaged = _FOUND.match(line), _UNMANAGED.match(line)
            if found and found.group(1) in wanted:
                out[found.group(1)] = found.group(2)
            elif unmanaged and unmanaged.group(1) in wanted:
                out.setdefault(unmanaged.group(1), None)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=10)
    missing = sorted(wanted - set(out))
    log.append(f"(exit status {proc.returncode})")
    return {"files": out, "missing": missing, "log": log[-15:] if missing else []}


def main() -> None:
    stage, parent_mnt, parent_net = sys.argv[1:4]
    setup(stage, parent_mnt, parent_net)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(serve(stage, json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
