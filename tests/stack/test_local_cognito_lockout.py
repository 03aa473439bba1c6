"""A locked account (Cognito: "Password attempts exceeded" after 5 wrong passwords) is
told so, with the same answer for a right and a wrong password; unknown users are never
locked and keep the wrong-password answer (chalicelib/cognito_sign_in.py). Locally the local AWS
locks like Cognito does (local/cognito/lockout.py), on a clock the tests move.
"""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from chalicelib import cognito, cognito_sign_in
from local import clock as local_clock
from tests.helpers import post


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock()
    with local_clock.set(fake):
        yield fake


def log_in(client: Any, username: str, password: str) -> tuple[int, dict[str, str]]:
    response = post(client, "/api/auth/login", {"username": username, "password": password})
    return response.status_code, json.loads(response.body)


WRONG = (401, {"error": "NotAuthorized", "message": cognito_sign_in.BAD_CREDENTIALS})
LOCKED = (429, {"error": "AccountLocked", "message": cognito.ACCOUNT_LOCKED})


def fail(client: Any, username: str, times: int) -> None:
    for _ in range(times):
        assert log_in(client, username, "Wr0ng-password") == WRONG


def test_after_five_wrong_passwords_even_the_right_one_is_told_the_account_is_locked(
        client, register, clock):
    person = register(log_in=False)
    fail(client, person["username"], 5)
    assert log_in(client, person["username"], person["password"]) == LOCKED
    # During the lock a wrong password gets the very same answer: no password oracle.
    assert log_in(client, person["username"], "Wr0ng-password") == LOCKED
    clock.now += 1
    status, body = log_in(client, person["username"], person["password"])
    assert status == 200 and body["idToken"]


def test_the_lock_doubles_with_each_further_wrong_password(client, register, clock):
    person = register(log_in=False)
    fail(client, person["username"], 5)  # locked for 1 s
    clock.now += 1
    fail(client, person["username"], 1)  # the 6th: locked for 2 s
    clock.now += 1.5
    assert log_in(client, person["username"], person["password"]) == LOCKED
    clock.now += 0.5
    assert log_in(client, person["username"], person["password"])[0] == 200


def test_attempts_during_a_lock_do_not_lengthen_it(client, register, clock):
    person = register(log_in=False)
    fail(client, person["username"], 5)
    for _ in range(5):
        assert log_in(client, person["username"], "Wr0ng-password") == LOCKED
    clock.now += 1
    assert log_in(client, person["username"], person["password"])[0] == 200


def test_a_successful_login_starts_the_count_again(client, register, clock):
    person = register(log_in=False)
    fail(client, person["username"], 4)
    assert log_in(client, person["username"], person["password"])[0] == 200
    fail(client, person["username"], 4)
    assert log_in(client, person["username"], person["password"])[0] == 200


def test_fifteen_minutes_without_an_attempt_start_the_count_again(client, register, clock):
    person = register(log_in=False)
    fail(client, person["username"], 4)
    clock.now += 15 * 60
    fail(client, person["username"], 4)
    assert log_in(client, person["username"], person["password"])[0] == 200


def test_an_unknown_user_is_never_locked_and_gets_the_wrong_password_answer(client, register,
                                                                           clock):
    person = register(log_in=False)
    fail(client, "nobody-" + person["username"], 12)
    fail(client, person["username"], 5)  # a real account, same five answers before the lock


def test_the_local_aws_answers_a_locked_account_as_cognito_does(client, register, clock, stack):
    import boto3

    person = register(log_in=False)
    fail(client, person["username"], 5)
    cognito_idp = boto3.client("cognito-idp", region_name="us-east-1",
                               endpoint_url=stack["AWS_ENDPOINT_URL"])
    with pytest.raises(cognito_idp.exceptions.NotAuthorizedException,
                       match="Password attempts exceeded"):
        cognito_idp.initiate_auth(ClientId=stack["USER_POOL_CLIENT_ID"],
                                  AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": person["username"],
                                                  "PASSWORD": person["password"]})


class LockedCognito:
    """Cognito in AWS, as it answers a locked account."""

    def initiate_auth(self, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "NotAuthorizedException",
                                     "Message": "Password attempts exceeded"}}, "InitiateAuth")


def test_cognitos_password_attempts_exceeded_becomes_429_account_locked(monkeypatch):
    from chalicelib.errors import ApiError

    monkeypatch.setattr(cognito, "client", lambda service: LockedCognito())
    monkeypatch.setattr(cognito, "client_id", lambda: "client")
    with pytest.raises(ApiError) as caught:
        cognito_sign_in.log_in("ada", "Corr3ct-horse")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        429, "AccountLocked", cognito.ACCOUNT_LOCKED)
    assert "ada" not in caught.value.message
