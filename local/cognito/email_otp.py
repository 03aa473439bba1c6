"""Cognito's choice-based sign-in with an emailed code (USER_AUTH, EMAIL_OTP), which moto
5.2.5 lacks (it answers USER_AUTH with InvalidParameterException).

As Cognito's API reference has it (InitiateAuth's AuthParameters, RespondToAuthChallenge's
ChallengeResponses):

- InitiateAuth AuthFlow=USER_AUTH, AuthParameters {USERNAME, PREFERRED_CHALLENGE: EMAIL_OTP}:
  when the app client allows ALLOW_USER_AUTH, the pool's SignInPolicy.AllowedFirstAuthFactors
  lists EMAIL_OTP and the user can take it, the user pool emails a code (8 digits, the length
  Cognito sends) to the user's address (the [outbox] line, subject SUBJECT) and answers
  ChallengeName EMAIL_OTP, a Session and ChallengeParameters CODE_DELIVERY_DELIVERY_MEDIUM /
  CODE_DELIVERY_DESTINATION (the address masked). Without a PREFERRED_CHALLENGE, or with one
  the user cannot take, it answers ChallengeName SELECT_CHALLENGE and AvailableChallenges.
  A user with two-step verification (MFA) on is offered no email code (Cognito's MFA
  prerequisites: MFA and passwordless sign-in do not go together): PASSWORD, and WEB_AUTHN
  only with passkey MFA on (local/cognito/passkey_settings.py).
- RespondToAuthChallenge ChallengeName=EMAIL_OTP, ChallengeResponses {USERNAME,
  EMAIL_OTP_CODE}: the session is bound to its user and lasts SESSION_SECONDS (the app client's
  AuthSessionValidity default, 3 minutes: the code works as long as its session); the right
  code signs in (tokens) and uses the session up; a wrong one is CodeMismatchException and
  leaves the session for another try, counted with wrong passwords (local/cognito/lockout.py);
  an expired or used session is NotAuthorizedException.

PREFERRED_CHALLENGE WEB_AUTHN and its answer are local/cognito/passkeys.py's. Not emulated:
SELECT_CHALLENGE answers, SMS_OTP, PASSWORD as a USER_AUTH challenge (the app logs in with
USER_PASSWORD_AUTH). These patches apply to the moto server of this process
only; the time is local/server/clock.py's. Listed in local/moto_patches/.
"""
from __future__ import annotations

import secrets
import threading
from typing import Any

from local import moto_patches
from local.server import clock
from local.cognito import lockout
from local.cognito.mail import codes_match, delivery
from local.run.outbox import Outbox

SUBJECT = "Your Comm-IT sign-in code"
SESSION_SECONDS = 3 * 60
CODE_DIGITS = 8
EXPIRED = "Invalid session for the user, session is expired."
WRONG = "Invalid code received for user"

_lock = threading.Lock()
_outbox: Outbox | None = None


