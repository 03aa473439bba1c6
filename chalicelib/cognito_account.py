"""The signed-in person's own calls to the user pool, made with their access token:
who they are, name and email changes, password change and check, deletion.
"""
from __future__ import annotations

import logging

from chalicelib import cognito
from chalicelib.errors import (ApiError, BadRequest, Conflict, Forbidden, ServiceUnavailable,
                               TooManyRequests, session_ended)

log = logging.getLogger(__name__)


def _session_ended(_: str) -> ApiError:
    return session_ended()


def _wrong_password(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():  # locked, even for the right password
        return TooManyRequests(cognito.ACCOUNT_LOCKED, code="AccountLocked")
    # 403, not 401: the session is fine (a 401 would make the page refresh its tokens).
    return Forbidden("That password is not right. Type your current password.",
                     code="WrongPassword")


def _email_taken(_: str) -> ApiError:
    return Conflict(cognito.EMAIL_TAKEN, code="EmailExists")


def current_user(access_token: str) -> dict[str, str]:
    """Who the access token belongs to, as the user pool knows them now (GetUser)."""
    result = cognito.call("get_user", {"NotAuthorizedException": _session_ended,
                                       "UserNotFoundException": _session_ended},
                          AccessToken=access_token)
    attributes = {a["Name"]: a["Value"] for a in result.get("UserAttributes", [])}
    return {"username": result["Username"], "sub": attributes.get("sub", ""),
            "name": attributes.get("name", ""), "email": attributes.get("email", ""),
            "email_verified": attributes.get("email_verified", "false"),
            "mfa": " ".join(result.get("UserMFASettingList") or [])}  # e.g. SOFTWARE_TOKEN_MFA


def update_name(access_token: str, name: str) -> None:
    cognito.call("update_user_attributes",
                 {"NotAuthorizedException": _session_ended,
                  "UserNotFoundException": _session_ended,
                  "InvalidParameterException": cognito.invalid},
                 AccessToken=access_token, UserAttributes=[{"Name": "name", "Value": name}])


def request_email_change(access_token: str, email: str) -> str:
    """Ask for `email`; Cognito sends a code there and keeps the old address until it is
    verified (AttributesRequireVerificationBeforeUpdate). Returns where the code went."""
    result = cognito.call("update_user_attributes",
                          {"NotAuthorizedException": _session_ended,
                           "UserNotFoundException": _session_ended,
                           "AliasExistsException": _email_taken,
                           "InvalidParameterException": cognito.invalid,
                           "CodeDeliveryFailureException": lambda _: ServiceUnavailable(
                               "We could not send a code to that address. Check it and try "
                               "again.")},
                          AccessToken=access_token,
                          UserAttributes=[{"Name": "email", "Value": email}])
    details = (result or {}).get("CodeDeliveryDetailsList") or [{}]
    return details[0].get("Destination", "")


def verify_email(access_token: str, code: str) -> None:
    cognito.call("verify_user_attribute",
                 {"NotAuthorizedException": _session_ended,
                  "UserNotFoundException": _session_ended,
                  "CodeMismatchException": cognito.code_mismatch,
                  "ExpiredCodeException": cognito.expired_code,
                  "AliasExistsException": _email_taken,
                  "InvalidParameterException": lambda _: BadRequest(
                      "There is no new email address waiting for a code. Save the new address "
                      "first.", code="NothingToVerify")},
                 AccessToken=access_token, AttributeName="email", Code=code)


def change_password(access_token: str, current_password: str, new_password: str) -> None:
    # The access token was just checked (current_user), so NotAuthorized here is the password.
    cognito.call("change_password",
                 {"NotAuthorizedException": _wrong_password,
                  "InvalidPasswordException": cognito.weak_password,
                  "InvalidParameterException": cognito.invalid,
                  "UserNotFoundException": _session_ended},
                 AccessToken=access_token, PreviousPassword=current_password,
                 ProposedPassword=new_password)


def check_password(username: str, password: str) -> None:
    """The person's password is right, or WrongPassword (a confirmation before deleting or
    moving the second factor). The session a right password opens is ended at once: a check
    leaves no session behind (with two-step verification on, none was opened)."""
    result = cognito.call("initiate_auth",
                          {"NotAuthorizedException": _wrong_password,
                           "UserNotFoundException": _session_ended},
                          ClientId=cognito.client_id(), AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": username, "PASSWORD": password})
    refresh_token = ((result or {}).get("AuthenticationResult") or {}).get("RefreshToken")
    if refresh_token:
        try:
            cognito.call("revoke_token", {"UnauthorizedException": None},
                         ClientId=cognito.client_id(), Token=refresh_token)
        except ServiceUnavailable:  # the check itself succeeded; the token expires anyway
            log.warning("could not revoke the session a password check opened")


def delete_user(access_token: str) -> None:
    """DeleteUser: the person, their attributes and every token of theirs."""
    cognito.call("delete_user", {"NotAuthorizedException": _session_ended,
                                 "UserNotFoundException": _session_ended},
                 AccessToken=access_token)
