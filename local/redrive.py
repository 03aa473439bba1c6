"""`python -m local redrive`: every dead-letter queue's messages back to their source queue.

What SQS's "Start DLQ redrive" does (moto has no StartMessageMoveTask): for each
queue with a redrive policy, each message of its dead-letter queue is sent to the
queue again (same body and attributes, a fresh receive count) and only then
deleted from the dead-letter queue. A kill in between delivers it twice at
worst, which the consumers absorb: they apply an event once (its event id).
"""
from __future__ import annotations

import json
from typing import Any


def redrive(sqs: Any) -> dict[str, int]:
    """Move every dead letter back; {"<dlq> -> <queue>": how many}."""
    moved: dict[str, int] = {}
    urls = sqs.list_queues().get("QueueUrls", [])
    by_arn = {sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
              ["Attributes"]["QueueArn"]: url for url in urls}
    for url in urls:
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = json.loads(attributes.get("Attributes", {}).get("RedrivePolicy", "{}"))
        dead_letters = by_arn.get(policy.get("deadLetterTargetArn", ""))
        if not dead_letters:
            continue
        label = f"{dead_letters.rsplit('/', 1)[-1]} -> {url.rsplit('/', 1)[-1]}"
        moved[label] = _move(sqs, dead_letters, url)
    return moved


def _move(sqs: Any, source: str, target: str) -> int:
    count = 0
    while True:
        messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                       MessageAttributeNames=["All"], WaitTimeSeconds=0
                                       ).get("Messages", [])
        if not messages:
            return count
        sent = sqs.send_message_batch(QueueUrl=target, Entries=[
            {"Id": str(i), "MessageBody": m["Body"],
             **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {})}
            for i, m in enumerate(messages)])
        done = {entry["Id"] for entry in sent.get("Successful", [])}
        delete = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                  for i, m in enumerate(messages) if str(i) in done]
        if delete:
            sqs.delete_message_batch(QueueUrl=source, Entries=delete)
        count += len(delete)
        if len(done) < len(messages):
            failed = sent.get("Failed", [])
            raise RuntimeError(f"{len(failed)} message(s) could not be sent back: {failed}")
