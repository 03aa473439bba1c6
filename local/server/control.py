"""The local AWS's front door: every request to moto passes through here.

- held shared against snapshots (local.run.state.GATE), and counted when it may
  change state, so the state saver knows there is something new to save;
- failed on purpose while a fault is switched on for its service (local.server.faults);
- a DynamoDB write wakes whoever waits on WAKE (the event pump's idle stream poll);
- counted by action (X-Amz-Target, e.g. AmazonSSM.GetParameter: the JSON protocols), for the
  bench's reads per greeted person;
- /_local/... answers the control calls (`python -m local fault`, the tests):
    GET /_local/calls                    requests so far by X-Amz-Target (CALLS)
    GET /_local/faults                   the faults switched on, and every fault so far
    POST /_local/faults {"service", "kind", "seconds"}   switch one on
    DELETE /_local/faults                switch every fault off
    GET /_local/wake?seen=N&timeout=S    {"count"}: the DynamoDB writes so far, answered when it
                                         is not N any more or after S s (at most 10): the
                                         delivery process's idle wait
                                         (local/event_sources/deliver.py)
    POST /_local/wake                    {"count"}: end that wait now (a stopping delivery)
    POST /_local/<action> {...}          an action the running stack registered, given the
                                         request's JSON (save; outputs: the stack's names, for
                                         `make smoke`; positions: the stream positions delivered)
"""
from __future__ import annotations

import collections
import json
import threading
import urllib.parse
from typing import Any, Callable, Iterable

from local.server.faults import Faults
from local.run.state import GATE, changes_state

CONTROL = "/_local/"
_DYNAMODB_WRITE = "DynamoDB_20120810."  # not DynamoDBStreams_...: the pump's own reads
WAKE_MAX_SECONDS = 10.0  # the longest a GET /_local/wake is held


class Wake:
    """A count of DynamoDB writes one can wait on: the stream pump sleeps long when idle and
    wakes at the first write (a Condition, not a busy poll)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.count = 0

    def notify(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """Until a write after `seen` (returned at once if there was one) or the timeout."""
        with self._changed:
            self._changed.wait_for(lambda: self.count != seen, timeout)
            return self.count


WAKE = Wake()
CALLS: collections.Counter[str] = collections.Counter()  # requests by X-Amz-Target
_CALLS_LOCK = threading.Lock()


class FrontDoor:
    def __init__(self, app: Callable, faults: Faults,
                 actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> None:
        self._app = app
        self.faults = faults
        self.actions = actions

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(CONTROL):
            return self._control(environ, start_response)
        with _CALLS_LOCK:
            CALLS[environ.get("HTTP_X_AMZ_TARGET", "")] += 1
        failed = self.faults.answer(environ)
        if failed is not None:
            status, headers, body = failed
            start_response(f"{status} Fault", headers + [("Content-Length", str(len(body)))])
            return [body]
        with GATE.shared():
            result = self._app(environ, start_response)
            try:
                body = b"".join(result)  # inside the hold: moto may build the body lazily
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()
            if changes_state(environ, body):
                GATE.changes += 1
                if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_DYNAMODB_WRITE):
                    WAKE.notify()
        return [body]

    def _control(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        name = environ["PATH_INFO"][len(CONTROL):].strip("/")
        try:
            if name == "calls" and method == "GET":
                with _CALLS_LOCK:
                    answer = (200, dict(CALLS))
            elif name == "faults" and method == "GET":
                answer = (200, self._faults())
            elif name == "faults" and method == "POST":
                request = _json_body(environ)
                fault = self.faults.add(str(request.get("service", "")),
                                        str(request.get("kind", "")),
                                        float(request.get("seconds", 0)))
                answer = (201, {"fault": fault.describe()})
            elif name == "faults" and method == "DELETE":
                self.faults.clear()
                answer = (200, self._faults())
            elif name == "wake" and method == "GET":
                query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
                seen = int(query.get("seen", ["-1"])[0])
                timeout = min(WAKE_MAX_SECONDS, max(0.0, float(query.get("timeout", ["0"])[0])))
                answer = (200, {"count": WAKE.wait(seen, timeout)})
            elif name == "wake" and method == "POST":
                WAKE.notify()
                answer = (200, {"count": WAKE.count})
            elif name in self.actions and method == "POST":
                answer = (200, self.actions[name](_json_body(environ)))
            else:
                answer = (404, {"error": "NotFound",
                                "message": f"no control call {method} {name!r}"})
        except (ValueError, TypeError) as exc:
            answer = (400, {"error": "BadRequest", "message": str(exc)})
        except Exception as exc:  # noqa: BLE001 - say what failed, not werkzeug's HTML page
            answer = (500, {"error": "ControlCallFailed",
                            "message": f"{method} {name!r} failed: {type(exc).__name__}: {exc}"})
        status, document = answer
        body = json.dumps(document).encode()
        start_response(f"{status} Control", [("Content-Type", "application/json"),
                                             ("Content-Length", str(len(body)))])
        return [body]

    def _faults(self) -> dict[str, Any]:
        return {"active": [f.describe() for f in self.faults.active()],
                "history": [f.describe() for f in self.faults.history]}


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    document = json.loads(environ["wsgi.input"].read(length) or b"{}")
    if not isinstance(document, dict):
        raise ValueError("a JSON object is expected")
    return document


# Connections the kernel queues before the local AWS accepts them (as local/run/serve.py's).
LISTEN_BACKLOG = 1024


def server(ip_address: str, port: int, faults: Faults,
           actions: dict[str, Callable[[dict[str, Any]], dict[str, Any]]],
           first_use: dict[str, Callable[[], None]] | None = None) -> Any:
    """moto's threaded server with this front door around its app; `first_use[service]()`
    runs before moto builds that service's backend (its first request): a patch whose
    import is slow waits for a request that needs it."""
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                               create_backend_app)
    from werkzeug.serving import make_server

    class Handler(MotoRequestHandler):
        def log_request(self, *args: Any) -> None:
            """No access log (its logger is off: local_aws.py), so not even its line is made."""

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = FrontDoor(DomainDispatcherApplication(_first_use(create_backend_app,
                                                                   first_use or {})),
                            faults, actions)
            self._server = make_server(self._ip_address, self._port, app, True,
                                       request_handler=Handler)
            # werkzeug listens with a backlog of 128: `chalice local` (its own is 1,024)
            # and the pump may open more connections at once under a crowd. Listening again
            # resizes the queue (Linux), so a burst is queued instead of refused.
            self._server.socket.listen(LISTEN_BACKLOG)
            self._server_ready_event.set()
            self._server.serve_forever()

    return Server(ip_address=ip_address, port=port, verbose=False)


def _first_use(create: Callable[[str], Any],
               hooks: dict[str, Callable[[], None]]) -> Callable[[str], Any]:
    def create_backend_app(service: str) -> Any:
        if service in hooks:
            hooks[service]()
        return create(service)
    return create_backend_app
