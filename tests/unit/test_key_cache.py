"""chalicelib.tokens.KeyCache: the user pool's signing keys as last fetched, given its fetch and
clock (no AWS, no network): kept KEYS_TTL_SECONDS; an unknown kid (a new key, or a forgery) is
fetched for at most once a minute; an outage of the key endpoint keeps the keys in hand."""
from __future__ import annotations

import pytest

from chalicelib import tokens
from chalicelib.errors import Unauthorized

URL = "https://cognito-idp.eu-west-1.amazonaws.com/pool/.well-known/jwks.json"


class Endpoint:
    """The JWKS endpoint: its keys, whether it answers, and every fetch."""

    def __init__(self, keys: dict[str, str]) -> None:
        self.keys, self.up, self.fetches = keys, True, 0

    def fetch(self, url: str) -> dict[str, str]:
        assert url == URL
        self.fetches += 1
        if not self.up:
            raise Unauthorized("Your session could not be checked. Please log in again.")
        return dict(self.keys)


def cache_at(now: list[float], endpoint: Endpoint) -> tokens.KeyCache:
    return tokens.KeyCache(endpoint.fetch, clock=lambda: now[0])


def keys_in_hand() -> tuple[list[float], Endpoint, tokens.KeyCache]:
    """A clock, an endpoint with key k1, and a cache that has fetched it once."""
    now, endpoint = [1000.0], Endpoint({"k1": "key one"})
    cache = cache_at(now, endpoint)
    assert cache.key(URL, "k1") == "key one"
    return now, endpoint, cache


def test_keys_are_fetched_once_and_kept_for_their_time_to_live():
    now, endpoint, cache = keys_in_hand()
    assert [cache.key(URL, "k1") for _ in range(4)] == ["key one"] * 4
    assert endpoint.fetches == 1
    endpoint.keys = {"k1": "key one, rotated"}
    now[0] += tokens.KEYS_TTL_SECONDS - 1
    assert cache.key(URL, "k1") == "key one"
    now[0] += 2
    assert cache.key(URL, "k1") == "key one, rotated"
    assert endpoint.fetches == 2


def test_unknown_kids_fetch_at_most_once_a_minute_and_a_new_key_is_found():
    now, endpoint, cache = keys_in_hand()
    now[0] += tokens.MIN_REFETCH_SECONDS + 1
    assert [cache.key(URL, f"forged-{i}") for i in range(10)] == [None] * 10
    assert endpoint.fetches == 2  # one for the ten, not ten
    endpoint.keys["k2"] = "key two"  # Cognito adds a key
    assert cache.key(URL, "k2") is None  # within the minute: not fetched again
    now[0] += tokens.MIN_REFETCH_SECONDS + 1
    assert cache.key(URL, "k2") == "key two"
    assert endpoint.fetches == 3


def test_an_outage_keeps_the_keys_in_hand_and_without_keys_refuses():
    now, endpoint, cache = keys_in_hand()
    endpoint.up = False
    now[0] += tokens.KEYS_TTL_SECONDS + 1
    assert cache.key(URL, "k1") == "key one"  # the fetch failed: nobody is logged out
    assert endpoint.fetches == 2
    assert cache.key(URL, "k1") == "key one"  # and the next try waits a minute
    assert endpoint.fetches == 2

    with pytest.raises(Unauthorized):
        cache_at(now, endpoint).key(URL, "k1")  # a container with no keys yet
