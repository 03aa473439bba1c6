"""chalicelib/errors.py: every error the API answers is {"error": "<Code>", "message": "<text>"},
with no stack trace or internals, whoever produced it (our code, Chalice, a crash).
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from chalice import Response

from chalicelib import errors
from chalicelib.errors import ApiError, Conflict, ServiceUnavailable, TooManyRequests
from tests.helpers import post

SECRET = "db-password=hunter2"
INTERNAL = {"error": "InternalError",
            "message": "Something went wrong on our side. Please try again."}


def json_of(response: Any) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/json"
    return json.loads(response.body)


def assert_our_shape(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.body
    body = json_of(response)
    assert set(body) == {"error", "message"} and body["error"] == code, body
    assert re.fullmatch(r"[A-Z][^\n]{9,}\.", body["message"]), body["message"]
    assert response.headers["Cache-Control"] == "no-store"
    return body["message"]


def assert_no_internals(response: Any) -> None:
    text = response.body.decode() if isinstance(response.body, bytes) else str(response.body)
    for leak in ("Traceback", SECRET, "RuntimeError", 'File "', "chalicelib", "line "):
        assert leak not in text, text


def boom(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError(f"cannot connect: {SECRET}")


# --- unexpected exceptions ------------------------------------------------------------

def test_an_exception_in_a_view_is_500_json_without_a_stack_trace(client, monkeypatch):
    from chalicelib import cognito_sign_in

    monkeypatch.setattr(cognito_sign_in, "log_in", boom)
    response = post(client, "/api/auth/login", {"username": "ada", "password": "Corr3ct-horse"})
    assert_our_shape(response, 500, "InternalError")
    assert json_of(response) == INTERNAL
    assert_no_internals(response)


@pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")
def test_an_exception_in_the_guard_is_the_same_500(client, monkeypatch, caplog):
    from chalicelib import guard

    monkeypatch.setattr(guard, "verify_id_token", boom)
    with caplog.at_level(logging.ERROR, logger="chalicelib.errors"):
        # "e30" is {}: chalice's local gateway decodes it (a.b.c would crash it, see FIELD-NOTES).
        response = client.http.get("/api/greeting", headers={"Authorization": "e30.e30.c2ln"})
    assert response.status_code == 500
    assert json_of(response) == INTERNAL
    assert_no_internals(response)
    # ...while the log keeps the whole story for us.
    [record] = [r for r in caplog.records if r.name == "chalicelib.errors"]
    assert record.exc_info and SECRET in str(record.exc_info[1])


def test_even_in_debug_mode_no_stack_trace_reaches_the_client(client, monkeypatch):
    from app import app
    from chalicelib import cognito_sign_in

    monkeypatch.setattr(cognito_sign_in, "log_in", boom)
    debug = app.debug
    app.debug = True  # Chalice would now answer the traceback as text/plain
    try:
        response = post(client, "/api/auth/login", {"username": "ada", "password": "Corr3ct-horse"})
    finally:
        app.debug = debug
    assert response.status_code == 500
    assert json_of(response) == INTERNAL
    assert_no_internals(response)


def test_the_app_is_not_in_debug_mode():
    from app import app

    assert app.debug is False


# --- Chalice's own errors in our shape ------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/xml",
                                          "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415_in_our_shape(client, content_type):
    response = client.http.post("/api/auth/login", body=b"username=ada",
                                headers={"Content-Type": content_type})
    message = assert_our_shape(response, 415, "UnsupportedMediaType")
    assert "application/json" in message


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/api/auth/login", "POST"), ("PUT", "/api/auth/signup", "POST"),
    ("GET", "/api/auth/logout", "POST"), ("POST", "/api/greeting", "GET"),
    ("PATCH", "/api/auth/credentials", "POST")])
def test_a_method_a_route_does_not_have_is_405_in_our_shape_with_allow(client, method, path,
                                                                        allowed):
    response = client.http.request(method, path, headers={"Content-Type": "application/json"},
                                   body=b"{}")
    message = assert_our_shape(response, 405, "MethodNotAllowed")
    assert "method" in message
    assert response.headers["Allow"] == allowed


def test_a_chalice_view_error_keeps_its_status_and_code():
    response = errors._chalice_error_as_ours(
        Response(body={"Code": "NotFoundError", "Message": "No such greeting."}, status_code=404,
                 headers={"Content-Type": "application/json", "X-Trace": "t1"}))
    assert response.status_code == 404
    assert json.loads(response.body) == {"error": "NotFoundError", "message": "No such greeting."}
    assert response.headers["X-Trace"] == "t1"
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("response", [
    Response(body={"ok": True}, status_code=200),
    Response(body="<p>hello</p>", status_code=200, headers={"Content-Type": "text/html"}),
    Response(body={"status": "pending"}, status_code=202),
    Response(body=json.dumps({"error": "Conflict", "message": "Taken."}), status_code=409),
])
def test_other_responses_pass_through_untouched(response):
    assert errors._chalice_error_as_ours(response) is response


# --- ApiError ---------------------------------------------------------------------------------

def run_middleware(exc: Exception) -> Response:
    def get_response(event: Any) -> Response:
        raise exc

    return errors.json_errors(object(), get_response)


@pytest.mark.parametrize("exc,status,code", [
    (ApiError("Something is off."), 400, "BadRequest"),
    (Conflict("That username is taken.", code="UsernameExists"), 409, "UsernameExists"),
    (ApiError("Too big.", code="PayloadTooLarge", status=413), 413, "PayloadTooLarge"),
    (ServiceUnavailable("The sign-in service did not answer."), 503, "ServiceUnavailable"),
])
def test_an_api_error_becomes_its_status_code_and_message(exc, status, code):
    response = run_middleware(exc)
    assert response.status_code == status
    assert json.loads(response.body) == {"error": code, "message": exc.message}
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


def test_an_api_error_keeps_its_headers():
    response = run_middleware(TooManyRequests("Wait a minute.", headers={"Retry-After": "60"}))
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"


def test_json_response_is_json_and_never_cached():
    response = errors.json_response(201, {"username": "ada"}, {"Location": "/x"})
    assert (response.status_code, json.loads(response.body)) == (201, {"username": "ada"})
    assert response.headers == {"Content-Type": "application/json", "Cache-Control": "no-store",
                                "Location": "/x"}


def test_a_json_answer_sends_the_strict_policy_that_loads_and_runs_nothing(client):
    """The literal policy, not the constant: weakening the constant must fail here."""
    response = client.http.get("/api/greeting")  # the guard's 401, before any AWS
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Security-Policy"] == (
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
