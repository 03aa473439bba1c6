"""Your files are reached as the person (chalicelib/my_files.py): every S3 call and
link is signed with the credentials the identity pool gave that person, never the
app's own; those credentials are reused while fresh and never past their expiry.
"""
from __future__ import annotations

import time
import urllib.parse

import pytest

from chalicelib import acting_as, my_files
from tests.stack.helpers import (PROFILE, Refusing, bearer, bucket_of, delete_file, listed_files,
                                 sub_of, upload_file)


pytestmark = pytest.mark.usefixtures("no_cached_credentials")


# --- Signed as the person, never as the app -------------------------------------------------------

def test_every_s3_call_and_link_is_signed_with_the_persons_credentials(
        client, register, s3, stack, monkeypatch):
    import botocore.auth

    from chalicelib import cognito_credentials

    person = register()
    s3.put_object(Bucket=bucket_of(stack), Key=f"app/{sub_of(person)}/profile.json", Body=b"{}")
    given: list[dict] = []
    real_exchange = cognito_credentials.kept().exchange
    monkeypatch.setattr(cognito_credentials.kept(), "exchange",
                        lambda token: given.append(real_exchange(token)) or given[-1])
    signed_with: list[str] = []
    real_add_auth = botocore.auth.SigV4Auth.add_auth

    def spy(self, request):
        if self._service_name == "s3":
            signed_with.append(self.credentials.access_key)
        return real_add_auth(self, request)

    monkeypatch.setattr(botocore.auth.SigV4Auth, "add_auth", spy)
    upload_file(client, person, "mine.txt")
    body = listed_files(client, person)
    assert client.http.get(PROFILE, headers=bearer(person)).status_code == 200
    delete_file(client, person, "mine.txt")
    monkeypatch.undo()

    person_keys = {credentials.access_key_id for credentials in given}
    assert len(signed_with) >= 6 and set(signed_with) == person_keys, signed_with
    assert stack["AWS_ACCESS_KEY_ID"] not in person_keys  # the app's own key: never
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["files"][0]["url"]).query)
    assert query["X-Amz-Credential"][0].split("/")[0] in person_keys
    assert query["X-Amz-Security-Token"][0] in {c.session_token for c in given}


# --- The person's credentials: reused while fresh, never past their expiry ------------------------

class Exchanges:
    """Every identity-pool exchange (the ID tokens), credentials living `lifetime` s."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lifetime = 3600


@pytest.fixture
def exchanges(monkeypatch) -> Exchanges:
    from chalicelib import cognito_credentials

    seen = Exchanges()
    real = cognito_credentials.kept().exchange

    def counting(id_token: str) -> cognito_credentials.Credentials:
        seen.calls.append(id_token)
        return real(id_token)._replace(expires_at=time.time() + seen.lifetime)

    monkeypatch.setattr(cognito_credentials.kept(), "exchange", counting)
    return seen


def test_credentials_that_outlive_a_link_are_reused_for_the_next_request(client, register,
                                                                         exchanges):
    person = register()
    listed_files(client, person)
    body = listed_files(client, person)
    assert len(exchanges.calls) == 1
    assert body["expiresIn"] == my_files.URL_TTL_SECONDS


def test_credentials_about_to_expire_are_not_reused_and_links_end_with_them(
        client, register, exchanges):
    exchanges.lifetime = 120  # less than a link's life plus a minute
    person = register()
    listed_files(client, person)
    upload_file(client, person, "a.txt")
    body = listed_files(client, person)
    assert len(exchanges.calls) == 3
    assert 100 <= body["expiresIn"] <= 120  # the link dies with its credentials, not later
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["files"][0]["url"]).query)
    assert query["X-Amz-Expires"] == [str(body["expiresIn"])]


def test_each_person_gets_their_own_credentials(client, register, exchanges):
    alice, bob = register(), register()
    listed_files(client, alice)
    listed_files(client, bob)
    assert exchanges.calls == [alice["idToken"], bob["idToken"]]


def test_credentials_s3_calls_expired_are_exchanged_again_once(client, register, monkeypatch,
                                                               exchanges):
    person = register()
    real = acting_as.client_as
    refusing_once = iter([Refusing("ExpiredToken")])
    monkeypatch.setattr(acting_as, "client_as", lambda service, credentials:
                        next(refusing_once, None) or real(service, credentials))
    assert listed_files(client, person)["files"] == []
    assert len(exchanges.calls) == 2
