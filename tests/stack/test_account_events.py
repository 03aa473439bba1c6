"""The user events after a login: "user.updated" and "user.deleted", their contract, and what
each consumer does with them (invoked like Lambda does, against the local AWS): the newest
snapshot wins, every handler is idempotent, and a deletion leaves a tombstone that nothing,
older or redelivered, gets past.
"""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from chalicelib import names, user_keys, users_bucket, users_table
from chalicelib.user_events import (MalformedEvent, UserAuthenticated, UserDeleted, UserUpdated,
                                    parse)
from local.event_sources.events import recording
from local.event_sources.pump import stream_record
from tests.stack.helpers import local_client, sqs_event, users_stream_records

PROFILE_QUEUE = "comm-it-local-save-profile"
ARCHIVE_QUEUE = "comm-it-local-archive-profile"
T1, T2, T3 = ("2026-11-26T10:00:00.000000Z", "2026-11-26T11:00:00.000000Z",
              "2026-11-26T12:00:00.000000Z")


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def new_sub() -> str:
    return str(uuid.uuid4())


def login(sub: str, at: str, name: str = "Ada") -> UserAuthenticated:
    return UserAuthenticated(event_id=str(uuid.uuid4()), occurred_at=at, sub=sub, username="ada",
                             email="ada@example.com", name=name)


def update(sub: str, at: str, name: str = "Ada King",
           email: str = "ada@example.com") -> UserUpdated:
    return UserUpdated(event_id=str(uuid.uuid4()), occurred_at=at, sub=sub, username="ada",
                       email=email, name=name)


def deletion(sub: str, at: str = T2) -> UserDeleted:
    return UserDeleted(event_id=str(uuid.uuid4()), occurred_at=at, sub=sub, username="ada")


def deliver(client: Any, function: str, *events: Any) -> list[str]:
    """Invoke a consumer with one SQS batch of `events`; its outcome per message."""
    queue = PROFILE_QUEUE if function == "save_profile" else ARCHIVE_QUEUE
    event = sqs_event(client, [e if isinstance(e, str) else e.to_json() for e in events], queue)
    with recording() as outcomes:
        response = client.lambda_.invoke(function, event).payload
    assert response == {"batchItemFailures": []}, outcomes
    return list(outcomes.values())


# --- the contract --------------------------------------------------------------------------

@pytest.mark.parametrize("event", [login(new_sub(), T1), update(new_sub(), T1),
                                   deletion(new_sub())])
def test_every_event_type_survives_its_json_round_trip(event):
    data = json.loads(event.to_json())
    assert (data["type"], data["version"]) == (event.TYPE, 1)
    assert {"type", "version", "event_id", "occurred_at", "sub"} <= set(data)
    assert parse(event.to_json()) == event


def test_a_login_event_as_published_before_the_contract_grew_still_parses():
    body = ('{"type": "user.authenticated", "version": 1, "event_id": "e1", '
            '"occurred_at": "2026-11-26T10:00:00.000000Z", "sub": "abc-123", '
            '"username": "ada", "email": "ada@example.com", "name": "Ada"}')
    assert UserAuthenticated.from_json(body) == UserAuthenticated(
        "e1", T1, "abc-123", "ada", "ada@example.com", "Ada")


def test_the_event_types_carry_what_the_contract_says():
    assert set(json.loads(update("s", T1).to_json())) == {
        "type", "version", "event_id", "occurred_at", "sub", "username", "email", "name"}
    assert set(json.loads(deletion("s").to_json())) == {
        "type", "version", "event_id", "occurred_at", "sub", "username"}


@pytest.mark.parametrize("body", [
    json.dumps({"type": "user.renamed", "version": 1, "event_id": "e", "occurred_at": T1,
                "sub": "s"}),
    json.dumps({"type": "user.deleted", "version": 2, "event_id": "e", "occurred_at": T1,
                "sub": "s", "username": "u"}),
    json.dumps({"type": "user.deleted", "version": 1, "event_id": "e", "occurred_at": T1,
                "sub": "s"}),
    json.dumps({"type": "user.updated", "version": 1, "event_id": "e", "occurred_at": T1,
                "sub": "s", "username": "u", "email": "e", "name": None}),
    json.dumps({"type": "user.deleted", "version": 1, "event_id": "e", "occurred_at": T1,
                "sub": "../other", "username": "u"}),
    json.dumps({"type": "user.deleted", "version": 1, "event_id": "e", "occurred_at": T1,
                "sub": "a/b", "username": "u"}),
    "[1]", "",
])
def test_anything_but_a_known_well_formed_event_is_malformed(body):
    with pytest.raises(MalformedEvent):
        parse(body)


def test_a_consumer_reading_one_type_refuses_the_others():
    with pytest.raises(MalformedEvent):
        UserAuthenticated.from_json(update("s", T1).to_json())


