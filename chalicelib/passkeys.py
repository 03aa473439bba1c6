"""Passkeys (WebAuthn) through the user pool: the Security page's `Passkeys` (add, list, remove:
StartWebAuthnRegistration, CompleteWebAuthnRegistration, ListWebAuthnCredentials,
DeleteWebAuthnCredential, with the person's access token) and the log-in page's `Sign in with a
passkey` (InitiateAuth USER_AUTH with PREFERRED_CHALLENGE WEB_AUTHN, then RespondToAuthChallenge
WEB_AUTHN with the browser's answer), landing like any log-in (chalicelib/login.py).

Cognito checks the passkeys (challenge, origin, relying party, signature, user verification, sign
count); the app keeps what Cognito does not show: when each passkey last signed in (an item per
person in the security table). The challenge's session waits in the security table under the
challenge (3 minutes, one answer; asking again never spoils a log-in under way), and an unknown
username, or one without a passkey, gets options of the same shape no passkey answers. Refused
passkeys count against the account (attempts.PASSKEY), and so do log-ins started
(attempts.PASSKEY_STARTS, cleared by a passkey log-in). Two-step verification: Cognito offers a
person with MFA on no passwordless first factor, except a passkey with passkey MFA on
(WebAuthnMfaSettings: the pool requires user verification, so the passkey is both steps). The app
turns passkey MFA on with two-step verification (chalicelib/two_step.py) and when such a person
adds a passkey.
`offered()`: the stage has a relying party (PasskeyRelyingPartyId, docs/deploy.md).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime, timezone
from typing import Any

from chalicelib import account, cognito, cognito_sign_in, my_security, security_table
from chalicelib.attempts import DAY, PASSKEY, PASSKEY_STARTS, limits
from chalicelib.config import settings
from chalicelib.errors import (ApiError, BadRequest, ServiceUnavailable,
                               TooManyRequests, Unauthorized, session_ended)

CHALLENGE = "WEB_AUTHN"
METHOD = "passkey"  # the "user authenticated" event's method: `Signed in with a passkey`
SESSION_SECONDS = 3 * 60
USED_DAYS = 400  # how long a passkey's last use is kept after it
NAME = "Passkey"  # a passkey whose authenticator gave no name
NOT_OFFERED = ("Passkeys are not switched on for this app (its user pool has no relying party: "
               "the stage is deployed without PasskeyRelyingPartyId, docs/deploy.md).")
REFUSED = ("That passkey did not sign you in: it is not one of this account's, it was removed, "
           "or this log-in took too long. Try again, or log in with your password.")
NOT_SAVED = ("Your browser's passkey was not saved: it was made for another site, took too "
             "long, or your device did not check that it is you. Press “Add a passkey” again.")


def offered() -> bool:
    return settings().passkeys


def _ensure_offered() -> None:
    if not offered():
        raise ServiceUnavailable(NOT_OFFERED)


def _refused(detail: str) -> ApiError:
    if "attempts exceeded" in detail.lower():
        return TooManyRequests(cognito.ACCOUNT_LOCKED, code="AccountLocked")
    return Unauthorized(REFUSED, code="PasskeyRefused")


def _not_saved(_: str) -> ApiError:
    return BadRequest(NOT_SAVED, code="PasskeyNotSaved")


_ACCOUNT_ERRORS = {"NotAuthorizedException": lambda _: session_ended(),
                   "WebAuthnNotEnabledException": lambda _: ServiceUnavailable(NOT_OFFERED),
                   "WebAuthnConfigurationMissingException":
                       lambda _: ServiceUnavailable(NOT_OFFERED)}


# --- The Security page --------------------------------------------------------------------

def listing(claims: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The person's passkeys: id, name, added, last used (or "")."""
    _ensure_offered()
    user = account._person(claims, access_token)
    return {"passkeys": _listed(user["sub"], access_token)}


def start(claims: dict[str, Any], access_token: str) -> dict[str, Any]:
    """The options for the browser's navigator.credentials.create (their JSON form)."""
    _ensure_offered()
    account._person(claims, access_token)
    result = cognito.call("start_web_authn_registration", _ACCOUNT_ERRORS,
                          AccessToken=access_token)
    return {"options": result["CredentialCreationOptions"]}


def add(claims: dict[str, Any], access_token: str, credential: str) -> dict[str, Any]:
    """The browser's new passkey (its RegistrationResponseJSON), kept by Cognito."""
    _ensure_offered()
    user = account._person(claims, access_token)
    cognito.call("complete_web_authn_registration",
                 {**_ACCOUNT_ERRORS, **dict.fromkeys((
                     "InvalidParameterException", "WebAuthnChallengeNotFoundException",
                     "WebAuthnRelyingPartyMismatchException", "WebAuthnClientMismatchException",
                     "WebAuthnOriginNotAllowedException",
                     "WebAuthnCredentialNotSupportedException"), _not_saved)},
                 AccessToken=access_token, Credential=_json(credential))
    if "SOFTWARE_TOKEN_MFA" in user["mfa"].split():  # two-step on: the passkey is both steps
        cognito.call("set_user_mfa_preference", _ACCOUNT_ERRORS, AccessToken=access_token,
                     WebAuthnMfaSettings={"Enabled": True})
    my_security.record(user["sub"], my_security.PASSKEY_ADDED)
    return {"passkeys": _listed(user["sub"], access_token)}


