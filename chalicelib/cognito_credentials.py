"""The identity pool: a verified ID token exchanged for the person's temporary AWS credentials,
and a small cache of them, so one person's requests share one exchange while it is fresh;
and the person's identity deleted with the account.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, NamedTuple

from chalicelib import cognito
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable, Unauthorized

log = logging.getLogger(__name__)

MAX_CACHED_SESSIONS = 256


class Credentials(NamedTuple):
    """A person's temporary AWS credentials; `expires_at` in epoch seconds."""

    identity_id: str
    access_key_id: str
    secret_key: str
    session_token: str
    expires_at: float

    def __repr__(self) -> str:  # the secret and the session token never reach a log line
        return f"Credentials(identity_id={self.identity_id!r}, expires_at={self.expires_at})"

    @property
    def expiration(self) -> str:
        """When they expire, as ISO 8601 in UTC (what the API answers say)."""
        from datetime import datetime, timezone

        return datetime.fromtimestamp(self.expires_at, timezone.utc).isoformat()

    def as_json(self) -> dict[str, str]:
        """What POST /api/auth/credentials answers: whose they are and until when, never the
        keys (the app signs the person's requests itself; anyone who wants the keys can
        exchange their own ID token at Cognito Identity)."""
        return {"identityId": self.identity_id, "expiration": self.expiration}


def aws_credentials(id_token: str) -> Credentials:
    """Exchange a verified ID token at the identity pool for temporary AWS credentials: 401
    SessionEnded when its session has ended (chalicelib/ended_sessions.py)."""
    _ensure_live(id_token)
    return _exchange(id_token)


def _ensure_live(id_token: str) -> None:
    from chalicelib import ended_sessions
    from chalicelib.tokens import verify_id_token

    ended_sessions.ensure_live(verify_id_token(id_token))


def _exchange(id_token: str) -> Credentials:
    cfg = settings()
    logins = {cfg.issuer.removeprefix("https://"): id_token}
    not_authorized = {"NotAuthorizedException": lambda _: Unauthorized(
        "Your session is not valid. Please log in again.")}
    identity = cognito.call("get_id", not_authorized, service="cognito-identity",
                            IdentityPoolId=cfg.identity_pool_id, Logins=logins)
    result = cognito.call("get_credentials_for_identity", not_authorized,
                          service="cognito-identity", IdentityId=identity["IdentityId"],
                          Logins=logins)
    creds = result["Credentials"]
    return Credentials(identity_id=result["IdentityId"], access_key_id=creds["AccessKeyId"],
                       secret_key=creds["SecretKey"], session_token=creds["SessionToken"],
                       expires_at=_epoch(creds["Expiration"]))


def delete_identity(id_token: str) -> str:
    """Delete the person's identity from the identity pool (DeleteIdentities, with the app's
    own credentials), found with their still valid ID token: call it before DeleteUser, while
    the pool still accepts the token. Returns the deleted identity id."""
    cfg = settings()
    logins = {cfg.issuer.removeprefix("https://"): id_token}
    not_authorized = {"NotAuthorizedException": lambda _: Unauthorized(
        "Your session is not valid. Please log in again.")}
    identity_id = cognito.call("get_id", not_authorized, service="cognito-identity",
                               IdentityPoolId=cfg.identity_pool_id, Logins=logins)["IdentityId"]
    result = cognito.call("delete_identities", {}, service="cognito-identity",
                          IdentityIdsToDelete=[identity_id])
    unprocessed = (result or {}).get("UnprocessedIdentityIds") or []
    if unprocessed:
        log.error("identity %s not deleted: %s", identity_id, unprocessed[0].get("ErrorCode"))
        raise ServiceUnavailable("We could not delete your account. Please try again.")
    forget(id_token)
    return identity_id


def _epoch(value: Any) -> float:
    """botocore parses the answer's Expiration into a datetime; epoch seconds otherwise."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


# --- Reused while fresh ------------------------------------------------------------------

_LOCK = threading.Lock()
# sha256(ID token) -> credentials. The key is a hash: the cache never holds tokens. Each
# entry lives no longer than its credentials.
_CACHE: dict[str, Credentials] = {}


def _key(id_token: str) -> str:
    import hashlib  # here: only the routes signed as the person need it

    return hashlib.sha256(id_token.encode()).hexdigest()


def fresh(id_token: str, *, outliving: float) -> Credentials:
    """The person's credentials, from the cache while they live longer than `outliving`
    seconds from now, else exchanged again (and cached if the new ones do)."""
    key = _key(id_token)
    now = time.time()
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached.expires_at - now > outliving:
        _ensure_live(id_token)  # a cached exchange outlives no session
        return cached
    credentials = aws_credentials(id_token)
    with _LOCK:
        for stale in [k for k, c in _CACHE.items() if c.expires_at - now <= outliving]:
            del _CACHE[stale]
        while len(_CACHE) >= MAX_CACHED_SESSIONS:
            del _CACHE[next(iter(_CACHE))]  # the oldest entry
        if credentials.expires_at - now > outliving:
            _CACHE[key] = credentials
    return credentials


def forget(id_token: str) -> None:
    """Drop one person's cached credentials (they went stale before their time)."""
    with _LOCK:
        _CACHE.pop(_key(id_token), None)


def forget_all() -> None:
    """Drop every cached credential (tests; a reset local AWS)."""
    with _LOCK:
        _CACHE.clear()
