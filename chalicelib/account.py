"""Your account: see who you are to Comm-IT and AWS, change your name, email and
password, or delete the account.

A password change, and Log out everywhere, end the person's other sessions: their
refresh tokens stop working, so each other browser is sent to log in at its next load.

Every route here is guarded (a verified ID token). The user pool operations that
act as the person (UpdateUserAttributes, VerifyUserAttribute, ChangePassword,
DeleteUser) need their access token, which the browser sends in the body; it must
belong to the same person as the ID token (GetUser says whose it is), so a
stolen access token cannot be used with someone else's session, and the other
way round.

Changes travel the pipeline as events (chalicelib/user_events.py): a name change
or a verified email change publishes "user.updated" with the current values, a
deletion "user.deleted", after which the consumers remove every trace and keep a
tombstone. Cognito is changed first, then the event is published, except for a
deletion: its event goes first, so that a failed DeleteUser leaves the person able
to try again, and a deleted user never leaves data behind that no event removes.
"""
from __future__ import annotations

import logging
from typing import Any

from chalicelib import (cognito, cognito_account, cognito_credentials, cognito_sign_in,
                        ended_sessions, my_security, names, recovery_codes, user_events,
                        users_table)
from chalicelib.attempts import EMAILS, PASSWORD, VERIFY_CODE, limits
from chalicelib.errors import ApiError, BadRequest, Conflict, Forbidden, session_ended

log = logging.getLogger(__name__)


def ensure_not_deleted(claims: dict[str, Any]) -> dict[str, Any]:
    """An ID token stays signed and unexpired after its account is deleted: refuse it.
    Returns the person's record in the users table ({} before the pipeline wrote it)."""
    record = users_table.get(claims["sub"]) or {}
    if "deleted_at" in record:
        raise session_ended()
    return record


def _person(claims: dict[str, Any], access_token: str) -> dict[str, str]:
    """The user pool's view of the person the access token belongs to; it must be the
    person of the verified ID token."""
    user = cognito_account.current_user(access_token)
    if user["sub"] != claims["sub"]:
        log.warning("access token of another user sent with the ID token of %s", claims["sub"])
        raise Forbidden("Your sign-in tokens do not match. Log out, then log in again.",
                        code="TokenMismatch")
    return user


def overview(claims: dict[str, Any], id_token: str) -> dict[str, Any]:
    """Who the person is: from the verified ID token, and to AWS, from the identity pool
    (the identity id and when the credentials expire; never the keys themselves)."""
    record = ensure_not_deleted(claims)
    credentials = cognito_credentials.aws_credentials(id_token)
    return {
        "name": claims.get("name", ""),
        "email": claims.get("email", ""),
        "username": claims.get("cognito:username", ""),
        "identityId": credentials.identity_id,
        "credentialsExpire": credentials.expiration,
        # From the record the pipeline keeps (each login counted once per event id):
        # "" and 0 until it has applied the first login.
        "lastSignedIn": record.get("last_login_at", ""),
        "signInCount": int(record.get("login_count", 0)),
    }


def change_name(claims: dict[str, Any], access_token: str, name: str) -> dict[str, Any]:
    _person(claims, access_token)
    cognito_account.update_name(access_token, name)
    event = _snapshot(access_token)
    user_events.publish(event)
    names.forget(claims["sub"])  # this process's cached greeting is the old name
    # The event's id and time: the page follows its journey (GET /api/account/changes/<id>).
    return {"name": name, "eventId": event.event_id, "publishedAt": event.occurred_at}


def _snapshot(access_token: str) -> user_events.UserUpdated:
    """The person as the user pool knows them now, stamped no later than it is read: a login
    that read older values (chalicelib/login.py) is stamped before, a later change after."""
    at = user_events.now_iso()
    user = cognito_account.current_user(access_token)
    return user_events.UserUpdated.now(sub=user["sub"], username=user["username"],
                                       email=user["email"], name=user["name"], at=at)


def change_email(claims: dict[str, Any], access_token: str, email: str) -> dict[str, Any]:
    """Send a code to the new address; the account keeps the old one until it is verified."""
    email = email.lower()
    user = _person(claims, access_token)
    if email == user["email"].lower():
        raise BadRequest("That is already your email address.", code="SameEmail")
    owner = cognito_sign_in.username_for_email(email)
    if owner is not None and owner.lower() != user["username"].lower():
        raise Conflict(cognito.EMAIL_TAKEN, code="EmailExists")
    with limits().spending(EMAILS, user["username"]):
        sent_to = cognito_account.request_email_change(access_token, email)
    return {"pendingEmail": email, "codeSentTo": sent_to, "email": user["email"]}


