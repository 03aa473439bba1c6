"""The unit tier: no AWS at all, no process started, no socket opened.

Every test here runs in milliseconds; a test that reaches for the network (a boto3 call,
a moto server) belongs in tests/stack/, and fails here instead of quietly waiting on it.
"""
from __future__ import annotations

import socket
from typing import Any, Iterator

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a unit test opened a connection to {address}: "
                             "it belongs in tests/stack/")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield
