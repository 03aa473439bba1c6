"""The passkeys' relying party `make deploy` gives the stack (infra/relying_party.py): the
deployer's value wins, a custom domain the stack has is kept, else the API's host."""
from __future__ import annotations

import pytest

from infra import relying_party
from infra.errors import DeployError

API = "abc123defg.execute-api.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(("current", "given", "expected"), [
    ("", None, API),  # a first deploy
    ("old123defg.execute-api.eu-west-1.amazonaws.com", None, API),  # the API re-created
    (API, None, API),  # a redeploy
    ("comm-it.example.com", None, "comm-it.example.com"),  # a custom domain, kept
    ("comm-it.example.com", API, API),  # given: wins
    ("", "comm-it.example.com", "comm-it.example.com"),
])
def test_the_deployers_value_wins_a_custom_domain_is_kept_else_the_apis_host(
        current, given, expected):
    assert relying_party.wanted(current, given, API) == expected


def test_the_host_is_read_from_chalices_url_of_the_api():
    assert relying_party.host(f"https://{API}/dev/") == API


@pytest.mark.parametrize("given", ["https://example.com", "example.com/app", "example.com:443",
                                   "192.0.2.10", "::1", "Example.com", "", "a" * 60 + ".com"])
def test_a_given_relying_party_that_is_not_a_host_name_is_refused_before_anything_changes(
        given):
    with pytest.raises(DeployError, match="host name alone"):
        relying_party.check_given(given)


def test_a_host_name_or_nothing_given_is_accepted():
    relying_party.check_given("comm-it.example.com")
    relying_party.check_given(API)
    relying_party.check_given(None)


def test_the_stack_is_updated_only_when_its_relying_party_is_not_the_one_wanted():
    updates: list[str] = []
    said: list[str] = []
    assert relying_party.settle("", None, API, updates.append, said.append) is True
    assert relying_party.settle(API, None, API, updates.append, said.append) is False
    assert relying_party.settle("comm-it.example.com", None, API, updates.append,
                                said.append) is False
    assert relying_party.settle(None, None, API, updates.append, said.append) is False
    assert updates == [API]
    assert said[0].startswith(f"Passkeys: relying party {API} (the API host; the stack has none)")
    assert "a custom domain, kept" in said[2]
    assert "no PasskeyRelyingPartyId parameter" in said[3]
