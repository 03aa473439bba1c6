"""Calling Cognito: the one call wrapper the Cognito modules share, and its errors.

Cognito's own error codes become ApiErrors with messages a person can act on;
throttling becomes 429, an unreachable or silent service 503. The flows live in
cognito_sign_in.py (user pool, before a session), cognito_account.py (the
signed-in person's own calls) and cognito_credentials.py (the identity pool).
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from chalicelib.aws import client, error_code, unreachable
from chalicelib.config import settings
from chalicelib.errors import ApiError, BadRequest, ServiceUnavailable, TooManyRequests

log = logging.getLogger(__name__)

# Cognito locks an account for a while after 5 wrong passwords (1 s, doubling up to about
# 15 minutes), and then answers "Password attempts exceeded" even to the right password.
# Saying so tells the person why; it tells an attacker nothing sign-up does not already
# tell in one request ("That username is taken"), and it is the same for a right and a
# wrong password, so the lock stays no password oracle. Unknown users never get it
# (Cognito answers them "Incorrect username or password.", like a wrong password).
ACCOUNT_LOCKED = ("Too many wrong passwords for this account: logging in to it is paused for a "
                  "while (at most 15 minutes). Wait, then try again.")
NOT_CONFIGURED = ("The sign-in service is not set up for this app: no user pool is configured "
                  "(USER_POOL_CLIENT_ID is not set). `make run` runs the app with a local AWS; "
                  "`make deploy` sets up a stage in AWS.")
CODE_MISMATCH = ("That verification code is not right. Check the latest email we sent, "
                 "or ask for a new code.")
EMAIL_TAKEN = ("That email address already belongs to an account. Log in with it, or reset "
               "that account's password if you forgot it.")
# The user pool's password policy, as a person reads it and as the pages check it while it is
# typed (templates/fields.html lists it, templates/js/passwords.js checks it); Cognito checks
# it again with infra/template.yaml's PasswordPolicy, which tests/unit/test_pages.py holds to
# this list. Each pattern is searched for in the password, by JavaScript and Python alike.
PASSWORD_RULES = (
    ("At least 8 characters", r"^[\s\S]{8,}$"),
    ("A lower-case letter", "[a-z]"),
    ("An upper-case letter", "[A-Z]"),
    ("A number", "[0-9]"),
)
PASSWORD_RULES_IN_WORDS = ("at least 8 characters, with upper- and lower-case letters"  # noqa: S105
                           " and a number")  # (words about passwords, not one)
THROTTLED = {"TooManyRequestsException", "LimitExceededException",
             "TooManyFailedAttemptsException"}


def call(operation: str, errors: Mapping[str, Callable[[str], ApiError] | None],
         service: str = "cognito-idp", **kwargs: Any) -> Any:
    """Call a Cognito operation; map its errors. A mapping to None means 'treat as success'."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(client(service), operation)(**kwargs)
    except ClientError as exc:
        code = error_code(exc)
        detail = exc.response.get("Error", {}).get("Message", "")
        if code in errors:
            make = errors[code]
            if make is None:
                return None
            raise make(detail) from None
        if code in THROTTLED:
            raise TooManyRequests("Too many attempts. Wait a minute and try again.") from None
        log.warning("%s %s failed: %s %r", service, operation, code, detail)  # %r: escaped
    except BotoCoreError as exc:
        log.warning("%s %s unreachable: %r", service, operation, str(exc))
        raise ServiceUnavailable(unreachable("The sign-in service")) from None
    raise ServiceUnavailable("The sign-in service did not answer. Please try again.")


def choose_challenge(username: str, challenge: str) -> dict[str, Any]:
    """Choice-based sign-in (InitiateAuth USER_AUTH) asking for `challenge` (EMAIL_OTP,
    WEB_AUTHN): Cognito's answer, or {} when it offers nothing for this name (no such account,
    not confirmed, locked, no such factor), which the caller answers like any other so that
    no account is told apart."""
    return call(
        "initiate_auth",
        dict.fromkeys(("UserNotFoundException", "NotAuthorizedException",
                       "UserNotConfirmedException", "PasswordResetRequiredException"), None),
        ClientId=client_id(), AuthFlow="USER_AUTH",
        AuthParameters={"USERNAME": username, "PREFERRED_CHALLENGE": challenge}) or {}


def client_id() -> str:
    """The app client of the user pool; 503 saying what to do when there is none."""
    client_id = settings().user_pool_client_id
    if not client_id:
        raise ServiceUnavailable(NOT_CONFIGURED)
    return client_id


def weak_password(detail: str) -> ApiError:
    # Cognito says e.g. "Password did not conform with policy: Password must have numeric
    # characters".
    reason = detail.split("policy:", 1)[1].strip().rstrip(".") if "policy:" in detail else ""
    return BadRequest(
        "That password is too weak" + (f" ({reason})" if reason else "") +
        f". Use {PASSWORD_RULES_IN_WORDS}.",
        code="InvalidPassword")


def invalid(detail: str) -> ApiError:
    return BadRequest(detail or "One of the fields is not valid.", code="InvalidParameter")


def code_mismatch(_: str) -> ApiError:
    return BadRequest(CODE_MISMATCH, code="CodeMismatch")


def expired_code(_: str) -> ApiError:
    return BadRequest("That code has expired. Ask for a new one.", code="ExpiredCode")
