"""The one check of whether a port on 127.0.0.1 is free, used by `make run`, the local
AWS and the tests that run `make run`."""
from __future__ import annotations

import socket

# `make run`'s ports when PORT / LOCAL_AWS_PORT are not set (python -m local, make smoke).
DEFAULTS = {"PORT": 8000, "LOCAL_AWS_PORT": 4566}


def ensure_free(port: int) -> None:
    """Raise OSError (e.g. EADDRINUSE) when something holds `port` on 127.0.0.1.

    Binds the way the servers will (SO_REUSEADDR, as werkzeug does), so a port in
    TIME_WAIT counts as free, just as the server would find it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))


def is_free(port: int) -> bool:
    try:
        ensure_free(port)
    except OSError:
        return False
    return True
