"""Logging in, end to end: Cognito's tokens, then the "user authenticated" event.

A person logs in with their username or their verified email address, in any case
(the pool's usernames ignore case; addresses are stored in lower case). An address
becomes the username of the one confirmed account that verified it; anything
else goes to Cognito as typed, so an unknown address gets the same answer as a
wrong password. A person with two-step verification gets a challenge instead of
tokens, answered with the code from their app (`answer_challenge`).

A successful log-in writes nothing to the security table on its way: its session, its
`Signed in` line and `New device` reach the person's Security page through the
"user.authenticated" event (its origin_jti, auth_time, device and IP), which the
record_sign_in Lambda writes (chalicelib/sign_ins.py), off the log-in's critical path.
A refused one (wrong password or code, account locked) still writes its activity line
here, synchronously: it is no successful log-in, and it has no event.
"""
from __future__ import annotations

from typing import Any

from chalicelib import cognito_sign_in, devices, my_security, user_events
from chalicelib.errors import ApiError
from chalicelib.tokens import verify_id_token


def authenticate(username: str, password: str) -> dict[str, Any]:
    """Tokens, or, for a person with two-step verification, the challenge to answer with
    `answer_challenge` (the page holds its session; never the password)."""
    # Stamped before Cognito reads the attributes the token will carry: a rename committed
    # meanwhile is stamped later, so this snapshot never counts as newer than it.
    at = user_events.now_iso()
    username = _username_of(username)
    try:
        result = cognito_sign_in.log_in(username, password)
    except ApiError as exc:  # the activity of the account it names, if any, says so
        from chalicelib.attempts import PASSWORD, limits

        if exc.code in PASSWORD.wrong:
            my_security.wrong_guess(exc, locked=limits().paused(PASSWORD, username),
                                    username=username, find_sub=cognito_sign_in.sub_of)
        raise
    if "challenge" in result:
        from chalicelib import two_step

        return two_step.code_step(result)
    return _signed_in(result, at)


def answer_challenge(username: str, session: str, app_code: str) -> dict[str, Any]:
    """The code from the person's app: then the same answer and event as a password-only login."""
    from chalicelib import two_step

    at = user_events.now_iso()  # before RespondToAuthChallenge reads the attributes
    return _signed_in(two_step.answer_challenge(username, session, app_code), at)


def answer_with_recovery_code(username: str, session: str, password: str,
                              recovery_code: str) -> dict[str, Any]:
    """A recovery code instead of the app's code (chalicelib/two_step.py says what it does to
    two-step verification): then the same answer and event as any log-in."""
    from chalicelib import two_step

    at = user_events.now_iso()
    tokens, _ = two_step.answer_with_recovery_code(username, session, password, recovery_code)
    return _signed_in(tokens, at)


def refresh(refresh_token: str) -> dict[str, Any]:
    """New ID and access tokens for a live session. A session ended alone (Log out, `Sign out`
    on the Security page: chalicelib/ended_sessions.py) is refused here even while Cognito
    would still refresh it, and its refresh token is revoked on the spot."""
    from chalicelib import ended_sessions
    from chalicelib.errors import SESSION_ENDED, Unauthorized

    tokens = cognito_sign_in.refresh(refresh_token)
    claims = verify_id_token(tokens["idToken"])
    try:
        ended_sessions.ensure_live(claims)
    except ApiError:
        cognito_sign_in.revoke(refresh_token)
        raise Unauthorized(SESSION_ENDED, code="SessionExpired") from None
    my_security.active(claims)
    return tokens


def _signed_in(tokens: dict[str, Any], at: str, method: str = "") -> dict[str, Any]:
    """The answer and event of any log-in; `method` how (user_events.UserAuthenticated)."""
    # The claims (sub, name, email) come from the token Cognito just issued;
    # verifying it costs one cached key lookup and keeps one way to read tokens.
    claims = verify_id_token(tokens["idToken"])
    client = devices.current()  # the session's listing goes with the event (record_sign_in)
    user_events.publish(user_events.UserAuthenticated.from_claims(
        claims, at=at, device=client.device, ip=client.ip, method=method))
    return tokens


def _username_of(identifier: str) -> str:
    return cognito_sign_in.username_of(identifier)
