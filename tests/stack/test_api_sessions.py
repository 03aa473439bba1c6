"""Sessions: logging in, refreshing, logging out (/api/auth/login, /refresh, /logout),
and the AWS credentials a session gets from the identity pool (/api/auth/credentials).

Every error is a 4xx with {"error": "<Code>", "message": "<a sentence a person can act on>"}.
The local AWS is the same moto server `make run` uses, with Cognito's gaps closed
(local/cognito/codes.py), so codes really are emailed (to the outbox) and checked.
"""
from __future__ import annotations

import re
import uuid

import jwt
import pytest

from tests.helpers import PASSWORD, post
from tests.stack.helpers import assert_error, assert_ok, log_in, new_person

# chalice's local gateway warns when a token has no cognito:username (an access token);
# the app's own guard is what rejects it, and these tests prove that.
pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


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
                               headers={"Authorization": f"{body['idToken']}"})
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


# --- identity pool credentials ------------------------------------------------------

def test_credentials_answer_the_identity_and_its_expiry_and_no_secret(client, register):
    person = register()
    body = assert_ok(post(client, "/api/auth/credentials", {},
                          {"Authorization": f"{person['idToken']}"}))
    assert set(body) == {"identityId", "expiration"}
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
                      {"Authorization": f"{person['accessToken']}"}),
                 401, "InvalidToken")
