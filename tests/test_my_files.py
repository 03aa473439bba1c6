"""A person's files and profile document, reached with the person's own credentials
(chalicelib/my_files.py, the "Your files" routes of app.py), against the local AWS.

Whether IAM keeps one person out of another's prefix is proven by the local-IAM
tests; here: every route, every limit and every refusal, that names can never leave
the person's own prefix, and that every S3 call is signed with the credentials the
identity pool gave that person, never the app's own.
"""
from __future__ import annotations

import base64
import json
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from chalicelib import my_files
from chalicelib.my_files import MAX_FILE_BYTES, MAX_FILES
from tests.helpers import assert_error, post

FILES = "/api/account/files"
PROFILE = "/api/account/profile-document"


@pytest.fixture(scope="module")
def stack(module_stack: dict[str, str]) -> dict[str, str]:
    """The module shares one stack: every test here makes its own people."""
    return module_stack


@pytest.fixture(autouse=True)
def no_cached_credentials():
    my_files.forget_credentials()
    yield
    my_files.forget_credentials()


@pytest.fixture
def s3(local_aws: Any) -> Any:
    """The local AWS's S3 with the operator's keys: to look behind the app's back."""
    return local_aws.session().client("s3", endpoint_url=local_aws.endpoint)


def auth(person: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {person['idToken']}"}


def sub_of(person: dict) -> str:
    return jwt.decode(person["idToken"], options={"verify_signature": False})["sub"]


def upload(client: Any, person: dict, name: Any, data: bytes = b"hello") -> Any:
    return post(client, FILES, {"name": name, "content": base64.b64encode(data).decode()},
                auth(person))


def listed(client: Any, person: dict) -> dict:
    response = client.http.get(FILES, headers=auth(person))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def names(client: Any, person: dict) -> list[str]:
    return [item["name"] for item in listed(client, person)["files"]]


def delete(client: Any, person: dict, raw_path_name: str) -> Any:
    return client.http.delete(f"{FILES}/{raw_path_name}", headers=auth(person))


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def bucket(stack: dict[str, str]) -> str:
    return stack["USERS_BUCKET_NAME"]


# --- Listing, uploading, downloading, deleting --------------------------------------------

def test_a_new_person_has_no_files_and_is_told_the_limits(client, register):
    body = listed(client, register())
    assert body["files"] == []
    assert body["limits"] == {"maxFileBytes": 1024 * 1024, "maxFileSize": "1 MiB",
                              "maxFiles": 20, "maxNameBytes": 255}
    assert 0 < body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_an_uploaded_file_is_stored_under_the_persons_prefix_and_listed(client, register, s3,
                                                                        stack):
    person = register()
    data = bytes(range(256)) * 4  # binary, every byte value
    response = upload(client, person, "report.bin", data)
    assert response.status_code == 201, response.body
    assert json.loads(response.body)["file"]["name"] == "report.bin"

    stored = s3.get_object(Bucket=bucket(stack), Key=f"users/{sub_of(person)}/files/report.bin")
    assert stored["Body"].read() == data
    [item] = listed(client, person)["files"]
    assert (item["name"], item["size"]) == ("report.bin", len(data))
    assert item["lastModified"]


def test_the_link_of_a_file_downloads_the_same_bytes_as_an_attachment(client, register):
    person = register()
    data = b"\x00\x01 binary \xff\xfe" * 100
    assert upload(client, person, "Résumé 2026 (final).pdf", data).status_code == 201

    [item] = listed(client, person)["files"]
    status, headers, body = fetch(item["url"])
    assert status == 200 and body == data
    disposition = headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%202026%20%28final%29.pdf" in disposition
    assert 'filename="R_sum_ 2026 (final).pdf"' in disposition  # the ASCII fallback


def test_links_point_at_the_local_aws_and_say_how_long_they_last(client, register, stack):
    person = register()
    upload(client, person, "a.txt")
    body = listed(client, person)
    url = urllib.parse.urlsplit(body["files"][0]["url"])
    assert f"{url.scheme}://{url.netloc}" == stack["AWS_ENDPOINT_URL"]
    query = urllib.parse.parse_qs(url.query)
    assert int(query["X-Amz-Expires"][0]) == body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_the_upload_answer_carries_a_working_link(client, register):
    person = register()
    response = upload(client, person, "notes.txt", b"remember the milk")
    status, _, body = fetch(json.loads(response.body)["file"]["url"])
    assert (status, body) == (200, b"remember the milk")


def test_files_are_listed_by_name_ignoring_case(client, register):
    person = register()
    for name in ["b.txt", "C.txt", "a.txt", "Ä.txt"]:
        assert upload(client, person, name).status_code == 201
    assert names(client, person) == ["a.txt", "b.txt", "C.txt", "Ä.txt"]


def test_a_deleted_file_is_gone_from_the_list_and_from_s3(client, register, s3, stack):
    person = register()
    upload(client, person, "keep.txt")
    upload(client, person, "drop me.txt")
    response = delete(client, person, urllib.parse.quote("drop me.txt", safe=""))
    assert response.status_code == 200, response.body
    assert names(client, person) == ["keep.txt"]
    keys = [item["Key"] for item in s3.list_objects_v2(
        Bucket=bucket(stack), Prefix=f"users/{sub_of(person)}/").get("Contents", [])]
    assert keys == [f"users/{sub_of(person)}/files/keep.txt"]


def test_deleting_a_file_that_is_not_there_is_fine(client, register):
    person = register()
    assert delete(client, person, "never-uploaded.txt").status_code == 200


def test_a_unicode_name_round_trips_through_upload_list_and_delete(client, register):
    person = register()
    name = "日本語 ファイル 🎉 naïve.txt"
    assert upload(client, person, name).status_code == 201
    assert names(client, person) == [name]
    assert delete(client, person, urllib.parse.quote(name, safe="")).status_code == 200
    assert names(client, person) == []


def test_a_name_is_stored_in_nfc_so_the_same_name_typed_two_ways_is_one_file(client, register):
    person = register()
    decomposed = unicodedata.normalize("NFD", "café.txt")
    assert upload(client, person, decomposed).status_code == 201
    assert names(client, person) == ["café.txt"]  # composed
    assert_error(upload(client, person, "café.txt"), 409, "FileExists")
    assert delete(client, person, urllib.parse.quote(decomposed, safe="")).status_code == 200
    assert names(client, person) == []


def test_an_empty_file_is_a_file(client, register):
    person = register()
    assert upload(client, person, "empty.txt", b"").status_code == 201
    assert listed(client, person)["files"][0]["size"] == 0


# --- Limits -------------------------------------------------------------------------------------

def test_a_file_of_exactly_1_mib_is_accepted(client, register):
    person = register()
    response = upload(client, person, "max.bin", b"x" * MAX_FILE_BYTES)
    assert response.status_code == 201, response.body[:300]


def test_a_file_over_1_mib_is_refused_with_file_too_large(client, register):
    person = register()
    message = assert_error(upload(client, person, "big.bin", b"x" * (MAX_FILE_BYTES + 1)),
                       413, "FileTooLarge")
    assert message == "The file “big.bin” is larger than 1 MiB, the most one file may be."
    assert names(client, person) == []


def test_a_body_far_over_the_limit_is_refused_before_it_is_parsed(client, register):
    person = register()
    body = b'{"name": "huge.bin", "content": "' + b"A" * (3 * MAX_FILE_BYTES) + b'"}'
    message = assert_error(post(client, FILES, body, auth(person)), 413, "PayloadTooLarge")
    assert str(my_files.MAX_UPLOAD_BODY_BYTES) in message  # the route's own limit, not 16 KiB
    with pytest.raises(my_files.FileTooLarge):  # and my_files refuses it by itself too
        my_files.upload(my_files.Person("sub", "token"), body)


def test_the_21st_file_is_refused_with_too_many_files(client, register):
    person = register()
    for number in range(MAX_FILES):
        assert upload(client, person, f"file {number:02}.txt").status_code == 201
    message = assert_error(upload(client, person, "one more.txt"), 409, "TooManyFiles")
    assert "20 files" in message and "Delete one" in message
    assert len(names(client, person)) == MAX_FILES
    # Deleting one makes room again.
    assert delete(client, person, "file%2000.txt").status_code == 200
    assert upload(client, person, "one more.txt").status_code == 201


def test_uploading_a_name_that_exists_is_refused_and_the_first_file_kept(client, register):
    person = register()
    upload(client, person, "report.txt", b"first")
    message = assert_error(upload(client, person, "report.txt", b"second"), 409, "FileExists")
    assert "report.txt" in message and "Delete it first" in message
    [item] = listed(client, person)["files"]
    assert fetch(item["url"])[2] == b"first"


def test_an_upload_racing_another_with_the_same_name_is_refused_by_s3_itself(
        client, register, monkeypatch):
    """The listing saw no such file, but one arrived meanwhile: the conditional write says so."""
    person = register()
    upload(client, person, "race.txt", b"won")
    monkeypatch.setattr(my_files, "_list", lambda s3, person: [])  # it looked before the winner
    assert_error(upload(client, person, "race.txt", b"lost"), 409, "FileExists")
    monkeypatch.undo()
    [item] = listed(client, person)["files"]
    assert fetch(item["url"])[2] == b"won"


# --- Names and bodies that are refused ---------------------------------------------------------

BAD_NAMES = {
    "empty": "",
    "not text": 42,
    "missing": None,
    "slash": "a/b.txt",
    "backslash": "a\\b.txt",
    "dot dot": "..",
    "dot dot inside": "a..b",
    "dot": ".",
    "parent path": "../other/files/x.txt",
    "newline": "a\nb.txt",
    "tab": "a\tb.txt",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "right-to-left override": "invoice\u202etxt.exe",
    "leading space": " a.txt",
    "trailing space": "a.txt ",
    "too long": "a" * 256,
    "too long in UTF-8": "é" * 128,  # 256 bytes
    "lone surrogate": "\ud800.txt",
}


@pytest.mark.parametrize("case", list(BAD_NAMES))
def test_a_bad_file_name_is_refused_with_bad_file_name(client, register, case):
    person = register()
    raw = json.dumps({"name": BAD_NAMES[case], "content": "aGk="})  # \ud800 as a JSON escape
    assert_error(post(client, FILES, raw, auth(person)), 400, "BadFileName")
    assert names(client, person) == []


@pytest.mark.parametrize("name", ["a" * 255, "é" * 127, "日本" * 42, "file.tar.gz", ".profile",
                                  "name with spaces", "👩‍💻 emoji with ZWJ.txt", "%41 not %2F.txt",
                                  "C++ & <b>tags<b> 'quotes' \"double\".txt"])
def test_good_names_are_accepted_exactly(name):
    assert my_files.file_name(name) == name


@pytest.mark.parametrize("body, code", [
    (b"not json", "MalformedJSON"),
    (b"[1, 2]", "MalformedJSON"),
    (b"", "MalformedJSON"),
    (json.dumps({"name": "a.txt"}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": 12}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": "not base64!"}).encode(), "BadFileContent"),
    (json.dumps({"name": "a.txt", "content": "aGk"}).encode(), "BadFileContent"),  # no padding
])
def test_a_malformed_upload_is_refused_with_a_400(client, register, body, code):
    person = register()
    assert_error(post(client, FILES, body, auth(person)), 400, code)


