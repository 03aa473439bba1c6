"""A snapshot of the local AWS saved by an older layout of local/ still loads
(local/state.py's unpickler follows its RENAMED table)."""
from __future__ import annotations

import pickle
import sys
import types
from collections import OrderedDict, defaultdict
from typing import Any, Iterator

import pytest

from local import state
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

    loaded = state.loads(data)

    assert type(loaded["users"]) is UsersRememberingDeletions
    assert dict(loaded["users"]) == {"ada": "the user"}
    assert loaded["users"].deleted_subs == {"sub-of-eve"}
    assert type(loaded["attempts"]) is Attempts and loaded["attempts"].failures == 3


def test_the_old_home_of_the_pickling_helpers_loads_from_their_new_one(monkeypatch):
    from local import moto_pickle

    original = moto_pickle._rebuild_defaultdict
    with monkeypatch.context() as old_layout:  # local/state.py held the helper then
        old_layout.setattr(original, "__module__", "local.state")
        old_layout.setattr(state, "_rebuild_defaultdict", original, raising=False)
        data = pickle.dumps((original, defaultdict, list))
    assert b"local.state" in data and not hasattr(state, "_rebuild_defaultdict")
    rebuild, kind, factory = state.loads(data)
    assert rebuild is moto_pickle._rebuild_defaultdict
    assert rebuild(kind, factory)["x"] == []


def test_a_name_nobody_renamed_still_fails_to_load():
    data = pickle.dumps(Attempts()).replace(b"local.cognito.lockout", b"local.no_such_module1")
    with pytest.raises(ModuleNotFoundError):
        state.loads(data)
