"""SQS in the local AWS costs per message, not per message squared (local.sqs.scans): a
receive no longer builds the queue's attribute map for each message it hands out, and the
answers stay moto's: retention, delay and visibility as before."""
from __future__ import annotations

import time
import uuid

from moto.sqs.models import Queue


def sqs_of(local_aws):
    return local_aws.session().client("sqs", endpoint_url=local_aws.endpoint)


def test_a_receive_builds_no_attribute_map_per_message(stack, local_aws, monkeypatch):
    sqs = sqs_of(local_aws)
    url = sqs.create_queue(QueueName=f"scans-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for i in range(50):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    built = []
    real = Queue.attributes
    monkeypatch.setattr(Queue, "attributes", property(lambda q: built.append(1) or real.fget(q)))
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(got) == 10
    assert len(built) <= 1  # moto 5.2.5: 3 per message handed out (30 here)


def test_retention_delay_and_visibility_answer_as_before(stack, local_aws):
    sqs = sqs_of(local_aws)
    url = sqs.create_queue(QueueName=f"scans-{uuid.uuid4().hex[:8]}",
                           Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # delayed
    time.sleep(1.1)
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=1)["Messages"]
    assert [m["Body"] for m in first] == ["later"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # in flight
    time.sleep(1.1)
    again = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in again] == ["later"]
    # Past its retention period a message is no longer handed out.
    queue = local_aws_queue(url)
    for message in queue._messages:
        message.sent_timestamp -= 61_000
        message.visible_at = 0
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []


def local_aws_queue(url: str):
    from moto.sqs.models import sqs_backends

    account, name = url.rstrip("/").split("/")[-2:]
    return sqs_backends[account]["us-east-1"].queues[name]
