"""netagent.core.value classes behave as the frozen dataclasses they replace (issue 8)."""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest

from netagent.core import ec2, ena, model
from netagent.core.model import Check, Link, SetMtu, Status, Unreadable
from netagent.core.owners import sources as owners
from netagent.core.value import FrozenInstanceError, Value

CLASSES = sorted(
    {c for m in (model, ec2, ena, owners) for c in vars(m).values() if isinstance(c, type) and issubclass(c, Value)}
    - {Value},
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_slots_list_the_fields_in_constructor_order(cls: type[Value]) -> None:
    params = list(inspect.signature(cls.__init__).parameters)[1:]
    assert list(cls.__slots__) == params


def test_values_compare_hash_and_print_by_field() -> None:
    a, b = SetMtu("lab0", old=1500, new=9001), SetMtu("lab0", 1500, 9001)
    assert a == b
    assert hash(a) == hash(b)
    assert a != SetMtu("lab0", 1500, 1500)
    assert a != ("lab0", 1500, 9001)
    assert repr(a) == "SetMtu(ifname='lab0', old=1500, new=9001)"


def test_values_are_frozen() -> None:
    check = Check("lab0/mtu", "lab0", "mtu", Status.OK)
    with pytest.raises(FrozenInstanceError):
        check.status = Status.DRIFT  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del check.id  # type: ignore[misc]


def test_replace_copy_and_pickle_keep_every_field() -> None:
    link = Link("lab0", 2, 1500, "up", Unreadable("gone", unsupported=True), Unreadable("no"))
    assert link.replace(mtu=9001) == Link("lab0", 2, 9001, "up", link.driver, link.channels)
    assert copy.copy(link) == link
    assert copy.deepcopy(link) == link
    assert pickle.loads(pickle.dumps(link)) == link


def test_defaults_are_not_shared_between_instances() -> None:
    a, b = model.HostState(ifnames=()), model.HostState(ifnames=())
    a.links["x"] = b  # type: ignore[assignment]
    assert b.links == {}
