"""`make run`: the whole app on this machine, no AWS account needed.

    python -m local [--clean]        serve (--clean: forget the saved local data first)
    python -m local redrive          dead-letter queues back to their queues
    python -m local fault SERVICE throttle|5xx [--seconds N] | --off

Starts the local AWS with the data saved by the last run (local.run.state; created
from the template the first time), serves the app with `chalice local`, pumps
the pipeline's events, and prints where both are. Ctrl-C or SIGTERM stops
everything and saves the data. The other commands talk to a running stack at
LOCAL_AWS_PORT.
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from local.run import ports
from local.local_aws import REGION, LocalAWS
from local.run.outbox import Outbox

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".local-state"


def _port(name: str) -> int:
    raw = os.environ.get(name, str(ports.DEFAULTS[name]))
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
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (http://127.0.0.1 only)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"chalice local did not answer at {url} within {timeout:.0f} s.")


def _start_delivery(positions: dict[str, str]) -> subprocess.Popen:
    """The event pump in its own process (local.event_sources.deliver): SQS and stream events to
    the app's own handlers, as Lambda would, beside the local AWS instead of on its core."""
    from local.event_sources import deliver

    return subprocess.Popen([sys.executable, "-m", "local.event_sources.deliver"], cwd=ROOT,  # noqa: S603 (our own interpreter and module)
                            env={**os.environ, "COMM_IT_PARENT_PID": str(os.getpid()),
                                 deliver.POSITIONS_ENV: json.dumps(positions)})


def _redrive(aws: LocalAWS) -> dict[str, Any]:
    """`make redrive`, run in this process: dead letters back to their queues, and the
    stream's failed batches delivered again to the stream's handler (event_sources/redrive.py)."""
    from app import app  # imported after the stack's values are in os.environ
    from infra import event_sources
    from local.event_sources.pump import Pump
    from local.event_sources.redrive import redrive

    destination = event_sources.stream_settings(os.environ)["DestinationConfig"]["OnFailure"]
    replay = Pump(app, aws.session(), aws.endpoint, REGION).replay_stream_batch  # not started
    try:
        moved = redrive(aws.session().client("sqs", endpoint_url=aws.endpoint),
                        destination["Destination"], replay,
                        aws.session().client("sns", endpoint_url=aws.endpoint))
    except Exception as exc:  # noqa: BLE001 - one clear line for the command, not a traceback
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"moved": moved}


def _wait_for_delivery(started: threading.Event, child: subprocess.Popen,
                       stop: threading.Event, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not started.wait(0.1) and not stop.is_set():
        if child.poll() is not None:
            raise SystemExit(f"event delivery exited with code {child.returncode}; see above.")
        if time.monotonic() > deadline:
            raise SystemExit(f"event delivery did not start within {timeout:.0f} s.")


def _stop_children(children: list[subprocess.Popen | None], timeout: float) -> None:
    """SIGTERM to each (all at once), then wait for them together; SIGKILL after `timeout`."""
    running = [child for child in children if child is not None and child.poll() is None]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + timeout
    for child in running:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()


def _warm_local_aws(aws: LocalAWS) -> None:
    """moto builds a service's backend on its first call (Parameter Store: about 1 s)."""
    ssm = aws.session().client("ssm", endpoint_url=aws.endpoint)
    ssm.describe_parameters(MaxResults=1)


def serve(clean: bool) -> int:
    from local.cloudformation import resources
    from local.run import console, state
    from local.cognito import signing_key

    console.install()  # every line of this process whole and escaped: pump, outbox, logs
    port = _port("PORT")
    aws_port = _port("LOCAL_AWS_PORT")
    if port == aws_port:
        raise SystemExit(f"PORT and LOCAL_AWS_PORT are both {port}: choose two different ports.")
    _check_free(port, "PORT", "the app")
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: every thread's stack on stderr
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    store = state.Store(os.environ.get("LOCAL_STATE_DIR") or STATE_DIR, say=_say,
                        interval=float(os.environ.get("LOCAL_STATE_INTERVAL") or 0.5))
    aws = LocalAWS(Outbox(), port=aws_port,
                   signing_key=signing_key.kept_in(store.directory, say=_say))
    if clean and store.clear():
        _say(f"[state] forgot the saved local data ({store.path})")
    saved = store.load()
    saved_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(store.saved_at))
    try:
        aws.start()
    except OSError as exc:
        print(f"Cannot start the local AWS on port {aws_port}: {exc.strerror or exc}. "
              "Set LOCAL_AWS_PORT to a free port.", file=sys.stderr)
        return 1
    child = delivery = None
    saving = False
    try:
        if saved is None:
            outputs = resources.create(aws.session(), "local", REGION, aws.endpoint)
            positions: dict[str, str] = {}
        else:
            outputs, positions = saved["outputs"], saved["stream_positions"]
        os.environ.update(aws.environment(outputs))
        store.extras.update(outputs=lambda: outputs, stream_positions=lambda: dict(positions))
        aws.actions["save"] = lambda _: (store.save(), {"saved_at": store.saved_at})[1]
        aws.actions["outputs"] = lambda _: dict(outputs)  # the stack's names (make smoke)
        aws.actions["redrive"] = lambda _: _redrive(aws)
        delivering = threading.Event()

        def delivered(reported: dict[str, Any]) -> dict[str, Any]:
            positions.update(reported)  # positions only move on: never a moment without them
            delivering.set()
            return {"positions": len(positions)}

        aws.actions["positions"] = delivered  # from the delivery process, saved with the snapshot
        store.save()
        store.start()
        saving = True
        _warm_local_aws(aws)
        child = subprocess.Popen([sys.executable, "-m", "local.run.serve", "--port", str(port)],  # noqa: S603 (our own interpreter and module)
                                 cwd=ROOT,
                                 env={**os.environ, "COMM_IT_PARENT_PID": str(os.getpid())})
        delivery = _start_delivery(positions)
        app_url = f"http://127.0.0.1:{port}/"
        _wait_for_app(app_url, child, stop)
        _wait_for_delivery(delivering, delivery, stop)
        if stop.is_set():  # SIGTERM or Ctrl-C while starting: stop without announcing
            return 0
        print(f"App: {app_url}", flush=True)
        # WebAuthn refuses an IP address as relying party: passkeys work at localhost (the
        # local pool's relying party, cloudformation/resources.py); the app answers to both.
        print(f"Passkeys: http://localhost:{port}/ (the same app, where passkeys work)",
              flush=True)
        print(f"AWS endpoint: {aws.endpoint}", flush=True)
        if saved is None:
            _say(f"Local data: new; kept in {store.directory} across restarts "
                 "(`make run CLEAN=1` starts empty).")
        else:
            _say(f"Local data: as saved {saved_at} in {store.directory} "
                 "(`make run CLEAN=1` starts empty); "
                 f"{saved['_released_in_flight']} unfinished message(s) delivered again.")
        print("Emails Cognito would send appear below as [outbox] lines. Ctrl-C stops.", flush=True)
        while not stop.is_set() and child.poll() is None and delivery.poll() is None:
            stop.wait(0.5)
        if stop.is_set():
            return 0
        ended = child if child.poll() is not None else delivery
        _say(f"{'chalice local' if ended is child else 'event delivery'} exited with code "
             f"{ended.returncode}; stopping.")
        return ended.returncode or 1
    finally:
        _stop_children([delivery, child], 6)  # the delivery's last positions reach the save
        if saving:
            store.stop()  # the last save: nothing is moving any more
        aws.stop()


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")  # one write: a whole line even beside other threads
    sys.stdout.flush()


