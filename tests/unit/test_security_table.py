"""The security table's read-modify-write (chalicelib/security_table.change), over the in-memory
table: a change that meets another request's write reads again and loses neither."""
from __future__ import annotations

import pytest

from chalicelib import security_table
from chalicelib.errors import ServiceUnavailable
from tests.helpers import MemoryTable


def add(name: str):
    def changed(item, now):
        names = [n for n in str((item or {}).get("names", "")).split(",") if n]
        return {"names": ",".join(names + [name])}, now + 60
    return changed


def test_a_change_that_meets_another_write_reads_again_and_keeps_both():
    table = MemoryTable()
    real_put = table.put

    def put_after_another(pk, values, **kwargs):
        table.put = real_put
        security_table.change(table, pk, add("other"), clock=lambda: 1.0)  # meanwhile
        return real_put(pk, values, **kwargs)

    table.put = put_after_another
    security_table.change(table, "k", add("mine"), clock=lambda: 1.0)
    assert table.items["k"]["names"] == "other,mine"


def test_a_change_that_answers_none_writes_nothing():
    table = MemoryTable()
    security_table.change(table, "k", lambda item, now: None, clock=lambda: 1.0)
    assert table.items == {}


def test_a_change_that_always_meets_another_write_gives_up_with_a_503():
    table = MemoryTable()
    table.put = lambda pk, values, **kwargs: (_ for _ in ()).throw(security_table.Conflict(pk))
    with pytest.raises(ServiceUnavailable):
        security_table.change(table, "k", add("mine"), clock=lambda: 1.0)
