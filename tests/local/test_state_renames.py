"""A snapshot of the local AWS saved by an older layout of local/ still loads
(local/run/moto_pickle.py's unpickler follows its RENAMED table)."""
from __future__ import annotations

import importlib
import pickle
import sys
import types
from collections import OrderedDict, defaultdict
from typing import Any, Iterator

import pytest

from local.run import moto_pickle
from local.cognito.lockout import Attempts
from local.cognito.sessions import UsersRememberingDeletions


@pytest.fixture
def old_modules() -> Iterator[dict[str, types.ModuleType]]:
    """Modules under the names of the old flat layout, for pickling only; gone afterwards."""
    made: dict[str, types.ModuleType] = {}

    def module(name: str, **members: Any) -> types.ModuleType:
        made[name] = types.ModuleType(name)
        for member, value in members.items():
            value.__module__ = name
            value.__qualname__ = member
            setattr(made[name], member, value)
        return made[name]

    class Users(OrderedDict):
        pass

    class OldAttempts:
        pass

    module("local.identity_pool", _UsersRememberingDeletions=Users)
    module("local.cognito_lockout", Attempts=OldAttempts)
    saved = {name: sys.modules.get(name) for name in made}
    sys.modules.update(made)
    yield made
    for name, previous in saved.items():
        if previous is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = previous


def test_a_snapshot_pickled_under_the_old_module_names_loads_into_the_new_ones(old_modules):
    users = old_modules["local.identity_pool"]._UsersRememberingDeletions()
    users["ada"] = "the user"
    users.deleted_subs = {"sub-of-eve"}
    attempts = old_modules["local.cognito_lockout"].Attempts()
    attempts.__dict__.update(failures=3, locked_until=0.0, last=1.0)
    data = pickle.dumps({"users": users, "attempts": attempts})
    for name in old_modules:
        del sys.modules[name]  # as after the reorganisation: the old modules are gone

    loaded = moto_pickle.loads(data)

    assert type(loaded["users"]) is UsersRememberingDeletions
    assert dict(loaded["users"]) == {"ada": "the user"}
    assert loaded["users"].deleted_subs == {"sub-of-eve"}
    assert type(loaded["attempts"]) is Attempts and loaded["attempts"].failures == 3


def pickled_under(monkeypatch: pytest.MonkeyPatch, module: str, value: Any) -> bytes:
    """`value` (a function or class) pickled as its old module's (gone, or a package now)."""
    with monkeypatch.context() as old_layout:
        old_layout.setattr(value, "__module__", module)
        old = types.SimpleNamespace(**{value.__qualname__: value})
        old_layout.setitem(sys.modules, module, old)
        data = pickle.dumps(value)
    assert module.encode() in data
    return data


def test_the_old_home_of_the_pickling_helpers_loads_from_their_new_one(monkeypatch):
    original = moto_pickle._rebuild_defaultdict  # the flat local.state held it once
    rebuild = moto_pickle.loads(pickled_under(monkeypatch, "local.state", original))
    assert rebuild is moto_pickle._rebuild_defaultdict
    assert rebuild(defaultdict, list)["x"] == []


@pytest.mark.parametrize(("old", "new"), sorted(moto_pickle.MOVED.items()))
def test_a_flat_module_moved_into_its_package_loads_from_there(monkeypatch, old, new):
    module = importlib.import_module(new)
    own = [value for value in vars(module).values()
           if callable(value) and getattr(value, "__module__", None) == new]
    assert own
    assert moto_pickle.loads(pickled_under(monkeypatch, old, own[0])) is own[0]


def test_a_name_nobody_renamed_still_fails_to_load():
    data = pickle.dumps(Attempts()).replace(b"local.cognito.lockout", b"local.no_such_module1")
    with pytest.raises(ModuleNotFoundError):
        moto_pickle.loads(data)
