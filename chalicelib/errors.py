"""Errors the API answers with: a 4xx and {"error": "<Code>", "message": "<text>"}."""
from __future__ import annotations

import json
import logging
from typing import Callable

from chalice import ChaliceUnhandledError, Response

log = logging.getLogger(__name__)


class ApiError(ChaliceUnhandledError):
    """An error the person (or the client) can act on.

    It subclasses ChaliceUnhandledError so that Chalice lets it reach the
    `json_errors` middleware instead of turning it into its own 500.
    """

    status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, code: str | None = None,
                 status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


# Said when the person's sign-in no longer works (deleted account, revoked or expired
# tokens): the API's 401s say it, and so does the login page's notice after a failed refresh.
SESSION_ENDED = "Your session has ended. Please log in again."


class BadRequest(ApiError):
    status = 400
    code = "BadRequest"


class Unauthorized(ApiError):
    status = 401
    code = "Unauthorized"


def session_ended() -> Unauthorized:
    return Unauthorized(SESSION_ENDED, code="SessionEnded")


class Forbidden(ApiError):
    status = 403
    code = "Forbidden"


class Conflict(ApiError):
    status = 409
    code = "Conflict"


class TooManyRequests(ApiError):
    status = 429
    code = "TooManyRequests"


class ServiceUnavailable(ApiError):
    """A dependency (Cognito, SNS, ...) failed; the request itself was fine."""

    status = 503
    code = "ServiceUnavailable"


def json_response(status: int, body: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body),
        status_code=status,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store",
                 **(headers or {})},
    )


INTERNAL_ERROR = {"error": "InternalError",
                  "message": "Something went wrong on our side. Please try again."}

# Chalice answers these itself, before or around the view, as {"Code", "Message"}
# with terse text ("Unsupported media type: text/plain"); ours say what to do.
_CHALICE_ERRORS = {
    "UnsupportedMediaType": ("UnsupportedMediaType",
                             "Send the request body as JSON, with Content-Type: application/json."),
    "MethodNotAllowedError": ("MethodNotAllowed",
                              "This address does not accept that HTTP method."),
}


def json_errors(event, get_response: Callable):
    """HTTP middleware: turn ApiError into its JSON answer; hide everything else."""
    try:
        response = get_response(event)
    except ApiError as exc:
        return json_response(exc.status, {"error": exc.code, "message": exc.message},
                             exc.headers)
    except Exception:  # never a stack trace to the client
        log.exception("unhandled error on %r", getattr(event, "path", "?"))  # %r: escaped
        return json_response(500, INTERNAL_ERROR)
    return _chalice_error_as_ours(response)


def _chalice_error_as_ours(response: Response) -> Response:
    """Chalice answers some errors itself (415, 405, 500...) as {"Code", "Message"}: our shape.

    An exception in a view never reaches `json_errors`: Chalice catches it and answers
    its own 500 (or, with app.debug on, the stack trace as text/plain). Both become
    the same 500 as an exception anywhere else.
    """
    body = response.body
    if response.status_code >= 500 and (
            (isinstance(body, dict) and body.get("Code") == "InternalServerError")
            or (isinstance(body, str) and "Traceback (most recent call last)" in body)):
        return json_response(500, INTERNAL_ERROR)
    if response.status_code >= 400 and isinstance(body, dict) and {"Code", "Message"} <= set(body):
        code, message = _CHALICE_ERRORS.get(body["Code"], (body["Code"], body["Message"]))
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        return json_response(response.status_code, {"error": code, "message": message}, headers)
    return response
