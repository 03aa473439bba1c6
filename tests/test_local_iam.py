"""The identity pool's credentials in the local AWS: per person, and limited by the
authenticated role's policy exactly as in AWS (local/iam.py).

Every person gets their credentials from `POST /api/auth/credentials`, then talks to
the local AWS endpoint directly, as the app (and a browser following a presigned
URL) does.
"""
from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any, Callable

import pytest

from infra import template as infra_template
from tests.helpers import post

REGION = "us-east-1"


@pytest.fixture(scope="module")
def stack(module_stack: dict[str, str]) -> dict[str, str]:
    """The module shares one stack: every test here makes its own people."""
    return module_stack


class Person:
    """Someone signed in, with the AWS credentials the app handed them."""

    def __init__(self, tokens: dict[str, Any], credentials: dict[str, str], stack: dict[str, str]):
        import jwt

        self.tokens = tokens
        self.credentials = credentials
        self.sub = jwt.decode(tokens["idToken"], options={"verify_signature": False})["sub"]
        self.bucket = stack["USERS_BUCKET_NAME"]
        self.endpoint = stack["AWS_ENDPOINT_URL"]

    def client(self, service: str = "s3", **changes: str) -> Any:
        import boto3

        keys = {"aws_access_key_id": self.credentials["accessKeyId"],
                "aws_secret_access_key": self.credentials["secretKey"],
                "aws_session_token": self.credentials["sessionToken"], **changes}
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, **keys)

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def file(self, name: str) -> str:
        return f"users/{self.sub}/files/{name}"

    @property
    def profile(self) -> str:
        return f"users/{self.sub}/profile.json"


def credentials_for(client: Any, tokens: dict[str, Any]) -> dict[str, str]:
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"Bearer {tokens['idToken']}"})
    assert response.status_code == 200, response.body
    return response.json_body


@pytest.fixture
def person(client: Any, register: Callable[..., dict], stack: dict[str, str],
           dev_s3: Any) -> Callable[[], Person]:
    """A newly registered person with credentials, whose profile the pipeline archived."""

    def make() -> Person:
        tokens = register()
        someone = Person(tokens, credentials_for(client, tokens), stack)
        # What the archive Lambda writes (the app's own keys).
        dev_s3.put_object(Bucket=someone.bucket, Key=someone.profile, Body=b'{"name": "x"}')
        return someone

    return make


@pytest.fixture
def dev_s3(local_aws: Any, stack: dict[str, str]) -> Any:
    """S3 with the app's own development keys."""
    return local_aws.session().client("s3", endpoint_url=stack["AWS_ENDPOINT_URL"])


def refused(call: Callable[[], Any], code: str = "AccessDenied") -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == code, error.value.response["Error"]


