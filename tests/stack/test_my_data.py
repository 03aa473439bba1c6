"""Your data in AWS (chalicelib/my_data.py), Download all my data (my_data_export.py) and
Check my access (my_access.py) against the local AWS, whose IAM enforces the role.

What the pipeline would have written is written here with the app's own keys: two
versions of the profile document, the record, two versions of the name parameter.
"""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import pytest

from chalicelib import my_access, my_data
from tests.helpers import assert_error, bearer, fetch_link, post, sub_of, upload_file

pytestmark = pytest.mark.usefixtures("no_cached_credentials")


@pytest.fixture(scope="module")
def stack(module_stack: dict[str, str]) -> dict[str, str]:
    return module_stack


@pytest.fixture
def dev(local_aws: Any, stack: dict[str, str]) -> Any:
    return lambda service: local_aws.session().client(service, endpoint_url=stack["AWS_ENDPOINT_URL"])


@pytest.fixture
def someone(register: Any, dev: Any, stack: dict[str, str]) -> Any:
    def make() -> dict[str, Any]:
        who = register(name="Ada Lovelace")
        sub = sub_of(who)
        s3 = dev("s3")
        for name in ("Ada", "Ada Lovelace"):
            s3.put_object(Bucket=stack["USERS_BUCKET_NAME"], Key=f"users/{sub}/profile.json",
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
                 if r["resource"] == f"Bucket {stack['USERS_BUCKET_NAME']}, key users/{sub}/profile.json"]
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
    logs = rows[("Amazon CloudWatch Logs", "Log groups /aws/lambda/comm-it-local")]
    assert logs["stays"] == "30 days." and logs["readWith"] == my_data.NOT_READ
    assert all("tombstone" in r["stays"] for r in response.json_body["places"]
               if r["service"] == "Amazon DynamoDB")


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
    assert data["files"]["files"] == [{"name": n, "size": len(d),
                                       "sha256": hashlib.sha256(d).hexdigest()}
                                      for n, d in sorted(files.items())]
    item = dev("dynamodb").get_item(TableName=stack["USERS_TABLE_NAME"], Key={"sub": {"S": sub}})
    assert data["dynamodb"]["item"] == {"sub": sub, "name": "Ada Lovelace", "login_count": 2}
    assert item["Item"]["login_count"] == {"N": "2"}
    assert data["profile"]["document"] == {"sub": sub, "name": "Ada Lovelace"}
    assert [v["document"] for v in data["profile"]["olderVersions"]] == [{"sub": sub, "name": "Ada"}]
    versions = dev("s3").list_object_versions(Bucket=stack["USERS_BUCKET_NAME"],
                                              Prefix=f"users/{sub}/profile.json")["Versions"]
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
    # The archive is not one of the person's files.
    listed = client.http.get("/api/account/files", headers=bearer(who)).json_body["files"]
    assert sorted(f["name"] for f in listed) == sorted(files)


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
    assert any(f"users/{sub}/profile.json" in line for line in policy)
    assert len(policy) == len(my_access.ROLE_IN_WORDS) + 1


def test_the_routes_need_a_token_and_a_matching_access_token(client, someone):
    who, other = someone(), someone()
    for path in ("/api/account/data", "/api/account/data/export", "/api/account/access-check"):
        assert post(client, path, {"accessToken": who["accessToken"]}).status_code == 401
    response = post(client, "/api/account/data", {"accessToken": other["accessToken"]},
                    bearer(who))
    assert_error(response, 403, "TokenMismatch")
