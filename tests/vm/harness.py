"""Boot the lab image under QEMU: virtio-net NICs on taps in a throwaway netns, a guest agent, QMP.

One `VM` is one boot. Its NICs are virtio-net-pci (mq=on, 8 queue pairs) behind PCIe root ports
whose slot numbers give the predictable names EC2 shows (slot 5: ens5); their taps live in a
network namespace the harness creates and always deletes, with nothing else in it, so the guest
reaches no network. Commands go in and results come out over the second serial port (see
guest_agent.py); the first is the console, logged to `console.log`. QMP (`qmp.sock`) hot-plugs
NICs into free root ports. Every boot runs under `timeout`, with -no-reboot and panic=-1.
See ../shared/VMLAB.md for the facts behind the settings.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.lab import unique_name
from tests.vm.image import make_cpio

REPO = Path(__file__).resolve().parents[2]
QEMU = "qemu-system-x86_64"
BOOT_TIMEOUT_S = float(os.environ.get("NETAGENT_VM_BOOT_TIMEOUT_S", "240"))  # TCG on a shared 2-core machine
# A boot takes 8-25 s here. Once (2026-12-05, in some 40 boots that day) a guest stopped during its
# boot: its console ended 0.75 s in, before the login prompt, and no hello came in 240 s. A boot of the
# cached root (snapshot=on: nothing it wrote survives it) with no hello after this long is killed and
# tried once more, with a warning; its console and QEMU's stderr are kept as console.hung.log and
# qemu.hung.stderr. A boot of a test's own disk is never retried: the hung boot may have written to it.
HUNG_BOOT_S = float(os.environ.get("NETAGENT_VM_HUNG_BOOT_S", str(min(BOOT_TIMEOUT_S, 90.0))))
HARD_TIMEOUT_S = 900  # `timeout` kills QEMU after this, whatever happens
QUEUES = 8  # virtio-net queue pairs per NIC; vectors = 2 * QUEUES + 2
PYTHON = "3.11"  # the image's python3
HOTPLUG_SLOTS = tuple(range(7, 15))  # free root ports for device_add (four rounds of two NICs)
GUEST_SITE = f"usr/local/lib/python{PYTHON}/dist-packages"

AGENT_UNIT = """[Unit]
Description=netagent VM lab agent (commands over ttyS1)
After=systemd-udevd.service

