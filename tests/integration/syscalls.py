"""Fault injection without hooks in netagent: run the real CLI under strace inside a lab.

`trace_writes` runs a command once under `strace -yy` and finds, in order, the calls that write to
the kernel (an ETHTOOL_SCHANNELS ioctl, an RTM_NEWLINK sendto, a write(2) to /proc/sys) and the
state directory's own write, fsync and rename. Each is named by its syscall and its ordinal among
the calls of that syscall, which is what strace's `inject=SYSCALL:...:when=K` counts, so a second
run can fail or kill exactly that call.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from tests.integration.lab import Lab

TRACED = ("write", "ioctl", "sendto", "sendmsg", "fsync", "rename")
# strace -f -yy -o FILE lines: `PID name(args) = ret`; `<... name resumed>` lines only appear with threads.
_LINE = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)$")
# An environment without proxies and without .pyc writes (a bytecode write is also a write/rename).
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8"}


@dataclass(frozen=True)
class Call:
    """One traced call: its syscall, its ordinal among calls of that syscall, what it writes."""

    syscall: str
    ordinal: int
    kind: str  # channels, mtu, sysctl, state-write, state-fsync, state-rename
    detail: str

    def inject(self, action: str) -> str:
        """Return strace's `inject=` expression that applies `action` (error=EPERM, signal=KILL) to this call."""
        return f"inject={self.syscall}:{action}:when={self.ordinal}"


def have_strace() -> bool:
    return shutil.which("strace") is not None


def netagent_argv(lab: Lab, command: str, *args: str) -> list[str]:
    """The CLI's argv (this interpreter, the lab's own state directory)."""
    return [sys.executable, "-m", "netagent", command, "--state-dir", lab.state_dir, *args]


def run_traced(lab: Lab, argv: Sequence[str], strace_args: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """Run argv inside the lab under `strace -f -qq` with extra strace arguments."""
    cmd = ["ip", "netns", "exec", lab.name, "strace", "-f", "-qq", *strace_args, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, check=False, timeout=60)


def trace_writes(lab: Lab, argv: Sequence[str]) -> tuple[subprocess.CompletedProcess[str], list[Call]]:
    """Run argv once un-injected and return its result and its kernel and state-directory writes, in order."""
    fd, out = tempfile.mkstemp(prefix="netagent-strace-")
    os.close(fd)
    try:
        res = run_traced(lab, argv, ["-yy", "-o", out, "-e", "trace=" + ",".join(TRACED)])
        with open(out, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    finally:
        os.unlink(out)
    return res, classify(lines, lab.state_dir)


def classify(lines: Sequence[str], state_dir: str) -> list[Call]:
    """Pick the writes out of `strace -yy` lines; the ordinals count every call of each syscall.

    An ethtool ioctl does not show its command, so the SET is told by its place. apply and
    restore first read the host on one socket, then open the writer's socket (the second one
    seen): there set_channels reads the counts (ETHTOOL_GCHANNELS), sets them, and the change is
    read back, so every channel change is (GET, SET, GET) and the SET is the second.
    """
    counts: dict[str, int] = {}
    calls: list[Call] = []
    sockets: list[str] = []
    writer_ioctls = 0
    state = re.escape(state_dir.rstrip("/"))
    for line in lines:
        m = _LINE.match(line)
        if m is None or "resumed>" in line:
            continue
        name, args = m.groups()
        if name not in TRACED:
            continue
        counts[name] = ordinal = counts.get(name, 0) + 1
        if name == "write" and "</proc/sys/" in args:
            calls.append(Call(name, ordinal, "sysctl", args.split(">", 1)[0].split("<", 1)[1]))
        elif name in ("sendto", "sendmsg") and "<NETLINK:" in args:
            calls.append(Call(name, ordinal, "mtu", "RTM_NEWLINK"))
        elif name == "write" and re.search(state + r"/originals\.json\.[^/>]+>", args):  # the mkstemp temp file
            calls.append(Call(name, ordinal, "state-write", "originals.json.XXXXXXXX"))
        elif name == "fsync" and re.search(state, args):
            calls.append(Call(name, ordinal, "state-fsync", "dir" if f"<{state_dir}>" in args else "file"))
        elif name == "rename" and re.search(state, args):
            calls.append(Call(name, ordinal, "state-rename", "originals.json"))
        elif name == "ioctl" and "SIOCETHTOOL" in args:
            sock = args.split(">", 1)[0].split("<", 1)[-1]  # UDP:[inode]: fds are reused, inodes are not
            if sock not in sockets:
                sockets.append(sock)
            if len(sockets) >= 2 and sock == sockets[1]:
                writer_ioctls += 1
                if writer_ioctls % 3 == 2:
                    calls.append(Call(name, ordinal, "channels", "ETHTOOL_SCHANNELS"))
    return calls
