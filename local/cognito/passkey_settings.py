"""The pool's and the user's passkey settings, which moto 5.2.5 drops:

- SetUserPoolMfaConfig's WebAuthnConfiguration {RelyingPartyId, UserVerification}: the relying
  party of local/cognito/passkeys.py and whether it requires user verification.
- SetUserMFAPreference's WebAuthnMfaSettings {Enabled}: Cognito's passkey MFA. With it on, a
  passkey with user verification is both factors, so a person with MFA (two-step verification)
  on may sign in with a passkey (USER_AUTH, WEB_AUTHN); without it Cognito offers such a person
  no passwordless first factor (local/cognito/email_otp.py's `_available`).

Listed in local/moto_patches/; installed by local/cognito/__init__.py.
"""
from __future__ import annotations

from typing import Any

from local import moto_patches

_moto: dict[str, Any] = {}


def passkey_mfa(user: Any) -> bool:
    """The user's WebAuthnMfaSettings.Enabled."""
    return bool(getattr(user, "comm_it_webauthn_mfa", False))


def _set_pool_config(self: Any) -> Any:
    result = _moto["set_user_pool_mfa_config"](self)
    webauthn = self._get_param("WebAuthnConfiguration")
    if webauthn:
        pool = self.backend.describe_user_pool(self._get_param("UserPoolId"))
        pool.comm_it_webauthn = {"RelyingPartyId": webauthn.get("RelyingPartyId", ""),
                                 "UserVerification": webauthn.get("UserVerification",
                                                                  "preferred")}
    return result


def _set_user_preference(self: Any) -> Any:
    from moto.cognitoidp.responses import EmptyResult

    from local.cognito.passkeys import user_of_token

    settings = self._get_param("WebAuthnMfaSettings")
    if self._get_param("SoftwareTokenMfaSettings") or self._get_param("SMSMfaSettings") \
            or not settings:
        _moto["set_user_mfa_preference"](self)
    if settings:
        _, _, user = user_of_token(self)
        user.comm_it_webauthn_mfa = bool(settings.get("Enabled"))
    return EmptyResult()


def install() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse

    if moto_patches.is_applied(CognitoIdpResponse, "set_user_mfa_preference", by=__name__):
        return
    for name, patch in (("set_user_pool_mfa_config", _set_pool_config),
                        ("set_user_mfa_preference", _set_user_preference)):
        _moto[name] = moto_patches.replace(CognitoIdpResponse, name, patch, by=__name__)
