"""netagent.core.value classes behave as the frozen dataclasses they replace (issue 8)."""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest

from netagent.core import boot, ec2, ena, model, restore
from netagent.core.model import Check, Link, Status, Unreadable
from netagent.core.owners import networkd, precedence, sysctl_d, tuned
from netagent.core.owners import sources as owners
from netagent.core.settings import bounds, channels, coalesce, driver, mtu, rings, rps, sysctl
from netagent.core.settings.base import PartsSpec
from netagent.core.settings.mtu import SetMtu
from netagent.core.value import FrozenInstanceError, Value

MODULES = (model, ec2, ena, owners, networkd, precedence, sysctl_d, tuned, boot, restore)
MODULES += (bounds, channels, coalesce, driver, mtu, rings, rps, sysctl)
CLASSES = sorted(
    {c for m in MODULES for c in vars(m).values() if isinstance(c, type) and issubclass(c, Value)}
    - {Value, model.Change, PartsSpec},  # abstract bases: their subclasses have the fields
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_fields_list_the_constructor_parameters_in_order(cls: type[Value]) -> None:
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert list(cls._fields) == params


def test_fields_include_the_base_classes_slots() -> None:
    assert SetMtu._fields == ("ifname", "old", "new")
    assert SetMtu("a", 1, 2) != channels.SetChannels("a", 1, 2)  # type: ignore[arg-type]


def test_values_compare_hash_and_print_by_field() -> None:
    a, b = SetMtu("lab0", old=1500, new=9001), SetMtu("lab0", 1500, 9001)
    assert a == b
    assert hash(a) == hash(b)
    assert a != SetMtu("lab0", 1500, 1500)
    assert a != ("lab0", 1500, 9001)
    assert repr(a) == "SetMtu(ifname='lab0', old=1500, new=9001)"


def test_values_are_frozen() -> None:
    check = Check("lab0", "mtu", Status.OK)
    with pytest.raises(FrozenInstanceError):
        check.status = Status.DRIFT  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del check.id  # type: ignore[misc]


def test_replace_copy_and_pickle_keep_every_field() -> None:
    link = Link("lab0", 2, 1500, "up", {"driver": Unreadable("gone", unsupported=True), "channels": Unreadable("no")})
    assert link.replace(mtu=9001) == Link("lab0", 2, 9001, "up", dict(link.values))
    assert copy.copy(link) == link
    assert copy.deepcopy(link) == link
    assert pickle.loads(pickle.dumps(link)) == link


def test_defaults_are_not_shared_between_instances() -> None:
    a, b = model.HostState(ifnames=()), model.HostState(ifnames=())
    a.links["x"] = b  # type: ignore[assignment]
    assert b.links == {}


def test_a_spec_derives_its_parts_once_and_stays_a_value() -> None:
    spec = rings.RingSpec(rx=bounds.Bound("at_least", 1024), tx="max")
    assert spec.text() == "rx>=1024 tx=max"
    assert spec.wanted() is spec.wanted()  # derived once
    with pytest.raises(TypeError):
        spec.wanted()["rx"] = 1  # type: ignore[index]  # read-only: the spec is shared by every interface
    fresh = rings.RingSpec(rx=bounds.Bound("at_least", 1024), tx="max")
    assert spec == fresh
    assert hash(spec) == hash(fresh)
    assert "_derived" not in repr(spec)
    assert pickle.loads(pickle.dumps(spec)).wanted() == dict(spec.wanted())
    assert spec.replace(tx=None).text() == "rx>=1024"
    assert coalesce.CoalesceSpec(adaptive_rx=False, rx_usecs=0).text() == "adaptive_rx=off rx_usecs=0"
    assert dict(coalesce.CoalesceSpec(adaptive_rx=True).wanted()) == {"adaptive_rx": 1}
