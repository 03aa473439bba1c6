"""Cognito's lockout after repeated wrong passwords, which moto does not have.

Cognito, after 5 wrong passwords for a user, locks the user out for 1 s, doubling
after each further wrong password up to about 15 minutes. An attempt during a lock
gets NotAuthorizedException "Password attempts exceeded", whatever the password, and
does not lengthen the lock. A successful login after a lock, or 15 minutes without any
attempt, starts the count again. Unknown users are never locked (they get "Incorrect
username or password.", like a wrong password). Locally the same happens, so the app's
answer to a locked account can be seen and tested before AWS.

Only USER_PASSWORD_AUTH, the flow the app uses, is counted. These patches apply to
the moto server running in this process only; the time is local/clock.py's.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from local import clock, moto_patches

FREE_FAILURES = 5
MAX_LOCK_SECONDS = 15 * 60
FORGET_AFTER_SECONDS = 15 * 60
LOCKED = "Password attempts exceeded"
WRONG_PASSWORD = "Incorrect username or password."


@dataclass
class Attempts:
    failures: int = 0
    locked_until: float = float("-inf")
    last: float = float("-inf")


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
    lock = threading.Lock()
    original_initiate_auth = CognitoIdpBackend.initiate_auth  # replaced below

    def initiate_auth(self, client_id: str, auth_flow: str, auth_parameters: dict[str, str]):
        user = _user(self, client_id, auth_flow, auth_parameters)
        if user is None:
            return original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        with lock:
            attempts = user.__dict__.setdefault("comm_it_attempts", Attempts())
            now = clock.now()
            idle, attempts.last = now - attempts.last, now
            if now < attempts.locked_until:
                raise errors.NotAuthorizedError(LOCKED)
            if idle >= FORGET_AFTER_SECONDS:
                attempts.failures = 0
        try:
            result = original_initiate_auth(self, client_id, auth_flow, auth_parameters)
        except errors.NotAuthorizedError as exc:
            if getattr(exc, "message", "") == WRONG_PASSWORD:
                with lock:
                    attempts.failures += 1
                    if attempts.failures >= FREE_FAILURES:
                        seconds = min(2 ** (attempts.failures - FREE_FAILURES), MAX_LOCK_SECONDS)
                        attempts.locked_until = clock.now() + seconds
            raise
        with lock:
            attempts.failures = 0
        return result

    moto_patches.replace(CognitoIdpBackend, "initiate_auth", initiate_auth, by=__name__)
