"""Close moto's Cognito gaps so the local AWS behaves like Cognito does.

moto confirms a sign-up whatever code it is given, generates no code, has no
ResendConfirmationCode, and accepts any forgot-password code. Here sign-up,
resend and forgot-password generate a 6-digit code and "email" it to the
console outbox; confirm and reset check it (wrong code -> CodeMismatch). Like
Cognito, no reset code goes to an address that was never verified, a reset for
an unknown user is UserNotFound, and usernames ignore case when the pool says so.
These patches apply to the moto server running in this process only.

`install(outbox)` swaps the functions below into moto's classes, once per process:
the `_backend_*` ones replace methods of CognitoIdpBackend (self is the backend), the
`_response_*` ones handlers of CognitoIdpResponse (self is the request being answered),
and `_pool_get_user` CognitoIdpUserPool._get_user.
"""
from __future__ import annotations

from typing import Any, Callable

from local import moto_patches
from local.server import clock
from local.cognito import mail  # mail.new_code: tests replace the generator there
from local.cognito.mail import RESET_SUBJECT, VERIFY_SUBJECT, WRONG_CODE, codes_match, delivery
from local.run.outbox import Outbox

__all__ = ["RESET_SUBJECT", "VERIFY_SUBJECT", "install"]
_NO_SUCH_USER = "Username/client id combination not found."
# How long Cognito's emailed codes work (its developer guide): a sign-up code 24 hours, a
# password-reset code 1 hour; after that ExpiredCodeException, whatever the code.
SIGN_UP_CODE_SECONDS = 24 * 3600
RESET_CODE_SECONDS = 3600
_EXPIRED = "Invalid code provided, please request a code again."


def _expired(user: Any, kind: str, seconds: int) -> bool:
    # Codes saved before their time was kept have none: they count as issued now.
    return clock.now() - getattr(user, f"comm_it_{kind}_code_at", clock.now()) > seconds

# Set once by install(): where the codes go, and moto's own methods that the patches wrap.
_outbox: Outbox | None = None
_moto: dict[str, Callable[..., Any]] = {}


def _email(user: Any) -> str:
    return user.attribute_lookup.get("email", "")


def _case_sensitive(pool: Any) -> bool:
    # Cognito's API default (no UsernameConfiguration) is case-sensitive.
    return bool(pool.extended_config.get("UsernameConfiguration", {}).get("CaseSensitive", True))


def _send(user: Any, subject: str, code: str) -> None:
    if _outbox is None:
        raise RuntimeError("install() first")
    _outbox.send(_email(user), subject, code)


def _pool_and_user(backend: Any, client_id: str, username: str) -> tuple[Any, Any]:
    """The pool that has the app client `client_id` and its user `username` (None when the
    pool has no such user); (None, None) when no pool has the client."""
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool, pool._get_user(username)
    return None, None


def _send_verification(user: Any) -> None:
    user.comm_it_signup_code = mail.new_code()
    user.comm_it_signup_code_at = clock.now()
    _send(user, VERIFY_SUBJECT, user.comm_it_signup_code)


# --- CognitoIdpResponse handlers (moto has no resend, and its confirm ignores the code) -------

def _requested_user(response: Any) -> Any:
    """The user named by the request's ClientId and Username, like Cognito looks it up."""
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import RegionAgnosticBackend

    client_id = response._get_param("ClientId")
    backend = RegionAgnosticBackend(response.current_account, response.region) \
        ._find_backend_for_clientid(client_id)
    pool, user = _pool_and_user(backend, client_id, response._get_param("Username"))
    if pool is None:
        raise errors.ResourceNotFoundError(client_id)
    if user is None:
        raise errors.UserNotFoundError(_NO_SUCH_USER)
    return user


