"""`chalice local`, hardened where it differs from API Gateway or breaks under load.

- A malformed token gets the app's 401: chalice local's Cognito authorizer
  base64-decodes the token's payload with no check at all, and a token that is not
  three base64 parts crashed the local gateway (the client got an empty reply). Here
  such a token decodes to no claims, so the app's guard answers 401 for it.
- An unknown path gets the deployed answer, 404 {"error": "NotFound", ...} (the
  gateway response infra/deploy.py puts), not 403 "Missing Authentication Token"; a page
  asked for (GET or HEAD outside /api/) gets the HTML page `Page not found` instead.
- `HEAD` answers carry no body (one would corrupt a keep-alive connection).
- A `Content-Length` that is not a number of bytes (or twice, or chunked bodies, which
  chalice local cannot read) gets a 400/411 JSON answer and the connection is closed
  cleanly: no traceback, no dropped connection. Bodies over API Gateway's 10 MiB quota
  get 413 before they are read.
- Whatever the server answers itself (those errors, malformed request lines) is JSON
  in the app's {"error", "message"} shape with the app's security headers.
- A method no `do_<METHOD>` handles (TRACE, CONNECT, BREW) reaches the gateway like
  any method a route lacks: the app's 405 with `Allow` (the route's methods), or 404
  for an unknown path; not http.server's 501, nor a 405 without `Allow`.
- The listen backlog is LISTEN_BACKLOG, not Python's 5: a burst of people connecting
  at once is queued, not reset.
- A client that hangs up before its answer is written (a closed tab, a cancelled fetch)
  is one console line, not a BrokenPipeError traceback: nothing is wrong with the server.
- Log lines are escaped and written whole (local/run/console.py).

Run: python -m local.run.serve --port N
"""
from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
from http import HTTPStatus
from typing import Any

log = logging.getLogger(__name__)

# API Gateway's payload quota: a larger body never reaches the app in AWS.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
# Connections the kernel queues before the server accepts them (Python's default is 5).
LISTEN_BACKLOG = 1024
# What writing to (or reading from) a client that hung up raises.
HUNG_UP = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


def die_with_parent() -> None:
    """Stop when `python -m local` dies, even by SIGKILL: never an orphan holding PORT."""
    parent = os.environ.get("COMM_IT_PARENT_PID", "")
    if not sys.platform.startswith("linux") or not parent.isdigit():
        return
    import ctypes

    PR_SET_PDEATHSIG = 1  # noqa: N806 (the name in prctl.h)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # the parent died before prctl took effect
        sys.exit(1)


def _json_answer(status: int, error: str, message: str) -> tuple[dict[str, str], bytes]:
    from chalicelib.headers import secure

    return secure({"Content-Type": "application/json"}), \
        json.dumps({"error": error, "message": message}).encode()


def _not_found_error(method: str = "GET", path: str = "/api") -> Any:
    """The answer to an unknown path, as chalice local's gateway error type: a person's page
    asked for (GET or HEAD outside /api/) gets the HTML page `Page not found`; anything else
    the deployed JSON answer."""
    from chalice.local import LocalGatewayException

    from infra import gateway

    status = gateway.RESPONSE_TYPES["MISSING_AUTHENTICATION_TOKEN"]
    answer = json.loads(gateway.body_template("MISSING_AUTHENTICATION_TOKEN"))

    class NotFound(LocalGatewayException):
        CODE = int(status)

    address = path.split("?", 1)[0]
    if method in ("GET", "HEAD") and address != "/api" and not address.startswith("/api/"):
        from chalicelib import pages

        page = pages.not_found()
        return NotFound(dict(page.headers), page.body.encode())
    return NotFound(*_json_answer(int(status), answer["error"], answer["message"]))


def harden_local_gateway(setattr_=setattr) -> None:
    """Make chalice's local gateway (also chalice.test.Client's) answer like API Gateway:
    malformed tokens reach the app's guard, unknown paths are 404 NotFound.

    `setattr_` lets tests apply it with monkeypatch.setattr (undone after the test).
    """
    from chalice.local import LocalGateway, LocalGatewayAuthorizer

    original_decode = LocalGatewayAuthorizer._decode_jwt_payload
    if not getattr(original_decode, "hardened", False):
        def decode(self, jwt: str) -> dict:
            try:
                claims = original_decode(self, jwt)
            except Exception:  # noqa: BLE001 (any malformed token: the app's guard rejects it)
                return {}
            return claims if isinstance(claims, dict) else {}

        decode.hardened = True
        setattr_(LocalGatewayAuthorizer, "_decode_jwt_payload", decode)

    original_event = LocalGateway._generate_lambda_event
    if not getattr(original_event, "hardened", False):
        def lambda_event(self, method: str, path: str, headers: Any, body: Any) -> Any:
            try:
                return original_event(self, method, path, headers, body)
            except ValueError:  # no route matches: chalice answers 403 and echoes the token
                raise _not_found_error(method, path) from None

        lambda_event.hardened = True
        setattr_(LocalGateway, "_generate_lambda_event", lambda_event)


