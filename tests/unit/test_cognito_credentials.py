"""The person's temporary AWS credentials (chalicelib/cognito_credentials.py): one typed
value, and the cache that reuses it while it outlives what the caller needs."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from chalicelib import cognito_credentials
from chalicelib.cognito_credentials import Credentials


def credentials(expires_at: float, key: str = "ASIAKEY") -> Credentials:
    return Credentials(identity_id="eu-west-1:id", access_key_id=key, secret_key="SECRET",
                       session_token="SESSION", expires_at=expires_at)


@pytest.fixture
def exchanges() -> list[str]:
    """Every exchange at the identity pool (which answers credentials living an hour), and
    every ask whether a session is live ("live? <token>")."""
    return []


@pytest.fixture
def kept(exchanges: list[str]) -> cognito_credentials.KeptCredentials:
    def exchange(id_token: str) -> Credentials:
        exchanges.append(id_token)
        made = [c for c in exchanges if not c.startswith("live? ")]
        return credentials(time.time() + 3600, key=f"ASIA{len(made)}")

    # Whether the session has ended is asked of the security table (tests/stack).
    return cognito_credentials.KeptCredentials(
        exchange, lambda id_token: exchanges.append(f"live? {id_token}"))


def test_the_answer_says_whose_they_are_and_when_they_expire_and_holds_no_key():
    body = credentials(0.0).as_json()
    assert body == {"identityId": "eu-west-1:id", "expiration": "1970-01-01T00:00:00+00:00"}
    assert not {"ASIAKEY", "SECRET", "SESSION"} & set(body.values())
    assert datetime.fromisoformat(body["expiration"]) == datetime(1970, 1, 1, tzinfo=timezone.utc)


def test_their_repr_never_shows_the_secret_or_the_session_token():
    shown = repr(credentials(0.0)) + str(credentials(0.0))
    assert "SECRET" not in shown and "SESSION" not in shown and "eu-west-1:id" in shown


def test_fresh_credentials_are_reused_while_they_outlive_what_is_asked(kept, exchanges):
    first = kept.fresh("token-a", outliving=660)
    assert kept.fresh("token-a", outliving=660) is first
    assert exchanges == ["token-a", "live? token-a"]  # reused, once its session is known live


def test_credentials_that_would_not_outlive_what_is_asked_are_exchanged_again(kept, exchanges):
    kept.fresh("token-a", outliving=660)
    again = kept.fresh("token-a", outliving=3700)  # more than they have left
    assert exchanges == ["token-a", "token-a"] and again.access_key_id == "ASIA2"


def test_each_id_token_has_its_own_credentials_and_forget_drops_one(kept):
    a = kept.fresh("token-a", outliving=60)
    b = kept.fresh("token-b", outliving=60)
    assert a.access_key_id != b.access_key_id
    kept.forget("token-a")
    assert kept.fresh("token-b", outliving=60) is b
    assert kept.fresh("token-a", outliving=60).access_key_id == "ASIA3"


def test_the_cache_keeps_no_more_than_its_limit_and_never_a_token(kept):
    kept.size = 3
    for number in range(5):
        kept.fresh(f"token-{number}", outliving=60)
    assert len(kept._kept) == 3
    assert not any("token" in key for key in kept._kept)
