"""The identity pool's credentials in the local AWS are limited by the authenticated
role's policy exactly as in AWS (local/iam/enforcement.py): a person's own objects
only, presigned URLs included; credentials that are not right are refused; the app's
own keys stay unrestricted.

Every person gets their credentials from `POST /api/auth/credentials`, then talks to
the local AWS endpoint directly, as the app (and a browser following a presigned
URL) does.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, Callable

import pytest


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
                f"users/{alice.sub}-x/files/a.txt", f"app/{alice.sub}/profile.json.bak",
                f"{alice.file('a.txt')}".replace("users/", "Users/"), f"other/{alice.sub}/files/a",
                "profile.json"):
        refused(lambda key=key: alice.s3.put_object(Bucket=alice.bucket, Key=key, Body=b"x"))
        refused(lambda key=key: alice.s3.get_object(Bucket=alice.bucket, Key=key))
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
        "ResponseContentDisposition":
            "attachment; filename*=UTF-8''photo%201%2B2%20(%C3%A9t%C3%A9)"})
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
def test_a_presigned_url_past_its_expiry_is_refused(person, signature):
    from botocore.config import Config

    from local.server import clock

    alice = person()
    alice.s3.put_object(Bucket=alice.bucket, Key=alice.file("a.txt"), Body=b"a")
    url = alice.client("s3", config=Config(signature_version=signature)).generate_presigned_url(
        "get_object", Params={"Bucket": alice.bucket, "Key": alice.file("a.txt")}, ExpiresIn=60)
    assert fetch(url)[0] == 200
    now = clock.now()
    with clock.set(lambda: now + 120):
        status, body = fetch(url)
    assert status == 403 and b"Request has expired" in body


# --- credentials that are not right -----------------------------------------------------------

def test_expired_credentials_are_refused(person):
    from local.server import clock

    alice = person()
    assert alice.s3.get_object(Bucket=alice.bucket, Key=alice.profile)
    now = clock.now()
    with clock.set(lambda: now + 3601):
        refused(lambda: alice.s3.get_object(Bucket=alice.bucket, Key=alice.profile),
                "ExpiredToken")
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
        refused(lambda s3=s3: s3.get_object(Bucket=alice.bucket, Key=alice.profile),
                "InvalidAccessKeyId")


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
