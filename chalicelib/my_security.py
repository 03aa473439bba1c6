"""Security a person can see: where they are signed in, and what happened to their account.

Cognito keeps no list of a person's sessions and shows them no history, so the app keeps both,
in one item per person in the security table (security_table.py), `security#<sub>`:

- `sessions`: each live session by its `origin_jti` (the ID tokens of one sign-in and of every
  refresh of it share it): the device ("Chrome on Linux", chalicelib/devices.py), the IP, when
  it started and when it was last active (a refresh moves it, at most once a minute), and when
  its refresh token expires (30 days after the sign-in). Nothing secret: no token, only the
  session's id, which signs nobody in. A session leaves the list when it ends
  (chalicelib/ended_sessions.py calls `drop` and `drop_all`) or expires.
- `activity`: what happened, newest first, each with its time, device and IP, for 90 days (at
  most ACTIVITY_KEPT entries); a `Signed in` line names its session (`session_id`), once.
- `devices`: the browsers and systems seen signing in, so a new one is marked `New device`.

The item lives 90 days after its last write (TTL `expires_at`), each entry is dropped on read
when its own time is over, and the item goes with the account (`forget`): it is replaced by a
tombstone (the time of the deletion, nothing of the person) that no later write changes, so a
late or redelivered sign-in (or anything else) never brings the person's item back.

A successful log-in writes nothing here on its way (issue 29: "writing it must not slow a
log-in"): its session, its `Signed in` line and `New device` arrive through the pipeline, as
the "user.authenticated" event, which the record_sign_in Lambda hands to `signed_in`
(chalicelib/sign_ins.py). Until it has, `view` lists the asking session from its own claims,
so `This device` is there right after a log-in. A refused log-in (a wrong password or code, a
locked account) is written on its request (`wrong_guess`): it is no sign-in and has no event.
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any, Callable, NamedTuple

from chalicelib import attempts, devices, security_table
from chalicelib.attempts import DAY, MINUTE
from chalicelib.errors import ServiceUnavailable

log = logging.getLogger(__name__)

ACTIVITY_DAYS = 90
ACTIVITY_SECONDS = ACTIVITY_DAYS * DAY
ACTIVITY_KEPT = 100  # newest first; older lines go first past it (about 10 KB: one write)
SESSION_SECONDS = 30 * DAY  # the app client's RefreshTokenValidity (session_cookie holds it)
ACTIVE_EVERY = MINUTE  # a refresh moves "last active" at most this often
DEVICES_KEPT = 50

# What the Security page says for each kind of activity (one home: the page shows these words).
SIGNED_IN = "Signed in"
SIGNED_IN_WITH_EMAIL_CODE = "Signed in with an email code"
WRONG_PASSWORD = "Wrong password"  # noqa: S105 (a label, not a secret)
WRONG_CODE = "Wrong code"
ACCOUNT_LOCKED = "Account locked"
PASSWORD_CHANGED = "Password changed"  # noqa: S105 (a label)
PASSWORD_RESET = "Password reset"  # noqa: S105 (a label)
EMAIL_CHANGED = "Email changed"
TWO_STEP_ON = "Two-step verification turned on"
TWO_STEP_OFF = "Two-step verification turned off"
RECOVERY_CODE_USED = "Recovery code used"
RECOVERY_CODES_REPLACED = "Recovery codes replaced"
SIGNED_OUT_EVERYWHERE = "Signed out everywhere"
SIGNED_OUT_OTHER = "Signed out on another device"
SIGNED_IN_WITH_PASSKEY = "Signed in with a passkey"
PASSKEY_ADDED = "Passkey added"
PASSKEY_REMOVED = "Passkey removed"
PASSKEY_REFUSED = "Passkey refused"


def _key(sub: str) -> str:
    return f"security#{sub}"


def session_id(origin_jti: str) -> str:
    """The id the page sees for a session: a digest of its origin_jti."""
    return hashlib.sha256(f"session:{origin_jti}".encode()).hexdigest()[:24]


class SignIn(NamedTuple):
    """A sign-in as the list keeps it: whose, which session (its origin_jti), when it began
    (Cognito's auth_time), when it happened (its activity line's time; 0: the write's), and
    the browser and IP it came from."""
    sub: str
    origin_jti: str
    began: float
    at: float
    client: devices.Client

    @classmethod
    def of(cls, claims: dict[str, Any]) -> "SignIn":
        """The sign-in of these verified ID-token claims, on the asking device, now."""
        return cls(str(claims["sub"]), str(claims.get("origin_jti") or ""),
                   float(claims.get("auth_time") or claims.get("iat") or 0), 0.0,
                   devices.current())


def signed_in(sign_in: SignIn, *, kind: str | None = SIGNED_IN, listed: bool = True) -> bool:
    """A sign-in: its session joins the list (unless not `listed`: it has ended already), and
    the activity says `kind` (`Signed in`; None: nothing, as for the session a password change
    opens), marked `New device` for a browser and system never seen on the account. Once only:
    a sign-in whose line is there already (a redelivered event) changes nothing; False then."""
    client, origin, session = sign_in.client, sign_in.origin_jti, session_id(sign_in.origin_jti)
    written = [False]

    def change(record: dict[str, Any], now: float) -> dict[str, Any] | None:
        written[0] = False
        if kind and origin and any(a.get("session") == session for a in record["activity"]):
            return None  # recorded before (and its session, if since ended, stays off the list)
        began, at = sign_in.began or now, sign_in.at or now
        known = record["devices"]
        if origin and listed:
            old = record["sessions"].get(origin) or {}  # a refresh may have listed it first
            record["sessions"][origin] = {"device": client.device, "ip": client.ip,
                                          "started": began,
                                          "active": max(float(old.get("active", 0)), at),
                                          "expires": began + SESSION_SECONDS}
        record["devices"] = ([client.device] + [d for d in known if d != client.device]
                             )[:DEVICES_KEPT]
        if kind:
            _add(record, at, kind, client, newDevice=client.device not in known,
                 **({"session": session} if origin else {}))
        written[0] = True
        return record

    _change(sign_in.sub, change)
    return written[0]


def active(claims: dict[str, Any]) -> None:
    """The session of these claims was just refreshed: its `last active` moves (at most once a
    minute, so a page's refreshes cost a read, rarely a write); a live session the list lacks
    (begun before the list existed) joins it."""
    origin = str(claims.get("origin_jti") or "")
    if not origin:
        return
    now = attempts.limits().clock()
    record = attempts.limits().table.get(_key(str(claims["sub"])), now)
    session = _read(record, now)["sessions"].get(origin)
    if session is not None and now - float(session["active"]) < ACTIVE_EVERY:
        return
    client = devices.current()
    began = float(claims.get("auth_time") or claims.get("iat") or now)

    def change(record: dict[str, Any], now: float) -> dict[str, Any]:
        entry = record["sessions"].get(origin) or {
            "device": client.device, "ip": client.ip, "started": began,
            "expires": began + SESSION_SECONDS}
        record["sessions"][origin] = {**entry, "active": now, "ip": client.ip or entry["ip"]}
        return record

    _change(str(claims["sub"]), change)


def record(sub: str, kind: str) -> None:
    """One line of the person's activity, with the asking device and IP. A failure to write it
    is logged, never the person's problem: the action it records has happened. No sub (no
    account): nothing."""
    if not sub:
        return
    client = devices.current()
    try:
        _change(sub, lambda record, now: _add(record, now, kind, client))
    except ServiceUnavailable:
        log.error("could not record %r for %s", kind, sub)


def wrong_guess(exc: Any, *, locked: bool, sub: str = "", username: str = "",
                find_sub: Callable[[str], str] | None = None) -> None:
    """A refused guess `exc` (an ApiError) goes into the person's activity: a wrong password or
    code, and `Account locked` when it paused the account's guesses (`locked`) or Cognito
    locked it. `find_sub(username)` names the account when only a username is known (an
    unknown one: nothing is written). Never in the way of the answer."""
    from chalicelib.errors import ApiError

    kinds = {"NotAuthorized": [WRONG_PASSWORD], "WrongPassword": [WRONG_PASSWORD],
             "CodeMismatch": [WRONG_CODE], "AccountLocked": [ACCOUNT_LOCKED],
             "PasskeyRefused": [PASSKEY_REFUSED]}.get(
        getattr(exc, "code", ""), [])
    if locked and kinds and ACCOUNT_LOCKED not in kinds:
        kinds = kinds + [ACCOUNT_LOCKED]
    if not kinds:
        return
    try:
        sub = sub or (find_sub(username) if find_sub and username else "")
    except ApiError:
        log.warning("could not name the account of a wrong guess")
        return
    for kind in kinds:
        record(sub, kind)


def drop(sub: str, origin_jti: str) -> None:
    """The session `origin_jti` has ended: it leaves the list."""
    def change(record: dict[str, Any], now: float) -> dict[str, Any]:
        record["sessions"].pop(origin_jti, None)
        return record

    _change(sub, change, only_if_present=True)


def drop_all(sub: str, before: float) -> None:
    """Every session that began before `before` has ended: they leave the list."""
    def change(record: dict[str, Any], now: float) -> dict[str, Any]:
        record["sessions"] = {jti: s for jti, s in record["sessions"].items()
                              if float(s["started"]) >= before}
        return record

    _change(sub, change, only_if_present=True)


def origin_of(sub: str, session: str) -> str | None:
    """The origin_jti of the live session the page calls `session` (session_id), or None."""
    now = attempts.limits().clock()
    sessions = _read(attempts.limits().table.get(_key(sub), now), now)["sessions"]
    return next((jti for jti in sessions if session_id(jti) == session), None)


def view(claims: dict[str, Any]) -> dict[str, Any]:
    """The Security page's two lists for the person of these verified claims: live sessions
    (this device first, then by last active) and the last 90 days of activity, newest first.
    This session is listed from its claims while record_sign_in has not listed it yet."""
    now = attempts.limits().clock()
    data = _read(attempts.limits().table.get(_key(str(claims["sub"])), now), now)
    current = str(claims.get("origin_jti") or "")
    this = SignIn.of(claims)
    if current and current not in data["sessions"] and this.began + SESSION_SECONDS > now:
        data["sessions"][current] = {"device": this.client.device, "ip": this.client.ip,
                                     "started": this.began or now, "active": now}
    sessions = [{"id": session_id(jti), "device": s["device"], "ip": s["ip"],
                 "started": _iso(s["started"]), "lastActive": _iso(s["active"]),
                 "thisDevice": jti == current}
                for jti, s in data["sessions"].items()]
    this_one = [s for s in sessions if s["thisDevice"]]
    others = sorted((s for s in sessions if not s["thisDevice"]),
                    key=lambda s: s["lastActive"], reverse=True)
    activity = [{"at": _iso(a["at"]), "what": a["kind"], "device": a["device"], "ip": a["ip"],
                 "newDevice": bool(a.get("newDevice"))} for a in data["activity"]]
    return {"sessions": this_one + others, "activity": activity,
            "activityDays": ACTIVITY_DAYS}


def stored(sub: str) -> dict[str, Any]:
    """What the item holds, for "Every place your data lives" and the export."""
    now = attempts.limits().clock()
    data = _read(attempts.limits().table.get(_key(sub), now), now)
    return {"table": attempts.limits().table.table_name, "key": _key(sub),
            "sessions": [{"device": s["device"], "ip": s["ip"], "started": _iso(s["started"]),
                          "lastActive": _iso(s["active"]), "expires": _iso(s["expires"])}
                         for s in data["sessions"].values()],
            "activity": [{**a, "at": _iso(a["at"])} for a in data["activity"]],
            "devices": data["devices"]}


def forget(sub: str) -> None:
    """Everything of the person here goes (their account is deleted): a tombstone takes the
    item's place, for as long as any of it could have lived, and no later write changes it."""
    security_table.change(attempts.limits().table, _key(sub),
                          lambda item, now: ({"deleted": now}, now + ACTIVITY_SECONDS),
                          clock=attempts.limits().clock)


def _add(record: dict[str, Any], at: float, kind: str, client: devices.Client,
         **extra: Any) -> dict[str, Any]:
    """A line at its time (a sign-in's may arrive after later ones), newest first."""
    line = {"at": at, "kind": kind, "device": client.device, "ip": client.ip, **extra}
    activity = sorted([line] + record["activity"], key=lambda a: -float(a["at"]))
    record["activity"] = activity[:ACTIVITY_KEPT]
    return record


def _read(item: dict[str, Any] | None, now: float) -> dict[str, Any]:
    """The item's lists as values, without what has expired."""
    item = item or {}
    sessions = {jti: s for jti, s in json.loads(item.get("sessions") or "{}").items()
                if float(s["expires"]) > now}
    activity = [a for a in json.loads(item.get("activity") or "[]")
                if float(a["at"]) > now - ACTIVITY_SECONDS]
    return {"sessions": sessions, "activity": activity,
            "devices": json.loads(item.get("devices") or "[]")}


def _change(sub: str, change: Callable[[dict[str, Any], float], dict[str, Any] | None],
            only_if_present: bool = False) -> None:
    """The person's item changed by `change` (None: left as it is); never a deleted one's."""
    def changed(item: dict[str, Any] | None, now: float) -> tuple[dict, float] | None:
        if (item is None and only_if_present) or "deleted" in (item or {}):
            return None
        data = change(_read(item, now), now)
        if data is None:
            return None
        return ({name: json.dumps(data[name], separators=(",", ":"))
                 for name in ("sessions", "activity", "devices")}, now + ACTIVITY_SECONDS)

    security_table.change(attempts.limits().table, _key(sub), changed,
                          clock=attempts.limits().clock)


def _iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(epoch)))
