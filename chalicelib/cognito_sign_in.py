"""Signing up and in with the user pool: sign-up and its verification code, logging
in, refreshing and out, and a forgotten password's reset.

Unknown users and wrong passwords share one answer, so the API does not reveal
who has an account.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from chalicelib import cognito, my_security
from chalicelib.attempts import EMAILS, PASSWORD, RESET_CODE, VERIFY_CODE, limits
from chalicelib.config import settings
from chalicelib.errors import (SESSION_ENDED, ApiError, BadRequest, Conflict, Forbidden,
                               ServiceUnavailable, TooManyRequests, Unauthorized, session_ended)

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "Incorrect username or password."


def _unauthorized(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # "Password attempts exceeded": locked
        return TooManyRequests(cognito.ACCOUNT_LOCKED, code="AccountLocked")
    return Unauthorized(BAD_CREDENTIALS, code="NotAuthorized")


# A verified account answers a code like an unknown one (no enumeration), saying what to do.
CONFIRM_MISMATCH = cognito.CODE_MISMATCH + " Verified this account already? Then log in."


def _confirm_mismatch(_: str) -> ApiError:
    return BadRequest(CONFIRM_MISMATCH, code="CodeMismatch")


def sign_up(name: str, email: str, username: str, password: str) -> dict[str, Any]:
    """Register a person. One address, one account: an address already verified by a
    confirmed account is refused (EmailExists), as Cognito refuses a taken username."""
    email = email.lower()  # log-in by email ignores case: store one spelling
    if "@" in username:
        raise BadRequest("Choose a username without @: you can log in with your email "
                         "address as well as your username.", code="InvalidParameter")
    if username_for_email(email) is not None:
        raise Conflict(cognito.EMAIL_TAKEN, code="EmailExists")
    result = cognito.call(
        "sign_up",
        {
            "UsernameExistsException": lambda _: Conflict(
                "That username is taken. Choose another one.", code="UsernameExists"),
            "InvalidPasswordException": cognito.weak_password,
            "InvalidParameterException": cognito.invalid,
        },
        ClientId=cognito.client_id(),
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "name", "Value": name}, {"Name": "email", "Value": email}],
    )
    delivery = result.get("CodeDeliveryDetails") or {}
    return {"username": username, "confirmed": bool(result.get("UserConfirmed")),
            "codeSentTo": delivery.get("Destination", "")}


def confirm(username: str, code: str) -> None:
    """The emailed sign-up code. Wrong codes count against the account (attempts.VERIFY_CODE)."""
    with limits().guessing(VERIFY_CODE, username):
        cognito.call(
            "confirm_sign_up",
            {
                "CodeMismatchException": _confirm_mismatch,
                # With PreventUserExistenceErrors AWS answers CodeMismatch for unknown users.
                "UserNotFoundException": _confirm_mismatch,
                "ExpiredCodeException": cognito.expired_code,
                # Already verified: the same answer as an unknown user's.
                "NotAuthorizedException": _confirm_mismatch,
            },
            ClientId=cognito.client_id(),
            Username=username,
            ConfirmationCode=code,
        )


def resend(username: str) -> None:
    """A new sign-up code by email. Unknown and already verified accounts get the same answer
    and no email; every ask counts against the account's emails (attempts.EMAILS)."""
    with limits().spending(EMAILS, username):
        cognito.call(
            "resend_confirmation_code",
            {
                "InvalidParameterException": None,  # already verified: nothing to send
                "UserNotFoundException": None,  # same answer as for a real user
            },
            ClientId=cognito.client_id(),
            Username=username,
        )


def log_in(username: str, password: str) -> dict[str, Any]:
    """Tokens, or the challenge of a person with two-step verification. Wrong passwords count
    against the account (attempts.PASSWORD), known or not, before Cognito's own lock."""
    with limits().guessing(PASSWORD, username):
        return _initiate_auth(username, password)


