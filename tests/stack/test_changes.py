"""The journey of a change (GET /api/account/changes/<event id>): each stage of a name
change's "user.updated" event, read back from what the pipeline records, for its own
person only (another's event and an unknown id are the same 404)."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib import names
from tests.stack.helpers import assert_error, assert_ok, sub_of
from tests.stack.test_account_events import aws, stream_event

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def deliver_queue(client: Any, stack: dict[str, str], function: str) -> None:
    """Everything waiting on the function's queue, invoked as Lambda does."""
    queue = {"save_profile": "comm-it-local-save-profile",
             "archive_profile": "comm-it-local-archive-profile"}[function]
    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return
        event = client.events.generate_sqs_event(message_bodies=[m["Body"] for m in batch],
                                                 queue_name=queue)
        for i, record in enumerate(event["Records"]):
            record["messageId"] = f"m{i}"
        assert client.lambda_.invoke(function, event).payload["batchItemFailures"] == []
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def rename(client: Any, person: dict[str, str], name: str) -> dict[str, Any]:
    return assert_ok(client.http.post(
        "/api/account/name", body=json.dumps({"accessToken": person["accessToken"], "name": name}),
        headers={"Content-Type": "application/json", "Authorization": person["idToken"]}))


def journey(client: Any, person: dict[str, str], event_id: str) -> Any:
    return client.http.get(f"/api/account/changes/{event_id}",
                           headers={"Authorization": person["idToken"]})


def states(body: dict[str, Any]) -> dict[str, str]:
    return {stage["id"]: stage["state"] for stage in body["stages"]}


def test_a_name_change_is_followed_stage_by_stage_to_the_greeting(client, register, stack):
    person = register(name="Ada")
    deliver_queue(client, stack, "save_profile")  # the login's, and anyone else's
    deliver_queue(client, stack, "archive_profile")
    change = rename(client, person, "Ada King")
    event_id = change["eventId"]

    # Published, not yet saved: no stage has recorded it, so it is not known to be anyone's.
    assert_error(journey(client, person, event_id), 404, "UnknownChange")

    deliver_queue(client, stack, "save_profile")
    body = assert_ok(journey(client, person, event_id))
    assert body["eventId"] == event_id and body["complete"] is False
    assert [s["id"] for s in body["stages"]] == ["published", "saved", "archived", "parameter",
                                                 "greeting"]
    assert states(body) == {"published": "done", "saved": "done", "archived": "waiting",
                            "parameter": "waiting", "greeting": "waiting"}
    published, saved = body["stages"][0], body["stages"][1]
    assert published["at"] == change["publishedAt"]
    assert saved["function"] == "save_profile" and saved["at"] >= published["at"]

    deliver_queue(client, stack, "archive_profile")
    body = assert_ok(journey(client, person, event_id))
    assert states(body)["archived"] == "done" and states(body)["parameter"] == "waiting"
    assert body["stages"][2]["detail"].startswith("profile.json version ")

    client.lambda_.invoke("sync_name", stream_event(stack, sub_of(person)))
    names.forget_cache()
    body = assert_ok(journey(client, person, event_id))
    assert set(states(body).values()) == {"done"} and body["complete"] is True
    parameter, greeting = body["stages"][3], body["stages"][4]
    versions = names.versions(sub_of(person))
    assert versions[-1]["event_id"] == event_id and versions[-1]["value"] == "Ada King"
    assert parameter["detail"] == f"version {versions[-1]['version']}"
    assert parameter["at"] >= saved["at"]
    assert greeting["detail"] == "Hello, Ada King"


def test_a_change_overtaken_by_a_newer_one_says_superseded(client, register, stack):
    person = register(name="Ada")
    first = rename(client, person, "Ada B")["eventId"]
    rename(client, person, "Ada C")
    deliver_queue(client, stack, "save_profile")
    deliver_queue(client, stack, "archive_profile")
    body = assert_ok(journey(client, person, first))
    assert states(body) == {"published": "done", "saved": "done", "archived": "superseded",
                            "parameter": "superseded", "greeting": "superseded"}
    assert body["complete"] is True


def synced_then_renamed(client: Any, register: Any, stack: dict[str, str],
                        name: str) -> tuple[dict[str, str], str]:
    """Ada, her name in Parameter Store, then renamed `name`: saved and archived, not synced.
    The person and the change's event id."""
    person = register(name="Ada")
    deliver_queue(client, stack, "save_profile")
    client.lambda_.invoke("sync_name", stream_event(stack, sub_of(person)))
    event_id = rename(client, person, name)["eventId"]
    deliver_queue(client, stack, "save_profile")
    deliver_queue(client, stack, "archive_profile")
    return person, event_id


def test_saving_the_same_name_needs_no_new_parameter_version(client, register, stack):
    person, event_id = synced_then_renamed(client, register, stack, "Ada")
    client.lambda_.invoke("sync_name", stream_event(stack, sub_of(person)))
    names.forget_cache()
    body = assert_ok(journey(client, person, event_id))
    assert states(body)["parameter"] == "done" and "already held this name" in \
        body["stages"][3]["detail"]
    assert body["stages"][4]["detail"] == "Hello, Ada"


