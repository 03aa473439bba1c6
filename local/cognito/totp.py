"""Cognito's software-token MFA (TOTP) as AWS has it, where moto 5.2.5 falls short.

moto gives every user ONE fixed secret ("asdfasdfasdf"), checks codes only when
MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP=true, and takes the user of a challenge answer
from the request's USERNAME instead of the session. Here, as Cognito does:

- AssociateSoftwareToken (with an access token) draws a new random secret for that user
  (160 bits, base32, as an authenticator app takes it); it is used once verified.
- VerifySoftwareToken checks an RFC 6238 code (SHA-1, 6 digits, 30 s, one step either
  side for clock skew) against that secret: a wrong code is EnableSoftwareTokenMFAException,
  a right one makes the secret the user's. With no secret associated it is
  InvalidParameterException.
- A SOFTWARE_TOKEN_MFA challenge's session is bound to the user it was issued for,
  expires after 3 minutes (the app client's AuthSessionValidity default) and is used up
  by the answer that signs in; a wrong code is CodeMismatchException and leaves the
  session for another try. Wrong codes count with wrong passwords (local/cognito/lockout.py):
  after 5, the user is locked out in the same way ("Password attempts exceeded").

These patches apply to the moto server running in this process only; the time is
local/server/clock.py's. Installed by local/cognito/__init__.py after lockout.py; listed in
local/moto_patches/.
"""
from __future__ import annotations

import base64
import secrets
import threading
from typing import Any

from local.server import clock as local_clock
from local import moto_patches
from local.cognito import lockout as cognito_lockout

SESSION_SECONDS = 3 * 60
VALID_WINDOW = 1  # time steps either side of now
EXPIRED = "Invalid session for the user, session is expired."

_lock = threading.Lock()


def clock() -> float:
    return local_clock.now()


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def code_is_right(secret: str, code: str) -> bool:
    from cryptography.hazmat.primitives.twofactor import InvalidToken
    from moto.cognitoidp.utils import cognito_totp, verify_totp

    if not (isinstance(code, str) and len(code) == 6 and code.isdigit()):
        return False
    try:
        verify_totp(cognito_totp(secret), code.encode("ascii"), valid_window=VALID_WINDOW)
    except InvalidToken:
        return False
    return True


def _user_of_access_token(backend: Any, access_token: str) -> Any:
    from moto.cognitoidp import exceptions as errors

    for pool in backend.user_pools.values():
        if access_token in pool.access_tokens:
            _, username = pool.access_tokens[access_token]
            user = pool._get_user(username)
            if user is not None:
                return user
    raise errors.NotAuthorizedError("Invalid Access Token")


def _sessions(backend: Any) -> dict[str, tuple[str, str, float]]:
    """session -> (pool id, username, expires at): on the backend, so local.run.state saves it."""
    return backend.__dict__.setdefault("comm_it_mfa_sessions", {})


def _challenge_session(backend: Any, session: str) -> tuple[Any, Any]:
    from moto.cognitoidp import exceptions as errors

    record = _sessions(backend).get(session or "")
    if record is None or clock() >= record[2]:
        _sessions(backend).pop(session or "", None)
        raise errors.NotAuthorizedError(EXPIRED)
    pool = backend.user_pools.get(record[0])
    user = pool._get_user(record[1]) if pool is not None else None
    if user is None:
        raise errors.NotAuthorizedError(EXPIRED)
    return pool, user


def install() -> None:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import CognitoIdpBackend
    from moto.core.exceptions import JsonRESTError

    if moto_patches.is_applied(CognitoIdpBackend, "initiate_auth", by=__name__):
        return

    class EnableSoftwareTokenMFAException(JsonRESTError):
        def __init__(self, message: str) -> None:
            super().__init__("EnableSoftwareTokenMFAException", message)

    def associate_software_token(self, access_token: str, session: str) -> dict[str, str]:
        if session and not access_token:
            raise errors.NotAuthorizedError("MFA_SETUP is not used by this pool")
        user = _user_of_access_token(self, access_token)
        user.comm_it_totp_pending = new_secret()
        return {"SecretCode": user.comm_it_totp_pending}

    def verify_software_token(self, access_token: str, session: str, user_code: str,
                              friendly_device_name: str) -> dict[str, str]:
        if session and not access_token:
            raise errors.NotAuthorizedError("MFA_SETUP is not used by this pool")
        user = _user_of_access_token(self, access_token)
        secret = getattr(user, "comm_it_totp_pending", None) or getattr(
            user, "comm_it_totp_secret", None)
        if secret is None:
            raise errors.InvalidParameterException("User has not associated a software token")
        if not code_is_right(secret, user_code):
            raise EnableSoftwareTokenMFAException("Code mismatch")
        user.comm_it_totp_secret, user.comm_it_totp_pending = secret, None
        user.token_verified = True
        return {"Status": "SUCCESS"}

    def initiate_auth(self, client_id: str, auth_flow: str, auth_parameters: dict[str, str]):
        result = original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        if isinstance(result, dict) and result.get("ChallengeName") == "SOFTWARE_TOKEN_MFA":
            session = result["Session"]
            username, pool = self.sessions[session]
            with _lock:
                _sessions(self)[session] = (pool.id, pool._get_user(username).username,
                                            clock() + SESSION_SECONDS)
        return result

    def respond_to_auth_challenge(self, session: str, client_id: str, challenge_name: str,
                                  challenge_responses: dict[str, str]):
        if challenge_name != "SOFTWARE_TOKEN_MFA":
            return original_respond(self, session, client_id, challenge_name,
                                    challenge_responses)
        pool, user = _challenge_session(self, session)
        client = pool.clients.get(client_id)
        if client is None:
            raise errors.ResourceNotFoundError(client_id)
        named = pool._get_user((challenge_responses or {}).get("USERNAME") or "")
        if named is None or named.username != user.username:
            raise errors.NotAuthorizedError("Invalid session for the user.")
        cognito_lockout.attempt(user)
        code = (challenge_responses or {}).get("SOFTWARE_TOKEN_MFA_CODE") or ""
        if not code_is_right(getattr(user, "comm_it_totp_secret", "") or "", code):
            cognito_lockout.failed(user)
            raise errors.CodeMismatchException("Invalid code received for user")
        cognito_lockout.succeeded(user)
        with _lock:
            _sessions(self).pop(session, None)
            self.sessions.pop(session, None)
        return self._log_user_in(pool, client, user.username)

    moto_patches.replace(CognitoIdpBackend, "associate_software_token", associate_software_token,
                         by=__name__)
    moto_patches.replace(CognitoIdpBackend, "verify_software_token", verify_software_token,
                         by=__name__)
    original_initiate_auth = moto_patches.replace(CognitoIdpBackend, "initiate_auth",
                                                  initiate_auth, by=__name__)
    original_respond = moto_patches.replace(CognitoIdpBackend, "respond_to_auth_challenge",
                                            respond_to_auth_challenge, by=__name__)
