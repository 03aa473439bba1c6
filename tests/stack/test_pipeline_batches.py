"""The pipeline's batch mechanics: SQS partial batch responses, and a stream that is
never blocked by a record that can never succeed (Parameter Store's 10,000-parameter
limit injected), while a transient error still fails the batch for a bounded retry."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from chalicelib import names, users_table
from chalicelib.user_events import UserAuthenticated
from tests.stack import helpers


def login_event(name: str = "Ada Lovelace") -> UserAuthenticated:
    return UserAuthenticated(event_id=str(uuid.uuid4()), occurred_at="2026-11-26T10:00:00.000000Z",
                             sub=str(uuid.uuid4()), username="ada", email="ada@example.com",
                             name=name)


def sqs_event(client: Any, *bodies: str) -> dict:
    return helpers.sqs_event(client, list(bodies), "comm-it-local-save-profile")


def insert(sub: str, name: str) -> dict:
    keys = {"sub": {"S": sub}}
    return {"eventID": uuid.uuid4().hex, "eventName": "INSERT", "eventVersion": "1.1",
            "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
            "dynamodb": {"ApproximateCreationDateTime": time.time(), "Keys": keys,
                         "NewImage": {**keys, "name": {"S": name}},
                         "SequenceNumber": str(time.time_ns()), "SizeBytes": 100,
                         "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "eventSourceARN":
                "arn:aws:dynamodb:us-east-1:123456789012:table/comm-it-local-users/stream/x"}


def client_error(code: str) -> Exception:
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": code, "Message": code}}, "PutParameter")


def test_a_batch_reports_only_the_failed_message_and_saves_the_good_one(client):
    good = login_event()
    event = sqs_event(client, good.to_json(), "{not json")
    good_id, poison_id = (record["messageId"] for record in event["Records"])
    assert good_id != poison_id
    result = client.lambda_.invoke("save_profile", event)
    assert json.loads(json.dumps(result.payload)) == {
        "batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert users_table.get(good.sub)["login_count"] == 1


def test_a_batch_that_all_succeeds_reports_no_failures(client):
    result = client.lambda_.invoke("save_profile", sqs_event(client, login_event().to_json()))
    assert json.loads(json.dumps(result.payload)) == {"batchItemFailures": []}


def test_the_10001st_name_is_skipped_with_an_alarmed_line_and_the_next_names_still_sync(
        client, monkeypatch, capsys):
    full, later = str(uuid.uuid4()), str(uuid.uuid4())
    put = names.put

    def limited(sub: str, name: str, event_id: str = "") -> None:
        if sub == full:
            raise client_error("ParameterLimitExceeded")
        put(sub, name, event_id)

    monkeypatch.setattr(names, "put", limited)
    result = client.lambda_.invoke("sync_name", {"Records": [insert(full, "Ten Thousand One"),
                                                             insert(later, "Next Person")]})
    assert list(result.payload.values()) == ["skipped: ParameterLimitExceeded", "written"]
    assert names.get(later) == "Next Person"
    skipped = [json.loads(out) for out in capsys.readouterr().out.splitlines()
               if out.startswith("{") and '"skipped"' in out]
    (line,) = skipped
    # What the template's metric filter counts ({ $.level = "ERROR" && $.skipped IS TRUE }).
    assert line["level"] == "ERROR" and line["skipped"] is True and line["event_id"]


def test_a_transient_parameter_store_error_fails_the_batch_for_the_mappings_bounded_retry(
        client, monkeypatch):
    monkeypatch.setattr(names, "put", lambda sub, name, event_id="": (_ for _ in ()).throw(
        client_error("ThrottlingException")))
    with pytest.raises(Exception) as error:
        client.lambda_.invoke("sync_name", {"Records": [insert(str(uuid.uuid4()), "Busy")]})
    assert "ThrottlingException" in str(error.value)


@pytest.mark.parametrize("function,queue", [("save_profile", "comm-it-local-save-profile"),
                                            ("archive_profile", "comm-it-local-archive-profile"),
                                            ("record_sign_in", "comm-it-local-record-sign-in")])
def test_an_event_of_a_version_the_consumer_does_not_know_fails_for_its_dead_letter_queue(
        client, function, queue):
    """A newer producer's event reaches a consumer deployed before it: reported failed, SQS
    retries it then moves it to the dead-letter queue, whose redrive applies it later."""
    newer = {**json.loads(login_event().to_json()), "version": 2, "nickname": "Ada"}
    result = client.lambda_.invoke(function, helpers.sqs_event(client, [json.dumps(newer)], queue))
    assert json.loads(json.dumps(result.payload)) == {
        "batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert users_table.get(newer["sub"]) is None
