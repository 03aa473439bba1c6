"""The one clock of every local emulation (credentials' expiry, the lockout, sign-outs).

A leaf: it imports nothing of local/. The emulations call `now()`; a test moves time
for all of them at once with `with clock.set(lambda: t): ...` instead of patching
each module.
"""
from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator

_source: Callable[[], float] = time.time


def now() -> float:
    """Seconds since the epoch, as the emulations see it."""
    return _source()


@contextlib.contextmanager
def set(source: Callable[[], float]) -> Iterator[None]:  # noqa: A001 (clock.set reads best)
    """Within the block, every emulation reads the time from `source`."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
