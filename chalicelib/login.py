"""Logging in, end to end: Cognito's tokens, then the "user authenticated" event.

A person logs in with their username or their verified email address, in any case
(the pool's usernames ignore case; addresses are stored in lower case). An address
becomes the username of the one confirmed account that verified it; anything
else goes to Cognito as typed, so an unknown address gets the same answer as a
wrong password.
"""
from __future__ import annotations

from typing import Any

from chalicelib import cognito_sign_in, user_events
from chalicelib.tokens import verify_id_token


def authenticate(username: str, password: str) -> dict[str, Any]:
    # Stamped before Cognito reads the attributes the token will carry: a rename committed
    # meanwhile is stamped later, so this snapshot never counts as newer than it.
    at = user_events.now_iso()
    tokens = cognito_sign_in.log_in(_username_of(username), password)
    # The claims (sub, name, email) come from the token Cognito just issued;
    # verifying it costs one cached key lookup and keeps one way to read tokens.
    claims = verify_id_token(tokens["idToken"])
    user_events.publish(user_events.UserAuthenticated.from_claims(claims, at=at))
    return tokens


def _username_of(identifier: str) -> str:
    return cognito_sign_in.username_of(identifier)
