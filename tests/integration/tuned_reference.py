"""TuneD's own profile loader as the reference (Debian `tuned` 2.20; run with /usr/bin/python3).

    PYTHONPATH=<tuned's dist-packages> /usr/bin/python3 tuned_reference.py ROOT PROFILE...

CI does not install the tuned package (its postinst would start the daemon on a systemd host):
it extracts the .deb (`apt-get download tuned`, `dpkg-deb -x`) into /var/cache/netagent-test/tuned
and points PYTHONPATH there; the loader needs only the standard library.

Loads the profiles from ROOT/usr/lib/tuned and ROOT/etc/tuned with tuned.profiles (Locator,
Loader, Merger, Variables) exactly as the daemon does, then expands each [sysctl] and [net]
option the way plugin_sysctl and plugin_net do, and prints them as JSON. TuneD functions that
read or change the machine (exec, virt_check, cpulist_online...) are not run: the loader sees
them as not implemented and leaves them unexpanded, as netagent must call them unknown.
Nothing is applied: no plugin is instantiated.
"""

from __future__ import annotations

import json
import sys

from tuned.profiles import Loader, Locator, Merger
from tuned.profiles.factory import Factory
from tuned.profiles.functions import repository
from tuned.profiles.variables import Variables
from tuned.utils.commands import commands

PURE = {"strip", "kb2s", "s2kb", "regex_search_ternary"}
_load_func = repository.Repository.load_func


def _pure_only(self, name):
    if name not in PURE:
        raise ImportError(name)
    return _load_func(self, name)


repository.Repository.load_func = _pure_only


def _variables_under(root):
    """Read `[variables] include=` files under ROOT (as netagent reads them), not the host's /etc."""
    add_from_file = Variables.add_from_file

    def add(self, filename):
        return add_from_file(self, root + filename if filename.startswith("/") else filename)

    Variables.add_from_file = add


def main() -> None:
    root, names = sys.argv[1], sys.argv[2:]
    _variables_under(root)
    variables = Variables()
    loader = Loader(Locator([f"{root}/usr/lib/tuned", f"{root}/etc/tuned"]), Factory(), Merger(), None, variables)
    try:
        profile = loader.load(names)
    except Exception as exc:  # the daemon refuses the profile: say so
        print(json.dumps({"error": str(exc)}))
        return
    cmd = commands()
    out = {"sysctl": [], "net": []}
    for name, unit in profile.units.items():
        if not unit.enabled:
            continue
        if unit.type == "sysctl":
            out["sysctl"] += [[k, variables.expand(cmd.unquote(v))] for k, v in unit.options.items()]
        elif unit.type == "net":
            opts = {k: variables.expand(v) for k, v in unit.options.items() if k in ("mtu", "channels")}
            out["net"].append({"name": name, "devices": variables.expand(unit.devices), **opts})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
