"""Two-step verification (chalicelib/two_step.py, /api/account/two-step*, /api/auth/login/code):
set up with a secret and QR code, turn on with a code computed by pyotp, the log-in's
code step, turning off with a code; each Cognito error a clear 4xx, never a 500.
The local Cognito behaves as AWS here (local/cognito/totp.py)."""
from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pyotp
import pytest

from chalicelib import attempts, user_events
from local.server import clock
from local.cognito import totp as cognito_totp
from tests.helpers import post
from tests.stack.helpers import assert_error, assert_ok, log_in

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def call(client: Any, path: str, person: dict[str, str], body: dict | None = None) -> Any:
    raw = json.dumps({"accessToken": person["accessToken"], **(body or {})})
    return client.http.request("POST", path, body=raw, headers={
        "Content-Type": "application/json", "Authorization": person["idToken"]})


def turned_on(client: Any, person: dict[str, str]) -> pyotp.TOTP:
    setup = assert_ok(call(client, "/api/account/two-step/setup", person,
                           {"password": person["password"]}))
    totp = pyotp.TOTP(setup["setupKey"])
    assert_ok(call(client, "/api/account/two-step/on", person, {"appCode": totp.now()}))
    return totp


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_set_up_shows_a_secret_and_a_qr_code_drawn_here_and_each_person_gets_their_own(
        client, register):
    first, second = register(), register()
    one = assert_ok(call(client, "/api/account/two-step/setup", first,
                           {"password": first["password"]}))
    two = assert_ok(call(client, "/api/account/two-step/setup", second,
                           {"password": second["password"]}))
    assert one["setupKey"] != two["setupKey"] != "asdfasdfasdf".upper()
    base64.b32decode(one["setupKey"])  # what authenticator apps take
    prefix = "data:image/svg+xml"
    assert one["qrCode"].startswith(prefix) and "<svg" in __import__("urllib.parse").parse.unquote(
        one["qrCode"])
    assert assert_ok(call(client, "/api/account/two-step", first))["enabled"] is False


def test_turning_on_needs_the_code_of_this_secret_and_then_log_in_asks_for_it(
        client, register, stack):
    person = register()
    setup = assert_ok(call(client, "/api/account/two-step/setup", person,
                           {"password": person["password"]}))
    totp = pyotp.TOTP(setup["setupKey"])
    assert_error(call(client, "/api/account/two-step/on", person,
                      {"appCode": wrong(totp.now())}), 400, "CodeMismatch")
    assert assert_ok(call(client, "/api/account/two-step", person))["enabled"] is False
    assert_ok(call(client, "/api/account/two-step/on", person, {"appCode": totp.now()}))
    assert assert_ok(call(client, "/api/account/two-step", person))["enabled"] is True

    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert set(step) == {"challenge", "session", "username"}
    assert step["challenge"] == "SOFTWARE_TOKEN_MFA"
    assert person["password"] not in json.dumps(step)
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"],
        "appCode": wrong(totp.now())}), 400, "CodeMismatch")
    tokens = assert_ok(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}))
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    # The session was used up by the answer that signed in.
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}),
        401, "LoginExpired")


def test_a_login_with_the_code_publishes_the_same_event_as_a_password_only_login(
        client, register, monkeypatch):
    person = register(name="Ada Lovelace")
    totp = turned_on(client, person)
    published: list[Any] = []
    monkeypatch.setattr(user_events, "publish", published.append)
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert published == []  # the password alone signs nobody in
    assert_ok(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}))
    assert [type(e).__name__ for e in published] == ["UserAuthenticated"]
    assert published[0].name == "Ada Lovelace"


@pytest.fixture
def now() -> Any:
    """The local emulations' clock (local/server/clock.py), moved by the test: now[0] seconds."""
    moment = [time.time()]
    with clock.set(lambda: moment[0]):
        yield moment


def test_a_challenge_session_expires_after_three_minutes(client, register, now):
    person = register()
    totp = turned_on(client, person)
    step = assert_ok(log_in(client, person["username"], person["password"]))
    now[0] += cognito_totp.SESSION_SECONDS
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}),
        401, "LoginExpired")


def test_a_session_is_bound_to_its_person_not_to_the_username_sent(client, register):
    first, second = register(), register()
    totp_first, totp_second = turned_on(client, first), turned_on(client, second)
    step = assert_ok(log_in(client, first["username"], first["password"]))
    assert_error(post(client, "/api/auth/login/code", {
        "username": second["username"], "session": step["session"],
        "appCode": totp_second.now()}), 401, "LoginExpired")
    assert totp_first.now()  # the first person's own code still works with it:
    assert_ok(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"],
        "appCode": totp_first.now()}))


def test_repeated_wrong_codes_pause_the_code_step(client, register, now):
    person = register()
    totp = turned_on(client, person)
    step = assert_ok(log_in(client, person["username"], person["password"]))
    body = {"username": step["username"], "session": step["session"]}
    for _ in range(attempts.APP_CODE.free):
        assert_error(post(client, "/api/auth/login/code", {**body, "appCode": wrong(totp.now())}),
                     400, "CodeMismatch")
    message = assert_error(post(client, "/api/auth/login/code", {**body, "appCode": totp.now()}),
                           429, "TooManyAttempts")
    assert "codes" in message


def test_turning_off_needs_a_current_code_then_log_in_needs_the_password_only(client, register):
    person = register()
    totp = turned_on(client, person)
    assert_error(call(client, "/api/account/two-step/off", person,
                      {"appCode": wrong(totp.now())}), 400, "CodeMismatch")
    assert assert_ok(call(client, "/api/account/two-step", person))["enabled"] is True
    assert_ok(call(client, "/api/account/two-step/off", person, {"appCode": totp.now()}))
    assert assert_ok(call(client, "/api/account/two-step", person))["enabled"] is False
    assert "idToken" in assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(call(client, "/api/account/two-step/off", person, {"appCode": totp.now()}),
                 409, "AlreadyOff")


def test_turning_on_before_setting_up_says_to_set_up_first(client, register):
    person = register()
    assert_error(call(client, "/api/account/two-step/on", person, {"appCode": "123456"}),
                 400, "NotSetUp")


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_a_malformed_code_is_a_400_before_cognito(client, register, code):
    person = register()
    response = call(client, "/api/account/two-step/on", person, {"appCode": code})
    assert response.status_code == 400, response.body


class _Refusing:
    """A Cognito client whose every call fails with `code`."""

    def __init__(self, code: str, message: str = "refused"):
        self.code, self.message = code, message

    def __getattr__(self, operation: str):
        from botocore.exceptions import ClientError

        def fail(**_: Any):
            raise ClientError({"Error": {"Code": self.code, "Message": self.message}}, operation)
        return fail


@pytest.mark.parametrize("cognito_code, message, status, code", [
    ("CodeMismatchException", "Invalid code received for user", 400, "CodeMismatch"),
    ("ExpiredCodeException", "Your software token has already been used once.", 401,
     "LoginExpired"),
    ("NotAuthorizedException", "Invalid session for the user, session is expired.", 401,
     "LoginExpired"),
    ("NotAuthorizedException", "Password attempts exceeded", 429, "AccountLocked"),
    ("TooManyRequestsException", "Rate exceeded", 429, "TooManyRequests"),
])
def test_each_cognito_refusal_of_the_login_code_is_a_clear_4xx(
        client, monkeypatch, cognito_code, message, status, code):
    from chalicelib import cognito, two_step

    session = f"session-of-someone-{uuid.uuid4().hex}"
    two_step.code_step({"username": "someone", "session": session})  # as a log-in binds it
    monkeypatch.setattr(cognito, "client", lambda service: _Refusing(cognito_code, message))
    assert_error(post(client, "/api/auth/login/code", {
        "username": "someone", "session": session, "appCode": "123456"}), status, code)


@pytest.mark.parametrize("cognito_code, code", [
    ("EnableSoftwareTokenMFAException", "CodeMismatch"),
    ("CodeMismatchException", "CodeMismatch"),
    ("SoftwareTokenMFANotFoundException", "NotSetUp"),
])
def test_each_cognito_refusal_of_turning_on_is_a_clear_400(client, register, monkeypatch,
                                                           cognito_code, code):
    from chalicelib import cognito, cognito_account

    person = register()
    monkeypatch.setattr(cognito_account, "current_user", lambda token: {
        "sub": __import__("jwt").decode(person["idToken"], options={"verify_signature": False})[
            "sub"], "username": person["username"], "mfa": ""})
    monkeypatch.setattr(cognito, "client", lambda service: _Refusing(cognito_code))
    assert_error(call(client, "/api/account/two-step/on", person, {"appCode": "123456"}),
                 400, code)


def test_another_challenge_is_a_403_that_says_what_to_do(client, monkeypatch):
    from chalicelib import cognito

    class Challenging:
        def initiate_auth(self, **_: Any):
            return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s",
                    "ChallengeParameters": {}}

    monkeypatch.setattr(cognito, "client", lambda service: Challenging())
    message = assert_error(log_in(client, "someone", "Passw0rd-long"), 403,
                           "ChallengeRequired")
    assert "Forgot your password" in message