def fetch(url: str | urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# --- the role in the template -----------------------------------------------------------

def test_the_authenticated_role_grants_exactly_the_contract_and_nothing_else():
    role = infra_template.load()["Resources"]["AuthenticatedRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and "PermissionsBoundary" not in role
    (policy,) = role["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    own = "${UsersBucket.Arn}/users/${!aws:PrincipalTag/sub}"
    normalised = [{"Effect": s["Effect"],
                   "Action": sorted(s["Action"] if isinstance(s["Action"], list) else [s["Action"]]),
                   "Resource": s["Resource"], "Condition": s.get("Condition")}
                  for s in statements]
    assert normalised == [
        {"Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": {"Fn::Sub": f"{own}/profile.json"}, "Condition": None},
        {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
         "Resource": {"Fn::Sub": f"{own}/files/*"}, "Condition": None},
        {"Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": {"Fn::GetAtt": ["UsersBucket", "Arn"]},
         "Condition": {"StringLike": {"s3:prefix": ["users/${aws:PrincipalTag/sub}/files/",
                                                    "users/${aws:PrincipalTag/sub}/files/*",
                                                    "users/${aws:PrincipalTag/sub}/profile.json"]}}},
    ]
    assert all(set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"} for s in statements)


def test_the_local_role_is_the_templates_role(local_aws, stack):
    iam = local_aws.session().client("iam", endpoint_url=stack["AWS_ENDPOINT_URL"])
    identity = local_aws.session().client("cognito-identity",
                                          endpoint_url=stack["AWS_ENDPOINT_URL"])
    arn = identity.get_identity_pool_roles(IdentityPoolId=stack["IDENTITY_POOL_ID"])["Roles"]
    name = arn["authenticated"].split("/")[-1]
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    bucket = f"arn:aws:s3:::{stack['USERS_BUCKET_NAME']}"
    assert [s["Resource"] for s in document["Statement"]] == [
        f"{bucket}/users/${{aws:PrincipalTag/sub}}/profile.json",
        f"{bucket}/users/${{aws:PrincipalTag/sub}}/files/*", bucket]
    tags = identity.get_principal_tag_attribute_map(
        IdentityPoolId=stack["IDENTITY_POOL_ID"],
        IdentityProviderName=f"cognito-idp.{REGION}.amazonaws.com/{stack['USER_POOL_ID']}")
    assert tags["PrincipalTags"] == {"sub": "sub"} and tags["UseDefaults"] is False


# --- the credentials ----------------------------------------------------------------------

def test_credentials_are_the_persons_own_for_the_authenticated_role(person):
    alice, bob = person(), person()
    assert alice.credentials["accessKeyId"] != bob.credentials["accessKeyId"]
    assert alice.credentials["accessKeyId"].startswith("ASIA")
    caller = alice.client("sts").get_caller_identity()
    assert caller["Arn"].endswith(":assumed-role/comm-it-local-AuthenticatedRole/"
                                  "CognitoIdentityCredentials")


def test_credentials_expire_in_about_an_hour(person):
    expiration = datetime.fromisoformat(person().credentials["expiration"])
    left = (expiration - datetime.now(timezone.utc)).total_seconds()
    assert 3500 < left <= 3600


def test_the_same_user_gets_the_same_identity_id_every_time(client, register, stack):
    tokens = register()
    first = credentials_for(client, tokens)
    second = credentials_for(client, tokens)
    assert first["identityId"] == second["identityId"]
    assert first["accessKeyId"] != second["accessKeyId"]  # fresh credentials each time
    assert credentials_for(client, register())["identityId"] != first["identityId"]


def test_the_secret_key_is_never_logged(client, register, caplog):
    # INFO: what the app and chalice log. (botocore's DEBUG wire log prints every response
    # body, secrets included, in AWS too: it is never switched on.)
    caplog.set_level(logging.INFO)
    body = credentials_for(client, register())
    assert body["secretKey"] not in caplog.text
    assert body["sessionToken"] not in caplog.text


def test_one_persons_login_cannot_get_credentials_for_anothers_identity(client, register,
                                                                        local_aws, stack):
    from botocore.exceptions import ClientError

    alice, bob = register(), register()
    alice_id = credentials_for(client, alice)["identityId"]
    identity = local_aws.session().client("cognito-identity",
                                          endpoint_url=stack["AWS_ENDPOINT_URL"])
    provider = f"cognito-idp.{REGION}.amazonaws.com/{stack['USER_POOL_ID']}"
    with pytest.raises(ClientError) as error:
        identity.get_credentials_for_identity(IdentityId=alice_id,
                                              Logins={provider: bob["idToken"]})
    assert error.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_deleted_user_gets_no_credentials(client, register, local_aws, stack):
    tokens = register()
    local_aws.session().client("cognito-idp", endpoint_url=stack["AWS_ENDPOINT_URL"]) \
        .admin_delete_user(UserPoolId=stack["USER_POOL_ID"], Username=tokens["username"])
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"Bearer {tokens['idToken']}"})
    assert response.status_code == 401, response.body


# --- what the role allows -------------------------------------------------------------------

def test_own_profile_can_be_read(person):
    alice = person()
    body = alice.s3.get_object(Bucket=alice.bucket, Key=alice.profile)["Body"].read()
    assert body == b'{"name": "x"}'


def test_own_profile_cannot_be_overwritten_or_deleted(person):
    alice = person()
    refused(lambda: alice.s3.put_object(Bucket=alice.bucket, Key=alice.profile, Body=b"{}"))
    refused(lambda: alice.s3.delete_object(Bucket=alice.bucket, Key=alice.profile))


def test_own_files_can_be_put_got_listed_and_deleted(person):
    alice = person()
    s3, key = alice.s3, alice.file("notes & plans.txt")
    s3.put_object(Bucket=alice.bucket, Key=key, Body=b"mine")
    assert s3.get_object(Bucket=alice.bucket, Key=key)["Body"].read() == b"mine"
    assert s3.head_object(Bucket=alice.bucket, Key=key)["ContentLength"] == 4
    listed = s3.list_objects_v2(Bucket=alice.bucket, Prefix=alice.file(""))
    assert [o["Key"] for o in listed["Contents"]] == [key]
    s3.delete_object(Bucket=alice.bucket, Key=key)
    assert s3.list_objects_v2(Bucket=alice.bucket, Prefix=alice.file(""))["KeyCount"] == 0


def test_another_persons_objects_cannot_be_read(person):
    alice, bob = person(), person()
    bob.s3.put_object(Bucket=bob.bucket, Key=bob.file("secret.txt"), Body=b"bob's")
    refused(lambda: alice.s3.get_object(Bucket=alice.bucket, Key=bob.profile))
    refused(lambda: alice.s3.get_object(Bucket=alice.bucket, Key=bob.file("secret.txt")))
    refused(lambda: alice.s3.head_object(Bucket=alice.bucket, Key=bob.file("secret.txt")),
            "403")


def test_another_persons_files_cannot_be_written(person, dev_s3):
    alice, bob = person(), person()
    refused(lambda: alice.s3.put_object(Bucket=alice.bucket, Key=bob.file("planted.txt"),
                                        Body=b"x"))
    refused(lambda: alice.s3.put_object(Bucket=alice.bucket, Key=bob.profile, Body=b"{}"))
    assert dev_s3.list_objects_v2(Bucket=bob.bucket, Prefix=bob.file(""))["KeyCount"] == 0


def test_another_persons_files_cannot_be_deleted(person, dev_s3):
    alice, bob = person(), person()
    bob.s3.put_object(Bucket=bob.bucket, Key=bob.file("keep.txt"), Body=b"bob's")
    refused(lambda: alice.s3.delete_object(Bucket=alice.bucket, Key=bob.file("keep.txt")))
    result = alice.s3.delete_objects(Bucket=alice.bucket, Delete={"Objects": [
        {"Key": alice.file("x")}, {"Key": bob.file("keep.txt")}]})
    assert {e["Code"] for e in result["Errors"]} == {"AccessDenied"}
    assert dev_s3.get_object(Bucket=bob.bucket, Key=bob.file("keep.txt"))["Body"].read() == b"bob's"


def test_another_persons_files_cannot_be_listed(person):
    alice, bob = person(), person()
    refused(lambda: alice.s3.list_objects_v2(Bucket=alice.bucket, Prefix=bob.file("")))
    refused(lambda: alice.s3.list_objects(Bucket=alice.bucket, Prefix=f"users/{bob.sub}/"))
    refused(lambda: alice.s3.list_objects_v2(Bucket=alice.bucket))
    refused(lambda: alice.s3.list_objects_v2(Bucket=alice.bucket, Prefix="users/"))


def test_another_persons_file_cannot_be_copied_into_own_files(person):
    alice, bob = person(), person()
    bob.s3.put_object(Bucket=bob.bucket, Key=bob.file("secret.txt"), Body=b"bob's")
    refused(lambda: alice.s3.copy_object(Bucket=alice.bucket, Key=alice.file("stolen.txt"),
                                         CopySource={"Bucket": bob.bucket,
                                                     "Key": bob.file("secret.txt")}))


def test_any_other_bucket_is_refused(person, dev_s3):
    alice = person()
    dev_s3.create_bucket(Bucket="someone-elses-bucket")
    dev_s3.put_object(Bucket="someone-elses-bucket", Key=alice.file("x.txt"), Body=b"x")
    refused(lambda: alice.s3.get_object(Bucket="someone-elses-bucket", Key=alice.file("x.txt")))
    refused(lambda: alice.s3.put_object(Bucket="someone-elses-bucket", Key=alice.file("y"),
                                        Body=b"y"))
    refused(lambda: alice.s3.list_objects_v2(Bucket="someone-elses-bucket",
                                             Prefix=alice.file("")))
    refused(lambda: alice.s3.list_buckets())
    refused(lambda: alice.s3.create_bucket(Bucket="alices-own-bucket"))


def test_made_up_keys_outside_the_own_files_are_refused(person):
    alice = person()
    for key in (f"users/{alice.sub}/other.txt", f"users/{alice.sub}/files",
                f"users/{alice.sub}-x/files/a.txt", f"users/{alice.sub}/profile.json.bak",
                f"{alice.file('a.txt')}".replace("users/", "Users/"), f"other/{alice.sub}/files/a",
                "profile.json"):
        refused(lambda: alice.s3.put_object(Bucket=alice.bucket, Key=key, Body=b"x"))
        refused(lambda: alice.s3.get_object(Bucket=alice.bucket, Key=key))
    refused(lambda: alice.s3.list_objects_v2(Bucket=alice.bucket, Prefix=f"users/{alice.sub}/"))


def test_other_services_are_refused(person):
    alice = person()
    refused(lambda: alice.client("dynamodb").list_tables(), "AccessDeniedException")
    refused(lambda: alice.client("sns").list_topics(), "AccessDenied")


# --- presigned URLs -----------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["s3", "s3v4"])
def test_a_presigned_get_of_own_file_works(person, signature):
    from botocore.config import Config

    alice = person()
    name = "photo 1+2 (été)~'*.txt"
    alice.s3.put_object(Bucket=alice.bucket, Key=alice.file(name), Body=b"pixels")
    s3 = alice.client("s3", config=Config(signature_version=signature))
    url = s3.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": alice.bucket, "Key": alice.file(name),
        "ResponseContentDisposition": "attachment; filename*=UTF-8''photo%201%2B2%20(%C3%A9t%C3%A9)"})
    assert fetch(url) == (200, b"pixels")


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
def test_a_presigned_get_of_anothers_file_is_refused(person, signature):
    from botocore.config import Config

    alice, bob = person(), person()
    bob.s3.put_object(Bucket=bob.bucket, Key=bob.file("secret.txt"), Body=b"bob's")
    s3 = alice.client("s3", config=Config(signature_version=signature))
    for key in (bob.file("secret.txt"), bob.profile):
        status, body = fetch(s3.generate_presigned_url(
            "get_object", Params={"Bucket": alice.bucket, "Key": key}, ExpiresIn=60))
        assert status == 403 and b"<Code>AccessDenied</Code>" in body


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
def test_a_presigned_url_edited_to_point_elsewhere_is_refused(person, signature):
    from botocore.config import Config

    alice, bob = person(), person()
    bob.s3.put_object(Bucket=bob.bucket, Key=bob.file("secret.txt"), Body=b"bob's")
    alice.s3.put_object(Bucket=alice.bucket, Key=alice.file("secret.txt"), Body=b"alice's")
    url = alice.client("s3", config=Config(signature_version=signature)).generate_presigned_url(
        "get_object", Params={"Bucket": alice.bucket, "Key": alice.file("secret.txt")},
        ExpiresIn=60)
    status, body = fetch(url.replace(alice.sub, bob.sub))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


