"""The registry (netagent.core.settings) agrees with every kind module, and lists every one."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from netagent.core import settings

SETTINGS = Path(settings.__file__).parent
NOT_KINDS = {"__init__", "base", "bounds"}  # bounds: the at_least/at_most helper the kinds share


@pytest.mark.parametrize(("name", "keys", "checks"), settings.INTERFACE_TABLE, ids=lambda v: str(v))
def test_each_interface_kind_matches_its_registry_entry(name: str, keys: tuple[str, ...], checks: object) -> None:
    kind = importlib.import_module(f"netagent.core.settings.{name}").KIND
    assert (kind.name, kind.rule_keys, kind.checks) == (name, keys, checks)


def test_every_kind_module_is_registered() -> None:
    modules = {p.stem for p in SETTINGS.glob("*.py")} - NOT_KINDS
    registered = {name for name, _, _ in settings.INTERFACE_TABLE} | {name for name, _ in settings.HOST_TABLE}
    assert modules - registered == {"sysctl"}  # the one kind keyed by sysctl names, not a registry row


def test_host_kinds_match_their_keys() -> None:
    for name, key in settings.HOST_TABLE:
        assert importlib.import_module(f"netagent.core.settings.{name}").KIND.key == key


def test_a_profile_with_an_mtu_loads_no_other_kind_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from netagent.core.profile.parser import parse_profile\n"
        "from netagent.core.diff import audit\n"
        "from netagent.core.model import HostState, Link\n"
        "p = parse_profile('name: t\\ninterfaces:\\n  - match: a\\n    mtu: 9001\\n', 'p.yaml')\n"
        "audit(p, HostState(('a',), {'a': Link('a', 1, 1500, 'up')}))\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('netagent.core.settings.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['base', 'bounds', 'mtu', 'sysctl']"  # bounds: the parser's sysctl bounds


def test_the_writer_has_one_write_for_each_kind_of_change() -> None:
    """HostWriter.execute dispatches on Change.kind by name: a kind without `_write_<kind>` would
    fail only when a change of it is made."""
    from netagent.core.model import Change
    from netagent.host.writer import HostWriter

    changing = {name for name, _, _ in settings.INTERFACE_TABLE if settings.kind_of_change(name) is not None}
    changing.add(settings.SYSCTL.name)
    for name, _, _ in settings.INTERFACE_TABLE:
        settings.interface_kind(name)  # import every kind's module, so its Change classes exist
    kinds, todo = set(), list(Change.__subclasses__())
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        if cls.kind:
            kinds.add(cls.kind)
    writes = {name[len("_write_") :] for name in dir(HostWriter) if name.startswith("_write_")}
    assert kinds == changing
    assert writes == changing
