"""The local pump keeps reading the users table's stream after a cancelled transaction.

moto restores a copy of the table (its stream shard included) when it cancels a
transaction, which the consumers do on purpose for every duplicate, older or
post-deletion event. A shard iterator taken before then would read the abandoned shard
and never see another record; the pump positions itself after the last record it saw on
every poll instead.
"""
from __future__ import annotations

import uuid

import pytest

from chalicelib import names, users_table
from chalicelib.user_events import UserAuthenticated, UserDeleted
from tests.helpers import eventually

# The pump delivers every record of the stream: a stack of its own per test.
pytestmark = pytest.mark.usefixtures("fresh_stack")


def login(sub: str, name: str, at: str = "2026-11-26T10:00:00.000000Z") -> UserAuthenticated:
    return UserAuthenticated(str(uuid.uuid4()), at, sub, "ada", "ada@example.com", name)


def name_of(sub: str) -> str | None:
    names.forget_cache()
    return names.get(sub)


def test_names_keep_reaching_parameter_store_after_duplicates_and_tombstones(stack, console):
    first, gone, later = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    event = login(first, "Ada")
    assert users_table.apply(event) == users_table.APPLIED
    eventually(lambda: name_of(first) == "Ada", what="the first name")

    assert users_table.apply(event) == users_table.DUPLICATE  # a cancelled transaction
    users_table.apply(login(gone, "Gone"))
    users_table.apply(UserDeleted(str(uuid.uuid4()), "2026-11-26T11:00:00.000000Z", gone, "g"))
    assert users_table.apply(login(gone, "Back?")) == users_table.SKIPPED_DELETED  # cancelled too

    assert users_table.apply(login(later, "Grace")) == users_table.APPLIED
    eventually(lambda: name_of(later) == "Grace", what="a name written after the cancellations")
    assert name_of(gone) is None
    assert any("removed (account deleted)" in line for line in console)
