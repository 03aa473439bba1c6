"""What every tier shares: botocore's service models read once per test process, and
infra/template.yaml as a dict (`template`); the fixtures of the local AWS in this process
(tests/stack/fixtures.py), registered here once, so tests/stack and tests/local share one
moto server per worker (a fixture a tier never asks for costs nothing); and an xdist worker's
end without its interpreter's teardown."""
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


def pytest_configure(config: pytest.Config) -> None:
    """The garbage collector's youngest generation collected every 100,000 allocations, not
    every 700: botocore, moto and the app make many short-lived objects per call to the local
    AWS (in this process: its server is a thread), and the default's collections cost a few
    percent of the tests' CPU (alternating runs of three stack files, CPU seconds: 14.8 mean
    with, 15.9 without; `make check` 80 vs 85 of user CPU over five pairs). Cycles are still
    collected, only in bigger batches."""
    import gc

    gc.set_threshold(100_000, 50, 100)


def pytest_unconfigure(config: pytest.Config) -> None:
    """An xdist worker ends without tearing its interpreter down.

    By the time a worker's interpreter finalizes, it has reported every result to the
    controller (which alone sets the exit status), and what is left is freeing its heap:
    moto's backends, botocore's models, a thousand tests' objects. Four workers doing that at
    once on two cores kept `make check` waiting ~5 s after its last test (measured: the
    controller's end came 6.1 s after its last result, now 1.0 s). The single-process run
    (make test) finalizes as usual: its exit status is its own.
    """
    if hasattr(config, "workerinput"):  # set by xdist in its workers only (not inherited)
        import atexit
        import os

        atexit.register(os._exit, 0)  # run last of the exit handlers (they run in reverse)
