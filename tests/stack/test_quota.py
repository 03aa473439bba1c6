"""The files quota holds even around the app: a person writing to their own prefix with
their identity-pool credentials (as the AWS CLI would) gets a file over the size limit,
or beyond the count, removed with every version, and no older version or delete marker
kept, by enforce_quota, fed by the users bucket's object-created and delete-marker events
through its queue (delivered by the local pump, as Lambda's event source mapping does).
Uploads through the app at the same moment never pass the limit, so the quota never
removes a file the person was told was saved; and a deleted account's files, written
afterwards with credentials from before, go too."""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pytest

from chalicelib import inputs, my_files, quota
from tests.helpers import PASSWORD, eventually
from tests.stack.helpers import local_client

# Here files past the count are removed 1 s after they were written instead of 30 s
# (quota.SETTLE_SECONDS: longer than an upload through the app can last in Lambda).
SETTLE_HERE = 1


@pytest.fixture(autouse=True)
def _settle_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quota, "SETTLE_SECONDS", SETTLE_HERE)


def versions_of(dev_s3: Any, bucket: str, prefix: str) -> list[str]:
    listed = dev_s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return [v["Key"] for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])]


def test_a_file_over_the_size_limit_written_with_the_persons_credentials_is_removed(
        person, dev_s3, console, caplog):
    caplog.set_level(logging.WARNING, logger="chalicelib.quota")
    someone = person()
    key = someone.file("big.bin")
    small = someone.file("small.txt")
    someone.s3.put_object(Bucket=someone.bucket, Key=small, Body=b"fine")
    someone.s3.put_object(Bucket=someone.bucket, Key=key, Body=b"x" * 10)  # a first version
    someone.s3.put_object(Bucket=someone.bucket, Key=key, Body=b"x" * (2 * inputs.MAX_FILE_BYTES))
    eventually(lambda: versions_of(dev_s3, someone.bucket, key) == [], timeout=15,
               what="every version of the 2 MiB file to be removed")
    assert versions_of(dev_s3, someone.bucket, small) == [small]  # within the quota: kept
    assert someone.profile in versions_of(dev_s3, someone.bucket, someone.profile)  # not a file
    # The alarmed line (infra/template.yaml QuotaRemovalsMetric: "quota": true).
    [removal] = [r for r in caplog.records if getattr(r, "quota", False)]
    assert removal.levelname == "WARNING" and key in removal.getMessage()
    assert "2 versions" in removal.getMessage()
    assert any("enforce_quota" in line and "removed 1" in line for line in console), console


def test_a_file_of_exactly_the_size_limit_stays_and_one_byte_more_goes(person, dev_s3):
    """The limit is a size a file may have: MAX_FILE_BYTES stays, MAX_FILE_BYTES + 1 goes."""
    someone = person()
    exact, over = someone.file("exact.bin"), someone.file("over.bin")
    someone.s3.put_object(Bucket=someone.bucket, Key=exact, Body=b"x" * inputs.MAX_FILE_BYTES)
    someone.s3.put_object(Bucket=someone.bucket, Key=over,
                          Body=b"x" * (inputs.MAX_FILE_BYTES + 1))
    quota.enforce(someone.sub)
    assert versions_of(dev_s3, someone.bucket, someone.file("")) == [exact]


def test_a_file_beyond_the_count_limit_is_removed_with_every_version(person, dev_s3, console):
    someone = person()
    names = [f"f{n:02}.txt" for n in range(my_files.MAX_FILES + 1)]
    for name in names:
        someone.s3.put_object(Bucket=someone.bucket, Key=someone.file(name), Body=b"one")
    last = someone.file(names[-1])
    someone.s3.put_object(Bucket=someone.bucket, Key=last, Body=b"two")  # two versions
    eventually(lambda: versions_of(dev_s3, someone.bucket, last) == [], timeout=15,
               what="the 21st file to be removed")
    kept = versions_of(dev_s3, someone.bucket, someone.file(""))
    assert sorted(kept) == [someone.file(name) for name in names[:-1]]


def stored_versions(dev_s3: Any, bucket: str, prefix: str) -> list[tuple[str, int | None]]:
    """Every version and delete marker under `prefix`: (key, size), a marker's size None."""
    listed = dev_s3.list_object_versions(Bucket=bucket, Prefix=prefix)
    return sorted([(v["Key"], v["Size"]) for v in listed.get("Versions", [])] +
                  [(m["Key"], None) for m in listed.get("DeleteMarkers", [])],
                  key=lambda kv: (kv[0], kv[1] is None, kv[1] or 0))


