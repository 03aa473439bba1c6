"""Close moto's gaps in the user's own attribute operations, as Cognito behaves.

- UpdateUserAttributes: with the pool's UserAttributeUpdateSettings
  AttributesRequireVerificationBeforeUpdate listing `email` (infra/template.yaml
  sets it), a new address is NOT applied: a 6-digit code goes to the NEW address
  (the console outbox) and the account keeps the old, verified one until the code
  is entered. moto would overwrite the address at once and send nothing.
- VerifyUserAttribute (moto has none): checks that code and only then switches the
  address (email_verified stays "true"); a wrong code is CodeMismatch.
- GetUserAttributeVerificationCode (moto has none): sends the pending address a new code.
- DeleteUser (moto has none): removes the user and ends every session (refresh and
  access tokens), like Cognito.

Each handler finds the user by the access token, as Cognito does; an unknown or
revoked token is NotAuthorized. These patches apply to the moto server running in
this process only; local/cognito/codes.py closes the sign-up and reset gaps.
"""
from __future__ import annotations

from typing import Any

from local import moto_patches
from local.cognito import mail
from local.cognito.mail import VERIFY_SUBJECT, WRONG_CODE, codes_match, delivery
from local.run.outbox import Outbox

_outbox: Outbox | None = None


def requires_verification(pool: Any) -> set[str]:
    """The attributes the pool keeps unchanged until their new value is verified."""
    settings = pool.extended_config.get("UserAttributeUpdateSettings") or {}
    return set(settings.get("AttributesRequireVerificationBeforeUpdate") or [])


def _by_access_token(response: Any) -> tuple[Any, Any, Any]:
    """(backend, pool, user) of the request's AccessToken; NotAuthorized when none."""
    from moto.cognitoidp import exceptions as errors

    token = response._get_param("AccessToken")
    backend = response._get_region_agnostic_backend()._find_backend_by_access_token(token)
    for pool in backend.user_pools.values():
        if token in pool.access_tokens:
            _, username = pool.access_tokens[token]
            user = pool._get_user(username)
            if user is None:
                break
            return backend, pool, user
    raise errors.NotAuthorizedError("Invalid Access Token")


def _send_email_code(user: Any) -> dict[str, str]:
    if _outbox is None:
        raise RuntimeError("install() first")
    user.comm_it_email_code = mail.new_code()
    _outbox.send(user.comm_it_pending_email, VERIFY_SUBJECT, user.comm_it_email_code)
    return delivery(user.comm_it_pending_email)


def _set(user: Any, name: str, value: str) -> None:
    user.update_attributes([{"Name": name, "Value": value}])


# --- CognitoIdpResponse handlers ------------------------------------------------------------

def _response_update_user_attributes(self: Any) -> Any:
    from moto.cognitoidp.responses import ActionResult

    backend, pool, user = _by_access_token(self)
    attributes = self._get_param("UserAttributes") or []
    delayed = [a for a in attributes
               if a.get("Name") == "email" and "email" in requires_verification(pool)]
    now = [a for a in attributes if a not in delayed]
    if now:
        backend.update_user_attributes(self._get_param("AccessToken"), now)
    deliveries = []
    for attribute in delayed:
        if attribute["Value"] == user.attribute_lookup.get("email"):
            # Asking for the current address cancels a pending change and its code.
            user.comm_it_pending_email = user.comm_it_email_code = None
            continue
        user.comm_it_pending_email = attribute["Value"]
        deliveries.append(_send_email_code(user))
    return ActionResult({"CodeDeliveryDetailsList": deliveries} if deliveries else {})


def _response_verify_user_attribute(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.responses import EmptyResult

    _, _, user = _by_access_token(self)
    if self._get_param("AttributeName") != "email":
        raise errors.InvalidParameterException("Only email is verified in Comm-IT's pool.")
    expected = getattr(user, "comm_it_email_code", None)
    pending = getattr(user, "comm_it_pending_email", None)
    given = self._get_param("Code") or ""
    if not expected or not pending or not codes_match(expected, given):
        raise errors.CodeMismatchException(WRONG_CODE)
    _set(user, "email", pending)
    _set(user, "email_verified", "true")
    user.comm_it_pending_email = user.comm_it_email_code = None  # one use only
    return EmptyResult()


def _response_get_user_attribute_verification_code(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.responses import ActionResult

    _, _, user = _by_access_token(self)
    if self._get_param("AttributeName") != "email" or \
            not getattr(user, "comm_it_pending_email", None):
        raise errors.InvalidParameterException("There is no email address to verify.")
    return ActionResult({"CodeDeliveryDetails": _send_email_code(user)})


def _response_delete_user(self: Any) -> Any:
    from moto.cognitoidp.responses import EmptyResult

    _, pool, user = _by_access_token(self)
    pool.sign_out(user.username)  # every refresh and access token of the user
    for group in list(user.groups):
        group.users.remove(user)
    del pool.users[user.username]
    return EmptyResult()


def install(outbox: Outbox) -> None:
    """Patch moto's Cognito in this process; codes go to `outbox`. Once per process."""
    global _outbox
    from moto.cognitoidp.responses import CognitoIdpResponse

    if moto_patches.is_applied(CognitoIdpResponse, "delete_user", by=__name__):
        return
    _outbox = outbox
    for name, patch in [("update_user_attributes", _response_update_user_attributes),
                        ("verify_user_attribute", _response_verify_user_attribute),
                        ("get_user_attribute_verification_code",
                         _response_get_user_attribute_verification_code),
                        ("delete_user", _response_delete_user)]:
        moto_patches.replace(CognitoIdpResponse, name, patch, by=__name__)
