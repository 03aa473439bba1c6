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

from local.aws import REGION, LocalAWS
from local.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent


def _wait_for_app(url: str, child: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
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
    port = int(os.environ.get("PORT", "8000"))
    aws_port = int(os.environ.get("LOCAL_AWS_PORT", "4566"))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    try:
        aws = LocalAWS(Outbox(), port=aws_port).start()
    except OSError as exc:
        print(f"Cannot start the local AWS on port {aws_port}: {exc}. "
              "Set LOCAL_AWS_PORT to a free port.", file=sys.stderr)
        return 1
    child = pump = None
    try:
        os.environ.update(aws.create_resources("local"))
        child = subprocess.Popen([sys.executable, "-m", "local.serve", "--port", str(port)],
                                 cwd=ROOT, env=os.environ.copy())
        pump = _start_pump(aws)
        app_url = f"http://127.0.0.1:{port}/"
        _wait_for_app(app_url, child)
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