@pytest.mark.parametrize("signature", ["s3", "s3v4"])
def test_a_presigned_url_past_its_expiry_is_refused(person, signature, monkeypatch):
    from botocore.config import Config

    from local import iam

    alice = person()
    alice.s3.put_object(Bucket=alice.bucket, Key=alice.file("a.txt"), Body=b"a")
    url = alice.client("s3", config=Config(signature_version=signature)).generate_presigned_url(
        "get_object", Params={"Bucket": alice.bucket, "Key": alice.file("a.txt")}, ExpiresIn=60)
    assert fetch(url)[0] == 200
    now = iam.now()
    monkeypatch.setattr(iam, "now", lambda: now + 120)
    status, body = fetch(url)
    assert status == 403 and b"Request has expired" in body


# --- credentials that are not right -----------------------------------------------------------

def test_expired_credentials_are_refused(person, monkeypatch):
    from local import iam

    alice = person()
    assert alice.s3.get_object(Bucket=alice.bucket, Key=alice.profile)
    now = iam.now()
    monkeypatch.setattr(iam, "now", lambda: now + 3601)
    refused(lambda: alice.s3.get_object(Bucket=alice.bucket, Key=alice.profile), "ExpiredToken")
    url = alice.s3.generate_presigned_url("get_object", ExpiresIn=60,
                                          Params={"Bucket": alice.bucket, "Key": alice.profile})
    status, body = fetch(url)
    assert status == 400 and b"<Code>ExpiredToken</Code>" in body


