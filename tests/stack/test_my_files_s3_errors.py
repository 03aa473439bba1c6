"""S3's refusals and failures on your files (chalicelib/my_files.py) become clear
answers: IAM's AccessDenied a 403, a refused profile document told apart from a
missing one, anything else a 503, never a 500.
"""
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib import acting_as
from tests.stack.helpers import FILES, PROFILE, Refusing, assert_error, bearer, sub_of


pytestmark = pytest.mark.usefixtures("no_cached_credentials")


@pytest.mark.parametrize("method, path, code", [
    ("GET", FILES, "AccessDenied"), ("POST", FILES, "AccessDenied"),
    ("DELETE", f"{FILES}/a.txt", "AccessDenied"), ("GET", PROFILE, "403"),  # HEAD: no body
])
def test_access_denied_by_iam_is_a_clear_403(client, register, monkeypatch, method, path, code):
    person = register()
    monkeypatch.setattr(acting_as, "client_as", lambda service, credentials: Refusing(code))
    body = json.dumps({"name": "a.txt", "content": "aGk="}) if method == "POST" else b""
    response = client.http.request(method, path, body=body,
                                   headers={**bearer(person), "Content-Type": "application/json"})
    message = assert_error(response, 403, "AccessDenied")
    assert "access denied" in message


class HeadRefused:
    """S3 as AWS answers a caller without s3:ListBucket on the key: HEAD is 403 whether
    the object exists or not; a listing of exactly that key shows `keys` (a policy that
    grants it). Everything else is the real S3."""

    def __init__(self, real: Any, keys: list[str]):
        self.real, self.keys = real, keys

    def head_object(self, **kwargs):
        raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    def list_objects_v2(self, Prefix: str, **kwargs):
        return {"Contents": [{"Key": key} for key in self.keys if key.startswith(Prefix)]}

    def __getattr__(self, operation: str):
        return getattr(self.real, operation)


@pytest.mark.parametrize("archived, status, code", [(False, 404, "NotArchivedYet"),
                                                    (True, 403, "AccessDenied")])
def test_a_403_on_the_profile_document_is_told_apart_by_listing_its_key(
        client, register, monkeypatch, archived, status, code):
    """Missing (the listing is empty) -> 404; there but refused -> IAM speaking, 403."""
    person = register()
    keys = [f"app/{sub_of(person)}/profile.json"] if archived else []
    real = acting_as.client_as
    monkeypatch.setattr(acting_as, "client_as",
                        lambda service, credentials: HeadRefused(real(service, credentials), keys))
    assert_error(client.http.get(PROFILE, headers=bearer(person)), status, code)


def test_s3_failing_otherwise_is_a_503_not_a_500(client, register, monkeypatch):
    person = register()
    monkeypatch.setattr(acting_as, "client_as",
                        lambda service, credentials: Refusing("InternalError"))
    assert_error(client.http.get(FILES, headers=bearer(person)), 503, "ServiceUnavailable")


class Unreachable:
    """An S3 that does not answer (the local AWS stopped, a network outage)."""

    def __getattr__(self, operation: str):
        from botocore.exceptions import EndpointConnectionError

        def fail(**kwargs):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        return fail


def test_s3_not_answering_is_a_503_that_says_so(client, register, monkeypatch):
    person = register()
    monkeypatch.setattr(acting_as, "client_as", lambda service, credentials: Unreachable())
    message = assert_error(client.http.get(FILES, headers=bearer(person)), 503,
                           "ServiceUnavailable")
    assert "did not answer" in message