# --- the users table (save_profile) ------------------------------------------------------

def test_a_newer_change_replaces_the_details_and_keeps_the_login_count(client):
    sub = new_sub()
    assert deliver(client, "save_profile", login(sub, T1, name="Ada"),
                   update(sub, T2, name="Ada King", email="king@example.com")) == [
        users_table.APPLIED, users_table.APPLIED]
    record = users_table.get(sub)
    assert (record["name"], record["email"], record["login_count"]) == (
        "Ada King", "king@example.com", 1)
    assert (record["details_at"], record["last_login_at"], record["created_at"]) == (T2, T1, T1)


def test_an_older_change_never_overwrites_a_newer_name(client):
    sub = new_sub()
    deliver(client, "save_profile", update(sub, T3, name="Newest"))
    assert deliver(client, "save_profile", update(sub, T2, name="Older")) == [
        users_table.SKIPPED_OLDER]
    assert deliver(client, "save_profile", login(sub, T1, name="Oldest")) == [
        users_table.APPLIED_OLDER]
    record = users_table.get(sub)
    assert (record["name"], record["login_count"]) == ("Newest", 1)


def test_a_change_is_applied_once_however_often_it_is_delivered(client):
    sub = new_sub()
    change = update(sub, T2)
    assert deliver(client, "save_profile", change, change) == [
        users_table.APPLIED, users_table.DUPLICATE]
    assert deliver(client, "save_profile", change) == [users_table.DUPLICATE]


def test_a_record_from_before_details_at_is_ordered_by_its_last_login(client, stack):
    sub = new_sub()
    aws("dynamodb", stack).put_item(TableName=stack["USERS_TABLE_NAME"], Item={
        "sub": {"S": sub}, "name": {"S": "Legacy"}, "last_login_at": {"S": T2},
        "login_count": {"N": "3"}})
    assert deliver(client, "save_profile", update(sub, T1, name="Older")) == [
        users_table.SKIPPED_OLDER]
    assert deliver(client, "save_profile", update(sub, T3, name="Newer")) == [users_table.APPLIED]
    assert (users_table.get(sub)["name"], users_table.get(sub)["login_count"]) == ("Newer", 3)


def test_deletion_leaves_a_tombstone_without_personal_data(client):
    sub = new_sub()
    deliver(client, "save_profile", login(sub, T1), update(sub, T2))
    gone = deletion(sub, T3)
    assert deliver(client, "save_profile", gone) == [users_table.DELETED]
    assert users_table.get(sub) == {"sub": sub, "deleted_at": T3, "details_at": T3,
                                    "last_event_id": gone.event_id}
    assert users_table.is_deleted(sub)
    assert deliver(client, "save_profile", gone) == [users_table.DUPLICATE]


def test_nothing_gets_past_a_tombstone_older_newer_or_redelivered(client):
    sub = new_sub()
    first = login(sub, T1)
    deliver(client, "save_profile", first)
    deliver(client, "save_profile", deletion(sub, T2))
    tombstone = users_table.get(sub)
    outcomes = deliver(client, "save_profile", login(sub, T1), login(sub, T3), update(sub, T1),
                       update(sub, T3))
    assert outcomes == [users_table.SKIPPED_DELETED, users_table.SKIPPED_DELETED,
                        users_table.SKIPPED_OLDER, users_table.SKIPPED_OLDER]
    assert users_table.get(sub) == tombstone


def test_a_deletion_delivered_before_any_login_still_wins(client):
    sub = new_sub()
    deliver(client, "save_profile", deletion(sub, T2))
    assert deliver(client, "save_profile", login(sub, T1)) == [users_table.SKIPPED_DELETED]
    assert set(users_table.get(sub)) == {"sub", "deleted_at", "details_at", "last_event_id"}


def test_not_deleted_means_no_record_or_a_live_one(client):
    sub = new_sub()
    assert not users_table.is_deleted(sub)
    deliver(client, "save_profile", login(sub, T1))
    assert not users_table.is_deleted(sub)


# --- the users bucket (archive_profile) ---------------------------------------------------

def versions(stack: dict[str, str], sub: str) -> list[str]:
    """Every version and delete marker of the person's objects: their files and what the app
    keeps of them (chalicelib/user_keys.py)."""
    found = []
    for prefix in user_keys.prefixes(sub):
        listing = aws("s3", stack).list_object_versions(Bucket=stack["USERS_BUCKET_NAME"],
                                                        Prefix=prefix)
        found += [v["Key"] for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])]
    return found


def test_a_change_rewrites_the_document_and_keeps_the_last_login(client):
    sub = new_sub()
    deliver(client, "archive_profile", login(sub, T1), update(sub, T2, name="Ada King"))
    document = users_bucket.get_profile(sub)
    assert (document["name"], document["detailsAt"], document["lastLoginAt"]) == (
        "Ada King", T2, T1)
    assert deliver(client, "archive_profile", update(sub, T1, name="Older")) == [
        users_bucket.UNCHANGED]
    assert users_bucket.get_profile(sub)["name"] == "Ada King"