def verify_email(claims: dict[str, Any], access_token: str, code: str) -> dict[str, Any]:
    user = _person(claims, access_token)
    with limits().guessing(VERIFY_CODE, user["username"]):  # wrong codes count
        cognito_account.verify_email(access_token, code)
    event = _snapshot(access_token)  # the new address, now the account's
    user_events.publish(event)
    my_security.record(user["sub"], my_security.EMAIL_CHANGED)
    return {"email": event.email}


def change_password(claims: dict[str, Any], access_token: str, current_password: str,
                    new_password: str) -> dict[str, Any]:
    """Change the password; every other session of the person ends (GlobalSignOut), and
    this one goes on with the tokens of a new sign-in with the new password."""
    user = _person(claims, access_token)
    if current_password == new_password:
        raise BadRequest("The new password must differ from the current one.",
                         code="SamePassword")
    try:
        with limits().guessing(PASSWORD, user["username"]):  # a wrong current one is a guess
            cognito_account.change_password(access_token, current_password, new_password)
    except ApiError as exc:
        my_security.wrong_guess(exc, locked=False, sub=user["sub"])
        raise
    cognito_sign_in.sign_out_everywhere(access_token)
    ended_sessions.end_all(user["sub"])  # their ID tokens too, before this one's new sign-in
    my_security.record(user["sub"], my_security.PASSWORD_CHANGED)
    tokens = cognito_sign_in.log_in(user["username"], new_password)
    if "idToken" in tokens:  # this device's new session is listed, as "This device"
        from chalicelib.tokens import verify_id_token

        try:
            my_security.signed_in(my_security.SignIn.of(verify_id_token(tokens["idToken"])),
                                  kind=None)
        except ApiError:  # the change has happened: the session goes on, listed at a refresh
            log.error("could not list the new session of %s", user["sub"])
    return tokens


def log_out_everywhere(claims: dict[str, Any], access_token: str) -> None:
    """Log out on every device (GlobalSignOut): each browser's next load goes to login."""
    user = _person(claims, access_token)
    cognito_sign_in.sign_out_everywhere(access_token)
    ended_sessions.end_all(user["sub"])  # their ID tokens reach no file or credential
    my_security.record(user["sub"], my_security.SIGNED_OUT_EVERYWHERE)


def security(claims: dict[str, Any]) -> dict[str, Any]:
    """The Security page: where the person is signed in (this session marked) and the last
    90 days of what happened to the account (chalicelib/my_security.py)."""
    ensure_not_deleted(claims)
    ended_sessions.ensure_live(claims)
    return my_security.view(claims)


def sign_out_session(claims: dict[str, Any], access_token: str, session_id: str) -> dict[str, Any]:
    """`Sign out` on another of the person's sessions: its ID token reaches nothing of theirs
    from now on, and its refresh token is refused (and revoked) at its next refresh
    (chalicelib/login.refresh): that browser's next page load lands on the log-in page. This
    session and the others go on."""
    user = _person(claims, access_token)
    origin = my_security.origin_of(user["sub"], session_id)
    if origin is None:
        raise Conflict("That session is not signed in any more. The list shows the ones "
                       "that are.", code="SessionGone")
    if origin == claims.get("origin_jti"):
        raise BadRequest("That is this device: use “Log out” to sign out here.",
                         code="ThisDevice")
    ended_sessions.end_one({"sub": user["sub"], "origin_jti": origin})
    my_security.record(user["sub"], my_security.SIGNED_OUT_OTHER)
    return my_security.view(claims)  # the same person (_person said so)


def delete(claims: dict[str, Any], access_token: str, password: str, id_token: str) -> None:
    """Delete the account: the password confirms it, the event removes every trace, and the
    identity pool's identity goes too (before DeleteUser, while the pool accepts the token)."""
    user = _person(claims, access_token)
    with limits().guessing(PASSWORD, user["username"]):
        cognito_account.check_password(user["username"], password)
    user_events.publish(user_events.UserDeleted.now(sub=user["sub"], username=user["username"]))
    identity_id = cognito_credentials.delete_identity(id_token)
    cognito_account.delete_user(access_token)
    ended_sessions.end_all(user["sub"])  # another browser's ID token reaches nothing either
    my_security.forget(user["sub"])  # its sessions, activity and recovery codes go too
    recovery_codes.forget(user["sub"])
    log.info("account %s deleted (identity %s)", user["sub"], identity_id)
