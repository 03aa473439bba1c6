"""Logging in with an emailed code (chalicelib/email_sign_in.py), through the API: the code from
the outbox signs in like a password (tokens, the session cookie, the "user authenticated"
event); wrong, expired and used codes are refused and counted (attempts.SIGN_IN_CODE); every
email asked for counts (attempts.EMAILS); an unknown username gets the same answers."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib import email_sign_in
from chalicelib.config import settings
from local.cognito import email_otp
from tests.helpers import post
from tests.stack.helpers import assert_error, assert_ok, emails_to
from tests.stack.test_attempt_limits import paused, with_two_step

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def ask(client: Any, username: str) -> Any:
    return post(client, "/api/auth/email-code", {"username": username})


def sign_in(client: Any, username: str, code: str) -> Any:
    return post(client, "/api/auth/login/email-code", {"username": username, "signInCode": code})


def other_than(code: str, n: int = 0) -> str:
    return f"{(int(code) + 1 + n) % 10 ** 8:08d}"


def test_the_stack_offers_email_codes_locally(stack):
    assert settings().email_sign_in_codes is True


def test_the_emailed_code_signs_in_like_a_password(client, register, outbox):
    person = register(log_in=False)
    answer = assert_ok(ask(client, person["username"]))
    assert answer == {"sent": True, "message": email_sign_in.SENT}
    mail = emails_to(outbox, person["email"])[-1]
    assert mail.subject == email_otp.SUBJECT
    tokens = assert_ok(sign_in(client, person["username"], mail.code))
    assert {"idToken", "accessToken", "expiresIn"} <= set(tokens)
    hello = client.http.request("GET", "/api/account", headers={"Authorization": tokens["idToken"]})
    assert hello.status_code == 200, hello.body


def test_the_verified_address_in_any_case_works_as_the_username(client, register, outbox):
    person = register(log_in=False)
    assert_ok(ask(client, person["email"].upper()))
    code = outbox.last_code(person["email"])
    assert_ok(sign_in(client, person["email"], code))


def test_a_wrong_code_is_refused_saying_so_and_the_right_one_still_works(client, register,
                                                                         outbox):
    person = register(log_in=False)
    assert_ok(ask(client, person["username"]))
    code = outbox.last_code(person["email"])
    message = assert_error(sign_in(client, person["username"], other_than(code)), 400,
                           "CodeMismatch")
    assert message == email_sign_in.WRONG_CODE
    assert_ok(sign_in(client, person["username"], code))


def test_a_used_code_is_refused_as_expired_or_used(client, register, outbox):
    person = register(log_in=False)
    assert_ok(ask(client, person["username"]))
    code = outbox.last_code(person["email"])
    assert_ok(sign_in(client, person["username"], code))
    assert assert_error(sign_in(client, person["username"], code), 400,
                        "ExpiredCode") == email_sign_in.EXPIRED


def test_a_code_after_its_3_minutes_is_refused_as_expired(client, register, outbox, clock):
    person = register(log_in=False)
    assert_ok(ask(client, person["username"]))
    code = outbox.last_code(person["email"])
    clock.now += email_sign_in.SESSION_SECONDS
    assert_error(sign_in(client, person["username"], code), 400, "ExpiredCode")


def test_only_the_latest_emails_code_works(client, register, outbox):
    person = register(log_in=False)
    assert_ok(ask(client, person["username"]))
    first = outbox.last_code(person["email"])
    assert_ok(ask(client, person["username"]))
    latest = outbox.last_code(person["email"])
    if first != latest:
        assert_error(sign_in(client, person["username"], first), 400, "CodeMismatch")
    assert_ok(sign_in(client, person["username"], latest))


def test_an_unknown_username_gets_the_same_answers_and_no_email(client, outbox):
    sent = len(outbox.messages)
    assert assert_ok(ask(client, "nobody-email-code")) == {"sent": True,
                                                           "message": email_sign_in.SENT}
    assert len(outbox.messages) == sent
    assert assert_error(sign_in(client, "nobody-email-code", "12345678"), 400,
                        "CodeMismatch") == email_sign_in.WRONG_CODE


def test_a_person_with_two_step_on_gets_the_same_answer_and_no_email(client, register,
                                                                      outbox):
    person = register()
    with_two_step(client, person)
    sent = len(outbox.messages)
    assert assert_ok(ask(client, person["username"]))["sent"] is True
    assert len(outbox.messages) == sent
    assert_error(sign_in(client, person["username"], "12345678"), 400, "CodeMismatch")


def test_wrong_codes_are_paused_after_five_known_account_or_not(client, register, outbox,
                                                                clock):
    person = register(log_in=False)
    for who in (person["username"], "nobody-guessing"):
        assert_ok(ask(client, who))
        code = outbox.last_code(person["email"]) if who == person["username"] else "12345678"
        for n in range(5):
            assert_error(sign_in(client, who, other_than(code, n)), 400, "CodeMismatch")
        paused(sign_in(client, who, code), "sign-in codes")


def test_emails_asked_for_count_against_the_accounts_emails(client, register, outbox, clock):
    person = register(log_in=False)
    for _ in range(5):
        assert_ok(ask(client, person["username"]))
    paused(ask(client, person["username"]), "another email")
    paused(post(client, "/api/auth/forgot", {"username": person["username"]}), "another email")


def test_a_bad_code_shape_is_refused_before_cognito(client):
    response = sign_in(client, "someone", "123456")
    assert_error(response, 400, "InvalidParameter")


def test_a_stage_without_ses_says_email_codes_are_not_switched_on(client, outbox,
                                                                  monkeypatch):
    monkeypatch.setenv("EMAIL_SIGN_IN_CODES", "off")
    settings.cache_clear()
    sent = len(outbox.messages)
    try:
        message = assert_error(ask(client, "anyone"), 503, "ServiceUnavailable")
    finally:
        settings.cache_clear()
    assert message == email_sign_in.NOT_OFFERED
    assert len(outbox.messages) == sent


def test_the_security_page_says_signed_in_with_an_email_code_and_a_wrong_code(
        client, register, outbox):
    from tests.stack.test_my_security import security

    person = register(log_in=False)
    assert_ok(ask(client, person["username"]))
    code = outbox.last_code(person["email"])
    assert_error(sign_in(client, person["username"], other_than(code)), 400, "CodeMismatch")
    tokens = assert_ok(sign_in(client, person["username"], code))
    activity = [a["what"] for a in security(client, tokens)["activity"]]
    assert activity == ["Signed in with an email code", "Wrong code"]
