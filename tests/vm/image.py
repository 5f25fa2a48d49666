"""Build and cache the VM lab's image: Debian's cloud kernel, a busybox initramfs, a bookworm root.

    python3 -m tests.vm.image            # build if missing; print the cache directory
    python3 -m tests.vm.image --force    # rebuild

The image lives in /var/cache/netagent-test/vm-<kernel version>-<hash>/ (the hash covers this
file and pyproject's pyroute2 requirement), built in a temporary directory and renamed into
place, so a half-built image is never used:
- `vmlinuz`: from `apt-get download linux-image-<version>-cloud-amd64`, unpacked with
  `dpkg-deb -x` (the package has no modules.dep: `depmod -b`).
- `initrd.cpio`: busybox-static and the modules that reach the root disk (virtio_pci,
  virtio_blk, ext4; the cloud kernel builds them as modules). Its /init mounts /dev/vda, copies
  /payload (an extra cpio archive the harness appends for one boot: netagent from the checkout,
  the test agent) into the root, and switch_roots to systemd.
- `root.img`: a raw ext4 image (`mkfs.ext4 -d`) of a debootstrapped bookworm minbase with
  systemd, udev, iproute2, ethtool, python3 and netagent's dependencies (Debian's python3-yaml,
  python3-psutil, python3-structlog; pyroute2 from PyPI, as pyproject requires, since Debian's
  is 0.7.2), the kernel's modules and nothing of netagent: each boot brings the code under test.
See ../shared/VMLAB.md for the measured facts behind these choices.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.integration.container import debian_mirror

CACHE = os.environ.get("NETAGENT_TEST_CACHE", "/var/cache/netagent-test")
REPO = Path(__file__).resolve().parents[2]
SUITE = "bookworm"
PYTHON = "3.11"  # bookworm's python3
PACKAGES = "systemd-sysv,udev,kmod,iproute2,ethtool,procps,python3,python3-yaml,python3-psutil,python3-structlog"
# Modules the initramfs loads to mount the root (the rest load from the root, by udev).
INITRD_MODULES = ("virtio_pci", "virtio_blk", "ext4")
ROOT_SIZE = "1G"  # sparse; about 450 MB used
# Units that only cost boot time in a lab (under TCG each costs 1-9 s of a loaded 2-core host):
# timers that would start apt or scrubs mid-test, the local console gettys (the lab has a serial
# console only), utmp, pseudo file systems and modules nothing here uses, first-boot and
# persistence services of a root that lives for one boot (the journal is volatile).
MASKED = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    "getty@tty1.service",
    "getty-static.service",
    "systemd-timesyncd.service",
    "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service",
    "modprobe@.service",
    "dev-hugepages.mount",
    "dev-mqueue.mount",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount",
    "proc-sys-fs-binfmt_misc.automount",
    "systemd-binfmt.service",
    "kmod-static-nodes.service",
    "systemd-sysusers.service",
    "systemd-remount-fs.service",
    "systemd-journal-flush.service",
    "systemd-journal-catalog-update.service",
    "systemd-random-seed.service",
    "systemd-pstore.service",
    "systemd-firstboot.service",
    "systemd-machine-id-commit.service",
    "systemd-update-done.service",
    "systemd-hwdb-update.service",
    "ldconfig.service",
    "systemd-user-sessions.service",
)

INIT = r"""#!/bin/busybox sh
# netagent VM lab initramfs: mount the root disk, add this boot's payload, hand over to systemd.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules.order); do insmod "/modules/$m" || echo "initrd: insmod $m failed"; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; poweroff -f; }
if [ -d /payload ]; then
    (cd /payload && tar -cf - .) | tar -C /newroot -xf -
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
"""

AUTOLOGIN = """[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %I $TERM
"""


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a build step; fail with its output."""
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-4000:]}")
    return done  # type: ignore[no-any-return]


def kernel_package() -> str:
    """Return the cloud kernel package the archive's linux-image-cloud-amd64 depends on."""
    out = run(["apt-cache", "depends", "linux-image-cloud-amd64"]).stdout
    found = re.search(r"Depends:\s*(linux-image-\S+-cloud-amd64)\b", out)
    if not found:
        raise RuntimeError(f"no cloud kernel in apt-cache depends linux-image-cloud-amd64:\n{out}")
    return found.group(1)


def pyroute2_requirement() -> str:
    """Return pyproject's pyroute2 requirement (the image installs what netagent declares)."""
    text = (REPO / "pyproject.toml").read_text()
    found = re.search(r'"(pyroute2[^"]*)"', text)
    return found.group(1) if found else "pyroute2"


def cache_key(kernel_version: str) -> str:
    """Return the image's cache key: the kernel version and a hash of how it is built."""
    digest = hashlib.sha256(Path(__file__).read_bytes() + pyroute2_requirement().encode()).hexdigest()[:12]
    return f"{kernel_version}-{digest}"


def image_dir(kernel_version: str) -> str:
    """Return the cache directory of the image for this kernel and this builder."""
    return os.path.join(CACHE, f"vm-{cache_key(kernel_version)}")


def is_complete(path: str) -> bool:
    """Say whether a cache directory holds a whole image."""
    return all(os.path.isfile(os.path.join(path, n)) for n in ("vmlinuz", "initrd.cpio", "root.img", "kernel-version"))


def find_image() -> str | None:
    """Return the newest complete cached image made by this builder, without asking apt."""
    key_tail = cache_key("x").split("-", 1)[1]
    found = sorted(
        (os.path.join(CACHE, n) for n in os.listdir(CACHE) if n.startswith("vm-") and n.endswith(key_tail))
        if os.path.isdir(CACHE)
        else [],
        key=os.path.getmtime,
    )
    return next((p for p in reversed(found) if is_complete(p)), None)


