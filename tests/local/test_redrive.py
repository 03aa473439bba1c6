"""`make redrive` (local/event_sources/redrive.py) brings back what SNS could not deliver: each
subscription's dead-letter queue goes to the queue the subscription delivers to."""
from __future__ import annotations

import json
from typing import Any

import pytest
from tests.stack.helpers import local_client

# Each test reads whole queues: a stack of its own.
pytestmark = pytest.mark.usefixtures("fresh_stack")


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def drain(sqs: Any, name: str) -> list[str]:
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    return [m["Body"] for m in sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])]


def test_what_sns_could_not_deliver_goes_to_the_subscriptions_queue_as_sns_would_have(
        stack, local_aws):
    from local.__main__ import _redrive  # what `make redrive` runs in `make run`'s process

    sqs = aws("sqs", stack)
    event = json.dumps({"type": "login", "sub": "s-1", "event_id": "e-1"})
    # As AWS may hold it: the raw message, or in SNS's envelope (unwrapped, the subscription
    # being raw).
    sqs.send_message(QueueUrl=sqs.get_queue_url(
        QueueName="comm-it-local-save-profile-sns-dlq")["QueueUrl"], MessageBody=event)
    sqs.send_message(QueueUrl=sqs.get_queue_url(
        QueueName="comm-it-local-archive-profile-sns-dlq")["QueueUrl"],
        MessageBody=json.dumps({"Type": "Notification", "MessageId": "m-1",
                                "TopicArn": stack["USER_EVENTS_TOPIC_ARN"], "Message": event}))

    moved = _redrive(local_aws)["moved"]

    assert moved["comm-it-local-save-profile-sns-dlq -> comm-it-local-save-profile"] == 1
    assert moved["comm-it-local-archive-profile-sns-dlq -> comm-it-local-archive-profile"] == 1
    assert drain(sqs, "comm-it-local-save-profile") == [event]
    assert drain(sqs, "comm-it-local-archive-profile") == [event]
    assert drain(sqs, "comm-it-local-save-profile-sns-dlq") == []
    assert drain(sqs, "comm-it-local-archive-profile-sns-dlq") == []

