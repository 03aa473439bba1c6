"""The identity pool: a verified ID token exchanged for the person's temporary AWS credentials,
and a small cache of them, so one person's requests share one exchange while it is fresh;
and the person's identity deleted with the account.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, NamedTuple

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

class KeptCredentials:
    """People's credentials reused while fresh: `exchange` (an ID token -> its credentials,
    refusing an ended session's), `ensure_live` (refuses an ended session's token: asked
    again before cached credentials are given), `clock` (epoch seconds), at most `size`.

    Keyed by sha256(ID token): the cache never holds tokens. Each entry lives no longer
    than its credentials."""

    def __init__(self, exchange: Callable[[str], Credentials],
                 ensure_live: Callable[[str], None], *, clock: Callable[[], float] = time.time,
                 size: int = MAX_CACHED_SESSIONS) -> None:
        self.exchange, self.ensure_live, self.clock, self.size = exchange, ensure_live, clock, size
        self._kept: dict[str, Credentials] = {}
        self._lock = threading.Lock()

    def fresh(self, id_token: str, *, outliving: float) -> Credentials:
        """The person's credentials, kept ones while they live longer than `outliving`
        seconds from now, else exchanged again (and kept if the new ones do)."""
        key, now = _key(id_token), self.clock()
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept.expires_at - now > outliving:
            self.ensure_live(id_token)  # a kept exchange outlives no session
            return kept
        credentials = self.exchange(id_token)
        with self._lock:
            for stale in [k for k, c in self._kept.items() if c.expires_at - now <= outliving]:
                del self._kept[stale]
            while len(self._kept) >= self.size:
                del self._kept[next(iter(self._kept))]  # the oldest entry
            if credentials.expires_at - now > outliving:
                self._kept[key] = credentials
        return credentials

    def forget(self, id_token: str) -> None:
        """Drop one person's credentials (they went stale before their time)."""
        with self._lock:
            self._kept.pop(_key(id_token), None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def _key(id_token: str) -> str:
    import hashlib  # here: only the routes signed as the person need it

    return hashlib.sha256(id_token.encode()).hexdigest()


_kept = KeptCredentials(aws_credentials, _ensure_live)


def kept() -> KeptCredentials:
    """This container's kept credentials (tests count its exchanges)."""
    return _kept


def fresh(id_token: str, *, outliving: float) -> Credentials:
    return _kept.fresh(id_token, outliving=outliving)


def forget(id_token: str) -> None:
    _kept.forget(id_token)


def forget_all() -> None:
    """Drop every kept credential (tests; a reset local AWS)."""
    _kept.clear()
