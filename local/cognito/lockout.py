"""Cognito's lockout after repeated wrong passwords, which moto does not have.

Cognito, after 5 wrong passwords for a user, locks the user out for 1 s, doubling
after each further wrong password up to about 15 minutes. An attempt during a lock
gets NotAuthorizedException "Password attempts exceeded", whatever the password, and
does not lengthen the lock. A successful login after a lock, or 15 minutes without any
attempt, starts the count again. Unknown users are never locked (they get "Incorrect
username or password.", like a wrong password). Locally the same happens, so the app's
answer to a locked account can be seen and tested before AWS.

Only USER_PASSWORD_AUTH, the flow the app uses, is counted, and the two-step codes
(local/cognito/totp.py), through the same attempt/failed/succeeded under one lock. These
patches apply to the moto server running in this process only; the time is
local/server/clock.py's.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from local import moto_patches
from local.server import clock

FREE_FAILURES = 5
MAX_LOCK_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 15 * 60
LOCKED = "Password attempts exceeded"
WRONG_PASSWORD = "Incorrect username or password."  # noqa: S105 (Cognito's message, not a password)


@dataclass
class Attempts:
    failures: int = 0
    locked_until: float = float("-inf")
    last: float = float("-inf")


_lock = threading.Lock()  # every user's Attempts, for wrong passwords and wrong codes alike


def _attempts(user: Any) -> Attempts:
    return user.__dict__.setdefault("comm_it_attempts", Attempts())


def attempt(user: Any) -> None:
    """An attempt to sign in as `user` (a password or a two-step code): refused with
    "Password attempts exceeded" while the user is locked out; after 15 minutes without
    any attempt the count starts again."""
    from moto.cognitoidp import exceptions as errors

    with _lock:
        attempts = _attempts(user)
        now = clock.now()
        idle, attempts.last = now - attempts.last, now
        if now < attempts.locked_until:
            raise errors.NotAuthorizedError(LOCKED)
        if idle >= FORGET_AFTER_SECONDS:
            attempts.failures = 0


def failed(user: Any) -> None:
    """A wrong password or code: after FREE_FAILURES, locked for 1 s, doubling each time
    up to MAX_LOCK_SECONDS."""
    with _lock:
        attempts = _attempts(user)
        attempts.failures += 1
        if attempts.failures >= FREE_FAILURES:
            seconds = min(2 ** (attempts.failures - FREE_FAILURES), MAX_LOCK_SECONDS)
            attempts.locked_until = clock.now() + seconds


def succeeded(user: Any) -> None:
    """Signed in: the count starts again."""
    with _lock:
        _attempts(user).failures = 0


def _user(backend: Any, client_id: str, auth_flow: str, parameters: dict[str, str]) -> Any:
    if str(auth_flow) != "USER_PASSWORD_AUTH" or not parameters:
        return None
    for pool in backend.user_pools.values():
        if client_id in pool.clients:
            return pool._get_user(parameters.get("USERNAME"))
    return None


def install() -> None:
    from moto.cognitoidp import exceptions as errors
    from moto.cognitoidp.models import CognitoIdpBackend

    if moto_patches.is_applied(CognitoIdpBackend, "initiate_auth", by=__name__):
        return
    original_initiate_auth = CognitoIdpBackend.initiate_auth  # replaced below

    def initiate_auth(self, client_id: str, auth_flow: str, auth_parameters: dict[str, str]):
        user = _user(self, client_id, auth_flow, auth_parameters)
        if user is None:
            return original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        attempt(user)
        try:
            result = original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        except errors.NotAuthorizedError as exc:
            if getattr(exc, "message", "") == WRONG_PASSWORD:
                failed(user)
            raise
        succeeded(user)
        return result

    moto_patches.replace(CognitoIdpBackend, "initiate_auth", initiate_auth, by=__name__)