def _response_confirm_sign_up(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import UserStatus
    from moto.cognitoidp.responses import EmptyResult

    user = _requested_user(self)
    if user.status == UserStatus.CONFIRMED:
        raise errors.NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
    if not codes_match(getattr(user, "comm_it_signup_code", None),
                        self._get_param("ConfirmationCode", "")):
        raise errors.CodeMismatchException(WRONG_CODE)
    if _expired(user, "signup", SIGN_UP_CODE_SECONDS):
        raise errors.ExpiredCodeException(_EXPIRED)
    user.status = UserStatus.CONFIRMED
    user.comm_it_signup_code = None
    user.attributes = [a for a in user.attributes if a["Name"] != "email_verified"] + \
        [{"Name": "email_verified", "Value": "true"}]
    user.attribute_lookup["email_verified"] = "true"
    return EmptyResult()


def _response_resend_confirmation_code(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import UserStatus
    from moto.cognitoidp.responses import ActionResult

    user = _requested_user(self)
    if user.status == UserStatus.CONFIRMED:
        raise errors.InvalidParameterException("User is already confirmed.")
    _send_verification(user)
    return ActionResult({"CodeDeliveryDetails": delivery(_email(user))})


# --- CognitoIdpBackend methods: wrap moto's own ------------------------------------------------

def _backend_sign_up(self: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    from moto.cognitoidp.models import UserStatus

    user, details = _moto["sign_up"](self, *args, **kwargs)
    if user.status != UserStatus.CONFIRMED:
        _send_verification(user)
        details = delivery(_email(user))
    return user, details


def _backend_forgot_password(self: Any, client_id: str, username: str) -> tuple[str, Any]:
    from moto.cognitoidp import exceptions as errors

    _, user = _pool_and_user(self, client_id, username)
    if user is not None and user.attribute_lookup.get("email_verified") != "true":
        # Like Cognito: no code for an address that was never verified.
        raise errors.InvalidParameterException(
            "Cannot reset password for the user as there is no registered/verified "
            "email or phone_number")
    _, response = _moto["forgot_password"](self, client_id, username)
    if user is not None:
        user.comm_it_reset_code = mail.new_code()
        user.comm_it_reset_code_at = clock.now()
        _send(user, RESET_SUBJECT, user.comm_it_reset_code)
    # moto would also return its own code in a response header: the outbox is the only way.
    return "", response


def _backend_confirm_forgot_password(self: Any, client_id: str, username: str, password: str,
                                     code: str) -> Any:
    from moto.cognitoidp import exceptions as errors

    pool, user = _pool_and_user(self, client_id, username)
    if user is None:
        # moto would answer ResourceNotFound (the app's "service unavailable"); Cognito
        # answers UserNotFound (CodeMismatch with PreventUserExistenceErrors).
        raise errors.UserNotFoundError(_NO_SUCH_USER)
    if not codes_match(getattr(user, "comm_it_reset_code", None), code):
        raise errors.CodeMismatchException(WRONG_CODE)
    if _expired(user, "reset", RESET_CODE_SECONDS):
        raise errors.ExpiredCodeException(_EXPIRED)
    self._validate_password(pool.id, password)
    result = _moto["confirm_forgot_password"](self, client_id, username, password, code)
    user.comm_it_reset_code = None  # one use only
    return result


def _backend_initiate_auth(self: Any, client_id: str, auth_flow: str,
                           auth_parameters: dict[str, str]) -> Any:
    # Sessions are kept under the username as typed; use the stored one, as Cognito does,
    # so tokens name the user the same way and GlobalSignOut ends every session.
    typed = (auth_parameters or {}).get("USERNAME")
    if typed:
        pool, user = _pool_and_user(self, client_id, typed)
        if user is not None and not _case_sensitive(pool):
            auth_parameters = {**auth_parameters, "USERNAME": user.username}
    return _moto["initiate_auth"](self, client_id, auth_flow, auth_parameters)


# --- CognitoIdpUserPool ---------------------------------------------------------------------

def _pool_get_user(self: Any, username: str) -> Any:
    # UsernameConfiguration.CaseSensitive=false: "Ada" and "ada" are one user in Cognito;
    # moto ignores the setting (a second sign-up as "ada" succeeds, log-in as "ada" fails).
    user = _moto["_get_user"](self, username)
    if user is None and isinstance(username, str) and not _case_sensitive(self):
        folded = username.casefold()
        user = next((u for name, u in self.users.items() if name.casefold() == folded), None)
    return user


def install(outbox: Outbox) -> None:
    """Patch moto's Cognito in this process; codes go to `outbox`. A second call changes
    nothing (the first outbox stays)."""
    global _outbox
    from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
    from moto.cognitoidp.responses import CognitoIdpResponse

    if moto_patches.is_applied(CognitoIdpBackend, "sign_up", by=__name__):
        return
    _outbox = outbox
    wrapped = [(CognitoIdpBackend, "sign_up", _backend_sign_up),
               (CognitoIdpBackend, "forgot_password", _backend_forgot_password),
               (CognitoIdpBackend, "confirm_forgot_password", _backend_confirm_forgot_password),
               (CognitoIdpBackend, "initiate_auth", _backend_initiate_auth),
               (CognitoIdpUserPool, "_get_user", _pool_get_user)]
    for cls, name, patch in wrapped:
        _moto[name] = moto_patches.replace(cls, name, patch, by=__name__)
    moto_patches.replace(CognitoIdpResponse, "confirm_sign_up", _response_confirm_sign_up,
                         by=__name__)
    moto_patches.replace(CognitoIdpResponse, "resend_confirmation_code",
                         _response_resend_confirmation_code, by=__name__)
