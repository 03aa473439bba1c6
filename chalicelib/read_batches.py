"""Reads asked for at the same moment in one container, answered together by one call.

`chalice local` (so `make run`) serves every person from one process, a thread per
request: while 200 people wait for their greeting, 200 threads each read one name a
second, and each read is a request of its own to the local AWS. A BatchReader lets an
asker read at once while fewer than PARALLEL reads are in flight; whoever asks
meanwhile waits, and the next free reader takes every waiting key (up to the service's
batch size: GetParameters takes 10 names, BatchGetItem 100 keys) in one call. A Lambda
container serves one request at a time: there every read is a batch of one, made at
once, as it would be without this.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

PARALLEL = 2  # reads in flight at once per reader (the others wait and join a batch)


class _Ask(Generic[V]):
    __slots__ = ("taken", "done", "value", "error")

    def __init__(self) -> None:
        self.taken = self.done = False
        self.value: V | None = None
        self.error: BaseException | None = None


class BatchReader(Generic[K, V]):
    def __init__(self, fetch: Callable[[list[K]], dict[K, V]], size: int,
                 parallel: int = PARALLEL) -> None:
        """`fetch(keys)`: the values of those keys that exist (a key left out is None)."""
        self._fetch, self._size, self._parallel = fetch, size, parallel
        self._changed = threading.Condition()
        self._waiting: dict[K, _Ask[V]] = {}  # asked, not taken yet (oldest first)
        self._in_flight = 0

    def read(self, key: K) -> V | None:
        batch = None
        with self._changed:
            ask = self._waiting.setdefault(key, _Ask())
            while not ask.done and (ask.taken or self._in_flight >= self._parallel):
                self._changed.wait()
            if not ask.done:  # nobody read it meanwhile: this thread reads a batch
                batch = self._take(key)
        if batch is not None:
            self._run(batch)
        if ask.error is not None:
            raise ask.error
        return ask.value

    def _take(self, key: K) -> list[tuple[K, _Ask[V]]]:
        """This key and the oldest others waiting, up to the batch size (under the lock)."""
        keys = [key] + [k for k in self._waiting if k != key][:self._size - 1]
        batch = [(k, self._waiting.pop(k)) for k in keys]
        for _, ask in batch:
            ask.taken = True
        self._in_flight += 1
        return batch

    def _run(self, batch: list[tuple[K, _Ask[V]]]) -> None:
        values: dict[K, V] = {}
        error: BaseException | None = None
        try:
            values = self._fetch([key for key, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - raised again in every asker's thread
            error = exc
        with self._changed:
            self._in_flight -= 1
            for key, ask in batch:
                ask.value, ask.error, ask.done = values.get(key), error, True
            self._changed.notify_all()
