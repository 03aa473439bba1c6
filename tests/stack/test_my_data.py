"""Your data in AWS (chalicelib/my_data.py), Download all my data (my_data_export.py) and
Check my access (my_access.py) against the local AWS, whose IAM enforces the role.

What the pipeline would have written is written here with the app's own keys: two
versions of the profile document, the record, two versions of the name parameter.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from typing import Any

import pytest

from chalicelib import my_access, my_data
from tests.helpers import post
from tests.stack.helpers import assert_error, bearer, fetch_link, sub_of, upload_file
from tests.stack.test_my_security import deliver_sign_ins

pytestmark = pytest.mark.usefixtures("no_cached_credentials")


@pytest.fixture
def dev(local_aws: Any, stack: dict[str, str]) -> Any:
    return lambda service: local_aws.session().client(service,
                                                      endpoint_url=stack["AWS_ENDPOINT_URL"])


@pytest.fixture
def someone(client: Any, register: Any, dev: Any, stack: dict[str, str]) -> Any:
    def make() -> dict[str, Any]:
        who = register(name="Ada Lovelace")
        deliver_sign_ins(client)  # the log-in's session and line (record_sign_in)
        sub = sub_of(who)
        s3 = dev("s3")
        for name in ("Ada", "Ada Lovelace"):
            s3.put_object(Bucket=stack["USERS_BUCKET_NAME"], Key=f"app/{sub}/profile.json",
                          Body=json.dumps({"sub": sub, "name": name}).encode())
        dev("dynamodb").put_item(TableName=stack["USERS_TABLE_NAME"], Item={
            "sub": {"S": sub}, "name": {"S": "Ada Lovelace"}, "login_count": {"N": "2"}})
        for name in ("Ada", "Ada Lovelace"):
            dev("ssm").put_parameter(Name=f"/comm-it/local/users/{sub}/name", Value=name,
                                     Type="String", Overwrite=True)
        return who

    return make


def call(client: Any, who: dict[str, Any], path: str) -> Any:
    return post(client, path, {"accessToken": who["accessToken"]}, bearer(who))


def test_every_place_is_a_row_with_the_values_the_services_hold(client, someone, stack):
    who = someone()
    sub = sub_of(who)
    upload_file(client, who, "notes.txt", b"hello")
    response = call(client, who, "/api/account/data")
    assert response.status_code == 200, response.body
    rows = {(r["service"], r["resource"].split(",")[0]): r for r in response.json_body["places"]}
    table = rows[("Amazon DynamoDB", f"Table {stack['USERS_TABLE_NAME']}")]
    assert table["resource"].endswith(f"key sub = {sub}")
    assert set(table["holds"]) == {f"sub: {sub}", "name: Ada Lovelace", "login_count: 2"}
    assert table["readWith"] == my_data.YOUR_CREDENTIALS
    [profile] = [r for r in response.json_body["places"]
                 if r["resource"] == (f"Bucket {stack['USERS_BUCKET_NAME']}, "
                                      f"key app/{sub}/profile.json")]
    assert profile["holds"] == [f"{len(json.dumps({'sub': sub, 'name': 'Ada Lovelace'}))} bytes, "
                                "2 version(s) (1 older)"]
    assert profile["stays"].startswith("Older versions 30 days after they are replaced")
    assert f"tombstones/{sub}.json" in profile["stays"]
    texts = [r["holds"] for r in response.json_body["places"] if r["service"] == "Amazon S3"]
    assert any("2 version(s) (1 older)" in h[0] for h in texts)
    assert ["1 file(s), 5 bytes", "notes.txt: 5 bytes"] in texts
    parameter = [r for r in response.json_body["places"] if "Parameter Store" in r["service"]][0]
    assert parameter["resource"] == f"Parameter /comm-it/local/users/{sub}/name"
    assert parameter["holds"] == ["value: Ada Lovelace", "2 version(s)"]
    pool = rows[("Amazon Cognito user pool", f"User pool {stack['USER_POOL_ID']}")]
    assert f"username {who['username']}" in pool["resource"]
    assert "name: Ada Lovelace" in pool["holds"] and pool["readWith"] == my_data.YOUR_ACCESS_TOKEN
    assert "mfa: (none)" in pool["holds"]  # no two-step: said, not an empty value
    logs = rows[("Amazon CloudWatch Logs", "Log groups /aws/lambda/comm-it-local")]
    assert logs["stays"] == "30 days." and logs["readWith"] == my_data.NOT_READ
    assert "tombstone" in table["stays"]
    security = rows[("Amazon DynamoDB", f"Table {stack['SECURITY_TABLE_NAME']}")]
    assert security["resource"].endswith(f"keys security#{sub} and recovery#{sub}")
    assert security["holds"][0] == "1 signed-in session(s): device, IP, started, last active"
    assert "1 line(s) of activity: what, when, device, IP" in security["holds"]
    assert security["readWith"] == my_data.APP_ROLE
    assert "goes when you delete your account" in security["stays"]


def test_the_zip_holds_everything_the_services_hold(client, someone, dev, stack):
    who = someone()
    sub = sub_of(who)
    files = {f"f{i}.bin": bytes([i]) * (1000 + i) for i in range(3)}
    for name, data in files.items():
        assert upload_file(client, who, name, data).status_code == 201
    response = call(client, who, "/api/account/data/export")
    assert response.status_code == 200, response.body
    answer = response.json_body
    assert answer["fileName"] == f"comm-it-{who['username']}.zip"
    status, headers, body = fetch_link(answer["url"])
    assert status == 200 and f'filename="{answer["fileName"]}"' in headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert sorted(archive.namelist()) == ["data.json"] + [f"files/{n}" for n in sorted(files)]
    for name, data in files.items():
        assert archive.read(f"files/{name}") == data
    data = json.loads(archive.read("data.json"))
    assert data["files"]["files"] == [{"name": n, "size": len(d), "inArchive": f"files/{n}",
                                       "sha256": hashlib.sha256(d).hexdigest()}
                                      for n, d in sorted(files.items())]
    item = dev("dynamodb").get_item(TableName=stack["USERS_TABLE_NAME"], Key={"sub": {"S": sub}})
    assert data["dynamodb"]["item"] == {"sub": sub, "name": "Ada Lovelace", "login_count": 2}
    assert item["Item"]["login_count"] == {"N": "2"}
    assert data["profile"]["document"] == {"sub": sub, "name": "Ada Lovelace"}
    assert [v["document"] for v in data["profile"]["olderVersions"]] == [
        {"sub": sub, "name": "Ada"}]
    versions = dev("s3").list_object_versions(Bucket=stack["USERS_BUCKET_NAME"],
                                              Prefix=f"app/{sub}/profile.json")["Versions"]
    assert sorted(v["versionId"] for v in data["profile"]["versions"]) == \
        sorted(v["VersionId"] for v in versions)
    history = dev("ssm").get_parameter_history(Name=f"/comm-it/local/users/{sub}/name")
    assert [h["value"] for h in data["parameter"]["history"]] == \
        [h["Value"] for h in history["Parameters"]] == ["Ada", "Ada Lovelace"]
    assert data["parameter"]["name"] == f"/comm-it/local/users/{sub}/name"
    assert data["cognito"]["username"] == who["username"]
    assert data["cognito"]["attributes"]["sub"] == sub
    assert data["cognito"]["attributes"]["email"] == f"{who['username']}@example.com"
    assert data["identity"]["identityId"].startswith(stack["AWS_REGION"] + ":")
    assert [a["kind"] for a in data["security"]["activity"]] == ["Signed in"]
    assert len(data["security"]["sessions"]) == 1  # the someone() fixture's first session
    assert data["security"]["recoveryCodesLeft"] == 0
    # One format for every time it holds (the events', chalicelib/user_events.py now_iso).
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", data["exportedAt"])
    # The archive is not one of the person's files.
    listed = client.http.get("/api/account/files", headers=bearer(who)).json_body["files"]
    assert sorted(f["name"] for f in listed) == sorted(files)


def test_the_zip_names_every_file_safely_however_it_was_named_in_s3(client, someone, stack):
    """Written with the person's own credentials, around the app's name rules: each entry is a
    plain file under files/ on every common extractor, and data.json says which is which."""
    from chalicelib.file_names import archive_names
    from tests.stack.helpers import Person, credentials_for

    who = someone()
    me = Person(who, credentials_for(client, who), stack)
    stored = {"..\\..\\evil.txt": b"1", "tab\tand bell\x07.txt": b"2", "CON": b"3",
              "a/b": b"4", "A/B": b"5", "what?.txt": b"6"}
    for name, data in stored.items():
        me.s3.put_object(Bucket=me.bucket, Key=me.file(name), Body=data)
    response = call(client, who, "/api/account/data/export")
    assert response.status_code == 200, response.body
    archive = zipfile.ZipFile(io.BytesIO(fetch_link(response.json_body["url"])[2]))
    entries = {e: archive.read(e) for e in archive.namelist() if e != "data.json"}
    assert sorted(entries) == sorted(f"files/{e}" for e in archive_names(sorted(stored)).values())
    assert all(e.count("/") == 1 and "\\" not in e and ".." not in e and e.isprintable()
               for e in entries)
    assert len({e.casefold() for e in entries}) == len(stored)
    listed = json.loads(archive.read("data.json"))["files"]["files"]
    assert {f["name"]: entries[f["inArchive"]] for f in listed} == stored


def test_check_my_access_allows_your_own_and_denies_anothers(client, someone):
    who = someone()
    sub = sub_of(who)
    response = call(client, who, "/api/account/access-check")
    assert response.status_code == 200, response.body
    results = response.json_body["results"]
    assert all(r["asExpected"] for r in results), results
    assert [r["outcome"] for r in results] == ["allowed"] * 4 + ["denied"] * 4
    assert {r["code"] for r in results[4:]} <= {"AccessDenied", "AccessDeniedException"}
    assert all(sub not in r["request"] or my_access.NOBODY not in r["request"] for r in results)
    assert sum(my_access.NOBODY in r["request"] for r in results) == 3
    policy = response.json_body["policy"]
    assert any(f"app/{sub}/profile.json" in line for line in policy)
    assert len(policy) == len(my_access.ROLE_IN_WORDS) + 1


def test_the_routes_need_a_token_and_a_matching_access_token(client, someone):
    who, other = someone(), someone()
    for path in ("/api/account/data", "/api/account/data/export", "/api/account/access-check"):
        assert post(client, path, {"accessToken": who["accessToken"]}).status_code == 401
    response = post(client, "/api/account/data", {"accessToken": other["accessToken"]},
                    bearer(who))
    assert_error(response, 403, "TokenMismatch")


@pytest.mark.parametrize("path", ["/api/account/data", "/api/account/data/export",
                                  "/api/account/access-check"])
def test_aws_out_of_reach_is_a_503_and_a_refusal_a_403_never_a_500(client, someone, path,
                                                                 monkeypatch):
    from botocore.exceptions import ClientError, EndpointConnectionError

    who = someone()

    def unreachable(self, service):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(my_data.AsPerson, "__call__", unreachable)
    assert_error(call(client, who, path), 503, "ServiceUnavailable")

    def refused(self, service):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetObject")

    monkeypatch.setattr(my_data.AsPerson, "__call__", refused)
    if path == "/api/account/access-check":  # a refusal there is an answer, not an error
        assert all(r["outcome"] == "denied" for r in call(client, who, path).json_body["results"])
    else:
        assert_error(call(client, who, path), 403, "AccessDenied")


def test_stale_credentials_are_replaced_once(client, someone, monkeypatch):
    from botocore.exceptions import ClientError

    who = someone()
    original, failures = my_data.AsPerson.__call__, []

    def stale_once(self, service):
        if not failures:
            failures.append(service)
            raise ClientError({"Error": {"Code": "ExpiredToken", "Message": "old"}}, "GetItem")
        return original(self, service)

    monkeypatch.setattr(my_data.AsPerson, "__call__", stale_once)
    response = call(client, who, "/api/account/access-check")
    assert response.status_code == 200, response.body
    assert failures and all(r["asExpected"] for r in response.json_body["results"])


def test_twenty_files_of_a_mib_make_one_zip_past_api_gateways_limit_streamed(
        client, someone, dev, stack, monkeypatch):
    """Larger than API Gateway's 10 MB answer: the answer is a link. The archive is never
    held whole in memory: it rolls over from memory to a temporary file, and each file
    passes from S3 into it in chunks of at most CHUNK_BYTES."""
    import os
    import tempfile

    from botocore.response import StreamingBody

    from chalicelib import my_data_export

    spools, reads = [], []

    class Spool(tempfile.SpooledTemporaryFile):
        def __exit__(self, *exc):  # the archive's, not the local AWS's (werkzeug spools too)
            if self._max_size == my_data_export.SPOOL_BYTES:
                spools.append(self._rolled)
            return super().__exit__(*exc)

    original_read = StreamingBody.read

    def read(self, amt=None):
        reads.append(amt)
        return original_read(self, amt)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Spool)
    monkeypatch.setattr(StreamingBody, "read", read)
    who = someone()
    sub = sub_of(who)
    files = {f"big{i:02}.bin": os.urandom(1024 * 1024) for i in range(20)}  # incompressible
    for name, data in files.items():
        dev("s3").put_object(Bucket=stack["USERS_BUCKET_NAME"], Key=f"users/{sub}/files/{name}",
                             Body=data)
    reads.clear()
    response = call(client, who, "/api/account/data/export")
    assert response.status_code == 200, response.body
    assert len(response.body) < 10_000  # a link, not the archive
    assert response.json_body["size"] > 20 * 1024 * 1024
    assert spools == [True], "the archive stayed in memory"
    file_reads = [amt for amt in reads if amt is not None]
    assert len(file_reads) >= 20 * (1024 * 1024 // my_data_export.CHUNK_BYTES)
    assert max(file_reads) <= my_data_export.CHUNK_BYTES
    status, _, body = fetch_link(response.json_body["url"])
    assert status == 200 and len(body) == response.json_body["size"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    data = json.loads(archive.read("data.json"))
    assert {f["name"]: f["sha256"] for f in data["files"]["files"]} == \
        {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}
    assert all(archive.read(f"files/{n}") == d for n, d in files.items())


def test_archives_are_paused_after_three_in_a_row_with_the_wait_said(client, someone):
    """Each archive is a new ~20 MiB version kept 30 days: a person makes 3 at once, then
    waits an hour, doubling (chalicelib/attempts.py EXPORTS)."""
    who = someone()
    for _ in range(3):
        assert call(client, who, "/api/account/data/export").status_code == 200
    response = call(client, who, "/api/account/data/export")
    assert response.status_code == 429, response.body
    assert response.json_body["error"] == "TooManyAttempts"
    assert "a new archive can be made in 1 hour" in response.json_body["message"]
    assert response.headers["Retry-After"] == "3600"
