"""Sessions that have ended, remembered until their tokens cannot outlive them.

An ID token stays signed and unexpired after its session ends (Log out, Log out everywhere, a
password change or reset, deletion): API Gateway's authorizer still lets it through, and the
identity pool still exchanges it. The routes that act with the person's AWS credentials (their
files, their data, the credentials themselves) ask here first (cognito_credentials), so an
ended session reaches none of it, whichever container cached what.

One item per person in the security table (security_table.py), `ended#<sub>`: `before` (every
session that began before it has ended: Cognito's `auth_time`) and `sessions` (the `origin_jti`
of each session ended alone, with when). `before` needs a day, longer than any ID or access
token of the pool (Cognito itself refuses their refresh tokens after a sign-out everywhere); a
session ended alone is remembered as long as its refresh token could still be refreshed
(SESSION_REMEMBERED, 30 days), because the app refuses that token at /api/auth/refresh by this
record (cognito_sign_in.refresh_session) and so does every route that asks here.

Each end also takes the sessions off the person's list (chalicelib/my_security.py).
"""
from __future__ import annotations

import json
import math
from typing import Any

from chalicelib import my_security, security_table
from chalicelib.attempts import DAY, limits
from chalicelib.errors import session_ended

REMEMBERED = DAY  # the pool's tokens live at most an hour (infra/template.yaml)
SESSION_REMEMBERED = my_security.SESSION_SECONDS  # a refresh token lives 30 days


def _key(sub: str) -> str:
    return f"ended#{sub}"


def end_all(sub: str) -> None:
    """Every session of the person that began before now has ended (a session begun in this
    very second, such as the one a password change opens next, goes on)."""
    before = float(math.floor(limits().clock()))
    _change(sub, lambda item, now: {**item, "before": before})
    my_security.drop_all(sub, before)


def end_one(claims: dict[str, Any] | None) -> None:
    """The session of these verified ID-token claims (None: no token) has ended; the
    others go on."""
    origin = (claims or {}).get("origin_jti")
    if not origin:
        return  # a token that names no session: nothing to tell it apart by

    def ended(item: dict[str, Any], now: float) -> dict[str, Any]:
        sessions = {jti: at for jti, at in json.loads(item.get("sessions") or "{}").items()
                    if at > now - SESSION_REMEMBERED}
        sessions[str(origin)] = now
        return {**item, "sessions": json.dumps(sessions, separators=(",", ":"))}

    sub = str((claims or {})["sub"])
    _change(sub, ended)
    my_security.drop(sub, str(origin))


def ensure_live(claims: dict[str, Any]) -> None:
    """401 SessionEnded when the session of these verified claims has ended."""
    if has_ended(claims):
        raise session_ended()


def has_ended(claims: dict[str, Any]) -> bool:
    """Whether the session of these claims (sub, auth_time or iat, origin_jti) has ended."""
    item = limits().table.get(_key(str(claims["sub"])), limits().clock())
    if item is None:
        return False
    began = float(claims.get("auth_time") or claims.get("iat") or 0)
    if began < float(item.get("before", 0)):
        return True
    return bool(claims.get("origin_jti")) and str(claims["origin_jti"]) in json.loads(
        item.get("sessions") or "{}")


def _change(sub: str, change: Any) -> None:
    def changed(item: dict[str, Any] | None, now: float) -> tuple[dict, float]:
        values = change({k: v for k, v in (item or {}).items()
                         if k in ("before", "sessions")}, now)
        remembered = SESSION_REMEMBERED if values.get("sessions", "{}") != "{}" else REMEMBERED
        return values, now + remembered

    security_table.change(limits().table, _key(sub), changed, clock=limits().clock)
