"""Your account (/api/account...): see who you are, change name, email and password,
log in with username or email, delete the account. Every route is guarded by the ID
token; the user-pool calls use the access token from the body, which must be the
same person's. Errors are 4xx JSON a person can act on, never a 500.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
import pytest

from chalicelib import names, user_events
from tests.helpers import PASSWORD, post
from tests.stack.helpers import (NEW_PASSWORD, assert_error, assert_ok, emails_to, local_client,
                                 log_in, new_person, sqs_event)

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def bearer(person: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"{person['idToken']}"}


def call(client: Any, method: str, path: str, person: dict[str, str], body: dict) -> Any:
    raw = json.dumps({"accessToken": person["accessToken"], **body})
    return client.http.request(method, path, body=raw,
                               headers={"Content-Type": "application/json", **bearer(person)})


def pool_user(stack: dict[str, str], username: str) -> dict[str, str]:
    user = aws("cognito-idp", stack).admin_get_user(UserPoolId=stack["USER_POOL_ID"],
                                                     Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def events_published(stack: dict[str, str]) -> list[Any]:
    """Every user event waiting on the save-profile queue (drained)."""
    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName="comm-it-local-save-profile")["QueueUrl"]
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(user_events.parse(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def sub_of(person: dict[str, str]) -> str:
    return jwt.decode(person["idToken"], options={"verify_signature": False})["sub"]


# --- who you are ------------------------------------------------------------------------------

def test_account_shows_name_email_username_identity_id_and_expiry_never_the_keys(client, register):
    person = register(name="Ada Lovelace")
    body = assert_ok(client.http.get("/api/account", headers=bearer(person)))
    assert set(body) == {"name", "email", "username", "identityId", "credentialsExpire",
                         "lastSignedIn", "signInCount"}
    assert (body["name"], body["email"], body["username"]) == (
        "Ada Lovelace", person["email"], person["username"])
    assert body["identityId"].startswith("us-east-1:")
    assert body["credentialsExpire"][:2] == "20"
    assert "secret" not in json.dumps(body).lower()


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/account"), ("POST", "/api/account/name"), ("POST", "/api/account/email"),
    ("POST", "/api/account/email/verify"), ("POST", "/api/account/password"),
    ("DELETE", "/api/account"),
])
def test_every_account_route_refuses_a_request_without_an_id_token(client, method, path):
    response = client.http.request(method, path, body=b"{}",
                                   headers={"Content-Type": "application/json"})
    assert_error(response, 401, "MissingToken")


# --- the access token in the body -------------------------------------------------------------

@pytest.mark.parametrize("body, code", [
    ({}, "MissingParameter"),
    ({"accessToken": ""}, "MissingParameter"),
    ({"accessToken": 5, "name": "X"}, "InvalidParameter"),
    ({"accessToken": "not a token!", "name": "X"}, "InvalidParameter"),
])
def test_a_missing_or_malformed_access_token_is_a_400(client, register, body, code):
    person = register()
    response = client.http.post("/api/account/name", body=json.dumps(body),
                                headers={"Content-Type": "application/json", **bearer(person)})
    assert_error(response, 400, code)


def test_an_access_token_cognito_does_not_know_is_401_session_ended(client, register):
    person = register()
    response = call(client, "POST", "/api/account/name",
                    {**person, "accessToken": "a.b.c"}, {"name": "Eve"})
    assert_error(response, 401, "SessionEnded")


def test_another_persons_access_token_is_refused_with_the_id_token_of_this_one(
        client, register, stack):
    ada, eve = register(name="Ada"), register(name="Eve")
    for method, path, body in [("POST", "/api/account/name", {"name": "Hacked"}),
                               ("POST", "/api/account/email", {"email": "x@example.com"}),
                               ("POST", "/api/account/password",
                                {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
                               ("DELETE", "/api/account", {"password": PASSWORD})]:
        mixed = {**ada, "accessToken": eve["accessToken"]}
        assert_error(call(client, method, path, mixed, body), 403, "TokenMismatch")
    assert pool_user(stack, eve["username"])["name"] == "Eve"
    assert pool_user(stack, ada["username"])["name"] == "Ada"
    assert log_in(client, eve["username"], PASSWORD).status_code == 200


# --- name -------------------------------------------------------------------------------------

def test_changing_the_name_updates_cognito_and_publishes_user_updated(client, register, stack):
    person = register(name="Ada")
    events_published(stack)  # the login's
    answer = assert_ok(call(client, "POST", "/api/account/name", person, {"name": "Ada King"}))
    assert pool_user(stack, person["username"])["name"] == "Ada King"
    [event] = events_published(stack)
    # The answer names the event, so the page can follow its journey.
    assert answer == {"name": "Ada King", "eventId": event.event_id,
                      "publishedAt": event.occurred_at}
    assert isinstance(event, user_events.UserUpdated)
    assert (event.sub, event.name, event.email, event.username) == (
        sub_of(person), "Ada King", person["email"], person["username"])


@pytest.mark.parametrize("name, code", [("", "MissingParameter"), ("   ", "MissingParameter"),
                                        ("x" * 129, "InvalidParameter"),
                                        ("Bell\x07", "InvalidParameter"),
                                        (["Ada"], "InvalidParameter")])
def test_an_invalid_name_is_a_400_and_changes_nothing(client, register, stack, name, code):
    person = register(name="Ada")
    assert_error(call(client, "POST", "/api/account/name", person, {"name": name}), 400, code)
    assert pool_user(stack, person["username"])["name"] == "Ada"


# --- email ------------------------------------------------------------------------------------

def new_address() -> str:
    return f"new{uuid.uuid4().hex[:8]}@example.com"


def test_a_new_email_gets_a_code_and_the_account_keeps_the_old_address_until_verified(
        client, register, stack, outbox):
    person = register()
    address = new_address()
    body = assert_ok(call(client, "POST", "/api/account/email", person, {"email": address}))
    assert body == {"pendingEmail": address, "codeSentTo": "n***@example.com",
                    "email": person["email"]}
    assert len(emails_to(outbox, address)) == 1  # the code went to the NEW address
    assert pool_user(stack, person["username"])["email"] == person["email"]
    # Until verified, the old address is the one that logs in and that the tokens carry.
    tokens = assert_ok(log_in(client, person["email"], PASSWORD))
    assert jwt.decode(tokens["idToken"], options={"verify_signature": False})["email"] == \
        person["email"]
    assert_error(log_in(client, address, PASSWORD), 401, "NotAuthorized")


def test_a_wrong_code_keeps_the_old_address_and_the_right_one_switches_it(
        client, register, stack, outbox):
    person = register(name="Ada")
    address = new_address()
    assert_ok(call(client, "POST", "/api/account/email", person, {"email": address}))
    code = outbox.last_code(address)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    events_published(stack)
    assert_error(call(client, "POST", "/api/account/email/verify", person, {"code": wrong}),
                 400, "CodeMismatch")
    assert pool_user(stack, person["username"])["email"] == person["email"]
    assert events_published(stack) == []

    assert assert_ok(call(client, "POST", "/api/account/email/verify", person,
                          {"code": code})) == {"email": address}
    attributes = pool_user(stack, person["username"])
    assert (attributes["email"], attributes["email_verified"]) == (address, "true")
    [event] = events_published(stack)
    assert isinstance(event, user_events.UserUpdated)
    assert (event.email, event.name) == (address, "Ada")
    assert log_in(client, address.upper(), PASSWORD).status_code == 200
    assert_error(log_in(client, person["email"], PASSWORD), 401, "NotAuthorized")
    # The code is used up.
    assert_error(call(client, "POST", "/api/account/email/verify", person, {"code": code}),
                 400, "CodeMismatch")


def test_an_address_is_stored_in_lower_case(client, register, stack, outbox):
    person = register()
    address = new_address()
    body = assert_ok(call(client, "POST", "/api/account/email", person,
                          {"email": address.upper()}))
    assert body["pendingEmail"] == address
    assert_ok(call(client, "POST", "/api/account/email/verify", person,
                   {"code": outbox.last_code(address)}))
    assert pool_user(stack, person["username"])["email"] == address


def test_an_address_of_another_account_is_refused_409(client, register, outbox):
    ada, eve = register(), register()
    message = assert_error(call(client, "POST", "/api/account/email", eve,
                                {"email": ada["email"].upper()}), 409, "EmailExists")
    assert "already belongs to an account" in message
    assert emails_to(outbox, ada["email"])[-1].subject  # only the sign-up code, nothing new
    assert len(emails_to(outbox, ada["email"])) == 1


@pytest.mark.parametrize("email, status, code", [
    ("not-an-email", 400, "InvalidParameter"), ("", 400, "MissingParameter"),
    ("x" * 250 + "@example.com", 400, "InvalidParameter"),
])
def test_an_invalid_email_is_a_400(client, register, email, status, code):
    person = register()
    assert_error(call(client, "POST", "/api/account/email", person, {"email": email}), status, code)


def test_the_current_address_is_not_a_change(client, register):
    person = register()
    assert_error(call(client, "POST", "/api/account/email", person,
                      {"email": person["email"].upper()}), 400, "SameEmail")


def test_verifying_with_no_new_address_waiting_is_a_code_mismatch(client, register):
    person = register()
    assert_error(call(client, "POST", "/api/account/email/verify", person, {"code": "123456"}),
                 400, "CodeMismatch")


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
def test_a_malformed_verification_code_is_a_400(client, register, code):
    person = register()
    response = call(client, "POST", "/api/account/email/verify", person, {"code": code})
    assert response.status_code == 400


# --- password ---------------------------------------------------------------------------------

def test_changing_the_password_needs_the_current_one(client, register):
    person = register()
    message = assert_error(call(client, "POST", "/api/account/password", person,
                                {"currentPassword": "Wr0ng-password",
                                 "newPassword": NEW_PASSWORD}), 403, "WrongPassword")
    assert "password" in message.lower()
    assert log_in(client, person["username"], PASSWORD).status_code == 200

    assert_ok(call(client, "POST", "/api/account/password", person,
                   {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}))
    assert_error(log_in(client, person["username"], PASSWORD), 401, "NotAuthorized")
    assert log_in(client, person["username"], NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize("new, status, code", [
    ("weakpass", 400, "InvalidPassword"), ("", 400, "MissingParameter"),
    (PASSWORD, 400, "SamePassword"),
])
def test_a_weak_or_unchanged_new_password_is_a_400(client, register, new, status, code):
    person = register()
    assert_error(call(client, "POST", "/api/account/password", person,
                      {"currentPassword": PASSWORD, "newPassword": new}), status, code)
    assert log_in(client, person["username"], PASSWORD).status_code == 200


# --- logging in with username or email ----------------------------------------------------------

def test_a_person_logs_in_with_the_username_or_the_email_in_any_case(client, register):
    person = register()
    for identifier in (person["username"], person["username"].upper(), person["email"],
                       person["email"].upper()):
        tokens = assert_ok(log_in(client, identifier, PASSWORD))
        claims = jwt.decode(tokens["idToken"], options={"verify_signature": False})
        assert claims["cognito:username"] == person["username"], identifier


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client, register):
    person = register()
    unknown = log_in(client, new_address(), PASSWORD)
    wrong = log_in(client, person["email"], "Wr0ng-password")
    assert_error(unknown, 401, "NotAuthorized")
    assert unknown.body == wrong.body


def test_sign_up_with_an_address_another_account_verified_is_refused(client, register):
    owner = register(log_in=False)
    response = post(client, "/api/auth/signup", new_person(email=owner["email"].upper()))
    assert "already belongs to an account" in assert_error(response, 409, "EmailExists")


def test_an_unverified_sign_up_does_not_hold_its_address(client, outbox):
    """Nobody can squat an address by signing up with it and never verifying."""
    squatter = new_person()
    assert_ok(post(client, "/api/auth/signup", squatter), 201)
    owner = new_person(email=squatter["email"])
    assert_ok(post(client, "/api/auth/signup", owner), 201)
    assert_ok(post(client, "/api/auth/confirm", {"username": owner["username"],
                                                 "code": outbox.last_code(owner["email"])}))
    tokens = assert_ok(log_in(client, owner["email"], PASSWORD))
    claims = jwt.decode(tokens["idToken"], options={"verify_signature": False})
    assert claims["cognito:username"] == owner["username"]


def test_a_username_with_an_at_sign_is_refused_at_sign_up(client):
    response = post(client, "/api/auth/signup", new_person(username="ada@example.com"))
    assert "without @" in assert_error(response, 400, "InvalidParameter")


# --- deleting the account -------------------------------------------------------------------

def test_deleting_needs_the_password(client, register, stack):
    person = register()
    assert_error(call(client, "DELETE", "/api/account", person, {"password": "Wr0ng-password"}),
                 403, "WrongPassword")
    assert_error(call(client, "DELETE", "/api/account", person, {}), 400, "MissingParameter")
    assert pool_user(stack, person["username"])["email"] == person["email"]


def test_deleting_removes_the_cognito_user_and_publishes_user_deleted(client, register, stack):
    person = register()
    events_published(stack)
    assert_ok(call(client, "DELETE", "/api/account", person, {"password": PASSWORD}))
    with pytest.raises(aws("cognito-idp", stack).exceptions.UserNotFoundException):
        pool_user(stack, person["username"])
    [event] = events_published(stack)
    assert isinstance(event, user_events.UserDeleted)
    assert (event.sub, event.username) == (sub_of(person), person["username"])
    # The old password logs in no more; the old refresh token ends; the old access token too.
    assert_error(log_in(client, person["username"], PASSWORD), 401, "NotAuthorized")
    assert_error(post(client, "/api/auth/refresh", {"refreshToken": person["refreshToken"]}),
                 401, "SessionExpired")
    assert_error(call(client, "POST", "/api/account/name", person, {"name": "Ghost"}),
                 401, "SessionEnded")


def test_the_old_id_token_of_a_deleted_account_gets_401_session_ended(client, register, stack):
    """The ID token is still signed and unexpired: the tombstone is what refuses it."""
    person = register()
    sub = sub_of(person)
    names.put(sub, "Ada")
    assert client.http.get("/api/greeting", headers=bearer(person)).status_code == 200
    assert_ok(call(client, "DELETE", "/api/account", person, {"password": PASSWORD}))
    # What the pipeline does with user.deleted (tests/stack/test_account_events.py proves it runs).
    for name in ("save_profile",):
        url = aws("sqs", stack).get_queue_url(QueueName="comm-it-local-save-profile")["QueueUrl"]
        bodies = [m["Body"] for m in aws("sqs", stack).receive_message(
            QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
        client.lambda_.invoke(name, sqs_event(client, bodies, "comm-it-local-save-profile"))
    names.delete(sub)
    names.forget_cache()
    for path in ("/api/greeting", "/api/greeting/card", "/api/account"):
        assert_error(client.http.get(path, headers=bearer(person)), 401, "SessionEnded")


def test_deleting_removes_the_identity_pool_identity(client, register, stack):
    person = register()
    identity_id = assert_ok(client.http.get("/api/account", headers=bearer(person)))["identityId"]
    identities = aws("cognito-identity", stack)
    assert identities.describe_identity(IdentityId=identity_id)["IdentityId"] == identity_id
    assert_ok(call(client, "DELETE", "/api/account", person, {"password": PASSWORD}))
    with pytest.raises(identities.exceptions.ResourceNotFoundException):
        identities.describe_identity(IdentityId=identity_id)


def test_a_failed_identity_deletion_keeps_the_account_to_try_again(client, register, stack,
                                                                   monkeypatch):
    from chalicelib import cognito

    person = register()
    real = cognito.call

    def unprocessed(operation: str, *args: Any, **kwargs: Any) -> Any:
        if operation == "delete_identities":
            return {"UnprocessedIdentityIds": [{"IdentityId": kwargs["IdentityIdsToDelete"][0],
                                                "ErrorCode": "InternalServerError"}]}
        return real(operation, *args, **kwargs)

    monkeypatch.setattr(cognito, "call", unprocessed)
    assert_error(call(client, "DELETE", "/api/account", person, {"password": PASSWORD}),
                 503, "ServiceUnavailable")
    assert pool_user(stack, person["username"])["email"] == person["email"]


# --- last signed in -----------------------------------------------------------------------

def deliver_logins(client: Any, stack: dict[str, str]) -> None:
    """What the save-profile Lambda does with the logins waiting on its queue."""
    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName="comm-it-local-save-profile")["QueueUrl"]
    bodies = [m["Body"] for m in sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]
    client.lambda_.invoke("save_profile", client.events.generate_sqs_event(
        message_bodies=bodies, queue_name="comm-it-local-save-profile"))


def test_the_account_shows_when_and_how_often_the_person_signed_in(client, register, stack):
    events_published(stack)  # the queue holds only this test's logins
    person = register()
    before = assert_ok(client.http.get("/api/account", headers=bearer(person)))
    assert (before["lastSignedIn"], before["signInCount"]) == ("", 0)  # not applied yet
    assert_ok(log_in(client, person["username"], PASSWORD))
    deliver_logins(client, stack)
    after = assert_ok(client.http.get("/api/account", headers=bearer(person)))
    assert after["signInCount"] == 2
    record = events_published(stack)  # nothing left over
    assert record == []
    assert after["lastSignedIn"][:2] == "20" and after["lastSignedIn"].endswith("Z")


def test_guessing_the_password_to_delete_is_paused_like_logging_in(client, register, stack):
    """The confirmation is a password check like a login: after 5 wrong ones the app pauses
    the account's password checks (chalicelib/attempts.py), and the answer says so instead of
    "wrong password" (even for the right one)."""
    person = register()
    for _ in range(5):
        assert_error(call(client, "DELETE", "/api/account", person, {"password": "Wr0ng-password"}),
                     403, "WrongPassword")
    assert "paused" in assert_error(call(client, "DELETE", "/api/account", person,
                                         {"password": PASSWORD}), 429, "TooManyAttempts")
    assert pool_user(stack, person["username"])["email"] == person["email"]


def test_an_address_its_confirmed_account_has_not_verified_is_free_to_sign_up_with(
        client, register, stack):
    owner = register(log_in=False)
    aws("cognito-idp", stack).admin_update_user_attributes(
        UserPoolId=stack["USER_POOL_ID"], Username=owner["username"],
        UserAttributes=[{"Name": "email_verified", "Value": "false"}])
    assert_ok(post(client, "/api/auth/signup", new_person(email=owner["email"])), 201)


def test_an_address_of_an_account_that_is_not_confirmed_is_free_to_sign_up_with(client, stack):
    address = new_address()
    idp = aws("cognito-idp", stack)
    idp.admin_create_user(UserPoolId=stack["USER_POOL_ID"], Username=f"u{uuid.uuid4().hex[:8]}",
                          MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": address},
                                          {"Name": "email_verified", "Value": "true"}])
    assert_ok(post(client, "/api/auth/signup", new_person(email=address)), 201)


def test_verifying_with_another_persons_access_token_and_code_is_refused(
        client, register, stack, outbox):
    ada, eve = register(name="Ada"), register(name="Eve")
    address = new_address()
    assert_ok(call(client, "POST", "/api/account/email", eve, {"email": address}))
    mixed = {**ada, "accessToken": eve["accessToken"]}
    assert_error(call(client, "POST", "/api/account/email/verify", mixed,
                      {"code": outbox.last_code(address)}), 403, "TokenMismatch")
    assert pool_user(stack, eve["username"])["email"] == eve["email"]
