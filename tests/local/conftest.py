"""The local tier, "is the emulation right": local/ against what AWS documents, each emulation
and patch of the local AWS on its own (tests/unit and tests/stack ask "is the app right").
Its fixtures are the stack tier's (tests/stack/fixtures.py: one local AWS per worker for both);
a pending greeting answers at once here too.
"""
from __future__ import annotations

from tests.stack.conftest import _pending_greetings_answer_at_once  # noqa: F401 (autouse)
