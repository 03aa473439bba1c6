"""Cognito ID token verification: the app's own check, the same locally and in AWS.

API Gateway's Cognito authorizer checks tokens only in AWS; `chalice local`
checks nothing. So every guarded route verifies the ID token here too: RS256
signature against the pool's published keys, expiry, issuer, audience (the app
client) and token_use. PyJWT and cryptography are imported on first use only.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Callable

from chalicelib.config import settings
from chalicelib.errors import Unauthorized

log = logging.getLogger(__name__)

KEYS_TTL_SECONDS = 6 * 3600
# A token with an unknown key id makes us fetch the keys again, but not more
# often than this: forged tokens must not turn into a flood of JWKS requests.
MIN_REFETCH_SECONDS = 60
LEEWAY_SECONDS = 5


def fetch_keys(url: str) -> dict[str, Any]:
    """The RSA keys of the JWKS document at `url`, by kid (a broken key skipped), or
    Unauthorized when the document cannot be read."""
    import urllib.request  # ~20 ms: only the first token check pays it

    from jwt import PyJWK

    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (https or local AWS)
            document = json.load(response)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("not a JWKS document")
    except (OSError, ValueError) as exc:
        log.error("cannot fetch the user pool's keys from %s: %s", url, exc)
        raise Unauthorized("Your session could not be checked. Please log in again.") from None
    keys = {}
    for jwk in document["keys"]:
        if isinstance(jwk, dict) and jwk.get("kty") == "RSA" and jwk.get("kid"):
            try:
                keys[str(jwk["kid"])] = PyJWK(jwk, algorithm="RS256").key
            except Exception as exc:  # noqa: BLE001 (one bad key must not hide the good ones)
                log.error("skipping key %s of %s: %s", jwk.get("kid"), url, exc)
    return keys


class KeyCache:
    """The user pool's signing keys as last fetched: `fetch` (a JWKS URL -> {kid: key}, or
    Unauthorized), `clock` (seconds, monotonic)."""

    def __init__(self, fetch: Callable[[str], dict[str, Any]] = fetch_keys,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch, self.clock = fetch, clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, Any]] = {}  # url -> {kid: key}
        self._fetched_at: dict[str, float] = {}
        self._attempted_at: dict[str, float] = {}

    def key(self, url: str, kid: str) -> Any | None:
        with self._lock:
            now = self.clock()
            keys = self._keys.get(url)
            age = now - self._fetched_at.get(url, float("-inf"))
            since_attempt = now - self._attempted_at.get(url, float("-inf"))
            wanted = keys is None or age > KEYS_TTL_SECONDS or kid not in keys
            # With keys in hand, fetch at most once a minute, whether the last fetch
            # worked or not: neither forged kids nor a JWKS outage make a flood.
            if wanted and (keys is None or since_attempt > MIN_REFETCH_SECONDS):
                self._attempted_at[url] = now
                try:
                    keys = self._keys[url] = self.fetch(url)
                    self._fetched_at[url] = now
                except Unauthorized:
                    if keys is None:
                        raise
                    # Keep the keys we have: Cognito rotates them rarely, and an outage
                    # of the key endpoint must not log everyone out.
                    log.warning("keeping the cached keys of %s", url)
            return keys.get(kid) if keys is not None else None


_keys = KeyCache()  # this container's (a test swaps in one with its own fetch and clock)


def header_token(authorization: str | None) -> str:
    """The ID token of an Authorization header, which carries the token itself.

    That is the form AWS documents for API Gateway's Cognito user pool authorizer
    ("include the token in the Authorization header"), which guards these routes in
    AWS; it documents a "Bearer " prefix only for HTTP APIs' JWT authorizers, which
    this app does not use. So a prefixed token is refused here, locally and in Lambda
    alike: a client that works locally works behind API Gateway.
    """
    value = (authorization or "").strip()  # HTTP drops the spaces around a header value
    if not value:
        raise Unauthorized("Log in to see this page.", code="MissingToken")
    scheme = value.split(None, 1)[0]
    if scheme.lower() == "bearer" or scheme != value:
        raise Unauthorized("Send the ID token itself in the Authorization header, with no "
                           "scheme such as “Bearer ” before it.", code="InvalidToken")
    return value


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a valid ID token of this app's user pool and client, or Unauthorized."""
    import jwt

    cfg = settings()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != "RS256":
            raise jwt.InvalidAlgorithmError(f"alg {header.get('alg')!r} is not accepted")
        key = _keys.key(cfg.jwks_url, str(header.get("kid", "")))
        if key is None:
            raise jwt.InvalidKeyError("unknown key id")
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=cfg.user_pool_client_id,
            issuer=cfg.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Your session has expired. Please log in again.",
                           code="TokenExpired") from None
    except jwt.PyJWTError as exc:
        log.info("rejected token: %s", exc)
        raise Unauthorized("Your session is not valid. Please log in again.",
                           code="InvalidToken") from None
    if claims.get("token_use") != "id":
        raise Unauthorized("Use the ID token from login.", code="InvalidToken")
    return claims