# --- commands for a running stack -------------------------------------------------------------

def _endpoint() -> str:
    return f"http://127.0.0.1:{_port('LOCAL_AWS_PORT')}"


def _control(method: str, name: str, body: dict | None = None) -> dict:
    from local.event_sources.deliver import control

    try:
        return control(_endpoint(), method, name, body)
    except urllib.error.HTTPError as error:
        raise SystemExit(json.loads(error.read() or b"{}").get("message", str(error))) from None
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"No local AWS answers at {_endpoint()} ({exc}): is `make run` running? "
                         "(LOCAL_AWS_PORT chooses the port)") from None


def fault(args: argparse.Namespace) -> int:
    if args.off:
        _control("DELETE", "faults")
        print("faults: all off")
        return 0
    if not args.service or not args.kind:
        raise SystemExit("usage: python -m local fault SERVICE throttle|5xx [--seconds N] | --off")
    answer = _control("POST", "faults", {"service": args.service, "kind": args.kind,
                                         "seconds": args.seconds})
    print(f"fault: {args.service} answers {args.kind} for {args.seconds:g} s ({answer['fault']})")
    return 0


def redrive_command() -> int:
    answer = _control("POST", "redrive")
    if "error" in answer:
        raise SystemExit(f"redrive failed: {answer['error']}")
    for route, count in answer["moved"].items():
        print(f"redrive: {route}: {count} message(s)")
    print(f"redrive: {sum(answer['moved'].values())} message(s) in all")
    return 0


def main(argv: list[str] | None = None) -> int:
    from local.server.faults import KINDS, SERVICES

    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n")[0])
    parser.add_argument("--clean", action="store_true",
                        help="forget the saved local data (accounts, items, files) and start empty")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("redrive", help="every dead letter back to its queue (or stream handler)")
    switch = commands.add_parser(
        "fault", help="make a service of the running local AWS fail for a while")
    switch.add_argument("service", nargs="?", choices=SERVICES)
    switch.add_argument("kind", nargs="?", choices=KINDS)
    switch.add_argument("--seconds", type=float, default=5.0)
    switch.add_argument("--off", action="store_true", help="switch every fault off now")
    args = parser.parse_args(argv)
    if args.command == "redrive":
        return redrive_command()
    if args.command == "fault":
        return fault(args)
    return serve(clean=args.clean)


def _exit_at_once(code: int) -> None:
    """Exit without tearing the local AWS's objects down one by one: all is saved and stopped
    by then, and with 10,000 people stored the interpreter's teardown took longer (~2 s) than
    stopping and saving together (bench/README.md, greeting.stop_s)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit_at_once(main())
