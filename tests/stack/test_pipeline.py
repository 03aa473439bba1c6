"""The pipeline's Lambdas, invoked like Lambda does (chalice.test.Client),
against the local AWS: the users table, the users bucket, Parameter Store."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any


from chalicelib import names, users_bucket, users_table
from chalicelib.config import deploy_value
from local.event_sources.events import recording
from local.event_sources.pump import sqs_record, stream_record
from tests.helpers import eventually
from tests.stack import helpers
from tests.stack.helpers import local_client, login_event

# The queues the app's SQS handlers are subscribed to (the stack's, or the local defaults).
PROFILE_QUEUE_SETTING = "PROFILE_QUEUE_NAME"
ARCHIVE_QUEUE_SETTING = "ARCHIVE_QUEUE_NAME"


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def sqs_event(client: Any, *bodies: str, queue: str = PROFILE_QUEUE_SETTING) -> dict:
    return helpers.sqs_event(client, list(bodies), deploy_value(queue))


def stream_event(*records: dict) -> dict:
    return {"Records": list(records)}


def change(event_name: str, sub: str | None, new_name: str | None = None,
           old_name: str | None = None) -> dict:
    keys = {"sub": {"S": sub}} if sub else {}
    data: dict[str, Any] = {"ApproximateCreationDateTime": time.time(), "Keys": keys,
                            "SequenceNumber": str(int(time.time() * 1e6)), "SizeBytes": 100,
                            "StreamViewType": "NEW_AND_OLD_IMAGES"}
    if new_name is not None:
        data["NewImage"] = {**keys, "name": {"S": new_name}}
    if old_name is not None:
        data["OldImage"] = {**keys, "name": {"S": old_name}}
    return {"eventID": uuid.uuid4().hex, "eventName": event_name, "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": data,
            "eventSourceARN": deploy_value("USERS_TABLE_STREAM_ARN")}


# --- save_profile: SQS -> DynamoDB --------------------------------------------------

def test_save_profile_writes_the_users_record(client):
    event = login_event()
    with recording() as outcomes:
        client.lambda_.invoke("save_profile", sqs_event(client, event.to_json()))
    record = users_table.get(event.sub)
    assert record["name"] == "Ada Lovelace" and record["email"] == "ada@example.com"
    assert record["username"] == "ada" and record["login_count"] == 1
    assert record["created_at"] == record["last_login_at"] == event.occurred_at
    assert list(outcomes.values()) == [users_table.APPLIED]


def test_redelivered_event_does_not_count_the_login_twice(client):
    event = login_event()
    client.lambda_.invoke("save_profile", sqs_event(client, event.to_json()))
    with recording() as again:
        client.lambda_.invoke("save_profile", sqs_event(client, event.to_json()))
    assert list(again.values()) == [users_table.DUPLICATE]
    assert users_table.get(event.sub)["login_count"] == 1


def test_older_event_counts_the_login_but_keeps_the_newer_details(client):
    sub = str(uuid.uuid4())
    newer = login_event(sub, name="New Name", at="2026-11-26T12:00:00.000000Z")
    older = login_event(sub, name="Old Name", at="2026-11-26T11:00:00.000000Z")
    client.lambda_.invoke("save_profile", sqs_event(client, newer.to_json()))
    with recording() as outcomes:
        client.lambda_.invoke("save_profile", sqs_event(client, older.to_json()))
    record = users_table.get(sub)
    assert list(outcomes.values()) == [users_table.APPLIED_OLDER]
    assert record["name"] == "New Name" and record["last_login_at"] == newer.occurred_at
    assert record["login_count"] == 2


def test_poison_message_is_reported_alone_and_the_good_ones_are_saved(client, fresh_stack):
    """A partial batch response: Lambda deletes what succeeded and only the failed
    message comes back (after the queue's maxReceiveCount, to its dead-letter queue)."""
    stack = fresh_stack  # it receives every message of the queue
    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack[PROFILE_QUEUE_SETTING])["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    good = login_event()
    sqs.send_message(QueueUrl=url, MessageBody=good.to_json())
    sqs.send_message(QueueUrl=url, MessageBody="{not json")
    messages: list[dict] = []

    def both_received() -> bool:
        messages.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                            VisibilityTimeout=1,
                                            AttributeNames=["All"]).get("Messages", []))
        return len(messages) >= 2

    eventually(both_received, timeout=10, what="both messages to be received")
    event = {"Records": [sqs_record(m, arn, "us-east-1") for m in messages]}

    result = client.lambda_.invoke("save_profile", event)

    poison = next(m["MessageId"] for m in messages if m["Body"] == "{not json")
    assert result.payload == {"batchItemFailures": [{"itemIdentifier": poison}]}
    assert users_table.get(good.sub)["login_count"] == 1


# --- archive_profile: SQS -> S3 ------------------------------------------------------

