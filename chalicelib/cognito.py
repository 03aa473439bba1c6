"""The Cognito flows: user pool sign-up, verification, sessions, password reset,
and the identity pool's temporary AWS credentials.

Cognito's own error codes become ApiErrors with messages a person can act on.
Unknown users and wrong passwords share one answer, so the API does not reveal
who has an account.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from chalicelib.aws import client, error_code, unreachable
from chalicelib.config import settings
from chalicelib.errors import (ApiError, BadRequest, Conflict, Forbidden, ServiceUnavailable,
                               TooManyRequests, Unauthorized)

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "Incorrect username or password."
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
THROTTLED = {"TooManyRequestsException", "LimitExceededException",
             "TooManyFailedAttemptsException"}


def _call(operation: str, errors: Mapping[str, Callable[[str], ApiError] | None],
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


def _client_id() -> str:
    """The app client of the user pool; 503 saying what to do when there is none."""
    client_id = settings().user_pool_client_id
    if not client_id:
        raise ServiceUnavailable(NOT_CONFIGURED)
    return client_id


def _weak_password(detail: str) -> ApiError:
    # Cognito says e.g. "Password did not conform with policy: Password must have numeric characters".
    reason = detail.split("policy:", 1)[1].strip().rstrip(".") if "policy:" in detail else ""
    return BadRequest(
        "That password is too weak" + (f" ({reason})" if reason else "") + ". Use at least "
        "8 characters, with upper- and lower-case letters and a number.",
        code="InvalidPassword")


def _invalid(detail: str) -> ApiError:
    return BadRequest(detail or "One of the fields is not valid.", code="InvalidParameter")


def _unauthorized(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # "Password attempts exceeded": locked
        return TooManyRequests(ACCOUNT_LOCKED, code="AccountLocked")
    return Unauthorized(BAD_CREDENTIALS, code="NotAuthorized")


def _code_mismatch(_: str) -> ApiError:
    return BadRequest(CODE_MISMATCH, code="CodeMismatch")


def _expired_code(_: str) -> ApiError:
    return BadRequest("That code has expired. Ask for a new one.", code="ExpiredCode")


def _already_confirmed(_: str) -> ApiError:
    return Conflict("This account is already verified. You can log in.", code="AlreadyConfirmed")


def sign_up(name: str, email: str, username: str, password: str) -> dict[str, Any]:
    """Register a person. One address, one account: an address already verified by a
    confirmed account is refused (EmailExists), as Cognito refuses a taken username."""
    email = email.lower()  # log-in by email ignores case: store one spelling
    if "@" in username:
        raise BadRequest("Choose a username without @: you can log in with your email "
                         "address as well as your username.", code="InvalidParameter")
    if username_for_email(email) is not None:
        raise Conflict(EMAIL_TAKEN, code="EmailExists")
    result = _call(
        "sign_up",
        {
            "UsernameExistsException": lambda _: Conflict(
                "That username is taken. Choose another one.", code="UsernameExists"),
            "InvalidPasswordException": _weak_password,
            "InvalidParameterException": _invalid,
        },
        ClientId=_client_id(),
        Username=username,
        Password=password,
        UserAttributes=[{"Name": "name", "Value": name}, {"Name": "email", "Value": email}],
    )
    delivery = result.get("CodeDeliveryDetails") or {}
    return {"username": username, "confirmed": bool(result.get("UserConfirmed")),
            "codeSentTo": delivery.get("Destination", "")}


def confirm(username: str, code: str) -> None:
    _call(
        "confirm_sign_up",
        {
            "CodeMismatchException": _code_mismatch,
            # With PreventUserExistenceErrors AWS answers CodeMismatch for unknown users.
            "UserNotFoundException": _code_mismatch,
            "ExpiredCodeException": _expired_code,
            "NotAuthorizedException": _already_confirmed,
        },
        ClientId=_client_id(),
        Username=username,
        ConfirmationCode=code,
    )


def resend(username: str) -> None:
    _call(
        "resend_confirmation_code",
        {
            "InvalidParameterException": _already_confirmed,
            "UserNotFoundException": None,  # same answer as for a real user
        },
        ClientId=_client_id(),
        Username=username,
    )


def log_in(username: str, password: str) -> dict[str, Any]:
    result = _call(
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
        ClientId=_client_id(),
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    if "AuthenticationResult" not in result:
        # Self-service accounts never get a challenge (no MFA, no admin-created users).
        log.warning("unexpected challenge %s for a self-service user", result.get("ChallengeName"))
        raise Forbidden("This account needs a step the app does not support yet.",
                        code="ChallengeRequired")
    return _tokens(result["AuthenticationResult"])


def refresh(refresh_token: str) -> dict[str, Any]:
    result = _call(
        "initiate_auth",
        {"NotAuthorizedException": lambda _: Unauthorized(
            "Your session has ended. Please log in again.", code="SessionExpired")},
        ClientId=_client_id(),
        AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token},
    )
    tokens = _tokens(result["AuthenticationResult"])
    tokens["refreshToken"] = tokens["refreshToken"] or refresh_token
    return tokens


def log_out(access_token: str) -> None:
    """Revoke every refresh token of the user (GlobalSignOut). Logging out twice is fine."""
    _call("global_sign_out",
          {"NotAuthorizedException": None, "UserNotFoundException": None},
          AccessToken=access_token)


def forgot_password(username: str) -> None:
    _call(
        "forgot_password",
        {
            "UserNotFoundException": None,
            # No verified email to send to: same answer, nothing to leak.
            "InvalidParameterException": None,
            "NotAuthorizedException": None,
        },
        ClientId=_client_id(),
        Username=username,
    )


def reset_password(username: str, code: str, password: str) -> None:
    _call(
        "confirm_forgot_password",
        {
            "CodeMismatchException": _code_mismatch,
            "UserNotFoundException": _code_mismatch,
            "ExpiredCodeException": _expired_code,
            "InvalidPasswordException": _weak_password,
            "InvalidParameterException": _invalid,
        },
        ClientId=_client_id(),
        Username=username,
        ConfirmationCode=code,
        Password=password,
    )


def aws_credentials(id_token: str) -> dict[str, Any]:
    """Exchange a verified ID token at the identity pool for temporary AWS credentials."""
    cfg = settings()
    logins = {cfg.issuer.removeprefix("https://"): id_token}
    not_authorized = {"NotAuthorizedException": lambda _: Unauthorized(
        "Your session is not valid. Please log in again.")}
    identity = _call("get_id", not_authorized, service="cognito-identity",
                     IdentityPoolId=cfg.identity_pool_id, Logins=logins)
    result = _call("get_credentials_for_identity", not_authorized, service="cognito-identity",
                   IdentityId=identity["IdentityId"], Logins=logins)
    creds = result["Credentials"]
    return {
        "identityId": result["IdentityId"],
        "accessKeyId": creds["AccessKeyId"],
        "secretKey": creds["SecretKey"],
        "sessionToken": creds["SessionToken"],
        "expiration": _iso(creds["Expiration"]),
    }


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _tokens(result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "idToken": result["IdToken"],
        "accessToken": result["AccessToken"],
        "refreshToken": result.get("RefreshToken", ""),
        "expiresIn": int(result.get("ExpiresIn", 3600)),
        "tokenType": result.get("TokenType", "Bearer"),
    }


# --- Your account: the flows that act with the person's own access token ----------------

SESSION_ENDED = "Your session has ended. Please log in again."
EMAIL_TAKEN = ("That email address already belongs to an account. Log in with it, or reset "
               "that account's password if you forgot it.")


def _session_ended(_: str) -> ApiError:
    return Unauthorized(SESSION_ENDED, code="SessionEnded")


def _wrong_password(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # locked, even for the right password
        return TooManyRequests(ACCOUNT_LOCKED, code="AccountLocked")
    # 403, not 401: the session is fine (a 401 would make the page refresh its tokens).
    return Forbidden("That password is not right. Type your current password.",
                     code="WrongPassword")


def _email_taken(_: str) -> ApiError:
    return Conflict(EMAIL_TAKEN, code="EmailExists")


def current_user(access_token: str) -> dict[str, str]:
    """Who the access token belongs to, as the user pool knows them now (GetUser)."""
    result = _call("get_user", {"NotAuthorizedException": _session_ended,
                                "UserNotFoundException": _session_ended},
                   AccessToken=access_token)
    attributes = {a["Name"]: a["Value"] for a in result.get("UserAttributes", [])}
    return {"username": result["Username"], "sub": attributes.get("sub", ""),
            "name": attributes.get("name", ""), "email": attributes.get("email", ""),
            "email_verified": attributes.get("email_verified", "false")}


def update_name(access_token: str, name: str) -> None:
    _call("update_user_attributes",
          {"NotAuthorizedException": _session_ended, "UserNotFoundException": _session_ended,
           "InvalidParameterException": _invalid},
          AccessToken=access_token, UserAttributes=[{"Name": "name", "Value": name}])


def request_email_change(access_token: str, email: str) -> str:
    """Ask for `email`; Cognito sends a code there and keeps the old address until it is
    verified (AttributesRequireVerificationBeforeUpdate). Returns where the code went."""
    result = _call("update_user_attributes",
                   {"NotAuthorizedException": _session_ended,
                    "UserNotFoundException": _session_ended,
                    "AliasExistsException": _email_taken,
                    "InvalidParameterException": _invalid,
                    "CodeDeliveryFailureException": lambda _: ServiceUnavailable(
                        "We could not send a code to that address. Check it and try again.")},
                   AccessToken=access_token, UserAttributes=[{"Name": "email", "Value": email}])
    details = (result or {}).get("CodeDeliveryDetailsList") or [{}]
    return details[0].get("Destination", "")


def verify_email(access_token: str, code: str) -> None:
    _call("verify_user_attribute",
          {"NotAuthorizedException": _session_ended, "UserNotFoundException": _session_ended,
           "CodeMismatchException": _code_mismatch, "ExpiredCodeException": _expired_code,
           "AliasExistsException": _email_taken,
           "InvalidParameterException": lambda _: BadRequest(
               "There is no new email address waiting for a code. Save the new address first.",
               code="NothingToVerify")},
          AccessToken=access_token, AttributeName="email", Code=code)


def change_password(access_token: str, current: str, new: str) -> None:
    # The access token was just checked (current_user), so NotAuthorized here is the password.
    _call("change_password",
          {"NotAuthorizedException": _wrong_password,
           "InvalidPasswordException": _weak_password,
           "InvalidParameterException": _invalid,
           "UserNotFoundException": _session_ended},
          AccessToken=access_token, PreviousPassword=current, ProposedPassword=new)


def check_password(username: str, password: str) -> None:
    """The person's password is right, or WrongPassword (a confirmation before deleting)."""
    _call("initiate_auth",
          {"NotAuthorizedException": _wrong_password, "UserNotFoundException": _session_ended},
          ClientId=_client_id(), AuthFlow="USER_PASSWORD_AUTH",
          AuthParameters={"USERNAME": username, "PASSWORD": password})


def delete_user(access_token: str) -> None:
    """DeleteUser: the person, their attributes and every token of theirs."""
    _call("delete_user", {"NotAuthorizedException": _session_ended,
                          "UserNotFoundException": _session_ended},
          AccessToken=access_token)


def username_for_email(email: str) -> str | None:
    """The username of the confirmed account whose verified address is `email` (lower-case),
    or None. An unverified address belongs to no one: nobody can squat it by signing up."""
    if '"' in email or "\\" in email:
        return None  # cannot be put in a ListUsers filter; no account is reached by it
    _client_id()  # 503 saying what to do when no user pool is configured
    if not settings().user_pool_id:
        raise ServiceUnavailable(NOT_CONFIGURED)
    result = _call("list_users", {"InvalidParameterException": _invalid},
                   UserPoolId=settings().user_pool_id,
                   Filter=f'email = "{email}"', Limit=10)
    owners = []
    for user in (result or {}).get("Users", []):
        attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
        if user.get("UserStatus") == "CONFIRMED" and attributes.get("email_verified") == "true" \
                and attributes.get("email", "").lower() == email:
            owners.append(user["Username"])
    if len(owners) > 1:
        log.error("%d confirmed accounts share one verified address", len(owners))
        return None
    return owners[0] if owners else None
