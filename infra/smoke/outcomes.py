"""What a smoke check ends with besides PASS (Failed, Skipped), and waiting for the pipeline."""
from __future__ import annotations

import time
from typing import Any, Callable

# Why a check of what exists only in AWS prints SKIP against `make run`'s stack.
AWS_ONLY = "exists only in AWS"


class Failed(Exception):
    """A check saw something wrong; the message says what."""


class Skipped(Exception):
    """A check cannot run here; the message says why."""


class Pending:
    """A probe's 'not yet', with what it saw."""

    def __init__(self, seen: Any) -> None:
        self.seen = seen


def wait_for(probe: Callable[[], Any], seconds: float, what: str, sleep: float = 1.0) -> Any:
    """probe()'s first truthy answer; Failed, with the last thing seen, after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        seen = probe()
        if seen and not isinstance(seen, Pending):
            return seen
        if time.monotonic() >= deadline:
            detail = f" (last seen: {seen.seen})" if isinstance(seen, Pending) else ""
            raise Failed(f"no {what} within {seconds:.0f} s{detail}")
        time.sleep(sleep)
