"""Two-step verification with an authenticator app (Cognito's software-token MFA, TOTP),
optional per person: set it up, turn it on with a code, turn it off with a code, and
answer the code a log-in asks for afterwards.

The account calls act with the person's access token, checked to be the ID token's
person (account._person). Cognito has no recovery codes: a person who lost the phone
asks the operator (docs/operations.md, AdminSetUserMFAPreference).
"""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib import account, cognito, cognito_account, cognito_sign_in
from chalicelib.attempts import APP_CODE, PASSWORD, limits
from chalicelib.errors import (ApiError, BadRequest, Conflict, TooManyRequests, Unauthorized,
                               session_ended)

CHALLENGE = "SOFTWARE_TOKEN_MFA"
ISSUER = "Comm-IT"
WRONG_CODE = ("That code is not right. Enter the 6-digit code your authenticator app shows "
              "for Comm-IT now.")
LOGIN_EXPIRED = ("This log-in has expired (a code must be entered within 3 minutes of the "
                 "password). Log in again with your password.")
NOT_SET_UP = "Press “Set up two-step verification” first, then enter the code your app shows."
# Cognito's code step lasts 3 minutes; the app binds it to its person for as long.
CODE_STEP_SECONDS = 3 * 60
LOST_PHONE = ("Lost your phone? The app cannot turn two-step verification off without a code: "
              "ask us to, and we turn it off for your account after checking it is yours.")


def _wrong_code(_: str) -> ApiError:
    return BadRequest(WRONG_CODE, code="CodeMismatch")


def _not_set_up(_: str) -> ApiError:
    return BadRequest(NOT_SET_UP, code="NotSetUp")


def _ended(_: str) -> ApiError:
    return session_ended()


def _login_refused(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # wrong codes count with wrong passwords
        return TooManyRequests(cognito.ACCOUNT_LOCKED.replace("wrong passwords",
                                                              "wrong passwords or codes"),
                               code="AccountLocked")
    return Unauthorized(LOGIN_EXPIRED, code="LoginExpired")


_ACCOUNT_ERRORS = {"NotAuthorizedException": _ended, "UserNotFoundException": _ended}
_VERIFY_ERRORS = {**_ACCOUNT_ERRORS,
                  "EnableSoftwareTokenMFAException": _wrong_code,
                  "CodeMismatchException": _wrong_code,
                  "InvalidParameterException": _not_set_up,
                  "SoftwareTokenMFANotFoundException": _not_set_up}


def status(claims: dict[str, Any], access_token: str) -> dict[str, Any]:
    user = account._person(claims, access_token)
    return {"enabled": CHALLENGE in user["mfa"].split(), "lostPhone": LOST_PHONE}


def set_up(claims: dict[str, Any], access_token: str, password: str) -> dict[str, Any]:
    """A new secret for the person's app (AssociateSoftwareToken): as text (the setup key) and
    as a QR code. It needs the password, freshly typed: whoever holds a session must not move
    the second factor to an app of theirs (nor turn it on to lock the owner out)."""
    from urllib.parse import quote

    user = account._person(claims, access_token)
    with limits().guessing(PASSWORD, user["username"]):
        cognito_account.check_password(user["username"], password)
    result = cognito.call("associate_software_token", _ACCOUNT_ERRORS, AccessToken=access_token)
    secret = result["SecretCode"]
    uri = (f"otpauth://totp/{quote(ISSUER)}:{quote(user['username'])}"
           f"?secret={secret}&issuer={quote(ISSUER)}")
    return {"setupKey": secret, "qrCode": qr_code(uri)}


def qr_code(text: str) -> str:
    """`text` as a QR code: an SVG data URI, drawn here (no outside service sees the secret)."""
    import segno

    return segno.make(text, error="m").svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


def turn_on(claims: dict[str, Any], access_token: str, app_code: str) -> dict[str, Any]:
    user = account._person(claims, access_token)
    _verify(user["username"], access_token, app_code)
    _prefer(access_token, enabled=True)
    return {"enabled": True}


def turn_off(claims: dict[str, Any], access_token: str, app_code: str) -> dict[str, Any]:
    """Needs a current code from the app (VerifySoftwareToken against the person's secret)."""
    user = account._person(claims, access_token)
    if CHALLENGE not in user["mfa"].split():
        raise Conflict("Two-step verification is already off.", code="AlreadyOff")
    _verify(user["username"], access_token, app_code)
    _prefer(access_token, enabled=False)
    return {"enabled": False}


def _verify(username: str, access_token: str, app_code: str) -> None:
    """A code of the person's app (VerifySoftwareToken); wrong ones count (attempts.APP_CODE)."""
    with limits().guessing(APP_CODE, username):
        cognito.call("verify_software_token", _VERIFY_ERRORS, AccessToken=access_token,
                     UserCode=app_code, FriendlyDeviceName="Authenticator app")


def _prefer(access_token: str, *, enabled: bool) -> None:
    cognito.call("set_user_mfa_preference",
                 {**_ACCOUNT_ERRORS, "InvalidParameterException": _not_set_up},
                 AccessToken=access_token,
                 SoftwareTokenMfaSettings={"Enabled": enabled, "PreferredMfa": enabled})


def code_step(challenge: dict[str, Any]) -> dict[str, Any]:
    """A log-in's code step begins: its session is bound to its person here, for as long as
    Cognito keeps it, so the code step counts wrong codes against that person whatever
    username a client sends with the session."""
    table = limits().table
    now = limits().clock()
    table.put(_code_step_key(challenge["session"]), {"username": challenge["username"]},
              now=now, expires_at=now + CODE_STEP_SECONDS, replacing=None)
    return challenge


def answer_challenge(username: str, session: str, app_code: str) -> dict[str, Any]:
    """The log-in's second step: the code for the challenge session the page holds."""
    key = _code_step_key(session)
    bound = limits().table.get(key, limits().clock())
    if bound is None or str(bound["username"]).casefold() != username.casefold():
        raise Unauthorized(LOGIN_EXPIRED, code="LoginExpired")
    person = str(bound["username"])
    with limits().guessing(APP_CODE, person):
        result = cognito.call(
            "respond_to_auth_challenge",
            {"CodeMismatchException": _wrong_code,
             "ExpiredCodeException": _login_refused,
             "NotAuthorizedException": _login_refused,
             "UserNotFoundException": _login_refused},
            ClientId=cognito.client_id(), ChallengeName=CHALLENGE, Session=session,
            ChallengeResponses={"USERNAME": person, "SOFTWARE_TOKEN_MFA_CODE": app_code})
    limits().table.delete(key)
    if "AuthenticationResult" not in result:
        raise Unauthorized(LOGIN_EXPIRED, code="LoginExpired")
    return cognito_sign_in._tokens(result["AuthenticationResult"])


def _code_step_key(session: str) -> str:
    # A digest, not the session itself: the table never holds what answers the step.
    return "code-step#" + hashlib.sha256(session.encode()).hexdigest()
