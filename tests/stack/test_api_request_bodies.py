"""What every account route does with a body it cannot use: not JSON, not an object,
too big, or empty.

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito/codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

import json

import pytest

from chalicelib.inputs import MAX_BODY_BYTES
from tests.helpers import post
from tests.stack.helpers import assert_error


# --- the body is JSON, an object, and at most 16 KiB ------------------------------------

@pytest.mark.parametrize("raw", ['{"name": "Ada",', "{'name': 'Ada'}", "name=Ada",
                                 b"\xff\xfe{}", "[" * 5000])
def test_malformed_json_is_400_malformed_json(client, raw):
    message = assert_error(post(client, "/api/auth/signup", raw), 400, "MalformedJSON")
    assert message == "The request body is not valid JSON."


@pytest.mark.parametrize("raw", ["[]", '["Ada"]', '"Ada"', "42", "null", "true", ""])
def test_json_that_is_not_an_object_is_400_malformed_json(client, raw):
    message = assert_error(post(client, "/api/auth/login", raw), 400, "MalformedJSON")
    assert message == "The request body must be a JSON object."


@pytest.mark.parametrize("path", ["/api/auth/signup", "/api/auth/login", "/api/auth/confirm",
                                  "/api/auth/reset", "/api/auth/refresh", "/api/auth/logout"])
def test_a_body_over_16_kib_is_413_payload_too_large(client, path):
    body = json.dumps({"username": "ada", "padding": "x" * MAX_BODY_BYTES})
    message = assert_error(post(client, path, body), 413, "PayloadTooLarge")
    assert str(MAX_BODY_BYTES) in message


def test_a_body_of_exactly_16_kib_is_accepted(client, signed_up):
    body = {"username": signed_up["username"], "password": signed_up["password"], "pad": ""}
    body["pad"] = "x" * (MAX_BODY_BYTES - len(json.dumps(body)))
    raw = json.dumps(body)
    assert len(raw.encode()) == MAX_BODY_BYTES
    # Past the size check: the account is real and unconfirmed, so Cognito answers 403.
    assert_error(post(client, "/api/auth/login", raw), 403, "UserNotConfirmed")


# --- every account route answers JSON errors, never a crash ---------------------------

@pytest.mark.parametrize("path", ["/api/auth/signup", "/api/auth/confirm", "/api/auth/resend",
                                  "/api/auth/login", "/api/auth/refresh", "/api/auth/logout",
                                  "/api/auth/forgot", "/api/auth/reset"])
def test_every_account_route_rejects_an_empty_object_with_400_missing_parameter(client, path):
    assert_error(post(client, path, {}), 400, "MissingParameter")