def test_a_tampered_secret_key_is_refused(person):
    alice = person()
    secret = alice.credentials["secretKey"]
    s3 = alice.client(aws_secret_access_key=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    refused(lambda: s3.get_object(Bucket=alice.bucket, Key=alice.profile), "SignatureDoesNotMatch")


def test_a_tampered_session_token_is_refused(person):
    alice = person()
    s3 = alice.client(aws_session_token=alice.credentials["sessionToken"][:-4] + "AAAA")
    refused(lambda: s3.get_object(Bucket=alice.bucket, Key=alice.profile), "InvalidToken")


def test_a_made_up_access_key_is_refused(person):
    alice = person()
    for key in ("ASIA" + "X" * 16, "AKIAIOSFODNN7EXAMPLE"):
        s3 = alice.client(aws_access_key_id=key)
        refused(lambda: s3.get_object(Bucket=alice.bucket, Key=alice.profile), "InvalidAccessKeyId")


def test_one_persons_session_token_does_not_work_with_anothers_keys(person):
    alice, bob = person(), person()
    s3 = alice.client(aws_session_token=bob.credentials["sessionToken"])
    refused(lambda: s3.get_object(Bucket=alice.bucket, Key=alice.profile), "InvalidToken")


def test_unsigned_requests_are_refused(person):
    alice = person()
    url = f"{alice.endpoint}/{alice.bucket}/{alice.profile}"
    assert fetch(url)[0] == 403
    with_token = f"{url}?X-Amz-Security-Token={alice.credentials['sessionToken']}"
    assert fetch(with_token)[0] == 403
    put = urllib.request.Request(f"{alice.endpoint}/{alice.bucket}/{alice.file('new.txt')}",
                                 data=b"x", method="PUT")
    status, body = fetch(put)
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_a_signed_body_that_was_changed_on_the_way_is_refused(person):
    alice = person()
    s3 = alice.s3

    def swap_body(request: Any, **_: Any) -> None:
        request.body = b"not what was signed"

    s3.meta.events.register("before-send.s3.PutObject", swap_body)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=alice.bucket, Key=alice.file("a.txt"), Body=b"what was signed")
    assert error.value.response["Error"]["Code"] in {"XAmzContentSHA256Mismatch",
                                                     "SignatureDoesNotMatch"}


# --- the app's own keys ---------------------------------------------------------------------

def test_the_apps_own_keys_stay_unrestricted(person, dev_s3):
    alice, bob = person(), person()
    for who in (alice, bob):
        assert dev_s3.get_object(Bucket=who.bucket, Key=who.profile)["Body"].read()
    dev_s3.put_object(Bucket=alice.bucket, Key="anything/at/all", Body=b"x")
    assert dev_s3.list_objects_v2(Bucket=alice.bucket)["KeyCount"] >= 3


def test_after_logging_out_the_old_id_token_gets_no_credentials(client, register):
    tokens = register()
    assert credentials_for(client, tokens)
    response = post(client, "/api/auth/logout", {"accessToken": tokens["accessToken"]})
    assert response.status_code in (200, 204), response.body
    response = post(client, "/api/auth/credentials", {},
                    {"Authorization": f"Bearer {tokens['idToken']}"})
    assert response.status_code == 401, response.body
