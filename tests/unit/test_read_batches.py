"""Reads asked for at the same moment in one container go together (chalicelib/read_batches.py):
the first asker reads at once, those who ask while reads are in flight join one batch, up to
the batch size, each gets its own value, and a failed read fails every asker of its batch."""
from __future__ import annotations

import threading
import time

import pytest

from chalicelib.read_batches import BatchReader

VALUES = {"a": 1, "b": 2, "c": 3, "d": 4}


class SlowStore:
    """A fetch that holds its first call until released, so others pile up meanwhile."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.release = threading.Event()
        self.fail = fail

    def fetch(self, keys: list[str]) -> dict[str, int]:
        self.calls.append(list(keys))
        if len(self.calls) == 1:
            assert self.release.wait(5)
        if self.fail and len(self.calls) > 1:
            raise ConnectionError("the store did not answer")
        return {k: VALUES[k] for k in keys if k in VALUES}


def ask_all(reader: BatchReader, keys: list[str], store: SlowStore) -> dict[str, object]:
    answers: dict[str, object] = {}

    def ask(key: str) -> None:
        try:
            answers[key] = reader.read(key)
        except ConnectionError as exc:
            answers[key] = exc

    first = threading.Thread(target=ask, args=(keys[0],))
    first.start()
    while not store.calls:  # the first read is in flight
        time.sleep(0.001)
    others = [threading.Thread(target=ask, args=(key,)) for key in keys[1:]]
    for thread in others:
        thread.start()
    while len(reader._changed._waiters) < len(others):  # every other asker is waiting
        time.sleep(0.001)
    store.release.set()
    for thread in [first, *others]:
        thread.join(5)
    return answers


def test_askers_who_arrive_while_a_read_is_in_flight_go_together():
    store = SlowStore()
    reader = BatchReader(store.fetch, size=10, parallel=1)
    answers = ask_all(reader, ["a", "b", "c", "nobody", "d"], store)
    assert store.calls[0] == ["a"]
    assert sorted(store.calls[1]) == ["b", "c", "d", "nobody"] and len(store.calls) == 2
    assert answers == {"a": 1, "b": 2, "c": 3, "d": 4, "nobody": None}


def test_the_same_key_asked_twice_meanwhile_is_read_once():
    store = SlowStore()
    reader = BatchReader(store.fetch, size=10, parallel=1)
    answers = ask_all(reader, ["a", "b", "b", "b"], store)
    assert store.calls == [["a"], ["b"]] and answers == {"a": 1, "b": 2}


def test_a_batch_holds_at_most_the_batch_size():
    store = SlowStore()
    reader = BatchReader(store.fetch, size=2, parallel=1)
    answers = ask_all(reader, ["a", "b", "c", "d"], store)
    assert [len(call) for call in store.calls] == [1, 2, 1]
    assert sorted(k for call in store.calls for k in call) == ["a", "b", "c", "d"]
    assert answers == VALUES


def test_a_failed_read_fails_every_asker_of_its_batch_and_no_other():
    store = SlowStore(fail=True)
    reader = BatchReader(store.fetch, size=10, parallel=1)
    answers = ask_all(reader, ["a", "b", "c"], store)
    assert answers["a"] == 1
    assert all(isinstance(answers[k], ConnectionError) for k in ("b", "c"))
    store.fail = False
    assert reader.read("b") == 2  # nothing is remembered: the next ask reads again


def test_alone_an_asker_reads_at_once_a_batch_of_one():
    store = SlowStore()
    store.release.set()
    reader = BatchReader(store.fetch, size=10)
    assert [reader.read(k) for k in ("a", "x")] == [1, None]
    assert store.calls == [["a"], ["x"]]


@pytest.mark.parametrize("parallel", [1, 2])
def test_many_askers_at_once_each_get_their_own_value(parallel):
    store = SlowStore()
    store.release.set()
    reader = BatchReader(store.fetch, size=3, parallel=parallel)
    keys = ["a", "b", "c", "d", "x"] * 20
    answers: list[tuple[str, object]] = []
    go = threading.Barrier(len(keys))

    def ask(key: str) -> None:
        go.wait()
        answers.append((key, reader.read(key)))

    threads = [threading.Thread(target=ask, args=(k,)) for k in keys]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(answers) == len(keys)
    assert all(value == VALUES.get(key) for key, value in answers)
    assert all(len(call) <= 3 for call in store.calls)