def test_a_person_overwriting_and_deleting_files_keeps_no_bytes_the_listing_does_not_show(
        person, dev_s3, console):
    """16 overwrites of 1 MiB and a delete with their own credentials: afterwards S3 holds
    exactly the one version listed, no older version, no delete marker."""
    someone = person()
    kept, deleted = someone.file("kept.bin"), someone.file("deleted.bin")
    for round_ in range(16):
        someone.s3.put_object(Bucket=someone.bucket, Key=kept,
                              Body=bytes([round_]) * inputs.MAX_FILE_BYTES)
    someone.s3.put_object(Bucket=someone.bucket, Key=deleted, Body=b"x" * 1000)
    someone.s3.delete_object(Bucket=someone.bucket, Key=deleted)
    eventually(lambda: stored_versions(dev_s3, someone.bucket, someone.file("")) ==
               [(kept, inputs.MAX_FILE_BYTES)], timeout=20,
               what="only the current version of kept.bin to stay")
    listed = someone.s3.list_objects_v2(Bucket=someone.bucket, Prefix=someone.file(""))
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [(kept, inputs.MAX_FILE_BYTES)]
    body = someone.s3.get_object(Bucket=someone.bucket, Key=kept)["Body"].read()
    assert body == bytes([15]) * inputs.MAX_FILE_BYTES  # the last one written
    assert someone.profile in versions_of(dev_s3, someone.bucket, someone.profile)  # not a file


def test_a_file_deleted_through_the_app_goes_with_every_version(client, person, dev_s3,
                                                                console):
    from tests.stack.helpers import delete_file, upload_file

    someone = person()
    assert upload_file(client, someone.tokens, "note.txt").status_code == 201
    assert delete_file(client, someone.tokens, "note.txt").status_code == 200
    eventually(lambda: stored_versions(dev_s3, someone.bucket, someone.file("")) == [],
               timeout=15, what="the deleted file's version and delete marker to go")


def _s3_event(sub: str, name: str) -> str:
    """The body S3 sends the quota queue when users/<sub>/files/<name> is written."""
    return json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": {
        "object": {"key": f"users/{sub}/files/{name}"}}}]})


def test_new_files_past_the_count_are_removed_once_they_are_settled(person, dev_s3):
    """Young files past the count may be uploads that are still deciding: left, and looked
    at again by a delayed message of the quota's own; once settled, the last ones go."""
    someone = person()
    names = [f"f{n:02}.txt" for n in range(my_files.MAX_FILES + 2)]
    for name in names:
        someone.s3.put_object(Bucket=someone.bucket, Key=someone.file(name), Body=b"x")
    outcome = quota.handle(_s3_event(someone.sub, names[-1]))
    assert "2 new files past the limit: looking again" in outcome, outcome
    assert len(versions_of(dev_s3, someone.bucket, someone.file(""))) == len(names)
    written = {v["Key"]: v["LastModified"] for v in dev_s3.list_object_versions(
        Bucket=someone.bucket, Prefix=someone.file(""))["Versions"]}
    outcome = quota.enforce(someone.sub, now=time.time() + SETTLE_HERE + 1, looking_again=True)
    assert outcome.startswith("removed 2"), outcome
    # The last written go (S3 dates in whole seconds; within one, the last by key).
    order = sorted(written, key=lambda key: my_files.newest_last(written[key], key))
    assert sorted(versions_of(dev_s3, someone.bucket, someone.file(""))) == \
        sorted(order[:my_files.MAX_FILES])


