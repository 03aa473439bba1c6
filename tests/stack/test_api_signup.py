"""Signing up and confirming the account: /api/auth/signup, /confirm and /resend.

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito/codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

import re

import pytest

from tests.helpers import post
from tests.stack.helpers import assert_error, assert_ok, emails_to, log_in, new_person


# --- signup -------------------------------------------------------------------------

def test_signup_creates_an_unconfirmed_account_and_emails_a_6_digit_code(client, outbox):
    person = new_person()
    body = assert_ok(post(client, "/api/auth/signup", person), 201)
    assert body == {"username": person["username"], "confirmed": False,
                    "codeSentTo": f"{person['username'][0]}***@example.com"}
    assert re.fullmatch(r"\d{6}", outbox.last_code(person["email"]))


@pytest.mark.parametrize("password", ["Sh0rt", "alllowercase1", "ALLUPPERCASE1", "NoDigitsHere"])
def test_signup_with_a_weak_password_is_400_invalid_password(client, password):
    message = assert_error(post(client, "/api/auth/signup", new_person(password=password)),
                           400, "InvalidPassword")
    assert "too weak" in message and "8 characters" in message


def test_signup_with_a_taken_username_is_409_username_exists(client, signed_up):
    again = new_person(username=signed_up["username"])
    message = assert_error(post(client, "/api/auth/signup", again), 409, "UsernameExists")
    assert "taken" in message


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com"])
def test_signup_with_an_invalid_email_is_400_invalid_parameter(client, outbox, email):
    message = assert_error(post(client, "/api/auth/signup", new_person(email=email)),
                           400, "InvalidParameter")
    assert message.startswith("Email is not valid") and "name@example.com" in message
    assert emails_to(outbox, email) == []  # nothing reached Cognito


@pytest.mark.parametrize("field", ["name", "email", "username", "password"])
def test_signup_without_a_field_is_400_missing_parameter_naming_it(client, field):
    person = new_person()
    del person[field]
    message = assert_error(post(client, "/api/auth/signup", person), 400, "MissingParameter")
    assert message.lower() == f"{field} is required."


@pytest.mark.parametrize("field", ["name", "email", "username"])
def test_signup_with_a_blank_field_is_400_missing_parameter(client, field):
    assert_error(post(client, "/api/auth/signup", new_person(**{field: "   "})),
                 400, "MissingParameter")


@pytest.mark.parametrize("field,limit", [("name", 128), ("username", 128), ("password", 256)])
def test_signup_with_an_oversized_field_is_400_too_long(client, field, limit):
    value = "Aa1" * 100  # 300 characters, over every limit; valid characters for each field
    message = assert_error(post(client, "/api/auth/signup", new_person(**{field: value})),
                           400, "InvalidParameter")
    assert f"too long (at most {limit} characters)" in message


def test_signup_with_an_oversized_email_is_400_too_long(client):
    email = "a" * 250 + "@example.com"
    message = assert_error(post(client, "/api/auth/signup", new_person(email=email)),
                           400, "InvalidParameter")
    assert "too long (at most 254 characters)" in message


def test_signup_with_a_field_that_is_not_text_is_400(client):
    message = assert_error(post(client, "/api/auth/signup", new_person(username=12345)),
                           400, "InvalidParameter")
    assert message == "Username must be text."


def test_signup_with_a_space_in_the_username_is_400(client):
    message = assert_error(post(client, "/api/auth/signup", new_person(username="ada lovelace")),
                           400, "InvalidParameter")
    assert "without spaces" in message


# --- confirm ------------------------------------------------------------------------

def test_confirm_with_the_emailed_code_verifies_the_account(client, outbox, signed_up):
    code = outbox.last_code(signed_up["email"])
    body = assert_ok(post(client, "/api/auth/confirm",
                          {"username": signed_up["username"], "code": code}))
    assert body == {"ok": True}
    assert_ok(log_in(client, signed_up["username"], signed_up["password"]))


def test_confirm_with_a_wrong_code_is_400_code_mismatch_and_the_right_one_still_works(
        client, outbox, signed_up):
    code = outbox.last_code(signed_up["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    message = assert_error(post(client, "/api/auth/confirm",
                                {"username": signed_up["username"], "code": wrong}),
                           400, "CodeMismatch")
    assert "code is not right" in message
    assert_error(log_in(client, signed_up["username"], signed_up["password"]),
                 403, "UserNotConfirmed")
    assert_ok(post(client, "/api/auth/confirm", {"username": signed_up["username"], "code": code}))


def test_confirm_for_an_unknown_user_looks_like_a_wrong_code(client):
    assert_error(post(client, "/api/auth/confirm", {"username": "nobody", "code": "123456"}),
                 400, "CodeMismatch")


def test_confirm_of_a_verified_account_answers_like_an_unknown_user_and_says_to_log_in(
        client, outbox, signed_up):
    code = outbox.last_code(signed_up["email"])
    request = {"username": signed_up["username"], "code": code}
    assert_ok(post(client, "/api/auth/confirm", request))
    verified = post(client, "/api/auth/confirm", request)
    unknown = post(client, "/api/auth/confirm", {"username": "nobody-at-all", "code": code})
    message = assert_error(verified, 400, "CodeMismatch")
    assert (verified.status_code, verified.json_body) == (unknown.status_code, unknown.json_body)
    assert "log in" in message


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "12 456"])
def test_confirm_with_a_code_that_is_not_6_digits_is_400_before_cognito(client, signed_up, code):
    message = assert_error(post(client, "/api/auth/confirm",
                                {"username": signed_up["username"], "code": code}),
                           400, "InvalidParameter")
    assert message.startswith("Verification code")


def test_confirm_without_a_code_is_400_missing_parameter(client, signed_up):
    message = assert_error(post(client, "/api/auth/confirm", {"username": signed_up["username"]}),
                           400, "MissingParameter")
    assert message == "Verification code is required."


# --- resend -------------------------------------------------------------------------

def test_resend_emails_a_new_code_and_the_old_one_stops_working(client, outbox, monkeypatch):
    from local.cognito import mail

    codes = iter(["111111", "222222"])  # two random codes could, rarely, be equal
    monkeypatch.setattr(mail, "new_code", lambda: next(codes))
    person = new_person()
    assert_ok(post(client, "/api/auth/signup", person), 201)
    assert outbox.last_code(person["email"]) == "111111"
    assert_ok(post(client, "/api/auth/resend", {"username": person["username"]}))
    assert [e.code for e in emails_to(outbox, person["email"])] == ["111111", "222222"]
    assert_error(post(client, "/api/auth/confirm",
                      {"username": person["username"], "code": "111111"}), 400, "CodeMismatch")
    assert_ok(post(client, "/api/auth/confirm", {"username": person["username"], "code": "222222"}))


def test_resend_for_a_verified_account_answers_like_for_an_unknown_one_and_sends_nothing(
        client, register, outbox):
    person = register(log_in=False)
    sent = len(outbox.messages)
    verified = post(client, "/api/auth/resend", {"username": person["username"]})
    unknown = post(client, "/api/auth/resend", {"username": "nobody-at-all"})
    assert assert_ok(verified) == assert_ok(unknown) == {"ok": True}
    assert len(outbox.messages) == sent


def test_resend_for_an_unknown_user_answers_like_for_a_real_one(client, outbox):
    sent = len(outbox.messages)
    body = assert_ok(post(client, "/api/auth/resend", {"username": "nobody"}))
    assert body == {"ok": True}
    assert len(outbox.messages) == sent


def test_resend_without_a_username_is_400_missing_parameter(client):
    assert_error(post(client, "/api/auth/resend", {}), 400, "MissingParameter")