# --- Never outside the person's own prefix ----------------------------------------------------

def test_path_tricks_cannot_delete_another_persons_file(client, register):
    alice, mallory = register(), register()
    upload(client, alice, "secret.txt", b"alice's")
    alice_key = f"users/{sub_of(alice)}/files/secret.txt"
    for raw in [f"..%2F..%2F{sub_of(alice)}%2Ffiles%2Fsecret.txt",
                f"%2E%2E%2F%2E%2E%2F{sub_of(alice)}%2Ffiles%2Fsecret.txt",
                urllib.parse.quote(f"../../{sub_of(alice)}/files/secret.txt", safe=""),
                urllib.parse.quote("/" + alice_key, safe=""),
                "..%5C..%5Csecret.txt", "%2E%2E", "a%00b"]:
        response = delete(client, mallory, raw)
        assert_error(response, 400, "BadFileName")
    assert names(client, alice) == ["secret.txt"]


def test_path_tricks_cannot_upload_into_another_persons_prefix(client, register, s3, stack):
    alice, mallory = register(), register()
    for name in [f"../../{sub_of(alice)}/files/planted.txt", f"../{sub_of(alice)}/profile.json"]:
        assert_error(upload(client, mallory, name, b"planted"), 400, "BadFileName")
    assert s3.list_objects_v2(Bucket=bucket(stack),
                              Prefix=f"users/{sub_of(alice)}/").get("KeyCount") == 0