def new_code() -> str:
    """An 8-digit code, as Cognito sends for EMAIL_OTP sign-in (tests replace it)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def _sessions(backend: Any) -> dict[str, dict[str, Any]]:
    """session -> {pool, username, code, expires}: on the backend, so local.run.state saves it."""
    return backend.__dict__.setdefault("comm_it_email_otp_sessions", {})


def _pool_and_client(backend: Any, client_id: str) -> tuple[Any, Any]:
    from moto.cognitoidp import exceptions as errors

    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool, pool.clients[client_id]
    raise errors.ResourceNotFoundError(client_id)


def _factors(pool: Any) -> list[str]:
    policy = (pool.extended_config.get("Policies") or {}).get("SignInPolicy") or {}
    return list(policy.get("AllowedFirstAuthFactors") or ["PASSWORD"])


def _has_mfa(user: Any) -> bool:
    return bool(user.software_token_mfa_enabled or user.sms_mfa_enabled)


def _available(pool: Any, user: Any) -> list[str]:
    """The first factors this user can take: the pool's, minus the passwordless ones when the
    user has MFA on, minus EMAIL_OTP without an email address, WEB_AUTHN without a passkey."""
    from local.cognito import passkeys

    from local.cognito.passkey_settings import passkey_mfa

    factors = _factors(pool)
    if _has_mfa(user):  # a passkey is both factors only with passkey MFA on
        return [f for f in factors if f == "PASSWORD" or (
            f == "WEB_AUTHN" and passkey_mfa(user) and passkeys.passkeys(user))]
    return [f for f in factors if (f != "EMAIL_OTP" or user.attribute_lookup.get("email"))
            and (f != "WEB_AUTHN" or passkeys.passkeys(user))]


def _initiate_user_auth(backend: Any, client_id: str, parameters: dict[str, str]) -> Any:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import UserStatus

    pool, client = _pool_and_client(backend, client_id)
    if "ALLOW_USER_AUTH" not in (client.extended_config.get("ExplicitAuthFlows") or []):
        raise errors.InvalidParameterException("USER_AUTH flow not enabled for this client")
    username = parameters.get("USERNAME") or ""
    if not username:
        raise errors.InvalidParameterException("Missing required parameter USERNAME")
    user = pool._get_user(username)
    if user is None:
        raise errors.UserNotFoundError("User does not exist.")
    if not user.enabled:
        raise errors.NotAuthorizedError("User is disabled.")
    if user.status == UserStatus.UNCONFIRMED:
        raise errors.UserNotConfirmedException("User is not confirmed.")
    available = _available(pool, user)
    preferred = parameters.get("PREFERRED_CHALLENGE")
    if preferred == "WEB_AUTHN" and preferred in available:
        from local.cognito import passkeys

        return passkeys.initiate(backend, pool, user)
    session = secrets.token_urlsafe(96)
    if preferred != "EMAIL_OTP" or "EMAIL_OTP" not in available:
        return {"ChallengeName": "SELECT_CHALLENGE", "Session": session,
                "ChallengeParameters": {}, "AvailableChallenges": available}
    lockout.attempt(user)  # a locked-out user is refused before any email
    code = new_code()
    with _lock:
        _sessions(backend)[session] = {"pool": pool.id, "username": user.username, "code": code,
                                       "expires": clock.now() + SESSION_SECONDS}
    email = user.attribute_lookup["email"]
    if _outbox is None:
        raise RuntimeError("install() first")
    _outbox.send(email, SUBJECT, code)
    where = delivery(email)
    return {"ChallengeName": "EMAIL_OTP", "Session": session,
            "ChallengeParameters": {"CODE_DELIVERY_DELIVERY_MEDIUM": "EMAIL",
                                    "CODE_DELIVERY_DESTINATION": where["Destination"]}}


def _respond_email_otp(backend: Any, session: str, client_id: str,
                       responses: dict[str, str]) -> Any:
    from moto.cognitoidp import exceptions as errors

    pool, client = _pool_and_client(backend, client_id)
    with _lock:
        record = _sessions(backend).get(session or "")
        if record is not None and clock.now() >= record["expires"]:
            _sessions(backend).pop(session, None)
            record = None
    if record is None or record["pool"] != pool.id:
        raise errors.NotAuthorizedError(EXPIRED)
    user = pool._get_user(record["username"])
    named = pool._get_user(responses.get("USERNAME") or "")
    if user is None or named is None or named.username != user.username:
        raise errors.NotAuthorizedError("Invalid session for the user.")
    lockout.attempt(user)
    if not codes_match(record["code"], responses.get("EMAIL_OTP_CODE") or ""):
        lockout.failed(user)
        raise errors.CodeMismatchException(WRONG)
    with _lock:
        if _sessions(backend).pop(session, None) is None:  # another answer used it meanwhile
            raise errors.NotAuthorizedError(EXPIRED)
    lockout.succeeded(user)
    return backend._log_user_in(pool, client, user.username)


def install(outbox: Outbox) -> None:
    """Patch moto's Cognito in this process (once); codes go to `outbox`."""
    global _outbox
    from moto.cognitoidp.models import CognitoIdpBackend

    if moto_patches.is_applied(CognitoIdpBackend, "initiate_auth", by=__name__):
        return
    _outbox = outbox

    def initiate_auth(self: Any, client_id: str, auth_flow: str,
                      auth_parameters: dict[str, str]) -> Any:
        if str(auth_flow) == "USER_AUTH":
            return _initiate_user_auth(self, client_id, auth_parameters or {})
        return original_initiate_auth(self, client_id, auth_flow, auth_parameters)

    def respond_to_auth_challenge(self: Any, session: str, client_id: str, challenge_name: str,
                                  challenge_responses: dict[str, str]) -> Any:
        if challenge_name == "EMAIL_OTP":
            return _respond_email_otp(self, session, client_id, challenge_responses or {})
        if challenge_name == "WEB_AUTHN":
            from local.cognito import passkeys

            pool, client = _pool_and_client(self, client_id)
            return passkeys.respond(self, pool, client, session, challenge_responses or {})
        return original_respond(self, session, client_id, challenge_name, challenge_responses)

    original_initiate_auth = moto_patches.replace(CognitoIdpBackend, "initiate_auth",
                                                  initiate_auth, by=__name__)
    original_respond = moto_patches.replace(CognitoIdpBackend, "respond_to_auth_challenge",
                                            respond_to_auth_challenge, by=__name__)
