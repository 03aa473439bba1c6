"""`make run`: the whole app on this machine, no AWS account needed.

Starts the local AWS, creates the resources, serves the app with `chalice local`
and prints where both are. Ctrl-C or SIGTERM stops everything.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from local import ports
from local.aws import REGION, LocalAWS
from local.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent


def _port(name: str, default: str) -> int:
    raw = os.environ.get(name, default)
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SystemExit(f"{name}={raw!r} is not a port number (1-65535).")
    return port


def _check_free(port: int, name: str, what: str) -> None:
    """A clear error now, not a hang or a traceback later, when the port is taken."""
    try:
        ports.ensure_free(port)
    except OSError as exc:
        raise SystemExit(f"Cannot start {what} on port {port}: {exc.strerror or exc}. "
                         f"Set {name} to a free port.") from None


def _wait_for_app(url: str, child: subprocess.Popen, stop: threading.Event,
                  timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not stop.is_set():
        if child.poll() is not None:
            raise SystemExit(f"chalice local exited with code {child.returncode}; see above.")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"chalice local did not answer at {url} within {timeout:.0f} s.")


def _start_pump(aws: LocalAWS):
    """Deliver SQS and stream events to the app's own handlers, as Lambda would."""
    from app import app  # imported after the stack's values are in os.environ
    from local.pump import Pump

    return Pump(app, aws.session(), aws.endpoint, REGION).start()


def main() -> int:
    from local import console

    console.install()  # every line of this process whole and escaped: pump, outbox, logs
    port = _port("PORT", "8000")
    aws_port = _port("LOCAL_AWS_PORT", "4566")
    if port == aws_port:
        raise SystemExit(f"PORT and LOCAL_AWS_PORT are both {port}: choose two different ports.")
    _check_free(port, "PORT", "the app")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    try:
        aws = LocalAWS(Outbox(), port=aws_port).start()
    except OSError as exc:
        print(f"Cannot start the local AWS on port {aws_port}: {exc.strerror or exc}. "
              "Set LOCAL_AWS_PORT to a free port.", file=sys.stderr)
        return 1
    child = pump = None
    try:
        os.environ.update(aws.create_resources("local"))
        child = subprocess.Popen([sys.executable, "-m", "local.serve", "--port", str(port)],
                                 cwd=ROOT, env={**os.environ, "COMM_IT_PARENT_PID": str(os.getpid())})
        pump = _start_pump(aws)
        app_url = f"http://127.0.0.1:{port}/"
        _wait_for_app(app_url, child, stop)
        if stop.is_set():  # SIGTERM or Ctrl-C while starting: stop without announcing
            return 0
        print(f"App: {app_url}", flush=True)
        print(f"AWS endpoint: {aws.endpoint}", flush=True)
        print("Emails Cognito would send appear below as [outbox] lines. Ctrl-C stops.", flush=True)
        while not stop.is_set() and child.poll() is None:
            stop.wait(0.5)
        return 0 if stop.is_set() else (child.returncode or 1)
    finally:
        if pump is not None:
            pump.stop()
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
        aws.stop()


if __name__ == "__main__":
    sys.exit(main())
