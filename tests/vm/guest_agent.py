"""The VM lab's guest agent: runs shell commands the host sends over the second serial port.

Runs inside the guest (bookworm's python3, standard library only), started at boot by
netagent-vm-agent.service. Protocol, one JSON object per line each way over /dev/ttyS1 in raw
mode: the agent says {"hello": boot_id} once a second until the first request arrives (the
8250 driver empties its FIFO when the port opens, so the host must not speak first); a request
{"id": n, "sh": "...", "timeout_s": t} gets {"id": n, "rc": ..., "out": ..., "err": ..., "took_s": ...};
{"id": n, "poweroff": true} is answered, then the guest powers off (QEMU runs with -no-reboot).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import tty

PORT = "/dev/ttyS1"


def send(fd: int, doc: dict) -> None:
    data = (json.dumps(doc) + "\n").encode()
    while data:
        data = data[os.write(fd, data) :]


def serve(fd: int) -> None:
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    buf = b""
    greeted = False
    while True:
        if not greeted:
            send(fd, {"hello": boot_id})
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            time.sleep(0.1)
            continue
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                continue  # line noise before the first request
            greeted = True
            handle(fd, req)


def handle(fd: int, req: dict) -> None:
    if req.get("poweroff"):
        send(fd, {"id": req.get("id"), "rc": 0, "out": "", "err": "", "took_s": 0})
        subprocess.run(["sync"])
        os.execv("/bin/systemctl", ["systemctl", "--force", "poweroff"])
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["/bin/sh", "-c", req["sh"]],
            capture_output=True,
            timeout=req.get("timeout_s", 120),
            stdin=subprocess.DEVNULL,
        )
        rc, out, err = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = 124, exc.stdout or b"", (exc.stderr or b"") + b"\nagent: timed out"
    reply = {
        "id": req.get("id"),
        "rc": rc,
        "out": out.decode("utf-8", "replace"),
        "err": err.decode("utf-8", "replace"),
        "took_s": round(time.monotonic() - started, 3),
    }
    send(fd, reply)


def main() -> int:
    fd = os.open(PORT, os.O_RDWR | os.O_NOCTTY)
    tty.setraw(fd)
    serve(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
