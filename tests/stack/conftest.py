"""The stack tier, "is the app right": the app through chalice's test client against the local
AWS in this process (moto, no process started). Its fixtures, shared with tests/local, are in
tests/stack/fixtures.py.
"""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _pending_greetings_answer_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Here a pending greeting answers 202 at once instead of holding the ask (greeting.
    HOLD_SECONDS): tests of this tier ask about pending people hundreds of times. The hold is
    tested in test_greeting.py; the run and browser tiers run it as deployed."""
    from chalicelib import greeting

    monkeypatch.setattr(greeting, "HOLD_SECONDS", 0.0)