def _initiate_auth(username: str, password: str) -> dict[str, Any]:
    result = cognito.call(
        "initiate_auth",
        {
            "NotAuthorizedException": _unauthorized,
            "UserNotFoundException": _unauthorized,
            "UserNotConfirmedException": lambda _: Forbidden(
                "Your account is not verified yet. Enter the code we emailed you.",
                code="UserNotConfirmed"),
            "PasswordResetRequiredException": lambda _: Forbidden(
                "You need to reset your password before you log in.",
                code="PasswordResetRequired"),
        },
        ClientId=cognito.client_id(),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    if "AuthenticationResult" not in result:
        return _challenge(username, result)
    return _tokens(result["AuthenticationResult"])


def _challenge(username: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """The password was right and Cognito asks for more: the code of the person's app
    (chalicelib/two_step.py answers it), with the session the page holds meanwhile. Any
    other challenge (the pool sends none to self-service accounts) is refused saying why."""
    name = result.get("ChallengeName")
    if name == "SOFTWARE_TOKEN_MFA":
        parameters = result.get("ChallengeParameters") or {}
        return {"challenge": name, "session": result["Session"],
                "username": parameters.get("USER_ID_FOR_SRP") or username}
    log.warning("unexpected challenge %s for a self-service user", name)
    raise Forbidden("This account needs a sign-in step this app does not offer. Reset your "
                    "password with “Forgot your password?”, then log in; if that does not "
                    "help, ask us to check your account.", code="ChallengeRequired")


def refresh(refresh_token: str) -> dict[str, Any]:
    result = cognito.call(
        "initiate_auth",
        {"NotAuthorizedException": lambda _: Unauthorized(SESSION_ENDED, code="SessionExpired")},
        ClientId=cognito.client_id(),
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    tokens = _tokens(result["AuthenticationResult"])
    tokens["refreshToken"] = tokens["refreshToken"] or refresh_token
    return tokens


def revoke(refresh_token: str) -> None:
    """End one session (RevokeToken: the refresh token and the access tokens issued with
    it); the person's other devices stay signed in. The app client has token revocation on
    (infra/template.yaml)."""
    cognito.call(
        "revoke_token",
        {
            "UnauthorizedException": None,  # not a session of this app: nothing of ours to end
            "UnsupportedTokenTypeException": lambda _: BadRequest(
                "That is not a refresh token of Comm-IT. Log out with the refreshToken the "
                "login answer gave.", code="InvalidToken"),
            "InvalidParameterException": lambda _: BadRequest(
                "That refresh token is not valid. Log in again.", code="InvalidParameter"),
            "UnsupportedOperationException": lambda _: ServiceUnavailable(
                "Logging out of one device is not switched on for this app (its user pool "
                "client needs EnableTokenRevocation). Use Log out everywhere meanwhile."),
        },
        ClientId=cognito.client_id(),
        Token=refresh_token,
    )


def sign_out_everywhere(access_token: str, missing_ok: bool = False) -> None:
    """GlobalSignOut: every refresh token of the person, on every device, ends; their ID and
    access tokens keep working for API Gateway until they expire (15 minutes)."""
    ended = None if missing_ok else (lambda _: session_ended())
    cognito.call("global_sign_out",
                 {"NotAuthorizedException": ended, "UserNotFoundException": ended},
                 AccessToken=access_token)


def end_sessions_of(username: str) -> str:
    """AdminUserGlobalSignOut: after a password reset, every session the person had ends
    (there is no session of theirs to keep: they were not signed in). Returns their sub."""
    from chalicelib import ended_sessions

    if not settings().user_pool_id:
        raise ServiceUnavailable(cognito.NOT_CONFIGURED)
    cognito.call("admin_user_global_sign_out", {"UserNotFoundException": None},
                 UserPoolId=settings().user_pool_id, Username=username)
    sub = sub_of(username)
    if sub:
        ended_sessions.end_all(sub)  # their ID tokens reach no file or credential either
    return sub


def sub_of(username: str) -> str:
    """The sub of the account `username`, or ""."""
    return next((u["attributes"].get("sub", "") for u in _users("username", username, 1)), "")


def _users(attribute: str, value: str, limit: int) -> list[dict[str, Any]]:
    """The pool's users whose `attribute` is `value` (ListUsers), attributes by name; none
    for a value no filter can hold (a quote or a backslash)."""
    if '"' in value or "\\" in value:
        return []
    result = cognito.call("list_users", {"InvalidParameterException": cognito.invalid},
                          UserPoolId=settings().user_pool_id, Filter=f'{attribute} = "{value}"',
                          Limit=limit) or {}
    return [{**user, "attributes": {a["Name"]: a["Value"] for a in user.get("Attributes", [])}}
            for user in result.get("Users", [])]


def forgot_password(username: str) -> None:
    """Email a reset code. `username` is a username or a verified email address, as log-in
    takes it; an unknown one gets the same answer as a real one."""
    username = username_of(username)
    with limits().spending(EMAILS, username):
        cognito.call(
            "forgot_password",
            {
                "UserNotFoundException": None,
                # No verified email to send to: same answer, nothing to leak.
                "InvalidParameterException": None,
                "NotAuthorizedException": None,
            },
            ClientId=cognito.client_id(),
            Username=username,
        )


def reset_password(username: str, code: str, password: str) -> None:
    username = username_of(username)  # a verified email works as at log-in
    with limits().guessing(RESET_CODE, username):  # wrong codes count against the account
        cognito.call(
            "confirm_forgot_password",
            {
                "CodeMismatchException": cognito.code_mismatch,
                "UserNotFoundException": cognito.code_mismatch,
                "ExpiredCodeException": cognito.expired_code,
                "InvalidPasswordException": cognito.weak_password,
                "InvalidParameterException": cognito.invalid,
            },
            ClientId=cognito.client_id(),
            Username=username,
            ConfirmationCode=code,
            Password=password,
        )
    limits().clear(PASSWORD, username)  # the new password starts with a clean count
    # The old password's sessions end with it; the account's activity says so.
    my_security.record(end_sessions_of(username), my_security.PASSWORD_RESET)


def _tokens(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "idToken": result["IdToken"],
        "accessToken": result["AccessToken"],
        "refreshToken": result.get("RefreshToken", ""),
        "expiresIn": int(result.get("ExpiresIn", 3600)),
        "tokenType": result.get("TokenType", "Bearer"),
    }


def username_of(identifier: str) -> str:
    """What a person typed as who they are (log-in, forgot, reset): a verified email address,
    in any case, becomes the username of the one confirmed account that verified it; anything
    else goes to Cognito as typed, so an unknown address gets the answer of an unknown user."""
    if "@" not in identifier:
        return identifier
    return username_for_email(identifier.lower()) or identifier


def username_for_email(email: str) -> str | None:
    """The username of the confirmed account whose verified address is `email` (lower-case),
    or None. An unverified address belongs to no one: nobody can squat it by signing up."""
    if '"' in email or "\\" in email:
        return None  # cannot be put in a ListUsers filter; no account is reached by it
    cognito.client_id()  # 503 saying what to do when no user pool is configured
    if not settings().user_pool_id:
        raise ServiceUnavailable(cognito.NOT_CONFIGURED)
    owners = [u["Username"] for u in _users("email", email, 10) if u.get("UserStatus") ==
              "CONFIRMED" and u["attributes"].get("email_verified") == "true"
              and u["attributes"].get("email", "").lower() == email]
    if len(owners) > 1:
        log.error("%d confirmed accounts share one verified address", len(owners))
        return None
    return owners[0] if owners else None
