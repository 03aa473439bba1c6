"""A log-in's session on the person's Security page, written off the log-in's path (issue 29).

A log-in writes nothing to the security table: it publishes "user.authenticated" with its
session (origin_jti, auth_time, device, IP: chalicelib/user_events.py), and the
record_sign_in Lambda, on a queue of its own subscribed to the topic for that type only,
hands each event to `apply`. It writes what the log-in used to write itself
(my_security.signed_in): the session listed, the `Signed in` line at the log-in's end,
`New device` for a browser and system never seen on the account. An event may arrive late,
twice, or after the session or the account is gone:

- redelivered: nothing more is written (the sign-in's line is there already);
- the session ended before its event arrived (Log out, `Sign out`, Log out everywhere, a
  password change or reset: chalicelib/ended_sessions.py): it is not listed, its line still
  is (the sign-in happened). A session that ends while the event is being written is taken
  off again: every end records itself before it takes the session off the list, so either
  the look after the write sees the end, or the end sees the session and takes it off;
- older than ended_sessions vouches for (REMEMBERED, a day): its line only; a session still
  in use joins the list at its next refresh (my_security.active);
- the account deleted: its item is a tombstone no write changes (my_security.forget);
- an event without a session (published before these fields existed): its log-in listed
  the session itself, so it is left alone.
"""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib import devices, ended_sessions, my_security
from chalicelib.attempts import limits
from chalicelib.user_events import UserAuthenticated, UserEvent

LISTED = "listed"
ENDED = "recorded (the session had ended: not listed)"
ENDED_MEANWHILE = "recorded (the session ended meanwhile: taken off the list)"
TOO_OLD = "recorded (too old to list: a live session is listed at its next refresh)"
NOTHING = "nothing written (recorded before, or the account is deleted)"
NO_SESSION = "ignored (no session in the event)"
NOT_A_SIGN_IN = "ignored (not a log-in)"


def apply(event: UserEvent) -> str:
    """One log-in's event onto the person's security item; say what happened."""
    if not isinstance(event, UserAuthenticated):
        return NOT_A_SIGN_IN  # the subscription's filter sends none: harmless if one comes
    if not event.origin_jti:
        return NO_SESSION
    at = _epoch(event.signed_in_at or event.occurred_at)  # ValueError: a bad message
    began = float(event.auth_time) if event.auth_time else at
    session = {"sub": event.sub, "origin_jti": event.origin_jti, "auth_time": began}
    recent = limits().clock() - began < ended_sessions.REMEMBERED
    listed = recent and not ended_sessions.has_ended(session)
    client = devices.Client(event.device or devices.UNKNOWN.device, event.ip)
    sign_in = my_security.SignIn(event.sub, event.origin_jti, began, at, client)
    kind = {"email-code": my_security.SIGNED_IN_WITH_EMAIL_CODE,
            "passkey": my_security.SIGNED_IN_WITH_PASSKEY}.get(event.method, my_security.SIGNED_IN)
    if not my_security.signed_in(sign_in, kind=kind, listed=listed):
        return NOTHING
    if listed and ended_sessions.has_ended(session):
        my_security.drop(event.sub, event.origin_jti)
        return ENDED_MEANWHILE
    return LISTED if listed else ENDED if recent else TOO_OLD


def _epoch(iso: str) -> float:
    """user_events' time (2026-12-07T17:34:30.123456Z) as epoch seconds."""
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()
