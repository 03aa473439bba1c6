"""Faults on purpose in the local AWS: a service throttles or answers 5xx for a while.

Switched at runtime (`python -m local fault ssm throttle --seconds 5`, or
POST /_local/faults on the local AWS endpoint), so the running stack shows what
the app does when Parameter Store throttles, S3 fails or DynamoDB throttles:
botocore's retries, the pump's redeliveries, the dead-letter queues.

A faulted request never reaches moto and changes nothing. The answers have the
shape each service's protocol has in AWS (JSON `__type` for SSM, DynamoDB, SQS,
Cognito; XML <Error> for S3 and SNS), so botocore classifies them as it would
there (throttling is retried with backoff, then raised as a ClientError).
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

KINDS = ("throttle", "5xx")
_JSON_SERVICES = {"ssm": "1.1", "dynamodb": "1.0", "dynamodbstreams": "1.0", "sqs": "1.0",
                  "cognito-idp": "1.1", "cognito-identity": "1.1"}
_XML_SERVICES = {"s3", "sns"}
_REST_JSON_SERVICES = {"apigateway"}  # `make deploy`'s REST API import (a rehearsal's fault)
SERVICES = tuple(sorted(set(_JSON_SERVICES) | _XML_SERVICES | _REST_JSON_SERVICES))

# service -> kind -> (HTTP status, error code, message)
_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "dynamodb": {"throttle": (400, "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                              "Rate of requests exceeds the allowed throughput."),
                 "5xx": (500, "com.amazonaws.dynamodb.v20120810#InternalServerError",
                         "Internal server error")},
    "apigateway": {"throttle": (429, "TooManyRequestsException", "Too Many Requests"),
                   "5xx": (503, "ServiceUnavailableException", "Service Unavailable")},
    "s3": {"throttle": (503, "SlowDown", "Please reduce your request rate."),
           "5xx": (500, "InternalError", "We encountered an internal error. Please try again.")},
}
_DEFAULT_ERRORS = {"throttle": (400, "ThrottlingException", "Rate exceeded"),
                   "5xx": (500, "InternalFailure", "The request processing has failed.")}
# A request with this header is never faulted: an observer (a test, a person looking at the
# data) sees the truth while the app's requests fail.
EXEMPT_HEADER = "x-local-fault-exempt"
EXEMPT_ENVIRON = "HTTP_X_LOCAL_FAULT_EXEMPT"
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


@dataclass
class Fault:
    service: str
    kind: str
    until: float  # time.monotonic()
    answered: int = 0
    started: float = field(default_factory=time.monotonic)

    def describe(self) -> dict[str, Any]:
        return {"service": self.service, "kind": self.kind, "answered": self.answered,
                "seconds_left": round(max(0.0, self.until - time.monotonic()), 1)}


def service_of(environ: dict[str, Any]) -> str:
    """The AWS service a signed request is for (DynamoDB streams apart from DynamoDB)."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", "")) or \
        _CREDENTIAL.search("Credential=" + environ.get("QUERY_STRING", "").replace("%2F", "/"))
    service = match.group(1) if match else ""
    if service == "dynamodb" and environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDBStreams"):
        return "dynamodbstreams"
    return service


class Faults:
    """The faults switched on now; `answer` fails a matching request instead of moto."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: list[Fault] = []
        self.history: list[Fault] = []

    def add(self, service: str, kind: str, seconds: float) -> Fault:
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}: one of {', '.join(SERVICES)}")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}: one of {', '.join(KINDS)}")
        if not 0 < seconds <= 3600:
            raise ValueError("seconds must be more than 0 and at most 3600")
        fault = Fault(service, kind, time.monotonic() + seconds)
        with self._lock:
            self._active.append(fault)
            self.history.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def active(self) -> list[Fault]:
        now = time.monotonic()
        with self._lock:
            self._active = [f for f in self._active if f.until > now]
            return list(self._active)

    def answer(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The error to answer `environ` with, or None to let it through to moto."""
        if not self._active or environ.get(EXEMPT_ENVIRON):
            return None
        service = service_of(environ)
        fault = next((f for f in self.active() if f.service == service), None)
        if fault is None:
            return None
        with self._lock:
            fault.answered += 1
        return error_response(service, fault.kind)


def error_response(service: str, kind: str) -> tuple[int, list[tuple[str, str]], bytes]:
    status, code, message = _ERRORS.get(service, _DEFAULT_ERRORS)[kind]
    request_id = f"local-fault-{time.monotonic_ns()}"
    if service in _XML_SERVICES:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>{request_id}</RequestId></Error>").encode()
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body
    if service in _REST_JSON_SERVICES:
        body = json.dumps({"message": message}).encode()
        return status, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
                        ("x-amzn-ErrorType", code)], body
    version = _JSON_SERVICES.get(service, "1.1")
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", f"application/x-amz-json-{version}"),
                    ("x-amzn-RequestId", request_id),
                    ("x-amzn-ErrorType", code.rsplit("#", 1)[-1])], body
