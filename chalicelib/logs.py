"""Structured logs: one JSON object per line, with the request id or the event id.

    {"time": "...", "level": "INFO", "logger": "chalicelib.user_events",
     "message": "published user.authenticated ...", "request_id": "...", "event_id": "..."}

Lambda keeps every line its function prints; with its default setup the info
lines of `logging` were dropped. `middleware` (registered for every Lambda in
app.py) configures the `chalicelib` loggers once per container (level from
LOG_LEVEL, INFO by default) and binds the request id (API Gateway's, or the
Lambda invocation's) for the whole invocation; the pipeline binds each record's
event id while it handles the record. CloudWatch Logs Insights and metric
filters read the fields (`{ $.level = "ERROR" }`).

Levels: INFO what happened, WARNING a dependency misbehaved or a record was
retried, ERROR an operator should look. Never a secret: messages carry ids,
never tokens, codes or passwords, and a field whose name says it holds one is
dropped here as a last guard.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import time
from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping

LOGGER = "chalicelib"
_FORBIDDEN = ("password", "token", "secret", "code", "authorization", "credential")
# The fields of log_context(); never mutated (a new dict per context), so no default is shared.
_fields: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "log_fields", default=MappingProxyType({}))
_configured = False


def format_line(level: str, logger: str, message: str, fields: dict[str, Any]) -> str:
    now = time.time()
    line: dict[str, Any] = {
        "time": (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
                 + f".{int(now % 1 * 1000):03d}Z"),
        "level": level, "logger": logger, "message": message}
    line.update({k: v for k, v in fields.items()
                 if k not in line and not any(word in k.lower() for word in _FORBIDDEN)})
    return json.dumps(line, default=str, ensure_ascii=False)


class JsonFormatter(logging.Formatter):
    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in self._STANDARD}
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        return format_line(record.levelname, record.name, message, {**_fields.get(), **extra})


class _NotOurs(logging.Filter):
    """On Lambda's own root handler: our lines are already printed, as JSON."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(LOGGER)


class _Stdout(logging.StreamHandler):
    """Whatever sys.stdout is now (Lambda's, or a test's capture), one write per line."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure() -> None:
    global _configured
    if _configured:
        return
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(h, _Stdout) for h in logger.handlers):
        handler = _Stdout()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
    logger.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    for other in logging.getLogger().handlers:
        if type(other).__name__ == "LambdaLoggerHandler":
            other.addFilter(_NotOurs())
    _configured = True


@contextlib.contextmanager
def fields(**values: Any) -> Iterator[None]:
    """Add fields (e.g. event_id) to every line logged inside the block."""
    token = _fields.set({**_fields.get(), **values})
    try:
        yield
    finally:
        _fields.reset(token)


def _request_id(event: Any) -> str:
    http = getattr(event, "context", None)
    if isinstance(http, dict) and http.get("requestId"):
        return str(http["requestId"])  # API Gateway's request id, also in its access logs
    lambda_context = getattr(event, "lambda_context", None) or http
    return str(getattr(lambda_context, "aws_request_id", "") or "")


def middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every Lambda: logs configured, the request id on every line."""
    configure()
    with fields(request_id=_request_id(event)):
        return get_response(event)
