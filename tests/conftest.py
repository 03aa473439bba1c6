"""What every tier shares: botocore's service models read once per test process, and
infra/template.yaml as a dict (`template`); the fixtures of the local AWS in this process
(tests/stack/fixtures.py), registered here once, so tests/stack and tests/local share one
moto server per worker (a fixture a tier never asks for costs nothing)."""
from __future__ import annotations

from typing import Any, Iterator

import pytest

pytest_plugins = ("tests.stack.fixtures",)


@pytest.fixture(scope="session", autouse=True)
def _service_models_read_once() -> Iterator[None]:
    """One botocore loader for every session of the test process.

    botocore reads a service's model and endpoints.json (JSON of megabytes) once per
    Session, and the suite makes hundreds of sessions (the app's caches are cleared around
    every test; a person's clients are signed with their own keys): parsing that JSON was
    about a third of the stack tier's CPU. The loader caches what it read and nothing a
    session configures.
    """
    import functools

    import botocore.session

    original = botocore.session.create_loader
    botocore.session.create_loader = functools.lru_cache(maxsize=None)(original)
    yield
    botocore.session.create_loader = original


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """infra/template.yaml as a dict, the module's own copy (tests.helpers has of_type, props)."""
    from infra import template as infra_template

    return infra_template.load()