def test_a_person_lists_only_their_own_files(client, register):
    alice, bob = register(), register()
    upload(client, alice, "alice.txt")
    upload(client, bob, "bob.txt")
    assert names(client, alice) == ["alice.txt"]
    assert names(client, bob) == ["bob.txt"]


# --- The profile document -------------------------------------------------------------------------

def test_the_profile_document_is_404_until_the_pipeline_has_archived_it(client, register):
    person = register()
    message = assert_error(client.http.get(PROFILE, headers=auth(person)), 404, "NotArchivedYet")
    assert "not archived yet" in message


def test_the_archived_profile_document_has_a_link_that_downloads_it(client, register, s3,
                                                                    stack):
    person = register()
    document = json.dumps({"sub": sub_of(person), "name": "Ada Lovelace"}).encode()
    s3.put_object(Bucket=bucket(stack), Key=f"users/{sub_of(person)}/profile.json",
                  Body=document, ContentType="application/json")
    response = client.http.get(PROFILE, headers=auth(person))
    assert response.status_code == 200, response.body
    body = json.loads(response.body)
    status, headers, downloaded = fetch(body["url"])
    assert (status, downloaded) == (200, document)
    assert headers["Content-Disposition"].startswith('attachment; filename="profile.json"')
    assert 0 < body["expiresIn"] <= my_files.URL_TTL_SECONDS


