"""Cognito's passkeys (WebAuthn), which moto 5.2.5 lacks entirely, checked with the `webauthn`
library (signatures, CBOR and COSE are its work), as Cognito's API reference has it:

- The pool's WebAuthnConfiguration (relying party, user verification): passkey_settings.py.
- StartWebAuthnRegistration (access token): CredentialCreationOptions, the JSON that
  PublicKeyCredential.parseCreationOptionsFromJSON takes; a new challenge (REGISTRATION_SECONDS),
  the user's passkeys excluded, resident key, user verification as the pool says.
- CompleteWebAuthnRegistration (Credential: RegistrationResponseJSON): the user's latest live
  challenge (else WebAuthnChallengeNotFoundException), an origin whose host is the relying party
  or under it, https or http://localhost (else WebAuthnOriginNotAllowedException), the pool's
  RP ID hash (else WebAuthnRelyingPartyMismatchException), user verification when required.
- ListWebAuthnCredentials / DeleteWebAuthnCredential (an unknown id: ResourceNotFoundException).
- InitiateAuth USER_AUTH, PREFERRED_CHALLENGE WEB_AUTHN (local/cognito/email_otp.py sends it
  here): ChallengeName WEB_AUTHN, a Session bound to the user for 3 minutes, ChallengeParameters
  CREDENTIAL_REQUEST_OPTIONS; RespondToAuthChallenge WEB_AUTHN with CREDENTIAL: a passkey of
  that user only, signature, challenge, origin, RP ID, user verification, a growing sign count.
A user with MFA on is offered passkey sign-in only with passkey MFA on (passkey_settings.py),
never email codes (Cognito's MFA prerequisites). Listed in local/moto_patches/; the time is
local/server/clock.py's.
"""
from __future__ import annotations

import json
import secrets
import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from moto.core.exceptions import JsonRESTError

from local import moto_patches
from local.server import clock
from local.cognito import lockout

REGISTRATION_SECONDS = 5 * 60
SESSION_SECONDS = 3 * 60
EXPIRED = "Invalid session for the user, session is expired."
_lock = threading.Lock()


def _error(code: str) -> type[JsonRESTError]:
    return type(code, (JsonRESTError,), {"__init__": lambda self, message: JsonRESTError.__init__(
        self, code, message)})


ChallengeNotFound = _error("WebAuthnChallengeNotFoundException")
RelyingPartyMismatch = _error("WebAuthnRelyingPartyMismatchException")
OriginNotAllowed = _error("WebAuthnOriginNotAllowedException")
NotEnabled = _error("WebAuthnNotEnabledException")


def config(pool: Any) -> dict[str, str]:
    """The pool's WebAuthnConfiguration (RelyingPartyId, UserVerification)."""
    return getattr(pool, "comm_it_webauthn", None) or {}


def passkeys(user: Any) -> list[dict[str, Any]]:
    return user.__dict__.setdefault("comm_it_passkeys", [])


def user_of_token(response: Any) -> tuple[Any, Any, Any]:
    """(backend, pool, user) of the request's AccessToken."""
    from moto.cognitoidp import exceptions as errors

    token = response._get_param("AccessToken")
    backend = response._get_region_agnostic_backend()._find_backend_by_access_token_or_session(
        token, "")
    for pool in backend.user_pools.values():
        if token in pool.access_tokens:
            user = pool._get_user(pool.access_tokens[token][1])
            if user is not None:
                return backend, pool, user
    raise errors.NotAuthorizedError("Invalid Access Token")


def _uv(pool: Any) -> str:
    return "required" if config(pool).get("UserVerification", "preferred") == "required" \
        else "preferred"


def _rp_id(pool: Any) -> str:
    rp_id = config(pool).get("RelyingPartyId")
    if not rp_id:
        raise NotEnabled("WebAuthn is not configured for this user pool (RelyingPartyId)")
    return rp_id


