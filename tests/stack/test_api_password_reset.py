"""Resetting a forgotten password: /api/auth/forgot emails a code, /api/auth/reset uses it.

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito/codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

import pytest

from tests.helpers import post
from tests.stack.helpers import NEW_PASSWORD, assert_error, assert_ok, log_in


# --- forgot and reset ---------------------------------------------------------------

def test_forgot_then_reset_with_the_emailed_code_changes_the_password(client, outbox, register):
    person = register(log_in=False)
    sent = len(outbox.messages)
    assert assert_ok(post(client, "/api/auth/forgot",
                          {"username": person["username"]})) == {"ok": True}
    assert len(outbox.messages) == sent + 1
    code = outbox.last_code(person["email"])
    assert_ok(post(client, "/api/auth/reset", {"username": person["username"], "code": code,
                                               "password": NEW_PASSWORD}))
    assert_ok(log_in(client, person["username"], NEW_PASSWORD))
    assert_error(log_in(client, person["username"], person["password"]), 401, "NotAuthorized")


def test_forgot_and_reset_by_email_address_in_any_case_work_like_by_username(
        client, outbox, register):
    person = register(log_in=False)
    sent = len(outbox.messages)
    assert assert_ok(post(client, "/api/auth/forgot",
                          {"username": person["email"].upper()})) == {"ok": True}
    assert len(outbox.messages) == sent + 1
    code = outbox.last_code(person["email"])
    assert_ok(post(client, "/api/auth/reset", {"username": person["email"], "code": code,
                                               "password": NEW_PASSWORD}))
    assert_ok(log_in(client, person["email"], NEW_PASSWORD))
    assert_ok(log_in(client, person["username"], NEW_PASSWORD))
    assert_error(log_in(client, person["username"], person["password"]), 401, "NotAuthorized")


def test_forgot_for_an_unknown_or_unverified_address_answers_like_for_a_real_one(
        client, outbox, signed_up):
    sent = len(outbox.messages)
    for address in ("nobody-at-all@example.com", signed_up["email"]):
        assert assert_ok(post(client, "/api/auth/forgot", {"username": address})) == {"ok": True}
    assert len(outbox.messages) == sent


def test_reset_by_an_unknown_address_looks_like_a_wrong_code(client):
    assert_error(post(client, "/api/auth/reset", {"username": "nobody-at-all@example.com",
                                                  "code": "123456", "password": NEW_PASSWORD}),
                 400, "CodeMismatch")


def test_reset_with_a_wrong_code_is_400_code_mismatch_and_keeps_the_password(
        client, outbox, register):
    person = register(log_in=False)
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    code = outbox.last_code(person["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_error(post(client, "/api/auth/reset", {"username": person["username"], "code": wrong,
                                                  "password": NEW_PASSWORD}),
                 400, "CodeMismatch")
    assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(log_in(client, person["username"], NEW_PASSWORD), 401, "NotAuthorized")


def test_a_reset_code_works_once(client, outbox, register):
    person = register(log_in=False)
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    request = {"username": person["username"], "code": outbox.last_code(person["email"]),
               "password": NEW_PASSWORD}
    assert_ok(post(client, "/api/auth/reset", request))
    assert_error(post(client, "/api/auth/reset", {**request, "password": "Th1rd-password"}),
                 400, "CodeMismatch")
    assert_ok(log_in(client, person["username"], NEW_PASSWORD))


def test_reset_with_a_weak_password_is_400_invalid_password_and_the_code_stays_valid(
        client, outbox, register):
    person = register(log_in=False)
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    code = outbox.last_code(person["email"])
    assert_error(post(client, "/api/auth/reset", {"username": person["username"], "code": code,
                                                  "password": "weak"}),
                 400, "InvalidPassword")
    assert_ok(post(client, "/api/auth/reset", {"username": person["username"], "code": code,
                                               "password": NEW_PASSWORD}))


def test_forgot_for_an_unknown_user_answers_like_for_a_real_one_and_sends_nothing(
        client, outbox, register):
    person = register(log_in=False)
    sent = len(outbox.messages)
    real = post(client, "/api/auth/forgot", {"username": person["username"]})
    unknown = post(client, "/api/auth/forgot", {"username": "nobody"})
    assert assert_ok(unknown) == assert_ok(real) == {"ok": True}
    assert len(outbox.messages) == sent + 1
    assert outbox.messages[-1].to == person["email"]


def test_forgot_for_an_unverified_account_answers_ok_and_sends_no_code(client, outbox, signed_up):
    sent = len(outbox.messages)
    assert assert_ok(post(client, "/api/auth/forgot",
                          {"username": signed_up["username"]})) == {"ok": True}
    assert len(outbox.messages) == sent


def test_reset_for_an_unknown_user_looks_like_a_wrong_code(client):
    assert_error(post(client, "/api/auth/reset", {"username": "nobody", "code": "123456",
                                                  "password": NEW_PASSWORD}),
                 400, "CodeMismatch")


@pytest.mark.parametrize("field", ["username", "code", "password"])
def test_reset_without_a_field_is_400_missing_parameter(client, field):
    body = {"username": "ada", "code": "123456", "password": NEW_PASSWORD}
    del body[field]
    assert_error(post(client, "/api/auth/reset", body), 400, "MissingParameter")
