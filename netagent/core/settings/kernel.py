"""Kernel: `kernel: {min_version: "6.1"}` checks the running kernel's release (pure).

ENA's guide and the seed recipe say "use a recent kernel": newer kernels carry newer in-tree ENA
drivers and network fixes. Apply cannot change the running kernel, so drift is unfixable and the
check names the fix. Releases are compared by their leading numbers: `6.1.0-27-cloud-amd64`
(Debian) is 6.1.0, `6.1.115-126.197.amzn2023.x86_64` (Amazon Linux 2023) is 6.1.115.
"""

from __future__ import annotations

import re

from netagent.core.model import Check, Status, Unreadable
from netagent.core.value import TYPE_CHECKING

if TYPE_CHECKING:
    from netagent.core.model import HostState
    from netagent.core.profile.parser import Walker
    from netagent.core.profile.yamlite import Node

_VERSION = r"[0-9]+(?:\.[0-9]+){0,2}"  # what a profile may name: 6, 6.1, 6.1.115
_RELEASE = r"([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?"  # the leading numbers of a release
FIX = (
    "boot a newer kernel: install it (`dnf upgrade kernel` on Amazon Linux 2023, `apt-get install"
    " linux-image-aws` or a newer HWE kernel on Ubuntu) and reboot, or bake an AMI with it"
)


def parse_release(text: str) -> tuple[int, int, int] | None:
    """Return the version triple a kernel release starts with, or None."""
    m = re.match(_RELEASE, text.strip())
    if m is None:
        return None
    return int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)


class Kernel:
    """The running kernel's release, against a minimum; a host-wide kind under the `kernel:` key."""

    name = "kernel"
    key = "kernel"

    def parse(self, w: Walker, node: Node, field: str) -> object | None:
        """Validate `{min_version: "6.1"}` (a YAML float such as 6.1 is taken as written)."""
        items = w.mapping(node, field)
        if items is None:
            return None
        w.known_keys(items, field, ("min_version",))
        if "min_version" not in items:
            w.problem(node, f"{field}.min_version", "required key is missing")
            return None
        value = items["min_version"][1]
        if w.is_scalar(value) and re.fullmatch(_VERSION, str(value.value)):
            return str(value.value)
        w.problem(value, f"{field}.min_version", f"expected a version like 6.1 or 5.10.0, got {w.describe(value)}")
        return None

    def check(self, want: object, host: HostState) -> Check:
        """Compare the running release with the minimum; drift has no change, only a fix to name."""
        expected = f">= {want}"
        have = host.kernel
        if isinstance(have, Unreadable):
            return Check("kernel", "release", Status.ERROR, expected, None, have.reason)
        have_v, want_v = parse_release(have), parse_release(str(want))
        if have_v is None or want_v is None:
            return Check("kernel", "release", Status.ERROR, expected, have, f"cannot read a version in {have!r}")
        if have_v >= want_v:
            return Check("kernel", "release", Status.OK, expected, have)
        return Check("kernel", "release", Status.DRIFT, expected, have, f"kernel {have} is older than {want}: {FIX}")


KIND = Kernel()
