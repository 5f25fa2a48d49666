"""The AMI bake, on the host: `netagent persist --root` into a copy of the lab's root disk.

The copy is loop-mounted in a private mount namespace (`unshare --mount`), where /usr/local/bin
is a tmpfs holding a `netagent` console script for this checkout: persist writes the unit's
ExecStart= as the path of the netagent that runs it, so the bake runs /usr/local/bin/netagent,
the path the boot payload installs netagent at in the guest (as a Packer bake installs netagent
into the image at the path it runs it from). The script names the image's interpreter,
/usr/bin/python3, as the guest's does (the host's own Python may live under /root, which the
unit's ProtectHome= hides, and persist refuses such a unit); the host's interpreter runs it.
Nothing of this is visible outside the namespace.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

BAKE_SCRIPT = r"""
set -eu
mnt=$(mktemp -d)
mount -o loop "$DISK" "$mnt"
trap 'umount "$mnt"; rmdir "$mnt"' EXIT
mount -t tmpfs -o mode=0755 tmpfs /usr/local/bin
printf '#!/usr/bin/python3\nimport sys\nfrom netagent.entry import main\nsys.exit(main())\n' > /usr/local/bin/netagent
chmod 755 /usr/local/bin/netagent
"$PYTHON" /usr/local/bin/netagent persist --profile "$PROFILE" --root "$mnt"
if [ "$ENABLE" = 1 ]; then systemctl --root "$mnt" enable netagent.service; fi
grep -H '' "$mnt"/etc/systemd/network/60-netagent-* "$mnt"/etc/sysctl.d/60-netagent.conf
grep -H '^ExecStart' "$mnt"/etc/systemd/system/netagent.service
"""


def copy_disk(image: str, dest: str) -> str:
    """Copy the cached root disk (sparse) for a test that changes it or boots it more than once."""
    subprocess.run(["cp", "--sparse=always", os.path.join(image, "root.img"), dest], check=True)
    return dest


def persist_into(disk: str, profile: str, enable: bool = False) -> str:
    """Run `netagent persist --profile PROFILE --root <disk's root>`; return its output and the files.

    enable: also `systemctl --root ... enable netagent.service`, as an AMI bake that ships the daemon does.
    """
    if shutil.which("unshare") is None:
        raise RuntimeError("the bake needs unshare (util-linux)")
    env = {**os.environ, "DISK": disk, "PROFILE": profile, "PYTHON": sys.executable, "ENABLE": "1" if enable else "0"}
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", BAKE_SCRIPT],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise AssertionError(f"bake of {shlex.quote(disk)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout
