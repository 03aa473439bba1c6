"""The account API, /api/auth/*: every route's happy path and each of its errors.

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito_codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any

import jwt
import pytest

from chalicelib.inputs import MAX_BODY_BYTES
from tests.helpers import PASSWORD, post

NEW_PASSWORD = "N3w-password-2"

# chalice's local gateway warns when a token has no cognito:username (an access token);
# the app's own guard is what rejects it, and these tests prove that.
pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


@pytest.fixture(scope="module")
def stack(module_stack: dict[str, str]) -> dict[str, str]:
    """The module shares one stack: every test here makes its own users."""
    return module_stack


def emails_to(outbox: Any, address: str) -> list[Any]:
    return [email for email in outbox.messages if email.to == address]


def assert_human(message: Any) -> None:
    """A sentence for a person: capitalised, spaced words, ends like a sentence, no internals."""
    assert isinstance(message, str), message
    assert re.fullmatch(r"[A-Z][^\n]{9,}[.!?)]", message), message
    assert len(message.split()) >= 3, message
    assert not re.search(r"Exception|Traceback|botocore|moto|Error:|\{", message), message


def assert_error(response: Any, status: int, code: str) -> str:
    """`response` is our JSON error `status`/`code` with a human message; returns the message."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert_human(body["message"])
    return body["message"]


def assert_ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.body)


def new_person(**overrides: str) -> dict[str, str]:
    username = f"user{uuid.uuid4().hex[:8]}"
    person = {"name": "Grace Hopper", "email": f"{username}@example.com",
              "username": username, "password": PASSWORD}
    person.update(overrides)
    return person


@pytest.fixture
def signed_up(client: Any) -> dict[str, str]:
    """A person who signed up and has not entered the emailed code yet."""
    person = new_person()
    assert_ok(post(client, "/api/auth/signup", person), 201)
    return person


def log_in(client: Any, username: str, password: str) -> Any:
    return post(client, "/api/auth/login", {"username": username, "password": password})


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


def test_confirm_an_already_confirmed_account_is_409_already_confirmed(client, outbox, signed_up):
    code = outbox.last_code(signed_up["email"])
    request = {"username": signed_up["username"], "code": code}
    assert_ok(post(client, "/api/auth/confirm", request))
    message = assert_error(post(client, "/api/auth/confirm", request), 409, "AlreadyConfirmed")
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
    from local import cognito_codes

    codes = iter(["111111", "222222"])  # two random codes could, rarely, be equal
    monkeypatch.setattr(cognito_codes, "_new_code", lambda: next(codes))
    person = new_person()
    assert_ok(post(client, "/api/auth/signup", person), 201)
    assert outbox.last_code(person["email"]) == "111111"
    assert_ok(post(client, "/api/auth/resend", {"username": person["username"]}))
    assert [e.code for e in emails_to(outbox, person["email"])] == ["111111", "222222"]
    assert_error(post(client, "/api/auth/confirm",
                      {"username": person["username"], "code": "111111"}), 400, "CodeMismatch")
    assert_ok(post(client, "/api/auth/confirm", {"username": person["username"], "code": "222222"}))


def test_resend_for_a_confirmed_account_is_409_already_confirmed(client, register):
    person = register(log_in=False)
    assert_error(post(client, "/api/auth/resend", {"username": person["username"]}),
                 409, "AlreadyConfirmed")


def test_resend_for_an_unknown_user_answers_like_for_a_real_one(client, outbox):
    sent = len(outbox.messages)
    body = assert_ok(post(client, "/api/auth/resend", {"username": "nobody"}))
    assert body == {"ok": True}
    assert len(outbox.messages) == sent


def test_resend_without_a_username_is_400_missing_parameter(client):
    assert_error(post(client, "/api/auth/resend", {}), 400, "MissingParameter")


# --- login --------------------------------------------------------------------------

def test_login_returns_cognito_tokens_whose_id_token_names_the_person(client, register, stack):
    person = register(log_in=False)
    body = assert_ok(log_in(client, person["username"], person["password"]))
    assert set(body) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert body["tokenType"] == "Bearer" and body["expiresIn"] > 0 and body["refreshToken"]
    claims = jwt.decode(body["idToken"], options={"verify_signature": False})
    assert claims["token_use"] == "id"
    assert claims["aud"] == stack["USER_POOL_CLIENT_ID"]
    assert claims["name"] == person["name"] and claims["email"] == person["email"]


def test_unknown_user_and_wrong_password_get_the_same_401(client, register):
    person = register(log_in=False)
    wrong_password = log_in(client, person["username"], "Wr0ng-password")
    unknown_user = log_in(client, "nobody-" + person["username"], person["password"])
    message = assert_error(wrong_password, 401, "NotAuthorized")
    assert_error(unknown_user, 401, "NotAuthorized")
    assert wrong_password.body == unknown_user.body  # no account enumeration
    assert message == "Incorrect username or password."


def test_login_before_verifying_is_403_user_not_confirmed(client, signed_up):
    message = assert_error(log_in(client, signed_up["username"], signed_up["password"]),
                           403, "UserNotConfirmed")
    assert "code we emailed" in message


def test_login_of_an_unverified_user_with_a_wrong_password_does_not_reveal_the_account(
        client, signed_up):
    response = log_in(client, signed_up["username"], "Wr0ng-password")
    assert_error(response, 401, "NotAuthorized")
    assert response.body == log_in(client, "nobody", "Wr0ng-password").body


@pytest.mark.parametrize("field", ["username", "password"])
def test_login_without_a_field_is_400_missing_parameter(client, field):
    body = {"username": "ada", "password": PASSWORD}
    del body[field]
    message = assert_error(post(client, "/api/auth/login", body), 400, "MissingParameter")
    assert message.lower() == f"{field} is required."


def test_usernames_ignore_case_like_the_pool_says(client, register):
    person = register(username=f"Ada{uuid.uuid4().hex[:6]}", log_in=False)
    assert_ok(log_in(client, person["username"].lower(), person["password"]))
    assert_ok(log_in(client, person["username"].upper(), person["password"]))
    taken = new_person(username=person["username"].lower())
    assert_error(post(client, "/api/auth/signup", taken), 409, "UsernameExists")


def test_login_password_is_not_trimmed(client, register):
    person = register(log_in=False)
    assert_error(log_in(client, person["username"], f" {person['password']} "),
                 401, "NotAuthorized")


# --- refresh and logout -------------------------------------------------------------

def test_refresh_gives_a_new_id_token_that_the_guarded_api_accepts(client, register):
    person = register()
    body = assert_ok(post(client, "/api/auth/refresh", {"refreshToken": person["refreshToken"]}))
    assert set(body) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert body["refreshToken"] == person["refreshToken"]  # Cognito returns none: kept
    claims = jwt.decode(body["idToken"], options={"verify_signature": False})
    assert claims["token_use"] == "id" and claims["cognito:username"] == person["username"]
    response = client.http.get("/api/greeting",
                               headers={"Authorization": f"Bearer {body['idToken']}"})
    assert response.status_code in (200, 202), response.body


def test_after_logout_the_refresh_token_is_rejected_with_401(client, register):
    person = register()
    assert assert_ok(post(client, "/api/auth/logout",
                          {"accessToken": person["accessToken"]})) == {"ok": True}
    message = assert_error(post(client, "/api/auth/refresh",
                                {"refreshToken": person["refreshToken"]}),
                           401, "SessionExpired")
    assert "log in again" in message


def test_logout_revokes_every_session_of_the_user(client, register):
    person = register()
    second = assert_ok(log_in(client, person["username"], person["password"]))
    assert_ok(post(client, "/api/auth/logout", {"accessToken": person["accessToken"]}))
    assert_error(post(client, "/api/auth/refresh", {"refreshToken": second["refreshToken"]}),
                 401, "SessionExpired")


def test_logout_twice_or_with_an_unknown_token_is_still_ok(client, register):
    person = register()
    for token in (person["accessToken"], person["accessToken"], "not-a-real-token"):
        assert assert_ok(post(client, "/api/auth/logout", {"accessToken": token})) == {"ok": True}


def test_refresh_with_an_unknown_token_is_401_session_expired(client, register):
    register()
    assert_error(post(client, "/api/auth/refresh", {"refreshToken": str(uuid.uuid4())}),
                 401, "SessionExpired")


def test_refresh_without_a_token_is_400_missing_parameter(client):
    message = assert_error(post(client, "/api/auth/refresh", {}), 400, "MissingParameter")
    assert message == "Token is required."


def test_logout_without_a_token_is_400_missing_parameter(client):
    assert_error(post(client, "/api/auth/logout", {"accessToken": ""}), 400, "MissingParameter")


def test_a_token_with_characters_no_token_has_is_400(client):
    assert_error(post(client, "/api/auth/refresh", {"refreshToken": "abc def<script>"}),
                 400, "InvalidParameter")


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


# --- identity pool credentials ------------------------------------------------------

def test_credentials_for_a_logged_in_user_are_temporary_aws_keys(client, register):
    person = register()
    body = assert_ok(post(client, "/api/auth/credentials", {},
                          {"Authorization": f"Bearer {person['idToken']}"}))
    assert set(body) == {"identityId", "accessKeyId", "secretKey", "sessionToken", "expiration"}
    assert body["identityId"].startswith("us-east-1:")
    assert all(isinstance(v, str) and v for v in body.values())
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", body["expiration"])


def test_credentials_without_a_token_is_401(client):
    message = assert_error(post(client, "/api/auth/credentials", {}), 401, "MissingToken")
    assert "Log in" in message


def test_credentials_with_a_forged_token_is_401(client, make_token):
    from cryptography.hazmat.primitives.asymmetric import rsa

    forged = make_token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert_error(post(client, "/api/auth/credentials", {}, {"Authorization": forged}),
                 401, "InvalidToken")


def test_credentials_with_the_access_token_instead_of_the_id_token_is_401(client, register):
    person = register()
    assert_error(post(client, "/api/auth/credentials", {},
                      {"Authorization": f"Bearer {person['accessToken']}"}),
                 401, "InvalidToken")


# --- every account route answers JSON errors, never a crash ---------------------------

@pytest.mark.parametrize("path", ["/api/auth/signup", "/api/auth/confirm", "/api/auth/resend",
                                  "/api/auth/login", "/api/auth/refresh", "/api/auth/logout",
                                  "/api/auth/forgot", "/api/auth/reset"])
def test_every_account_route_rejects_an_empty_object_with_400_missing_parameter(client, path):
    assert_error(post(client, path, {}), 400, "MissingParameter")


# --- when Cognito itself fails ---------------------------------------------------------

class FailingCognito:
    """Stands in for the boto3 client: every operation raises `exc`."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls = 0

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls += 1
            raise self.exc

        return call


def client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": f"internal detail {code}"}},
                       "InitiateAuth")


@pytest.mark.parametrize("code", ["TooManyRequestsException", "LimitExceededException",
                                  "TooManyFailedAttemptsException"])
def test_cognito_throttling_is_429_too_many_requests(client, monkeypatch, code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(client_error(code)))
    message = assert_error(log_in(client, "ada", PASSWORD), 429, "TooManyRequests")
    assert "Wait a minute" in message


@pytest.mark.parametrize("exc", [
    client_error("InternalErrorException"), client_error("ResourceNotFoundException")])
def test_an_unexpected_cognito_error_is_503_without_its_details(client, monkeypatch, exc):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(exc))
    response = post(client, "/api/auth/signup", new_person())
    assert_error(response, 503, "ServiceUnavailable")
    assert b"internal detail" not in response.body


def test_cognito_unreachable_is_503_service_unavailable(client, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    from chalicelib import cognito

    failing = FailingCognito(EndpointConnectionError(endpoint_url="https://cognito-idp.example"))
    monkeypatch.setattr(cognito, "client", lambda service: failing)
    message = assert_error(post(client, "/api/auth/forgot", {"username": "ada"}),
                           503, "ServiceUnavailable")
    assert "did not answer" in message and failing.calls == 1


@pytest.mark.parametrize("path,body,cognito_code,status,code", [
    ("/api/auth/confirm", {"username": "ada", "code": "123456"},
     "ExpiredCodeException", 400, "ExpiredCode"),
    ("/api/auth/reset", {"username": "ada", "code": "123456", "password": NEW_PASSWORD},
     "ExpiredCodeException", 400, "ExpiredCode"),
    ("/api/auth/login", {"username": "ada", "password": PASSWORD},
     "PasswordResetRequiredException", 403, "PasswordResetRequired"),
    ("/api/auth/login", {"username": "ada", "password": PASSWORD},
     "UserNotFoundException", 401, "NotAuthorized"),
    ("/api/auth/signup", new_person(), "CodeDeliveryFailureException", 503, "ServiceUnavailable"),
    ("/api/auth/forgot", {"username": "ada"}, "LimitExceededException", 429, "TooManyRequests"),
])
def test_each_cognito_error_becomes_its_api_error(client, monkeypatch, path, body, cognito_code,
                                                  status, code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(client_error(cognito_code)))
    response = post(client, path, body)
    assert_error(response, status, code)
    assert cognito_code.encode() not in response.body


@pytest.mark.parametrize("cognito_code", ["UserNotFoundException", "InvalidParameterException",
                                          "NotAuthorizedException"])
def test_forgot_answers_ok_whatever_cognito_says_about_the_account(client, monkeypatch,
                                                                    cognito_code):
    from chalicelib import cognito

    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(client_error(cognito_code)))
    assert assert_ok(post(client, "/api/auth/forgot", {"username": "ada"})) == {"ok": True}


def test_an_invalid_parameter_from_cognito_is_400_with_its_explanation(client, monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib import cognito

    exc = ClientError({"Error": {"Code": "InvalidParameterException",
                                 "Message": "Invalid email address format."}}, "SignUp")
    monkeypatch.setattr(cognito, "client", lambda service: FailingCognito(exc))
    message = assert_error(post(client, "/api/auth/signup", new_person()), 400, "InvalidParameter")
    assert message == "Invalid email address format."


def test_a_login_challenge_the_app_cannot_answer_is_403_challenge_required(client, monkeypatch):
    from chalicelib import cognito

    class Challenging:
        def initiate_auth(self, **kwargs: Any) -> dict[str, Any]:
            return {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s"}

    monkeypatch.setattr(cognito, "client", lambda service: Challenging())
    assert_error(log_in(client, "ada", PASSWORD), 403, "ChallengeRequired")


def test_credentials_refused_by_the_identity_pool_are_401(client, monkeypatch, make_token):
    from chalicelib import cognito

    failing = FailingCognito(client_error("NotAuthorizedException"))
    monkeypatch.setattr(cognito, "client", lambda service: failing)
    message = assert_error(post(client, "/api/auth/credentials", {},
                                {"Authorization": f"Bearer {make_token()}"}),
                           401, "Unauthorized")
    assert "log in again" in message and failing.calls == 1