def test_uploads_at_the_same_moment_never_pass_the_count_and_every_201_stays(
        client, register, dev_s3, stack, monkeypatch):
    """22 uploads through the app at once: each counts before any writes, each writes before
    any goes on, and the quota Lambda runs right then (the worst moment). The person ends
    with at most 20 files, every upload answered 201 among them, after the quota ran again
    once every file was settled."""
    from chalicelib import acting_as, aws, cognito_credentials
    from tests.stack.helpers import sub_of

    tokens = register()
    sub = sub_of(tokens)
    me = my_files.Person(sub=sub, id_token=tokens["idToken"])
    my_files.listing(me)  # the credentials, exchanged once
    uploads = my_files.MAX_FILES + 2
    counted = threading.Barrier(uploads, timeout=60)
    quota_runs: list[str] = []
    files = f"users/{sub}/files/"

    def the_quota_lambda_runs() -> None:
        quota_runs.append(len(dev_s3.list_objects_v2(Bucket=stack["USERS_BUCKET_NAME"],
                                                     Prefix=files)["Contents"]))
        client.lambda_.invoke("enforce_quota", client.events.generate_sqs_event(
            message_bodies=[_s3_event(sub, "any")], queue_name="quota"))

    written = threading.Barrier(uploads, timeout=60, action=the_quota_lambda_runs)
    local = threading.local()
    real_client_as = aws.client_as

    class Racing:
        """The person's S3 client, held at the two moments that make the race."""

        def __init__(self, s3: Any) -> None:
            self.s3 = s3

        def __getattr__(self, name: str) -> Any:
            return getattr(self.s3, name)

        def list_objects_v2(self, **kwargs: Any) -> Any:
            listed = self.s3.list_objects_v2(**kwargs)
            if not getattr(local, "counted", False):
                local.counted = True
                counted.wait()
            return listed

        def put_object(self, **kwargs: Any) -> Any:
            written_now = self.s3.put_object(**kwargs)
            written.wait()
            return written_now

    monkeypatch.setattr(acting_as, "client_as", lambda service, credentials: Racing(
        real_client_as(service, credentials)))
    answers: dict[str, Any] = {}

    def upload(number: int) -> None:
        name = f"race {number:02}.txt"
        body = json.dumps({"name": name, "content": "aGk="})
        try:
            answers[name] = my_files.upload(me, body, sleep=lambda _: time.sleep(0.05))
        except Exception as exc:  # noqa: BLE001 (the answer a route would give)
            answers[name] = exc

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == uploads and quota_runs == [uploads]  # it ran with all 22 there
    saved = {name for name, answer in answers.items() if isinstance(answer, dict)}
    refused = {name: answer for name, answer in answers.items() if name not in saved}
    assert all(getattr(a, "code", "") == "TooManyFiles" and a.status == 409
               for a in refused.values()), refused
    assert saved, "no upload was saved"
    time.sleep(SETTLE_HERE + 1)  # every file settled: the quota may now remove any of them
    quota.enforce(sub)
    cognito_credentials.forget_all()
    stored = {v["Key"].removeprefix(files) for v in dev_s3.list_object_versions(
        Bucket=stack["USERS_BUCKET_NAME"], Prefix=files).get("Versions", [])}
    assert stored == saved and len(saved) <= my_files.MAX_FILES


def test_a_deleted_accounts_files_written_afterwards_with_old_credentials_are_removed(
        client, person, dev_s3, console):
    """Credentials from before the deletion still sign requests for up to an hour: what
    they write under the person's files after the sweep goes too, every version."""
    someone = person()
    response = client.http.request(
        "DELETE", "/api/account", body=json.dumps({"accessToken": someone.tokens["accessToken"],
                                                   "password": PASSWORD}),
        headers={"Authorization": someone.tokens["idToken"], "Content-Type": "application/json"})
    assert response.status_code == 200, response.body
    tombstone = f"tombstones/{someone.sub}.json"
    eventually(lambda: versions_of(dev_s3, someone.bucket, tombstone) == [tombstone],
               timeout=15, what="the deletion's tombstone")
    eventually(lambda: versions_of(dev_s3, someone.bucket, f"users/{someone.sub}/") == [],
               timeout=15, what="the deletion's sweep")
    for name in ("late.txt", "later/nested.bin"):
        someone.s3.put_object(Bucket=someone.bucket, Key=someone.file(name), Body=b"back?")
    someone.s3.put_object(Bucket=someone.bucket, Key=someone.file("late.txt"), Body=b"again")
    eventually(lambda: versions_of(dev_s3, someone.bucket, f"users/{someone.sub}/") == [],
               timeout=15, what="every version written after the deletion to go")


def test_only_a_persons_files_set_off_the_quota_not_the_apps_profile_or_archive(
        person, dev_s3, stack):
    """The bucket's notification is by prefix (users/), and only files are there: the profile
    the archive Lambda writes at every log-in and the `Download all my data` archive (under
    app/<sub>/, chalicelib/user_keys.py) invoke enforce_quota for nothing no more."""
    from urllib.parse import unquote_plus


    from chalicelib import user_keys
    from chalicelib.config import deploy_value

    someone = person()  # the fixture writes the profile, as the archive Lambda does
    dev_s3.put_object(Bucket=someone.bucket, Key=user_keys.export_key(someone.sub), Body=b"zip")
    someone.s3.put_object(Bucket=someone.bucket, Key=someone.file("notes.txt"), Body=b"one")
    sqs = local_client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=deploy_value("QUOTA_QUEUE_NAME"))["QueueUrl"]
    keys: list[str] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", []):
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            keys += [unquote_plus(r["s3"]["object"]["key"])  # S3 sends keys URL-encoded
                     for r in json.loads(message["Body"]).get("Records", [])]
    assert [key for key in keys if someone.sub in key] == [someone.file("notes.txt")]