def ensure_image(force: bool = False, log: object = None) -> str:
    """Return the cached image directory, building it first when missing (a few minutes)."""
    package = kernel_package()
    version = package[len("linux-image-") :]
    final = image_dir(version)
    if is_complete(final) and not force:
        return final
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f"vm-build-{os.getpid()}-", dir=CACHE)
    try:
        build(tmp, package, version)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(os.path.join(tmp, "out"), final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    prune(keep=final)
    return final


def prune(keep: str) -> None:
    """Remove images of other kernels or builders (about 500 MB each) and builds whose process died."""
    for name in os.listdir(CACHE):
        path = os.path.join(CACHE, name)
        if name.startswith("vm-build-"):
            pid = name.split("-")[2]
            if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                shutil.rmtree(path, ignore_errors=True)
        elif name.startswith("vm-") and path != keep:
            shutil.rmtree(path, ignore_errors=True)


def step(msg: str) -> None:
    print(f"vm image: {msg}", file=sys.stderr, flush=True)


def build(tmp: str, package: str, version: str) -> None:
    """Build the image's files under tmp/out."""
    out, kernel, root = (os.path.join(tmp, n) for n in ("out", "kernel", "root"))
    os.makedirs(out)
    step(f"kernel {package}")
    run(["apt-get", "download", package], cwd=tmp)
    deb = next(os.path.join(tmp, n) for n in os.listdir(tmp) if n.startswith(package + "_") and n.endswith(".deb"))
    run(["dpkg-deb", "-x", deb, kernel])
    modules = os.path.join(kernel, "lib/modules", version)
    run(["depmod", "-b", kernel, version])
    shutil.copy(os.path.join(kernel, "boot", f"vmlinuz-{version}"), os.path.join(out, "vmlinuz"))

    step("initramfs")
    build_initrd(os.path.join(tmp, "initrd"), kernel, version, os.path.join(out, "initrd.cpio"))

    step(f"debootstrap {SUITE} (about a minute)")
    run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, root, debian_mirror()])
    step(f"pip {pyroute2_requirement()}")
    site = os.path.join(root, f"usr/local/lib/python{PYTHON}/dist-packages")
    run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, pyroute2_requirement()])
    shutil.copytree(modules, os.path.join(root, "usr/lib/modules", version), symlinks=True)
    run(["depmod", "-b", root, version])
    configure_root(root)

    step("mkfs.ext4 -d")
    run(["mkfs.ext4", "-q", "-F", "-L", "netagent-vm", "-d", root, os.path.join(out, "root.img"), ROOT_SIZE])
    Path(out, "kernel-version").write_text(version + "\n")
    Path(out, "packages").write_text(
        run(["chroot", root, "dpkg-query", "-W", "-f", "${Package} ${Version}\n"]).stdout + run(["ls", site]).stdout
    )


def build_initrd(dest: str, kernel: str, version: str, cpio: str) -> None:
    """Write the busybox initramfs (newc cpio, uncompressed: per-boot archives are appended)."""
    for d in ("bin", "proc", "sys", "dev", "newroot", "modules"):
        os.makedirs(os.path.join(dest, d))
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, os.path.join(dest, "bin/busybox"))
    for applet in run([busybox, "--list"]).stdout.split():
        if applet != "busybox":  # `busybox --list` names itself: never link over the binary
            os.symlink("busybox", os.path.join(dest, "bin", applet))
    shown = run(["modprobe", "-d", kernel, "-S", version, "--show-depends", "-a", *INITRD_MODULES]).stdout
    order: list[str] = []
    for line in shown.splitlines():
        words = line.split()
        if words[:1] == ["insmod"] and os.path.basename(words[1]) not in order:
            src = words[1]
            if src.endswith((".xz", ".zst", ".gz")):
                raise RuntimeError(f"compressed module {src}: busybox insmod cannot load it")
            shutil.copy(src, os.path.join(dest, "modules", os.path.basename(src)))
            order.append(os.path.basename(src))
    Path(dest, "modules.order").write_text("\n".join(order) + "\n")
    init = Path(dest, "init")
    init.write_text(INIT)
    init.chmod(0o755)
    make_cpio(dest, cpio)


def make_cpio(src: str, dest: str) -> None:
    """Archive a directory as a newc cpio (what the kernel unpacks as an initramfs)."""
    names = run(["find", ".", "-mindepth", "1"], cwd=src).stdout
    with open(dest, "wb") as f:
        done = subprocess.run(
            ["cpio", "--quiet", "-o", "-H", "newc", "--owner", "0:0"], cwd=src, input=names.encode(), stdout=f
        )
    if done.returncode != 0:
        raise RuntimeError(f"cpio of {src} failed")


def configure_root(root: str) -> None:
    """Make the root boot fast and debuggable on a serial console, with nothing of netagent."""
    Path(root, "etc/hostname").write_text("netagent-vm\n")
    Path(root, "etc/fstab").write_text("# the initramfs mounts /dev/vda read-write\n")
    run(["chroot", root, "passwd", "-d", "root"])
    for unit in MASKED:
        link = Path(root, "etc/systemd/system", unit)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to("/dev/null")
    dropin = Path(root, "etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf")
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text(AUTOLOGIN)
    # The journal in memory only: boots are short, and a persistent journal costs a flush.
    conf = Path(root, "etc/systemd/journald.conf.d/lab.conf")
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text("[Journal]\nStorage=volatile\n")
    Path(root, "etc/machine-id").write_text("")  # systemd makes one per boot


def main(argv: list[str] | None = None) -> int:
    """Build (if needed) and print the image directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    print(ensure_image(force=args.force))
    return 0


if __name__ == "__main__":
    sys.exit(main())
