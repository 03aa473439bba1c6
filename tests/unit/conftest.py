"""The unit tier: no AWS at all, no process started, no socket opened.

Every test here runs in milliseconds; a test that reaches for the network (a boto3 call,
a moto server) belongs in tests/stack/ (or tests/local/, the emulation's own), and fails here
instead of quietly waiting on it.
"""
from __future__ import annotations

import socket
import subprocess
from typing import Any, Iterator

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse every way a socket reaches the network: connecting, serving (bind, listen)
    and UDP (sendto without a connection)."""
    for method in NETWORK_METHODS:
        def refuse(self: socket.socket, *args: Any, _method: str = method) -> None:
            raise AssertionError(f"a unit test called socket.{_method}{args!r}: "
                                 "it belongs in tests/stack/ or tests/local/")

        monkeypatch.setattr(socket.socket, method, refuse)
    yield


@pytest.fixture(autouse=True)
def no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse starting a process (subprocess.run and the rest go through Popen)."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a unit test started a process {args!r}: it belongs in tests/run/")

    monkeypatch.setattr(subprocess, "Popen", refuse)


NETWORK_METHODS = ("connect", "connect_ex", "bind", "listen", "sendto", "sendmsg")


@pytest.fixture
def client() -> Iterator[Any]:
    """chalice's test client with no AWS behind it: pages, errors and everything the app
    answers before it would call AWS (a call that tries fails on the socket guard above)."""
    from chalice.test import Client

    from app import app
    from tests.helpers import ROOT

    with Client(app, stage_name="local", project_dir=str(ROOT)) as test_client:
        yield test_client
