"""Logging in, end to end: Cognito's tokens, then the "user authenticated" event.

A person logs in with their username or their verified email address, in any case
(the pool's usernames ignore case; addresses are stored in lower case). An address
becomes the username of the one confirmed account that verified it; anything
else goes to Cognito as typed, so an unknown address gets the same answer as a
wrong password. A person with two-step verification gets a challenge instead of
tokens, answered with the code from their app (`answer_challenge`).
"""
from __future__ import annotations

from typing import Any

from chalicelib import cognito_sign_in, user_events
from chalicelib.tokens import verify_id_token


def authenticate(username: str, password: str) -> dict[str, Any]:
    """Tokens, or, for a person with two-step verification, the challenge to answer with
    `answer_challenge` (the page holds its session; never the password)."""
    # Stamped before Cognito reads the attributes the token will carry: a rename committed
    # meanwhile is stamped later, so this snapshot never counts as newer than it.
    at = user_events.now_iso()
    result = cognito_sign_in.log_in(_username_of(username), password)
    if "challenge" in result:
        from chalicelib import two_step

        return two_step.code_step(result)
    return _signed_in(result, at)


def answer_challenge(username: str, session: str, app_code: str) -> dict[str, Any]:
    """The code from the person's app: then the same answer and event as a password-only login."""
    from chalicelib import two_step

    at = user_events.now_iso()  # before RespondToAuthChallenge reads the attributes
    return _signed_in(two_step.answer_challenge(username, session, app_code), at)


def _signed_in(tokens: dict[str, Any], at: str) -> dict[str, Any]:
    # The claims (sub, name, email) come from the token Cognito just issued;
    # verifying it costs one cached key lookup and keeps one way to read tokens.
    claims = verify_id_token(tokens["idToken"])
    user_events.publish(user_events.UserAuthenticated.from_claims(claims, at=at))
    return tokens


def _username_of(identifier: str) -> str:
    return cognito_sign_in.username_of(identifier)