def test_another_persons_change_is_a_404_like_an_unknown_one(client, register, stack):
    ada, eve = register(name="Ada"), register(name="Eve")
    event_id = rename(client, ada, "Ada King")["eventId"]
    deliver_queue(client, stack, "save_profile")
    assert_ok(journey(client, ada, event_id))
    assert_error(journey(client, eve, event_id), 404, "UnknownChange")
    assert_error(journey(client, eve, str(uuid.uuid4())), 404, "UnknownChange")
    assert_error(journey(client, eve, "not-an-id"), 404, "UnknownChange")


def test_the_changes_route_needs_a_token(client):
    assert client.http.get(f"/api/account/changes/{uuid.uuid4()}").status_code == 401


# --- a stage that gave up: its message in the dead-letter queue ------------------------------

def give_up(stack: dict[str, str], function: str) -> str:
    """What SQS does after a message's fifth receive: every message waiting for `function`
    moved to the queue's dead-letter queue (the body as it was). The dead-letter queue's URL."""
    sqs, queue = aws("sqs", stack), f"comm-it-local-{function.replace('_', '-')}"
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    dead = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            sqs.send_message(QueueUrl=dead, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return dead


def waiting_in(stack: dict[str, str], url: str) -> int:
    attributes = aws("sqs", stack).get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_a_change_save_profile_gave_up_on_shows_failed_and_stays_in_the_queue(client, register,
                                                                              stack):
    ada, eve = register(name="Ada"), register(name="Eve")
    deliver_queue(client, stack, "save_profile")
    deliver_queue(client, stack, "archive_profile")
    change = rename(client, ada, "Ada King")
    dead = give_up(stack, "save_profile")

    body = assert_ok(journey(client, ada, change["eventId"]))
    assert states(body) == {"published": "done", "saved": "failed", "archived": "waiting",
                            "parameter": "blocked", "greeting": "blocked"}
    assert body["stages"][0]["at"] == change["publishedAt"]
    assert body["stages"][1]["detail"] == ("its message is in the dead-letter queue "
                                           "comm-it-local-save-profile-dlq")
    assert body["complete"] is False  # archive_profile may still get there
    # Only its own person learns of it; looking took nothing out of the queue.
    assert_error(journey(client, eve, change["eventId"]), 404, "UnknownChange")
    assert waiting_in(stack, dead) == 1

    deliver_queue(client, stack, "archive_profile")
    body = assert_ok(journey(client, ada, change["eventId"]))
    assert states(body)["archived"] == "done" and body["complete"] is True


def test_a_change_archive_profile_gave_up_on_shows_failed_while_the_rest_arrives(
        client, register, stack):
    person = register(name="Ada")
    deliver_queue(client, stack, "save_profile")
    deliver_queue(client, stack, "archive_profile")
    event_id = rename(client, person, "Ada Byron")["eventId"]
    deliver_queue(client, stack, "save_profile")
    give_up(stack, "archive_profile")
    client.lambda_.invoke("sync_name", stream_event(stack, sub_of(person)))
    names.forget_cache()

    body = assert_ok(journey(client, person, event_id))
    assert states(body) == {"published": "done", "saved": "done", "archived": "failed",
                            "parameter": "done", "greeting": "done"}
    assert body["stages"][2]["detail"].endswith("comm-it-local-archive-profile-dlq")
    assert body["complete"] is True


def test_a_stream_batch_sync_name_gave_up_on_shows_failed_at_parameter_store(client, register,
                                                                            stack):
    from local.event_sources import events

    person, event_id = synced_then_renamed(client, register, stack, "Ada Failing")
    names.forget_cache()
    assert states(assert_ok(journey(client, person, event_id)))["parameter"] == "waiting"

    # What the stream mapping sends when sync_name's retries are spent: the batch's position.
    streams = aws("dynamodbstreams", stack)
    arn = stack["USERS_TABLE_STREAM_ARN"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][-1]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    mine = [r for r in records if r["dynamodb"]["Keys"]["sub"]["S"] == sub_of(person)]
    sqs = aws("sqs", stack)
    dead = sqs.get_queue_url(QueueName="comm-it-local-sync-name-dlq")["QueueUrl"]
    # A batch from before the change is not the change's ...
    sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(
        events.stream_batch_failure(mine[:1], arn, shard, tries=3)))
    assert states(assert_ok(journey(client, person, event_id)))["parameter"] == "waiting"
    # ... the batch holding its record is.
    sqs.send_message(QueueUrl=dead, MessageBody=json.dumps(
        events.stream_batch_failure(mine[-1:], arn, shard, tries=3)))
    body = assert_ok(journey(client, person, event_id))
    assert states(body) == {"published": "done", "saved": "done", "archived": "done",
                            "parameter": "failed", "greeting": "blocked"}
    assert body["stages"][3]["detail"] == ("the stream batch with the record's change is in the "
                                           "dead-letter queue comm-it-local-sync-name-dlq")
    assert body["complete"] is True
