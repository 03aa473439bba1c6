"""Logging in, end to end: Cognito's tokens, then the "user authenticated" event."""
from __future__ import annotations

from typing import Any

from chalicelib import cognito, user_events
from chalicelib.tokens import verify_id_token


def authenticate(username: str, password: str) -> dict[str, Any]:
    tokens = cognito.log_in(username, password)
    # The claims (sub, name, email) come from the token Cognito just issued;
    # verifying it costs one cached key lookup and keeps one way to read tokens.
    claims = verify_id_token(tokens["idToken"])
    user_events.publish(user_events.UserAuthenticated.from_claims(claims))
    return tokens