def _origin(credential: Any, rp_id: str) -> str:
    """The origin the browser signed, if Cognito would take it for `rp_id`."""
    import base64

    try:
        client_data = credential["response"]["clientDataJSON"]
        padded = client_data + "=" * (-len(client_data) % 4)
        origin = json.loads(base64.urlsafe_b64decode(padded))["origin"]
        parts = urlsplit(origin)
        host = parts.hostname or ""
    except (KeyError, TypeError, ValueError, AttributeError):
        from moto.cognitoidp import exceptions as errors

        raise errors.InvalidParameterException("The credential is not valid WebAuthn JSON.") \
            from None
    secure = parts.scheme == "https" or (parts.scheme == "http" and host == "localhost")
    if not secure or not (host == rp_id or host.endswith("." + rp_id)):
        raise OriginNotAllowed(f"Origin {origin} is not allowed for relying party {rp_id}")
    return origin


def _start_registration(self: Any) -> Any:
    from moto.cognitoidp.responses import ActionResult
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (AuthenticatorSelectionCriteria,
                                          PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                          UserVerificationRequirement)

    _, pool, user = user_of_token(self)
    rp_id = _rp_id(pool)
    email = user.attribute_lookup.get("email") or user.username
    options = generate_registration_options(
        rp_id=rp_id, rp_name=pool.name, user_id=user.id.encode(), user_name=email,
        user_display_name=user.attribute_lookup.get("name") or user.username,
        timeout=REGISTRATION_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, require_resident_key=True,
            user_verification=UserVerificationRequirement(_uv(pool))),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=_bytes(p["id"]))
                             for p in passkeys(user)])
    with _lock:
        user.comm_it_passkey_challenge = (options.challenge, clock.now() + REGISTRATION_SECONDS)
    return ActionResult({"CredentialCreationOptions": json.loads(options_to_json(options))})


def _complete_registration(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.responses import EmptyResult
    from webauthn import verify_registration_response
    from webauthn.helpers.exceptions import InvalidRegistrationResponse, WebAuthnException

    _, pool, user = user_of_token(self)
    rp_id = _rp_id(pool)
    credential = self._get_param("Credential")
    with _lock:
        challenge, until = getattr(user, "comm_it_passkey_challenge", None) or (b"", 0.0)
        user.comm_it_passkey_challenge = None  # one answer per challenge
    if not challenge or clock.now() >= until:
        raise ChallengeNotFound("No registration challenge for the user, or it expired")
    origin = _origin(credential, rp_id)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, require_user_verification=_uv(pool) == "required")
    except InvalidRegistrationResponse as exc:
        if "RP ID hash" in str(exc):
            raise RelyingPartyMismatch(str(exc)) from None
        raise errors.InvalidParameterException(str(exc)) from None
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise errors.InvalidParameterException(str(exc)) from None  # not WebAuthn's JSON
    response = credential.get("response") or {}
    with _lock:
        passkeys(user).append({
            "id": _text(verified.credential_id), "sign_count": verified.sign_count,
            "public_key": _text(verified.credential_public_key), "rp_id": rp_id,
            "created": clock.now(),
            "name": str(credential.get("clientExtensionResults", {}).get("credProps", {})
                        .get("authenticatorDisplayName") or ""),
            "transports": list(response.get("transports") or []),
            "attachment": str(credential.get("authenticatorAttachment") or "")})
    return EmptyResult()


def _list(self: Any) -> Any:
    from moto.cognitoidp.responses import ActionResult

    _, _, user = user_of_token(self)
    return ActionResult({"Credentials": [{
        "CredentialId": p["id"], "FriendlyCredentialName": p["name"], "RelyingPartyId": p["rp_id"],
        "AuthenticatorTransports": p["transports"],
        **({"AuthenticatorAttachment": p["attachment"]} if p["attachment"] else {}),
        "CreatedAt": datetime.fromtimestamp(p["created"], timezone.utc)} for p in passkeys(user)]})


