"""The local AWS locks an account as Cognito does ("Password attempts exceeded" after 5 wrong
passwords, local/cognito/lockout.py), on a clock the tests move: asked directly, as the app's
own limits (chalicelib/attempts.py, tests/stack/test_attempt_limits.py) stand in front of it.
The app tells a lock by Cognito, should one happen, as 429 AccountLocked.
"""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

from chalicelib import cognito, cognito_sign_in
from local.server import clock as local_clock
from tests.helpers import Clock
from tests.stack.helpers import local_client


@pytest.fixture
def clock() -> Iterator[Clock]:
    fake = Clock(1000.0)
    with local_clock.set(fake):
        yield fake


WRONG = "Incorrect username or password."
LOCKED = "Password attempts exceeded"


@pytest.fixture
def cognito_idp(stack: dict[str, str]) -> Any:
    """The local AWS's Cognito, asked directly (not the app: its own limits come first)."""

    return local_client(stack, "cognito-idp")


def log_in(cognito_idp: Any, username: str, password: str) -> tuple[int, str]:
    """(200, "") for tokens, else (400, Cognito's message)."""
    try:
        cognito_idp.initiate_auth(ClientId=os.environ["USER_POOL_CLIENT_ID"],
                                  AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": username, "PASSWORD": password})
    except (cognito_idp.exceptions.NotAuthorizedException,
            cognito_idp.exceptions.UserNotFoundException) as exc:
        return 400, exc.response["Error"]["Message"]
    return 200, ""


def fail(cognito_idp: Any, username: str, times: int) -> None:
    for _ in range(times):
        assert log_in(cognito_idp, username, "Wr0ng-password") == (400, WRONG)


def test_after_five_wrong_passwords_even_the_right_one_is_told_the_account_is_locked(
        cognito_idp, register, clock):
    person = register(log_in=False)
    fail(cognito_idp, person["username"], 5)
    assert log_in(cognito_idp, person["username"], person["password"]) == (400, LOCKED)
    # During the lock a wrong password gets the very same answer: no password oracle.
    assert log_in(cognito_idp, person["username"], "Wr0ng-password") == (400, LOCKED)
    clock.now += 1
    assert log_in(cognito_idp, person["username"], person["password"]) == (200, "")


def test_the_lock_doubles_with_each_further_wrong_password(cognito_idp, register, clock):
    person = register(log_in=False)
    fail(cognito_idp, person["username"], 5)  # locked for 1 s
    clock.now += 1
    fail(cognito_idp, person["username"], 1)  # the 6th: locked for 2 s
    clock.now += 1.5
    assert log_in(cognito_idp, person["username"], person["password"]) == (400, LOCKED)
    clock.now += 0.5
    assert log_in(cognito_idp, person["username"], person["password"])[0] == 200


def test_attempts_during_a_lock_do_not_lengthen_it(cognito_idp, register, clock):
    person = register(log_in=False)
    fail(cognito_idp, person["username"], 5)
    for _ in range(5):
        assert log_in(cognito_idp, person["username"], "Wr0ng-password") == (400, LOCKED)
    clock.now += 1
    assert log_in(cognito_idp, person["username"], person["password"])[0] == 200


def test_a_successful_login_starts_the_count_again(cognito_idp, register, clock):
    person = register(log_in=False)
    fail(cognito_idp, person["username"], 4)
    assert log_in(cognito_idp, person["username"], person["password"])[0] == 200
    fail(cognito_idp, person["username"], 4)
    assert log_in(cognito_idp, person["username"], person["password"])[0] == 200


def test_fifteen_minutes_without_an_attempt_start_the_count_again(cognito_idp, register, clock):
    person = register(log_in=False)
    fail(cognito_idp, person["username"], 4)
    clock.now += 15 * 60
    fail(cognito_idp, person["username"], 4)
    assert log_in(cognito_idp, person["username"], person["password"])[0] == 200


def test_an_unknown_user_is_never_locked(cognito_idp, register, clock):
    person = register(log_in=False)
    for _ in range(12):
        assert log_in(cognito_idp, "nobody-" + person["username"], "Wr0ng-password") != (
            400, LOCKED)
    fail(cognito_idp, person["username"], 5)  # a real account, same five answers before the lock


class LockedCognito:
    """Cognito in AWS, as it answers a locked account."""

    def initiate_auth(self, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "NotAuthorizedException",
                                     "Message": "Password attempts exceeded"}}, "InitiateAuth")


@pytest.mark.usefixtures("stack")
def test_cognitos_password_attempts_exceeded_becomes_429_account_locked(monkeypatch):
    from chalicelib.errors import ApiError

    monkeypatch.setattr(cognito, "client", lambda service: LockedCognito())
    monkeypatch.setattr(cognito, "client_id", lambda: "client")
    with pytest.raises(ApiError) as caught:
        cognito_sign_in.log_in("ada", "Corr3ct-horse")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        429, "AccountLocked", cognito.ACCOUNT_LOCKED)
    assert "ada" not in caught.value.message