[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/netagent-vm/agent.py
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
"""
CONSOLE_SCRIPT = """#!/usr/bin/python3
import sys

from netagent.entry import main

sys.exit(main())
"""


class VMError(RuntimeError):
    """The VM did not boot, answer or stop in time."""


class NoAnswer(VMError):
    """The guest said nothing in time (QEMU still running)."""


class BootHung(VMError):
    """No hello from the guest's agent in time (QEMU still running)."""


@dataclass
class Result:
    """One command's outcome inside the guest."""

    rc: int
    out: str
    err: str
    took_s: float

    def check(self, cmd: str) -> Result:
        if self.rc != 0:
            raise AssertionError(f"guest: {cmd!r} exited {self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}")
        return self


@dataclass
class Nic:
    """A virtio-net NIC behind PCIe root port `slot` (predictable name ens<slot>), on tap lt<slot>."""

    slot: int
    mac: str = ""

    def __post_init__(self) -> None:
        self.mac = self.mac or f"52:54:00:12:00:{self.slot:02x}"

    @property
    def tap(self) -> str:
        return f"lt{self.slot}"

    @property
    def ifname(self) -> str:
        return f"ens{self.slot}"

    def netdev_args(self) -> dict[str, object]:
        return {
            "type": "tap",
            "id": f"n{self.slot}",
            "ifname": self.tap,
            "script": "no",
            "downscript": "no",
            "queues": QUEUES,
        }

    def device_args(self) -> dict[str, object]:
        return {
            "driver": "virtio-net-pci",
            "id": f"nic{self.slot}",
            "netdev": f"n{self.slot}",
            "bus": f"rp{self.slot}",
            "mac": self.mac,
            "mq": True,
            "vectors": 2 * QUEUES + 2,
            "rx_queue_size": 1024,
            "tx_queue_size": 1024,
        }


def _opts(args: dict[str, object]) -> str:
    """Render QMP arguments as a command-line option list (booleans as on/off)."""

    def text(v: object) -> str:
        return ("on" if v else "off") if isinstance(v, bool) else str(v)

    return ",".join(f"{k}={text(v)}" for k, v in args.items() if k not in ("driver", "type"))


def accel() -> str:
    """Return QEMU's -accel value: TCG here (VMLAB.md: this host's KVM cannot run a stock kernel)."""
    if os.environ.get("NETAGENT_VM_ACCEL") == "kvm":
        return "kvm"
    return "tcg,thread=multi,tb-size=256"


def payload_tree(dest: str, files: dict[str, str | bytes]) -> None:
    """Lay out one boot's payload: netagent from this checkout, the agent, the test's own files."""
    site = Path(dest, GUEST_SITE)
    shutil.copytree(REPO / "netagent", site / "netagent", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "profiles", site / "netagent/profiles", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "systemd", site / "netagent/systemd")
    # Byte-compiled here (the host's python is the guest's 3.11): saves the guest a compile per boot.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(site / "netagent")], check=True)
    script = Path(dest, "usr/local/bin/netagent")
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(CONSOLE_SCRIPT)
    script.chmod(0o755)
    agent = Path(dest, "usr/local/lib/netagent-vm/agent.py")
    agent.parent.mkdir(parents=True)
    shutil.copy(Path(__file__).with_name("guest_agent.py"), agent)
    unit = Path(dest, "etc/systemd/system/netagent-vm-agent.service")
    unit.parent.mkdir(parents=True, exist_ok=True)
    unit.write_text(AGENT_UNIT)
    wants = Path(dest, "etc/systemd/system/multi-user.target.wants")
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "netagent-vm-agent.service").symlink_to("/etc/systemd/system/netagent-vm-agent.service")
    for rel, content in files.items():
        path = Path(dest, rel.lstrip("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@dataclass
class VM:
    """One boot of the lab image. Use as a context manager: the netns and QEMU always go away.

    disk: a disk image to boot read-write (a per-test copy that persists across boots); None
    boots the cached root.img with snapshot=on (writes vanish with the boot).
    files: extra files for this boot, {guest path: content}, copied into the root before systemd starts.
    """

    image: str
    workdir: str
    nics: list[Nic] = field(default_factory=lambda: [Nic(5), Nic(6)])
    disk: str | None = None
    files: dict[str, str | bytes] = field(default_factory=dict)
    cmdline: str = ""
    boot_timeout_s: float = BOOT_TIMEOUT_S
    netns: str = ""
    proc: subprocess.Popen[bytes] | None = None
    plugged: dict[int, Nic] = field(default_factory=dict)
    _agent: socket.socket | None = None
    _qmp: socket.socket | None = None
    _agent_buf: bytes = b""
    _qmp_buf: bytes = b""
    _next_id: int = 0
    boot_s: float = 0.0
    boot_id: str = ""

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> VM:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def console_log(self) -> str:
        return os.path.join(self.workdir, "console.log")

    def console_tail(self, lines: int = 60) -> str:
        try:
            text = Path(self.console_log).read_text(errors="replace")
        except OSError:
            return "(no console log)"
        return "\n".join(text.splitlines()[-lines:])

    def _initrd(self) -> str:
        base = os.path.join(self.image, "initrd.cpio")
        staging = tempfile.mkdtemp(prefix="payload-", dir=self.workdir)
        tree = os.path.join(staging, "payload")
        os.makedirs(tree)
        payload_tree(tree, self.files)
        archive = os.path.join(self.workdir, "payload.cpio")
        make_cpio(staging, archive)
        shutil.rmtree(staging)
        initrd = os.path.join(self.workdir, "initrd")
        with open(initrd, "wb") as out:
            for part in (base, archive):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        return initrd

    def qemu_argv(self, initrd: str) -> list[str]:
        disk = self.disk or os.path.join(self.image, "root.img")
        drive = f"file={disk},format=raw,if=virtio,cache=unsafe" + ("" if self.disk else ",snapshot=on")
        append = "console=ttyS0 panic=-1 net.ifnames=1 mitigations=off systemd.show_status=0 loglevel=5"
        append = f"{append} {self.cmdline}".strip()
        argv = [
            QEMU,
            "-accel", accel(), "-cpu", "max", "-smp", "2", "-m", "512", "-machine", "q35",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", os.path.join(self.image, "vmlinuz"), "-initrd", initrd, "-append", append,
            "-drive", drive,
            "-serial", f"file:{self.console_log}",
            "-chardev", f"socket,id=agent,path={self.workdir}/agent.sock,server=on,wait=off",
            "-serial", "chardev:agent",
            "-qmp", f"unix:{self.workdir}/qmp.sock,server=on,wait=off",
            # Native PCIe hot-plug (pciehp) rather than QEMU's default ACPI hot-plug on q35: pciehp
            # names each slot by the root port's slot number, so udev names the NIC in slot 5 ens5.
            "-global", "ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off",
        ]  # fmt: skip
        for slot in sorted({n.slot for n in self.nics} | set(HOTPLUG_SLOTS)):
            argv += ["-device", f"pcie-root-port,id=rp{slot},bus=pcie.0,chassis={slot},slot={slot},addr={slot:#x}"]
        for nic in self.nics:
            argv += [
                "-netdev",
                "tap," + _opts(nic.netdev_args()),
                "-device",
                "virtio-net-pci," + _opts(nic.device_args()),
            ]
        return argv

    def start(self) -> None:
        """Boot and wait for the agent's hello; a boot that hangs is killed and tried once more."""
        os.makedirs(self.workdir, exist_ok=True)
        initrd = self._initrd()
        if self.disk is not None:
            self._boot(initrd, self.boot_timeout_s)
            return
        try:
            self._boot(initrd, HUNG_BOOT_S)
        except BootHung:
            hung = os.path.join(self.workdir, "console.hung.log")
            tail = self.console_tail(3)
            self.stop()
            os.replace(self.console_log, hung)
            os.replace(os.path.join(self.workdir, "qemu.stderr"), os.path.join(self.workdir, "qemu.hung.stderr"))
            warnings.warn(
                f"VM boot gave no hello in {HUNG_BOOT_S:.0f} s (console: {hung}, ends {tail!r}); booting again",
                stacklevel=2,
            )
            self._boot(initrd, self.boot_timeout_s)

    def _boot(self, initrd: str, timeout_s: float) -> None:
        self._agent_buf = self._qmp_buf = b""
        for name in ("agent.sock", "qmp.sock"):  # a hung boot's: connect only to this QEMU's
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(self.workdir, name))
        self.netns = unique_name("-vm")
        subprocess.run(["ip", "netns", "add", self.netns], check=True, capture_output=True)
        argv = [
            "timeout",
            "-s",
            "KILL",
            str(HARD_TIMEOUT_S),
            "ip",
            "netns",
            "exec",
            self.netns,
            *self.qemu_argv(initrd),
        ]
        Path(self.workdir, "qemu.argv").write_text(" ".join(argv) + "\n")
        started = time.monotonic()
        with open(os.path.join(self.workdir, "qemu.stderr"), "wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=err, start_new_session=True)
        self._agent = self._connect("agent.sock")
        self._qmp = self._connect("qmp.sock")
        greeting = self._qmp_line(30)
        if "QMP" not in greeting:
            raise VMError(f"no QMP greeting: {greeting}")
        self.qmp("qmp_capabilities")
        try:
            hello = self._agent_reply(lambda doc: "hello" in doc, timeout_s)
        except NoAnswer as exc:
            raise BootHung(str(exc)) from None
        self.boot_id = hello["hello"]
        self.boot_s = time.monotonic() - started
        with open(os.path.join(self.workdir, "agent.log"), "a") as log:
            log.write(f"{self.boot_s:8.3f}s boot (QEMU start to the agent's hello)\n")

    def _connect(self, name: str) -> socket.socket:
        path = os.path.join(self.workdir, name)
        deadline = time.monotonic() + 30
        while True:
            self._check_alive()
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(path)
                return sock
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise VMError(f"QEMU made no {name}: {self._stderr()}") from None
                time.sleep(0.05)

    def _stderr(self) -> str:
        try:
            return Path(self.workdir, "qemu.stderr").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def _check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise VMError(f"QEMU exited {self.proc.returncode}: {self._stderr()}\n--- console\n{self.console_tail()}")

    def stop(self) -> None:
        """Kill QEMU (if running) and delete the netns; safe to call twice."""
        for sock in (self._agent, self._qmp):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        self._agent = self._qmp = None
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError, VMError):
                self.qmp_quit()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                # `timeout` leads its own process group (start_new_session): QEMU goes with it.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.netns:
            subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
            self.netns = ""

    def qmp_quit(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(5)
                sock.connect(os.path.join(self.workdir, "qmp.sock"))
                sock.sendall(b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n')
                with contextlib.suppress(OSError):
                    sock.recv(4096)
                sock.close()

    def poweroff(self, timeout_s: float = 120) -> None:
        """Power the guest off cleanly (disks synced) and wait for QEMU to exit."""
        started = time.monotonic()
        self._request({"poweroff": True}, timeout_s)
        assert self.proc is not None
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise VMError(f"the guest did not power off in {timeout_s} s\n{self.console_tail()}") from None
        with open(os.path.join(self.workdir, "agent.log"), "a") as log:
            log.write(f"{time.monotonic() - started:8.3f}s poweroff\n")

    # ------------------------------------------------------------------ the agent

    def _read_line(self, sock: socket.socket, attr: str, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        while b"\n" not in getattr(self, attr):
            self._check_alive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise NoAnswer(f"no answer in {timeout_s:.0f} s\n--- console\n{self.console_tail()}")
            sock.settimeout(min(left, 1.0))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                raise VMError(f"QEMU closed the socket\n{self._stderr()}\n--- console\n{self.console_tail()}")
            setattr(self, attr, getattr(self, attr) + chunk)
        line, rest = getattr(self, attr).split(b"\n", 1)
        setattr(self, attr, rest)
        return line  # type: ignore[no-any-return]

    def _agent_reply(self, wanted: object, timeout_s: float) -> dict:
        assert self._agent is not None
        deadline = time.monotonic() + timeout_s
        while True:
            line = self._read_line(self._agent, "_agent_buf", max(0.1, deadline - time.monotonic()))
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if wanted(doc):  # type: ignore[operator]
                return doc  # type: ignore[no-any-return]

    def _request(self, req: dict, timeout_s: float) -> dict:
        assert self._agent is not None
        self._next_id += 1
        req = {"id": self._next_id, **req}
        self._agent.sendall((json.dumps(req) + "\n").encode())
        want = self._next_id
        return self._agent_reply(lambda doc: doc.get("id") == want, timeout_s + 30)

    def sh(self, cmd: str, timeout_s: float = 120, check: bool = True) -> Result:
        """Run a shell command in the guest; raise AssertionError on a non-zero exit when check."""
        started = time.monotonic()
        doc = self._request({"sh": cmd, "timeout_s": timeout_s}, timeout_s)
        result = Result(doc["rc"], doc["out"], doc["err"], doc["took_s"])
        with open(os.path.join(self.workdir, "agent.log"), "a") as log:  # for debugging a slow or failed test
            log.write(f"{time.monotonic() - started:8.3f}s rc={result.rc} {cmd}\n")
        return result.check(cmd) if check else result

    def spawn(self, cmd: str, log: str) -> None:
        """Start a command in the background in the guest, its output going to `log`."""
        self.sh(f"setsid sh -c '{cmd}' >{log} 2>&1 </dev/null &")

    # ------------------------------------------------------------------ QMP

    def _qmp_line(self, timeout_s: float) -> str:
        assert self._qmp is not None
        return self._read_line(self._qmp, "_qmp_buf", timeout_s).decode()

    def qmp(self, command: str, **arguments: object) -> object:
        """Run a QMP command; return its result or raise VMError with QEMU's error."""
        assert self._qmp is not None
        msg: dict[str, object] = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self._qmp.sendall((json.dumps(msg) + "\n").encode())
        while True:
            doc = json.loads(self._qmp_line(60))
            if "return" in doc:
                return doc["return"]
            if "error" in doc:
                raise VMError(f"QMP {command}: {doc['error']}")
            # an asynchronous event (DEVICE_DELETED, NIC_RX_FILTER_CHANGED, ...): keep reading

    def hotplug(self, nic: Nic) -> None:
        """device_add a virtio-net NIC into its (free) root port, with a fresh multi-queue tap."""
        self.qmp("netdev_add", **nic.netdev_args())
        self.qmp("device_add", **nic.device_args())
        self.plugged[nic.slot] = nic

    def unplug(self, *nics: Nic, timeout_s: float = 60) -> None:
        """device_del NICs, wait until the guest has released each (DEVICE_DELETED), then drop their taps.

        pciehp powers a slot off 5 s after the attention button (QEMU's request), so each takes about 6 s;
        they run in parallel.
        """
        assert self._qmp is not None
        waiting = {f"nic{nic.slot}" for nic in nics}
        for nic in nics:
            self.qmp("device_del", id=f"nic{nic.slot}")
        deadline = time.monotonic() + timeout_s
        while waiting:
            doc = json.loads(self._qmp_line(max(0.1, deadline - time.monotonic())))
            if doc.get("event") == "DEVICE_DELETED":
                waiting.discard(doc.get("data", {}).get("device"))
        for nic in nics:
            self.qmp("netdev_del", id=f"n{nic.slot}")
            self.plugged.pop(nic.slot, None)
