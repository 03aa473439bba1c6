"""A boto3 session whose clients are made once per service and arguments.

A boto3 client costs ~6 ms of CPU to make (its event hooks copied, its endpoint rules read),
and the local AWS's own callers ask for the same few again and again: the template's resources
(a client per resource), the event pump (per poller), the tests (per test). A client, once
made, keeps no state of its own and is safe across threads; making one is not (boto3's session
is not thread-safe), so it is made under a lock. A caller that registers event hooks on a
client wants a client of its own: a plain boto3 session.
"""
from __future__ import annotations

import threading
from typing import Any


class KeptSession:
    def __init__(self, session: Any) -> None:
        self._boto3, self._made, self._lock = session, {}, threading.Lock()

    def client(self, *args: Any, **kwargs: Any) -> Any:
        key = (args, tuple(sorted((name, _key(value)) for name, value in kwargs.items())))
        made = self._made.get(key)
        if made is None:
            with self._lock:
                made = self._made.get(key) or self._boto3.client(*args, **kwargs)
                self._made[key] = made
        return made

    def __getattr__(self, name: str) -> Any:
        return getattr(self._boto3, name)


def _key(value: Any) -> str:
    # botocore's Config compares by identity: key it by the options it was given.
    options = getattr(value, "_user_provided_options", None)
    return repr(sorted(options.items())) if isinstance(options, dict) else repr(value)