def remove(claims: dict[str, Any], access_token: str, credential_id: str) -> dict[str, Any]:
    _ensure_offered()
    user = account._person(claims, access_token)
    cognito.call("delete_web_authn_credential",
                 {**_ACCOUNT_ERRORS, "ResourceNotFoundException": lambda _: ApiError(
                     "That passkey is not on your account (any more).", code="NoSuchPasskey",
                     status=404)},
                 AccessToken=access_token, CredentialId=credential_id)
    my_security.record(user["sub"], my_security.PASSKEY_REMOVED)
    return {"passkeys": _listed(user["sub"], access_token)}


def _listed(sub: str, access_token: str) -> list[dict[str, str]]:
    result = cognito.call("list_web_authn_credentials", _ACCOUNT_ERRORS,
                          AccessToken=access_token, MaxResults=20)
    used = _last_used(sub)
    return [{"id": c["CredentialId"], "name": c.get("FriendlyCredentialName") or NAME,
             "added": _iso(c.get("CreatedAt")), "lastUsed": _iso(used.get(c["CredentialId"]))}
            for c in result.get("Credentials", [])]


# --- The log-in page ----------------------------------------------------------------------

def begin(username: str) -> dict[str, Any]:
    """The options for navigator.credentials.get: Cognito's for an account with a passkey, a
    stand-in of the same shape for any other username."""
    _ensure_offered()
    person = cognito_sign_in.username_of(username)
    with limits().spending(PASSKEY_STARTS, person):  # given back if Cognito does not answer
        result = cognito.choose_challenge(person, CHALLENGE)
    if result.get("ChallengeName") == CHALLENGE:
        session = result["Session"]
        options = json.loads(result["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    else:
        session, options = "", {"challenge": _random(32), "timeout": SESSION_SECONDS * 1000,
                                "allowCredentials": [], "userVerification": "required"}
    # Under its challenge, not the username: asking again (anyone may) never spoils a log-in
    # under way.
    now = limits().clock()
    limits().table.put(_key(str(options["challenge"])), {"session": session, "username": person},
                       now=now, expires_at=now + SESSION_SECONDS, replacing=None)
    return {"options": options}


def log_in(username: str, credential: str) -> dict[str, Any]:
    """The browser's answer (its AuthenticationResponseJSON): then the same answer and event as
    any log-in, and the passkey's last use."""
    from chalicelib import login, user_events
    from chalicelib.tokens import verify_id_token

    at = user_events.now_iso()
    person = cognito_sign_in.username_of(username)
    answer = _json(credential)
    try:
        with limits().guessing(PASSKEY, person):
            key = _key(_challenge_of(answer))
            item = limits().table.get(key, limits().clock())
            limits().table.delete(key)  # one answer per challenge
            if item is None or not item.get("session") \
                    or str(item.get("username", "")).casefold() != person.casefold():
                raise Unauthorized(REFUSED, code="PasskeyRefused")
            result = cognito.call(
                "respond_to_auth_challenge",
                dict.fromkeys(("NotAuthorizedException", "UserNotFoundException",
                               "InvalidParameterException", "ExpiredCodeException",
                               "CodeMismatchException"), _refused),
                ClientId=cognito.client_id(), ChallengeName=CHALLENGE, Session=item["session"],
                ChallengeResponses={"USERNAME": person, "CREDENTIAL": json.dumps(answer)})
    except ApiError as exc:
        if exc.code in ("PasskeyRefused", "AccountLocked"):
            my_security.wrong_guess(exc, locked=limits().paused(PASSKEY, person),
                                    username=person, find_sub=cognito_sign_in.sub_of)
        raise
    tokens = login._signed_in(cognito_sign_in._tokens(result["AuthenticationResult"]), at,
                              method=METHOD)
    _used(str(verify_id_token(tokens["idToken"])["sub"]), str(answer.get("id", "")))
    limits().clear(PASSKEY_STARTS, person)
    return tokens


# --- What the app keeps: when each passkey last signed in -----------------------------------

def _used_key(sub: str) -> str:
    return f"passkeys-used#{sub}"


def _last_used(sub: str) -> dict[str, float]:
    item = limits().table.get(_used_key(sub), limits().clock())
    try:
        return dict(json.loads(str((item or {}).get("used", "{}"))))
    except ValueError:
        return {}


def _used(sub: str, credential_id: str) -> None:
    def change(item: dict[str, Any] | None, now: float) -> tuple[dict[str, Any], float]:
        used = json.loads(str((item or {}).get("used", "{}")))
        used[credential_id] = now
        return {"used": json.dumps(used)}, now + USED_DAYS * DAY

    security_table.change(limits().table, _used_key(sub), change, clock=limits().clock)


def _key(challenge: str) -> str:
    # A digest, not the challenge: the table never holds what the answer signs.
    return "passkey-sign-in#" + hashlib.sha256(challenge.encode()).hexdigest()


def _challenge_of(answer: dict[str, Any]) -> str:
    """The challenge the browser signed (its clientDataJSON's), or ""."""
    try:
        data = str(answer["response"]["clientDataJSON"])
        client = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
        return str(client["challenge"])
    except (KeyError, TypeError, ValueError):
        return ""


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BadRequest("The passkey answer is not the browser's JSON.", code="InvalidParameter")
    return value


def _random(size: int) -> str:
    return base64.urlsafe_b64encode(os.urandom(size)).rstrip(b"=").decode()


def _iso(value: Any) -> str:
    if value is None or value == "":
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value),
                                                                               timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