def _delete(self: Any) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.responses import EmptyResult

    _, _, user = user_of_token(self)
    wanted = self._get_param("CredentialId")
    with _lock:
        kept = [p for p in passkeys(user) if p["id"] != wanted]
        if len(kept) == len(passkeys(user)):
            raise errors.ResourceNotFoundError("Credential not found")
        user.comm_it_passkeys = kept
    return EmptyResult()


# --- USER_AUTH with WEB_AUTHN (called by local/cognito/email_otp.py) ------------------------

def _sessions(backend: Any) -> dict[str, dict[str, Any]]:
    return backend.__dict__.setdefault("comm_it_webauthn_sessions", {})


def initiate(backend: Any, pool: Any, user: Any) -> dict[str, Any]:
    """The WEB_AUTHN challenge of `user` (who has passkeys; the caller checked)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import (PublicKeyCredentialDescriptor,
                                          UserVerificationRequirement)

    options = generate_authentication_options(
        rp_id=_rp_id(pool), timeout=SESSION_SECONDS * 1000,
        allow_credentials=[PublicKeyCredentialDescriptor(id=_bytes(p["id"]))
                           for p in passkeys(user)],
        user_verification=UserVerificationRequirement(_uv(pool)))
    session = secrets.token_urlsafe(96)
    with _lock:
        _sessions(backend)[session] = {"pool": pool.id, "username": user.username,
                                       "challenge": _text(options.challenge),
                                       "expires": clock.now() + SESSION_SECONDS}
    return {"ChallengeName": "WEB_AUTHN", "Session": session,
            "ChallengeParameters": {"CREDENTIAL_REQUEST_OPTIONS": options_to_json(options)}}


def respond(backend: Any, pool: Any, client: Any, session: str,
            responses: dict[str, str]) -> Any:
    from moto.cognitoidp import exceptions as errors
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException

    with _lock:
        record = _sessions(backend).pop(session or "", None)  # one answer per session
    if record is None or clock.now() >= record["expires"] or record["pool"] != pool.id:
        raise errors.NotAuthorizedError(EXPIRED)
    user = pool._get_user(record["username"])
    named = pool._get_user(responses.get("USERNAME") or "")
    if user is None or named is None or named.username != user.username:
        raise errors.NotAuthorizedError("Invalid session for the user.")
    try:
        credential = json.loads(responses.get("CREDENTIAL") or "")
        passkey = next(p for p in passkeys(user) if p["id"] == credential.get("id"))
    except (ValueError, AttributeError, StopIteration):
        raise errors.NotAuthorizedError("Incorrect username or passkey.") from None
    lockout.attempt(user)
    rp_id = _rp_id(pool)
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=_bytes(record["challenge"]),
            expected_rp_id=rp_id, expected_origin=_origin(credential, rp_id),
            credential_public_key=_bytes(passkey["public_key"]),
            credential_current_sign_count=int(passkey["sign_count"]),
            require_user_verification=_uv(pool) == "required")
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        lockout.failed(user)
        raise errors.NotAuthorizedError("Incorrect username or passkey.") from None
    lockout.succeeded(user)
    with _lock:
        passkey["sign_count"] = verified.new_sign_count
        passkey["last_used"] = clock.now()
    return backend._log_user_in(pool, client, user.username)


def _bytes(text: str) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    return base64url_to_bytes(text)


def _text(data: bytes) -> str:
    from webauthn.helpers import bytes_to_base64url

    return bytes_to_base64url(data)


def install() -> None:
    from moto.cognitoidp.responses import CognitoIdpResponse

    if moto_patches.is_applied(CognitoIdpResponse, "start_web_authn_registration", by=__name__):
        return
    for name, patch in (("start_web_authn_registration", _start_registration),
                        ("complete_web_authn_registration", _complete_registration),
                        ("list_web_authn_credentials", _list),
                        ("delete_web_authn_credential", _delete)):
        moto_patches.replace(CognitoIdpResponse, name, patch, by=__name__)
