"""Two-step verification with an authenticator app (Cognito's software-token MFA, TOTP),
optional per person: set it up, turn it on with a code, turn it off with a code, and
answer the code a log-in asks for afterwards.

The account calls act with the person's access token, checked to be the ID token's
person (account._person). Cognito has no recovery codes: the app keeps 10 per person
(chalicelib/recovery_codes.py), shown when two-step verification is turned on. At the code
step, a right recovery code (with the password again: `answer_with_recovery_code`) turns the
person's two-step verification off (AdminSetUserMFAPreference: the old authenticator is no
longer asked for, and a new setup draws a new secret) and signs them in with the password; the
Security page then asks them to set it up again, with new codes.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any

from chalicelib import (account, cognito, cognito_account, cognito_sign_in, my_security,
                        recovery_codes)
from chalicelib.attempts import APP_CODE, PASSWORD, limits
from chalicelib.errors import (ApiError, BadRequest, Conflict, TooManyRequests, Unauthorized,
                               session_ended)

CHALLENGE = "SOFTWARE_TOKEN_MFA"
log = logging.getLogger(__name__)

ISSUER = "Comm-IT"
WRONG_CODE = ("That code is not right. Enter the 6-digit code your authenticator app shows "
              "for Comm-IT now.")
LOGIN_EXPIRED = ("This log-in has expired (a code must be entered within 3 minutes of the "
                 "password). Log in again with your password.")
NOT_SET_UP = "Press “Set up two-step verification” first, then enter the code your app shows."
# Cognito's code step lasts 3 minutes; the app binds it to its person for as long.
CODE_STEP_SECONDS = 3 * 60
LOST_PHONE = ("Lost your phone? At the log-in's code step, choose “Use a recovery code” and "
              "enter one of the codes you saved when you turned two-step verification on.")
WRONG_RECOVERY_CODE = ("That recovery code is not right, or it was used already. Enter one of "
                       "the codes you saved, such as k7f2-9xq4.")


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
    codes = recovery_codes.state(user["sub"])
    return {"enabled": CHALLENGE in user["mfa"].split(), "lostPhone": LOST_PHONE,
            "recoveryCodesLeft": codes["left"],
            # A recovery code turned it off: the page asks for a new setup, with new codes.
            "turnedOffByRecoveryCode": codes["recovered"]}


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
    """On, with 10 new recovery codes: the answer is the only time they are shown."""
    user = account._person(claims, access_token)
    _verify(user["username"], access_token, app_code, sub=user["sub"])
    _prefer(access_token, enabled=True)
    codes = recovery_codes.new_set(user["sub"])
    my_security.record(user["sub"], my_security.TWO_STEP_ON)
    return {"enabled": True, "recoveryCodes": codes}


def new_recovery_codes(claims: dict[str, Any], access_token: str,
                       app_code: str) -> dict[str, Any]:
    """10 new recovery codes for a current app code; the old set stops working at once."""
    user = account._person(claims, access_token)
    if CHALLENGE not in user["mfa"].split():
        raise Conflict("Two-step verification is off: turn it on to get recovery codes.",
                       code="AlreadyOff")
    _verify(user["username"], access_token, app_code, sub=user["sub"])
    codes = recovery_codes.new_set(user["sub"])
    my_security.record(user["sub"], my_security.RECOVERY_CODES_REPLACED)
    return {"recoveryCodes": codes}


def turn_off(claims: dict[str, Any], access_token: str, app_code: str) -> dict[str, Any]:
    """Needs a current code from the app (VerifySoftwareToken against the person's secret)."""
    user = account._person(claims, access_token)
    if CHALLENGE not in user["mfa"].split():
        raise Conflict("Two-step verification is already off.", code="AlreadyOff")
    _verify(user["username"], access_token, app_code, sub=user["sub"])
    _prefer(access_token, enabled=False)
    recovery_codes.forget(user["sub"])
    my_security.record(user["sub"], my_security.TWO_STEP_OFF)
    return {"enabled": False}


def _verify(username: str, access_token: str, app_code: str, sub: str) -> None:
    """A code of the person's app (VerifySoftwareToken); wrong ones count (attempts.APP_CODE)."""
    try:
        with limits().guessing(APP_CODE, username):
            cognito.call("verify_software_token", _VERIFY_ERRORS, AccessToken=access_token,
                         UserCode=app_code, FriendlyDeviceName="Authenticator app")
    except ApiError as exc:
        _wrong_guess(sub, exc, username=False)
        raise


def _wrong_guess(sub_or_username: str, exc: ApiError, *, username: bool = True) -> None:
    """A wrong code (or the lock it brought) goes into the person's activity (by their sub, or
    their username at the log-in's code step)."""
    who = {"username": sub_or_username, "find_sub": cognito_sign_in.sub_of} if username \
        else {"sub": sub_or_username}
    my_security.wrong_guess(exc, locked=False, **who)


def _prefer(access_token: str, *, enabled: bool) -> None:
    # Passkey MFA goes with it: a passkey (which verifies the person) is then both steps, as
    # Cognito lets it be (chalicelib/passkeys.py).
    cognito.call("set_user_mfa_preference",
                 {**_ACCOUNT_ERRORS, "InvalidParameterException": _not_set_up},
                 AccessToken=access_token, WebAuthnMfaSettings={"Enabled": enabled},
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
    try:
        with limits().guessing(APP_CODE, person):
            result = cognito.call(
            "respond_to_auth_challenge",
                {"CodeMismatchException": _wrong_code,
                 "ExpiredCodeException": _login_refused,
                 "NotAuthorizedException": _login_refused,
                 "UserNotFoundException": _login_refused},
                ClientId=cognito.client_id(), ChallengeName=CHALLENGE, Session=session,
                ChallengeResponses={"USERNAME": person, "SOFTWARE_TOKEN_MFA_CODE": app_code})
    except ApiError as exc:
        if exc.code in ("CodeMismatch", "AccountLocked"):
            _wrong_guess(person, exc)
        raise
    limits().table.delete(key)
    if "AuthenticationResult" not in result:
        raise Unauthorized(LOGIN_EXPIRED, code="LoginExpired")
    return cognito_sign_in._tokens(result["AuthenticationResult"])


def answer_with_recovery_code(username: str, session: str, password: str,
                              recovery_code: str) -> tuple[dict[str, Any], str]:
    """The log-in's second step with a recovery code instead of the app's code: the tokens of
    a new sign-in, and the person's sub. Cognito's challenge needs an app code, so the app,
    for the person whose password opened this code step (its binding) and who sends that
    password again (attempts.PASSWORD), uses up the code (attempts.APP_CODE counts a wrong
    one), turns two-step verification off (AdminSetUserMFAPreference) and logs in with the
    password, which now asks for no code. If that fails, the code counts again."""
    key = _code_step_key(session)
    bound = limits().table.get(key, limits().clock())
    if bound is None or str(bound["username"]).casefold() != username.casefold():
        raise Unauthorized(LOGIN_EXPIRED, code="LoginExpired")
    person = str(bound["username"])
    with limits().guessing(PASSWORD, person):
        cognito_account.check_password(person, password)
    sub = cognito_sign_in.sub_of(person)
    try:
        with limits().guessing(APP_CODE, person):
            used = recovery_codes.use(sub, recovery_code) if sub else None
            if used is None:
                raise BadRequest(WRONG_RECOVERY_CODE, code="CodeMismatch")
    except ApiError as exc:
        _wrong_guess(sub, exc, username=False)
        raise
    try:
        _admin_prefer(person, enabled=False)
    except BaseException:
        recovery_codes.give_back(sub, used)
        raise
    try:
        tokens = cognito_sign_in.log_in(person, password)
        if "challenge" in tokens:
            raise Unauthorized(LOGIN_EXPIRED, code="LoginExpired")
    except BaseException:  # never off without the person knowing: back on, the code back too
        _admin_prefer(person, enabled=True)
        recovery_codes.give_back(sub, used)
        raise
    limits().table.delete(key)
    recovery_codes.recovered(sub)
    my_security.record(sub, my_security.RECOVERY_CODE_USED)
    my_security.record(sub, my_security.TWO_STEP_OFF)
    return tokens, sub


def _admin_prefer(username: str, *, enabled: bool) -> None:
    """AdminSetUserMFAPreference: the person's authenticator app asked for at log-in, or not
    (a recovery code turns it off)."""
    from chalicelib.config import settings
    from chalicelib.errors import ServiceUnavailable

    if not settings().user_pool_id:
        raise ServiceUnavailable(cognito.NOT_CONFIGURED)
    cognito.call("admin_set_user_mfa_preference", {},
                 UserPoolId=settings().user_pool_id, Username=username,
                 SoftwareTokenMfaSettings={"Enabled": enabled, "PreferredMfa": enabled})


def _code_step_key(session: str) -> str:
    # A digest, not the session itself: the table never holds what answers the step.
    return "code-step#" + hashlib.sha256(session.encode()).hexdigest()