def test_the_profile_document_route_names_only_the_persons_own_document(client, register, s3,
                                                                        stack):
    alice, bob = register(), register()
    s3.put_object(Bucket=bucket(stack), Key=f"users/{sub_of(alice)}/profile.json", Body=b"{}")
    assert client.http.get(PROFILE, headers=auth(alice)).status_code == 200
    assert_error(client.http.get(PROFILE, headers=auth(bob)), 404, "NotArchivedYet")


# --- Signed as the person, never as the app -------------------------------------------------------

def test_every_s3_call_and_link_is_signed_with_the_persons_credentials(
        client, register, s3, stack, monkeypatch):
    import botocore.auth

    from chalicelib import cognito_credentials

    person = register()
    s3.put_object(Bucket=bucket(stack), Key=f"users/{sub_of(person)}/profile.json", Body=b"{}")
    given: list[dict] = []
    real_exchange = cognito_credentials.aws_credentials
    monkeypatch.setattr(cognito_credentials, "aws_credentials",
                        lambda token: given.append(real_exchange(token)) or given[-1])
    signed_with: list[str] = []
    real_add_auth = botocore.auth.SigV4Auth.add_auth

    def spy(self, request):
        if self._service_name == "s3":
            signed_with.append(self.credentials.access_key)
        return real_add_auth(self, request)

    monkeypatch.setattr(botocore.auth.SigV4Auth, "add_auth", spy)
    upload(client, person, "mine.txt")
    body = listed(client, person)
    assert client.http.get(PROFILE, headers=auth(person)).status_code == 200
    delete(client, person, "mine.txt")
    monkeypatch.undo()

    person_keys = {credentials["accessKeyId"] for credentials in given}
    assert len(signed_with) >= 6 and set(signed_with) == person_keys, signed_with
    assert stack["AWS_ACCESS_KEY_ID"] not in person_keys  # the app's own key: never
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["files"][0]["url"]).query)
    assert query["X-Amz-Credential"][0].split("/")[0] in person_keys
    assert query["X-Amz-Security-Token"][0] in {c["sessionToken"] for c in given}


