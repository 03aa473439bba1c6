"""Logging in with a code emailed to the person instead of a password: Cognito's choice-based
sign-in. `send_code`: InitiateAuth AuthFlow=USER_AUTH with PREFERRED_CHALLENGE=EMAIL_OTP, and
Cognito emails an 8-digit code; `log_in`: RespondToAuthChallenge ChallengeName=EMAIL_OTP with
EMAIL_OTP_CODE, then the same tokens and "user authenticated" event as any log-in
(chalicelib/login.py).

Cognito sends these codes only through SES (the pool's sign-in policy allows EMAIL_OTP only
then: infra/template.yaml, docs/deploy.md); `offered()` says whether this stage can. The
challenge's session never leaves the app: it waits in the security table under the person's
username for as long as Cognito keeps it (3 minutes, the app client's AuthSessionValidity), so
the page sends only the username and the code. Nobody learns who has an account: an unknown
username, an unverified one, a person with two-step verification on (Cognito offers them no
passwordless sign-in) all get the same answer as a real one, with a stand-in waiting step
that no code opens. Every email asked for counts against the account's emails
(attempts.EMAILS); every wrong, expired or used code against its sign-in codes
(attempts.SIGN_IN_CODE), before Cognito's own lock.
"""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib import cognito, cognito_sign_in, my_security, security_table
from chalicelib.attempts import EMAILS, SIGN_IN_CODE, limits
from chalicelib.config import settings
from chalicelib.errors import ApiError, BadRequest, ServiceUnavailable, TooManyRequests

CHALLENGE = "EMAIL_OTP"
METHOD = "email-code"  # the "user authenticated" event's method: `Signed in with an email code`
SESSION_SECONDS = 3 * 60  # Cognito's AuthSessionValidity default: the code works as long
SENT = ("If that is an account that can log in with an email code, we have emailed its "
        "address an 8-digit code. Enter it below within 3 minutes. (With two-step "
        "verification on, log in with your password and app code instead.)")
WRONG_CODE = ("That code is not right. Enter the 8-digit code from the latest email we sent, "
              "or press “Email me a sign-in code” for a new one.")
EXPIRED = ("That code has expired or was used already (a code works once, for 3 minutes). "
           "Press “Email me a sign-in code” for a new one.")
NOT_OFFERED = ("Logging in with an email code is not switched on for this app (its user pool "
               "sends email through SES only when the stage is deployed with SesIdentityArn: "
               "docs/deploy.md). Log in with your password.")


def offered() -> bool:
    """This stage's pool may email sign-in codes (the log-in page shows the button then)."""
    return settings().email_sign_in_codes


def _wrong(_: str) -> ApiError:
    return BadRequest(WRONG_CODE, code="CodeMismatch")


def _expired(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # Cognito's lock counts codes with passwords
        return TooManyRequests(cognito.ACCOUNT_LOCKED, code="AccountLocked")
    return BadRequest(EXPIRED, code="ExpiredCode")


def send_code(username: str) -> dict[str, Any]:
    """Email a sign-in code to the account `username` (a username or its verified address).
    The same answer whoever it names; the code step waits in the security table."""
    if not offered():
        raise ServiceUnavailable(NOT_OFFERED)
    person = cognito_sign_in.username_of(username)
    with limits().spending(EMAILS, person):
        result = cognito.choose_challenge(person, CHALLENGE)  # {}: no code sent, the same answer
    session = result.get("Session", "") if result.get("ChallengeName") == CHALLENGE else ""
    _wait(person, session)
    return {"sent": True, "message": SENT}


def log_in(username: str, sign_in_code: str) -> dict[str, Any]:
    """The code from the email: then the same answer and event as a password log-in."""
    from chalicelib import login, user_events

    at = user_events.now_iso()  # before RespondToAuthChallenge reads the attributes
    return login._signed_in(_tokens_for(username, sign_in_code), at, method=METHOD)


def _tokens_for(username: str, sign_in_code: str) -> dict[str, Any]:
    """The tokens of the account `username` for the code it was emailed. Wrong, expired and
    used codes are refused, and counted."""
    person = cognito_sign_in.username_of(username)
    try:
        with limits().guessing(SIGN_IN_CODE, person):
            session = _waiting(person)
            if session is None:
                raise BadRequest(EXPIRED, code="ExpiredCode")
            if not session:  # a stand-in: no code was sent, none is right
                raise BadRequest(WRONG_CODE, code="CodeMismatch")
            result = cognito.call(
                "respond_to_auth_challenge",
                {"CodeMismatchException": _wrong, "ExpiredCodeException": _expired,
                 "NotAuthorizedException": _expired, "UserNotFoundException": _expired},
                ClientId=cognito.client_id(), ChallengeName=CHALLENGE, Session=session,
                ChallengeResponses={"USERNAME": person, "EMAIL_OTP_CODE": sign_in_code})
    except ApiError as exc:
        if exc.code == "ExpiredCode":
            limits().table.delete(_key(person))  # its session is over: a new code is needed
        if exc.code in ("CodeMismatch", "AccountLocked"):
            my_security.wrong_guess(exc, locked=limits().paused(SIGN_IN_CODE, person),
                                    username=person, find_sub=cognito_sign_in.sub_of)
        raise
    limits().table.delete(_key(person))  # used: the same code never signs in again
    if "AuthenticationResult" not in result:
        raise BadRequest(EXPIRED, code="ExpiredCode")
    return cognito_sign_in._tokens(result["AuthenticationResult"])


def _key(person: str) -> str:
    # A digest of the username (usernames ignore case), like the code step's key.
    return "email-sign-in#" + hashlib.sha256(person.casefold().encode()).hexdigest()


def _wait(person: str, session: str) -> None:
    """The code step of `person` now waits for its code: Cognito's session, or "" (a stand-in).
    A newer code replaces an older one's step: only the latest email's code works."""
    security_table.change(
        limits().table, _key(person),
        lambda _, now: ({"session": session}, now + SESSION_SECONDS), clock=limits().clock)


def _waiting(person: str) -> str | None:
    """The session of `person`'s waiting code step ("" for a stand-in), or None (none, or
    expired)."""
    item = limits().table.get(_key(person), limits().clock())
    return None if item is None else str(item.get("session", ""))