def test_archive_profile_writes_the_users_json_document(client, stack):
    event = login_event()
    with recording() as outcomes:
        client.lambda_.invoke("archive_profile",
                              sqs_event(client, event.to_json(), queue=ARCHIVE_QUEUE_SETTING))
    body = aws("s3", stack).get_object(Bucket=stack["USERS_BUCKET_NAME"],
                                       Key=f"app/{event.sub}/profile.json")["Body"].read()
    document = json.loads(body)
    assert document["name"] == "Ada Lovelace" and document["email"] == "ada@example.com"
    assert document["sub"] == event.sub and document["lastEventId"] == event.event_id
    assert list(outcomes.values()) == [users_bucket.WRITTEN]


def test_archive_profile_ignores_an_older_or_redelivered_event(client):
    sub = str(uuid.uuid4())
    newer = login_event(sub, name="New Name", at="2026-11-26T12:00:00.000000Z")
    older = login_event(sub, name="Old Name", at="2026-11-26T11:00:00.000000Z")
    client.lambda_.invoke("archive_profile",
                          sqs_event(client, newer.to_json(), queue=ARCHIVE_QUEUE_SETTING))
    results = []
    for e in (older, newer):
        with recording() as outcomes:
            client.lambda_.invoke("archive_profile",
                                  sqs_event(client, e.to_json(), queue=ARCHIVE_QUEUE_SETTING))
        results.append(outcomes)
    assert [list(r.values()) for r in results] == [[users_bucket.UNCHANGED]] * 2
    assert users_bucket.get_profile(sub)["name"] == "New Name"


def test_archive_profile_rejects_a_message_that_is_not_a_login_event(client):
    result = client.lambda_.invoke(
        "archive_profile",
        sqs_event(client, json.dumps({"type": "other"}), queue=ARCHIVE_QUEUE_SETTING))
    assert result.payload["batchItemFailures"] == [{"itemIdentifier": "m0"}]


# --- sync_name: DynamoDB stream -> Parameter Store -------------------------------------

def test_sync_name_writes_the_name_of_a_new_user(client):
    sub = str(uuid.uuid4())
    client.lambda_.invoke("sync_name", stream_event(change("INSERT", sub, "Ada")))
    assert names.get(sub) == "Ada"
    assert names.parameter_name(sub) == f"/comm-it/local/users/{sub}/name"


def test_sync_name_follows_a_changed_name_and_leaves_an_unchanged_one_alone(client, stack):
    sub = str(uuid.uuid4())
    ssm = aws("ssm", stack)
    client.lambda_.invoke("sync_name", stream_event(change("INSERT", sub, "Ada")))
    result = client.lambda_.invoke("sync_name",
                                   stream_event(change("MODIFY", sub, "Ada", old_name="Ada")))
    assert list(result.payload.values()) == ["unchanged"]
    assert ssm.get_parameter(Name=names.parameter_name(sub))["Parameter"]["Version"] == 1
    client.lambda_.invoke("sync_name",
                          stream_event(change("MODIFY", sub, "Ada King", old_name="Ada")))
    assert ssm.get_parameter(Name=names.parameter_name(sub))["Parameter"]["Value"] == "Ada King"


def test_sync_name_removes_the_parameter_of_a_removed_record(client, stack):
    sub = str(uuid.uuid4())
    client.lambda_.invoke("sync_name", stream_event(change("INSERT", sub, "Ada")))
    result = client.lambda_.invoke("sync_name", stream_event(change("REMOVE", sub, old_name="Ada")))
    assert list(result.payload.values()) == ["removed"]
    names.forget_cache()
    assert names.get(sub) is None


def test_sync_name_skips_a_poison_record_without_blocking_the_rest_of_the_batch(client):
    sub = str(uuid.uuid4())
    result = client.lambda_.invoke("sync_name", stream_event(change("INSERT", None, "Nobody"),
                                                             change("INSERT", sub, "Ada")))
    assert [v.split(":")[0] for v in result.payload.values()] == ["skipped", "written"]
    assert names.get(sub) == "Ada"


def test_sync_name_accepts_records_read_from_the_real_stream(client, fresh_stack):
    stack = fresh_stack  # it reads the whole stream
    """The local pump's event shape, from GetRecords, is what the handler understands."""
    event = login_event()
    users_table.record_login(event)
    ddb, streams = aws("dynamodb", stack), aws("dynamodbstreams", stack)
    arn = ddb.describe_table(TableName=stack["USERS_TABLE_NAME"])["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    client.lambda_.invoke("sync_name",
                          stream_event(*[stream_record(r, arn, "us-east-1") for r in records]))
    assert names.get(event.sub) == "Ada Lovelace"


def test_the_processed_event_marker_outlives_sqs_retention(client, stack):
    """The marker that makes a redelivery harmless lives longer than SQS keeps a message
    (14 days at most): read from the table, not from the constant."""
    event = login_event()
    client.lambda_.invoke("save_profile", sqs_event(client, event.to_json()))
    item = aws("dynamodb", stack).get_item(TableName=stack["PROCESSED_EVENTS_TABLE_NAME"],
                                           Key={"event_id": {"S": event.event_id}})["Item"]
    assert int(item["expires_at"]["N"]) >= time.time() + 14 * 24 * 3600
