"""Run the real /lib/systemd/systemd-sysctl on many sysctl.d trees, inside a network namespace.

Started as `ip netns exec NS python3 sysctl_runner.py STAGE MNT_NS NET_NS`: `ip netns exec` gives the process
its own mount namespace (mounts made here never reach the host). It bind-mounts staging
directories over /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d and /usr/lib/sysctl.d
(/lib is usr/lib on Debian 12) and a staging file over /etc/sysctl.conf, then serves one JSON
request per line on stdin:

    {"files": {"etc/sysctl.d/10-a.conf": "text" | null (a /dev/null mask) | {"link": "../sysctl.conf"}},
     "sysctl_conf": "text", "baseline": {"net/ipv4/tcp_ecn": "2", ...}}

It writes the tree into the staging directories, resets every baseline key, runs systemd-sysctl
once, and answers {"values": {key: value read back}, "rc": ..., "stderr": ...}.

Safety: a request whose files name any key outside `net/` (after systemd's normalisation) is
refused before anything runs, so systemd-sysctl never writes a global (kernel.*, fs.*, vm.*) key;
net.* keys written here are the namespace's own (global net.core ones are read-only here).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

DIRS = ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d")
SYSTEMD_SYSCTL = "/lib/systemd/systemd-sysctl"


def mount(args: list[str]) -> None:
    subprocess.run(["mount", *args], check=True)


def setup(stage: str, parent_mnt: str, parent_net: str) -> None:
    """Bind the staging tree over the real directories, in this process's own mount namespace.

    `parent_mnt`/`parent_net` are the caller's namespaces (readlink of /proc/self/ns/*): this
    process must be in others, or it refuses to touch anything.
    """
    if os.readlink("/proc/self/ns/mnt") == parent_mnt:
        sys.exit("sysctl_runner: refusing to run in the caller's mount namespace")
    if os.readlink("/proc/self/ns/net") == parent_net:
        sys.exit("sysctl_runner: refusing to run in the caller's network namespace")
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    for d in DIRS:
        os.makedirs(os.path.join(stage, d), exist_ok=True)
        target = "/" + d
        if not os.path.isdir(target):
            # A directory the host does not have: a private tmpfs on its parent (never mkdir on the host).
            parent = os.path.dirname(target)
            mount(["-t", "tmpfs", "tmpfs", parent])
            os.makedirs(target, exist_ok=True)
        mount(["--bind", os.path.join(stage, d), target])
    conf = os.path.join(stage, "sysctl.conf")
    open(conf, "w").close()
    mount(["--bind", conf, "/etc/sysctl.conf"])


def keys_of(text: str) -> list[str]:
    """Return every key a sysctl.d text names, normalised as systemd-sysctl does."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if "=" not in line and not line.startswith("-"):
            continue  # systemd-sysctl ignores it ("Line is not an assignment")
        key = line.split("=", 1)[0].strip() if "=" in line else line
        key = key[1:].strip() if key.startswith("-") else key
        first = re.search(r"[./]", key)
        if first is not None and first.group() == ".":
            key = key.translate(str.maketrans("./", "/."))
        out.append("/".join(p for p in key.split("/") if p not in ("", ".")))
    return out


def serve(stage: str, request: dict) -> dict:
    texts = [v for v in request["files"].values() if isinstance(v, str)] + [request.get("sysctl_conf", "")]
    bad = [k for t in texts for k in keys_of(t) if not k.startswith("net/")]
    if bad:
        return {"error": f"refusing keys outside net/: {bad[:3]}"}
    for d in DIRS:
        path = os.path.join(stage, d)
        for name in os.listdir(path):
            os.unlink(os.path.join(path, name))
    for rel, content in request["files"].items():
        path = os.path.join(stage, rel)
        if content is None:
            os.symlink("/dev/null", path)
        elif isinstance(content, dict):
            os.symlink(content["link"], path)
        else:
            with open(path, "w") as f:
                f.write(content)
    with open(os.path.join(stage, "sysctl.conf"), "w") as f:
        f.write(request.get("sysctl_conf", ""))
    for key, value in request["baseline"].items():
        with open("/proc/sys/" + key, "w") as f:
            f.write(value)
    run = subprocess.run([SYSTEMD_SYSCTL], capture_output=True, text=True)
    values = {}
    for key in request["baseline"]:
        with open("/proc/sys/" + key) as f:
            values[key] = " ".join(f.read().split())
    return {"values": values, "rc": run.returncode, "stderr": run.stderr}


def main() -> None:
    stage, parent_mnt, parent_net = sys.argv[1:4]
    setup(stage, parent_mnt, parent_net)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        print(json.dumps(serve(stage, json.loads(line))), flush=True)
    shutil.rmtree(stage, ignore_errors=True)


if __name__ == "__main__":
    main()