def test_deletion_removes_every_version_of_the_profile_and_the_files_and_nothing_else(
        client, stack):
    sub, other = new_sub(), new_sub()
    s3, bucket = aws("s3", stack), stack["USERS_BUCKET_NAME"]
    deliver(client, "archive_profile", login(sub, T1), update(sub, T2), login(other, T1))
    for body in (b"one", b"two"):
        s3.put_object(Bucket=bucket, Key=f"users/{sub}/files/notes.txt", Body=body)
        s3.put_object(Bucket=bucket, Key=f"users/{other}/files/notes.txt", Body=body)
    s3.delete_object(Bucket=bucket, Key=f"users/{sub}/files/notes.txt")  # a delete marker
    assert len(versions(stack, sub)) == 5

    [outcome] = deliver(client, "archive_profile", deletion(sub, T3))
    assert outcome == "deleted (5 object versions)"
    assert versions(stack, sub) == []
    assert len(versions(stack, other)) == 3  # their profile and two file versions
    tombstone = json.loads(s3.get_object(Bucket=bucket,
                                         Key=f"tombstones/{sub}.json")["Body"].read())
    assert set(tombstone) == {"sub", "deletedAt", "eventId"}
    # Delivered again: nothing left to delete, still fine.
    assert deliver(client, "archive_profile", deletion(sub, T3)) == ["deleted (0 object versions)"]


def test_no_event_writes_the_profile_of_a_deleted_account_again(client, stack):
    sub = new_sub()
    deliver(client, "archive_profile", login(sub, T1), deletion(sub, T2))
    assert deliver(client, "archive_profile", login(sub, T1), update(sub, T3)) == [
        users_bucket.SKIPPED_DELETED, users_bucket.SKIPPED_DELETED]
    assert versions(stack, sub) == []


def test_a_login_written_while_the_account_was_deleted_is_taken_back(stack, monkeypatch):
    """The profile write looked for the tombstone before the deletion wrote it: it looks
    again after writing, finds it, and removes what it wrote."""
    sub = new_sub()
    users_bucket.delete_everything(deletion(sub, T2))  # the deletion happens meanwhile
    real, calls = users_bucket.is_deleted, []

    def first_look_misses(s: str) -> bool:
        calls.append(s)
        return False if len(calls) == 1 else real(s)

    monkeypatch.setattr(users_bucket, "is_deleted", first_look_misses)
    assert users_bucket.save_profile(login(sub, T1)) == users_bucket.SKIPPED_DELETED
    assert len(calls) == 2
    assert versions(stack, sub) == []


# --- the name in Parameter Store (sync_name, fed by the table's stream) -------------------

def stream_event(stack: dict[str, str], sub: str) -> dict:
    """The table stream's records of `sub`, as Lambda delivers them."""
    records = users_stream_records(aws("dynamodbstreams", stack), stack)
    mine = [r for r in records if r["dynamodb"]["Keys"]["sub"]["S"] == sub]
    return {"Records": [stream_record(r, stack["USERS_TABLE_STREAM_ARN"], "us-east-1")
                        for r in mine]}


def test_the_tombstone_removes_the_name_from_parameter_store(client, stack):
    sub = new_sub()
    deliver(client, "save_profile", login(sub, T1, name="Ada"))
    client.lambda_.invoke("sync_name", stream_event(stack, sub))
    names.forget_cache()
    assert names.get(sub) == "Ada"
    deliver(client, "save_profile", deletion(sub, T2))
    outcomes = client.lambda_.invoke("sync_name", stream_event(stack, sub)).payload
    assert "removed (account deleted)" in outcomes.values()
    names.forget_cache()
    assert names.get(sub) is None


def test_a_name_change_reaches_parameter_store(client, stack):
    sub = new_sub()
    deliver(client, "save_profile", login(sub, T1, name="Ada"), update(sub, T2, name="Ada King"))
    client.lambda_.invoke("sync_name", stream_event(stack, sub))
    names.forget_cache()
    assert names.get(sub) == "Ada King"


def test_a_tombstone_without_a_name_to_remove_is_already_absent(client):
    sub = new_sub()
    record = {"eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1",
              "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
              "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
              "dynamodb": {"ApproximateCreationDateTime": time.time(),
                           "Keys": {"sub": {"S": sub}},
                           "NewImage": {"sub": {"S": sub}, "deleted_at": {"S": T2}},
                           "SequenceNumber": "1", "SizeBytes": 10,
                           "StreamViewType": "NEW_AND_OLD_IMAGES"}}
    assert list(client.lambda_.invoke("sync_name", {"Records": [record]}).payload.values()) == [
        "already absent"]