_SERVER_ERRORS = {  # what BaseHTTPRequestHandler.send_error answers, in the app's words
    400: (400, "BadRequest", "The request is not valid HTTP."),
    408: (408, "RequestTimeout", "The request did not arrive in time."),
    414: (414, "URITooLong", "The address is too long."),
    431: (431, "RequestHeaderFieldsTooLarge", "The request headers are too large."),
    505: (505, "HTTPVersionNotSupported", "Use HTTP/1.1."),
}


def _framing_problem(headers: Any) -> tuple[int, str, str] | None:
    """Why the body of a request cannot be read safely, or None."""
    if headers.get("Transfer-Encoding"):
        return 411, "LengthRequired", "Send the request body with a Content-Length header."
    lengths = headers.get_all("Content-Length") or []
    if len(lengths) > 1:
        return 400, "BadRequest", "The request has more than one Content-Length header."
    if lengths:
        value = lengths[0].strip()
        if not re.fullmatch(r"[0-9]{1,19}", value):
            return 400, "BadRequest", "The Content-Length header is not a number of bytes."
        if int(value) > MAX_REQUEST_BYTES:
            return 413, "PayloadTooLarge", \
                f"The request body is larger than {MAX_REQUEST_BYTES} bytes."
    return None


def harden_local_server(setattr_=setattr) -> None:
    """Patch chalice local's HTTP server: backlog, HEAD, framing errors, JSON + headers."""
    from chalice.local import ChaliceRequestHandler, ThreadedHTTPServer

    from chalicelib.headers import secure

    if getattr(ChaliceRequestHandler._generic_handle, "hardened", False):
        return
    setattr_(ThreadedHTTPServer, "request_queue_size", LISTEN_BACKLOG)
    original_handle = ChaliceRequestHandler._generic_handle
    original_send_headers = ChaliceRequestHandler._send_headers

    def answer_and_close(self, status: int, error: str, message: str) -> None:
        headers, body = _json_answer(status, error, message)
        self.send_response(status)
        headers.update({"Content-Length": str(len(body)), "Connection": "close"})
        original_send_headers(self, headers)
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def handle(self) -> None:
        problem = _framing_problem(self.headers)
        if problem:
            answer_and_close(self, *problem)
            return
        try:
            original_handle(self)
        except HUNG_UP:
            raise  # nobody to answer: the server's handle_error says so in one line
        except Exception:  # the app answers its own errors; this is the gateway's
            log.exception("local gateway error on %s %s", self.command, self.path)
            answer_and_close(self, 500, "InternalError",
                             "Something went wrong on our side. Please try again.")

    def send_with_body(self, code: int, headers: dict, body: str | bytes) -> None:
        if not isinstance(body, bytes):
            body = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)
        if self.command != "HEAD":  # a HEAD answer is the GET's headers, no body
            self.wfile.write(body)

    def send_headers(self, headers: dict) -> None:
        original_send_headers(self, secure(dict(headers)))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        if code == HTTPStatus.NOT_IMPLEMENTED:  # a method with no do_<METHOD>: the app's 405
            handle(self)
            return
        self.log_error("code %d, message %s", code, message)
        # A line too malformed to name a version is treated as HTTP/0.9, which has no
        # status line nor headers: answer it as HTTP/1.1, whose JSON a client can read.
        self.request_version = self.protocol_version
        answer_and_close(self, *_SERVER_ERRORS.get(code, _SERVER_ERRORS[400]))

    original_handle_error = ThreadedHTTPServer.handle_error

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, HUNG_UP):
            original_handle_error(self, request, client_address)
            return
        log.info("%s:%s hung up before its answer was sent (%s)", *client_address[:2],
                 type(error).__name__)

    handle.hardened = True
    for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS"):
        setattr_(ChaliceRequestHandler, f"do_{method}", handle)
    setattr_(ChaliceRequestHandler, "_generic_handle", handle)
    setattr_(ChaliceRequestHandler, "_send_http_response_with_body", send_with_body)
    setattr_(ChaliceRequestHandler, "_send_headers", send_headers)
    setattr_(ChaliceRequestHandler, "send_error", send_error)
    setattr_(ThreadedHTTPServer, "handle_error", handle_error)


def main(argv: list[str]) -> int:
    import warnings

    from local.run import console

    die_with_parent()
    console.install(logging.INFO)  # before chalice local sets up logging, which keeps ours
    # chalice local logs at INFO; botocore's "Found credentials..." lines only hide the
    # [outbox] and [event] lines a person is looking for.
    logging.getLogger("botocore").setLevel(logging.WARNING)

    from chalice import cli

    harden_local_gateway()
    harden_local_server()
    # The local gateway warns that it lets tokens without cognito:username through;
    # the app's guard verifies every token itself, so the warning is noise here.
    warnings.filterwarnings("ignore", message=".*not supported in local mode.*")
    from local.run import warm

    warm.api()  # the first login and greeting do not wait for boto3's clients
    sys.argv = ["chalice", "local", "--no-autoreload", "--stage", "local", *argv]
    return cli.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
