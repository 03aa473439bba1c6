"""The app's log lines: one JSON object per line, the request id (HTTP) or event id
(pipeline) on every line, info lines kept, no secret ever written."""
from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from chalicelib import logs
from tests.helpers import PASSWORD, post


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_line_is_one_json_object_with_time_level_logger_and_message():
    line = json.loads(logs.format_line("INFO", "chalicelib.x", "hello", {"event_id": "e1"}))
    assert set(line) == {"time", "level", "logger", "message", "event_id"}
    assert line["time"].endswith("Z") and line["level"] == "INFO"


@pytest.mark.parametrize("field", ["password", "idToken", "accessToken", "code", "client_secret",
                                   "Authorization", "credentials"])
def test_a_field_named_like_a_secret_is_never_written(field):
    assert field not in json.loads(logs.format_line("INFO", "x", "m", {field: "s3cr3t"}))


def test_fields_bound_in_a_block_are_on_every_line_inside_it_only(capsys):
    logs.configure()
    log = logging.getLogger("chalicelib.test")
    with logs.fields(event_id="e-1"):
        log.info("inside")
    log.info("outside")
    inside, outside = lines(capsys.readouterr().out)[-2:]
    assert inside["event_id"] == "e-1" and "event_id" not in outside
    assert inside["message"] == "inside" and inside["logger"] == "chalicelib.test"


def test_an_http_request_logs_info_lines_with_its_request_id_and_no_secret(client, register,
                                                                           capsys):
    person = register(name="Log Reader")
    capsys.readouterr()
    response = post(client, "/api/auth/login",
                    {"username": person["username"], "password": PASSWORD})
    assert response.status_code == 200
    out = capsys.readouterr().out
    published = [line for line in lines(out) if line["logger"] == "chalicelib.user_events"]
    assert published and published[0]["level"] == "INFO"
    assert all(line.get("request_id") for line in lines(out))
    for secret in (PASSWORD, response.json_body["idToken"], response.json_body["refreshToken"]):
        assert secret not in out


def test_lambdas_own_root_handler_does_not_print_our_lines_twice():
    class LambdaLoggerHandler(logging.Handler):  # the name the Lambda runtime's handler has
        def __init__(self) -> None:
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.records.append(record)

    lambda_handler = LambdaLoggerHandler()
    root = logging.getLogger()
    root.addHandler(lambda_handler)
    try:
        logs._configured = False
        logs.configure()
        logging.getLogger("chalicelib.test").warning("once")
        logging.getLogger("other.library").warning("theirs")
    finally:
        root.removeHandler(lambda_handler)
        logs._configured = True
    assert [r.getMessage() for r in lambda_handler.records] == ["theirs"]