class Refusing:
    """An S3 client on which IAM refuses everything (what AccessDenied looks like)."""

    def __init__(self, code: str = "AccessDenied"):
        self.code = code

    def __getattr__(self, operation: str):
        def refuse(**kwargs):
            raise ClientError({"Error": {"Code": self.code, "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)
        return refuse


@pytest.mark.parametrize("method, path, code", [
    ("GET", FILES, "AccessDenied"), ("POST", FILES, "AccessDenied"),
    ("DELETE", f"{FILES}/a.txt", "AccessDenied"), ("GET", PROFILE, "403"),  # HEAD: no body
])
def test_access_denied_by_iam_is_a_clear_403(client, register, monkeypatch, method, path, code):
    person = register()
    monkeypatch.setattr(my_files, "client_as", lambda service, credentials: Refusing(code))
    body = json.dumps({"name": "a.txt", "content": "aGk="}) if method == "POST" else b""
    response = client.http.request(method, path, body=body,
                                   headers={**auth(person), "Content-Type": "application/json"})
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
    keys = [f"users/{sub_of(person)}/profile.json"] if archived else []
    real = my_files.client_as
    monkeypatch.setattr(my_files, "client_as",
                        lambda service, credentials: HeadRefused(real(service, credentials), keys))
    assert_error(client.http.get(PROFILE, headers=auth(person)), status, code)


def test_s3_failing_otherwise_is_a_503_not_a_500(client, register, monkeypatch):
    person = register()
    monkeypatch.setattr(my_files, "client_as",
                        lambda service, credentials: Refusing("InternalError"))
    assert_error(client.http.get(FILES, headers=auth(person)), 503, "ServiceUnavailable")


class Unreachable:
    """An S3 that does not answer (the local AWS stopped, a network outage)."""

    def __getattr__(self, operation: str):
        from botocore.exceptions import EndpointConnectionError

        def fail(**kwargs):
            raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
        return fail


def test_s3_not_answering_is_a_503_that_says_so(client, register, monkeypatch):
    person = register()
    monkeypatch.setattr(my_files, "client_as", lambda service, credentials: Unreachable())
    message = assert_error(client.http.get(FILES, headers=auth(person)), 503, "ServiceUnavailable")
    assert "did not answer" in message


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
    real = cognito_credentials.aws_credentials

    def counting(id_token: str) -> dict:
        seen.calls.append(id_token)
        expiry = time.gmtime(time.time() + seen.lifetime)
        return {**real(id_token), "expiration": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", expiry)}

    monkeypatch.setattr(cognito_credentials, "aws_credentials", counting)
    return seen


def test_credentials_that_outlive_a_link_are_reused_for_the_next_request(client, register,
                                                                         exchanges):
    person = register()
    listed(client, person)
    body = listed(client, person)
    assert len(exchanges.calls) == 1
    assert body["expiresIn"] == my_files.URL_TTL_SECONDS


def test_credentials_about_to_expire_are_not_reused_and_links_end_with_them(
        client, register, exchanges):
    exchanges.lifetime = 120  # less than a link's life plus a minute
    person = register()
    listed(client, person)
    upload(client, person, "a.txt")
    body = listed(client, person)
    assert len(exchanges.calls) == 3
    assert 100 <= body["expiresIn"] <= 120  # the link dies with its credentials, not later
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(body["files"][0]["url"]).query)
    assert query["X-Amz-Expires"] == [str(body["expiresIn"])]


def test_each_person_gets_their_own_credentials(client, register, exchanges):
    alice, bob = register(), register()
    listed(client, alice)
    listed(client, bob)
    assert exchanges.calls == [alice["idToken"], bob["idToken"]]


def test_credentials_s3_calls_expired_are_exchanged_again_once(client, register, monkeypatch,
                                                               exchanges):
    person = register()
    real = my_files.client_as
    refusing_once = iter([Refusing("ExpiredToken")])
    monkeypatch.setattr(my_files, "client_as", lambda service, credentials:
                        next(refusing_once, None) or real(service, credentials))
    assert listed(client, person)["files"] == []
    assert len(exchanges.calls) == 2


# --- The section of the account page ----------------------------------------------------------

def test_the_account_page_includes_the_files_section_and_its_script_runs_under_the_csp(client):
    import re

    response = client.http.get("/account")
    assert response.status_code == 200
    html = response.body.decode()
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    start = html.index('<section class="files"')
    section = html[start:html.index("</script>", start)]
    assert '<label for="files-file">File</label>' in section
    assert '<input id="files-file" name="file" type="file"' in section
    assert '<button type="submit">Upload</button>' in section
    assert "Download your profile document" in section
    assert 'role="alert"' in section
    assert f'<script nonce="{nonce}">' in section and f'<style nonce="{nonce}">' in html
    assert "innerHTML" not in section  # file names are set as text, never parsed as HTML
