"""The unit tier opens no socket and starts no process (tests/unit/conftest.py): a test that
connects, serves, sends a datagram or starts a process fails at once, naming the call."""
from __future__ import annotations

import socket

import pytest


@pytest.mark.parametrize("reach", [
    lambda s: s.connect(("127.0.0.1", 9)),
    lambda s: s.connect_ex(("127.0.0.1", 9)),
    lambda s: s.bind(("127.0.0.1", 0)),
    lambda s: s.listen(),
], ids=["connect", "connect_ex", "bind", "listen"])
def test_a_tcp_socket_can_neither_connect_nor_serve(reach):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        with pytest.raises(AssertionError, match="belongs in tests/stack/"):
            reach(tcp)


def test_a_udp_datagram_is_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(AssertionError, match="belongs in tests/stack/"):
            udp.sendto(b"x", ("127.0.0.1", 9))
        with pytest.raises(AssertionError, match="belongs in tests/stack/"):
            udp.sendmsg([b"x"], [], 0, ("127.0.0.1", 9))


def test_starting_a_process_is_refused():
    import subprocess

    with pytest.raises(AssertionError, match="belongs in tests/run/"):
        subprocess.run(["true"], check=False)
