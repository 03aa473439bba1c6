"""`make run`'s event delivery in a process of its own: the pump (pump.py) and the
handlers it invokes, beside the local AWS instead of inside it.

In one process, moto, the pump and the pipeline's Lambdas shared one core: under a crowd
that core was the ceiling (bench/README.md). As in AWS, where Lambda runs apart from the
services it calls, the handlers here talk to the local AWS over HTTP only:

- the stream poll's idle wait is a long poll in the local AWS, GET /_local/wake (it answers
  at the first DynamoDB write: local.server.control.WAKE), so idle still costs nothing, and a stop
  ends it at once (POST /_local/wake);
- the stream positions are sent to POST /_local/positions at the start (the first report
  says delivery has started) and then by the stream's thread itself each time a batch is
  delivered, before it reads on: the local AWS saves them with its state snapshot
  (local.run.state), and a stop can never leave a delivered batch's position behind (a position
  reported late, after the stop's last save, would deliver the batch again after the
  restart: a second version of the name);
- SIGTERM or SIGINT (Ctrl-C) stop it: the pump finishes its batch (and reports it), then it
  exits.

`python -m local` starts it (the stack's names in its environment, the saved positions in
POSITIONS_ENV) and stops it before the local AWS. Run: python -m local.event_sources.deliver
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import urllib.request
from typing import Any

POSITIONS_ENV = "COMM_IT_STREAM_POSITIONS"  # the positions saved by the last run (JSON)


def control(endpoint: str, method: str, name: str, body: dict[str, Any] | None = None,
            timeout: float = 30) -> dict[str, Any]:
    """One control call to the local AWS (local/server/control.py); its JSON answer."""
    request = urllib.request.Request(f"{endpoint}/_local/{name}", method=method,  # noqa: S310 (http://127.0.0.1 only)
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http://127.0.0.1 only)
        return json.loads(response.read())


class RemoteWake:
    """local.server.control.Wake's interface for the pump, over HTTP: the local AWS's count of
    DynamoDB writes, as of the last answer, and a wait for a write after a count seen."""

    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint
        self.count = -1  # nothing seen yet: the first wait answers at once

    def wait(self, seen: int, timeout: float) -> int:
        """The count after a write since `seen`, or after `timeout` (the local AWS holds a
        wait at most local.server.control.WAKE_MAX_SECONDS)."""
        answer = control(self._endpoint, "GET", f"wake?seen={seen}&timeout={timeout:.3f}",
                         timeout=timeout + 10)
        self.count = int(answer["count"])
        return self.count

    def notify(self) -> None:
        """End the wait now (a stopping pump): POST /_local/wake."""
        try:
            control(self._endpoint, "POST", "wake", timeout=5)
        except OSError:  # the local AWS is gone: the wait has ended with it
            pass


class PositionReport:
    """Sends the pump's positions to the local AWS (POST /_local/positions) when they have
    moved since the last report; one report at a time, so a later one never arrives first."""

    def __init__(self, endpoint: str, positions: dict[str, str]) -> None:
        self._endpoint = endpoint
        self._positions = positions
        self._reported: dict[str, str] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            current = dict(self._positions)  # one copy, taken whole
            if current == self._reported:
                return
            try:
                control(self._endpoint, "POST", "positions", current, timeout=5)
            except OSError as exc:  # the local AWS is gone (killed): the snapshot keeps the last
                print(f"[event] the stream positions were not saved: {exc}", flush=True)
                return
            self._reported = current


def main() -> int:
    from local.run import console
    from local.run.serve import die_with_parent

    die_with_parent()
    console.install()  # every [event] line whole, beside the other processes' lines
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    positions: dict[str, str] = json.loads(os.environ.get(POSITIONS_ENV) or "{}")

    import boto3

    from app import app
    from local.run import warm
    from local.local_aws import REGION
    from local.event_sources.pump import Pump

    warm.clients(warm.HANDLER_SERVICES)
    report = PositionReport(endpoint, positions)
    report()  # delivery has started (python -m local waits for this)
    pump = Pump(app, boto3.session.Session(region_name=REGION), endpoint, REGION,
                positions=positions, wake=RemoteWake(endpoint), moved=report).start()
    try:
        while not stop.wait(1.0):  # a wait with a timeout: a signal ends it at once
            pass
    finally:
        pump.stop()
        report()  # nothing new unless a report failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
