"""Close moto's Cognito gaps so the local AWS behaves like Cognito does.

moto confirms a sign-up whatever code it is given, generates no code, has no
ResendConfirmationCode, and accepts any forgot-password code. Here sign-up,
resend and forgot-password generate a 6-digit code and "email" it to the
console outbox; confirm and reset check it (wrong code -> CodeMismatch). Like
Cognito, no reset code goes to an address that was never verified, a reset for
an unknown user is UserNotFound, and usernames ignore case when the pool says so.
These patches apply to the moto server running in this process only.
"""
from __future__ import annotations

import secrets
from typing import Any

from local.outbox import Outbox

VERIFY_SUBJECT = "Your Comm-IT verification code"
RESET_SUBJECT = "Your Comm-IT password reset code"


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def _email(user: Any) -> str:
    return user.attribute_lookup.get("email", "")


def _delivery(user: Any) -> dict[str, str]:
    email = _email(user)
    masked = f"{email[:1]}***@{email.split('@')[-1]}" if "@" in email else "***"
    return {"Destination": masked, "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def _case_sensitive(pool: Any) -> bool:
    # Cognito's API default (no UsernameConfiguration) is case-sensitive.
    return bool(pool.extended_config.get("UsernameConfiguration", {}).get("CaseSensitive", True))


def install(outbox: Outbox) -> None:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import (CognitoIdpBackend, CognitoIdpUserPool,
                                        RegionAgnosticBackend, UserStatus)
    from moto.cognitoidp.responses import ActionResult, CognitoIdpResponse, EmptyResult

    if getattr(CognitoIdpBackend, "_comm_it_codes", False):
        return
    CognitoIdpBackend._comm_it_codes = True

    def find_user(response: CognitoIdpResponse) -> Any:
        client_id = response._get_param("ClientId")
        backend = RegionAgnosticBackend(response.current_account, response.region) \
            ._find_backend_for_clientid(client_id)
        for pool in backend.user_pools.values():
            if client_id in pool.clients:
                user = pool._get_user(response._get_param("Username"))
                if user is None:
                    raise errors.UserNotFoundError("Username/client id combination not found.")
                return user
        raise errors.ResourceNotFoundError(client_id)

    def send_verification(user: Any) -> None:
        user.comm_it_signup_code = _new_code()
        outbox.send(_email(user), VERIFY_SUBJECT, user.comm_it_signup_code)

    original_sign_up = CognitoIdpBackend.sign_up

    def sign_up(self, *args: Any, **kwargs: Any):
        user, details = original_sign_up(self, *args, **kwargs)
        if user.status != UserStatus.CONFIRMED:
            send_verification(user)
            details = _delivery(user)
        return user, details

    def confirm_sign_up(self: CognitoIdpResponse) -> Any:
        user = find_user(self)
        if user.status == UserStatus.CONFIRMED:
            raise errors.NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
        expected = getattr(user, "comm_it_signup_code", None)
        if not expected or not secrets.compare_digest(expected, self._get_param("ConfirmationCode", "")):
            raise errors.CodeMismatchException("Invalid verification code provided, please try again.")
        user.status = UserStatus.CONFIRMED
        user.comm_it_signup_code = None
        user.attributes = [a for a in user.attributes if a["Name"] != "email_verified"] + \
            [{"Name": "email_verified", "Value": "true"}]
        user.attribute_lookup["email_verified"] = "true"
        return EmptyResult()

    def resend_confirmation_code(self: CognitoIdpResponse) -> Any:
        user = find_user(self)
        if user.status == UserStatus.CONFIRMED:
            raise errors.InvalidParameterException("User is already confirmed.")
        send_verification(user)
        return ActionResult({"CodeDeliveryDetails": _delivery(user)})

    original_forgot = CognitoIdpBackend.forgot_password

    def forgot_password(self, client_id: str, username: str):
        for pool in self.user_pools.values():
            user = pool._get_user(username) if client_id in pool.clients else None
            if user is not None and user.attribute_lookup.get("email_verified") != "true":
                # Like Cognito: no code for an address that was never verified.
                raise errors.InvalidParameterException(
                    "Cannot reset password for the user as there is no registered/verified "
                    "email or phone_number")
        _, response = original_forgot(self, client_id, username)
        for pool in self.user_pools.values():
            user = pool._get_user(username) if client_id in pool.clients else None
            if user is not None:
                user.comm_it_reset_code = _new_code()
                outbox.send(_email(user), RESET_SUBJECT, user.comm_it_reset_code)
        # moto would also return its own code in a response header: the outbox is the only way.
        return "", response

    original_confirm_forgot = CognitoIdpBackend.confirm_forgot_password

    def confirm_forgot_password(self, client_id: str, username: str, password: str, code: str):
        for pool in self.user_pools.values():
            user = pool._get_user(username) if client_id in pool.clients else None
            if user is not None:
                break
        else:
            # moto would answer ResourceNotFound (the app's "service unavailable"); Cognito
            # answers UserNotFound (CodeMismatch with PreventUserExistenceErrors).
            raise errors.UserNotFoundError("Username/client id combination not found.")
        expected = getattr(user, "comm_it_reset_code", None)
        if not expected or not secrets.compare_digest(expected, code or ""):
            raise errors.CodeMismatchException("Invalid verification code provided, please try again.")
        self._validate_password(pool.id, password)
        result = original_confirm_forgot(self, client_id, username, password, code)
        user.comm_it_reset_code = None  # one use only
        return result

    # UsernameConfiguration.CaseSensitive=false: "Ada" and "ada" are one user in Cognito;
    # moto ignores the setting (a second sign-up as "ada" succeeds, log-in as "ada" fails).
    original_get_user = CognitoIdpUserPool._get_user

    def get_user(self, username: str) -> Any:
        user = original_get_user(self, username)
        if user is None and isinstance(username, str) and not _case_sensitive(self):
            folded = username.casefold()
            user = next((u for name, u in self.users.items() if name.casefold() == folded), None)
        return user

    original_initiate_auth = CognitoIdpBackend.initiate_auth

    def initiate_auth(self, client_id: str, auth_flow: str, auth_parameters: dict[str, str]):
        # Sessions are kept under the username as typed; use the stored one, as Cognito does,
        # so tokens name the user the same way and GlobalSignOut ends every session.
        typed = (auth_parameters or {}).get("USERNAME")
        for pool in self.user_pools.values():
            if typed and client_id in pool.clients and not _case_sensitive(pool):
                user = pool._get_user(typed)
                if user is not None:
                    auth_parameters = {**auth_parameters, "USERNAME": user.username}
        return original_initiate_auth(self, client_id, auth_flow, auth_parameters)

    CognitoIdpUserPool._get_user = get_user
    CognitoIdpBackend.initiate_auth = initiate_auth
    CognitoIdpBackend.sign_up = sign_up
    CognitoIdpBackend.forgot_password = forgot_password
    CognitoIdpBackend.confirm_forgot_password = confirm_forgot_password
    CognitoIdpResponse.confirm_sign_up = confirm_sign_up
    CognitoIdpResponse.resend_confirmation_code = resend_confirmation_code
