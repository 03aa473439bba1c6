"""`make redrive`: every dead-letter queue's messages back to their source, in the running stack.

What SQS's "Start DLQ redrive" does (moto has no StartMessageMoveTask): for each
queue with a redrive policy, each message of its dead-letter queue is sent to the
queue again (same body and attributes, a fresh receive count) and only then
deleted from the dead-letter queue. A kill in between delivers it twice at
worst, which the consumers absorb: they apply an event once (its event id).

A subscription's dead-letter queue (its RedrivePolicy: what SNS could not deliver) goes
to the subscription's queue, each message as SNS would have delivered it: with raw message
delivery, the message itself (unwrapped if it comes in SNS's JSON envelope). SQS's own
redrive (StartMessageMoveTask) moves only dead letters of SQS queues, so in AWS the
operator does this with the loop in docs/operations.md.

The stream's dead-letter queue (the mapping's OnFailure destination) holds no records,
only where a failed batch was in the stream (DDBStreamBatchInfo, as Lambda writes it):
for each, `replay` reads those records from the stream again and delivers them to the
stream's handler (the running pump's `replay_stream_batch`); the dead letter is deleted
once that succeeded, and stays when it fails again.
"""
from __future__ import annotations

import json
from typing import Any, Callable

Replay = Callable[[dict[str, Any]], int]


def redrive(sqs: Any, stream_destination: str = "",
            replay: Replay | None = None, sns: Any = None) -> dict[str, int]:
    """Move every dead letter back; {"<dlq> -> <queue or stream>": how many}."""
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
    if sns is not None:
        for (dead_letters, url), raw in _subscriptions(sns, by_arn).items():
            label = f"{dead_letters.rsplit('/', 1)[-1]} -> {url.rsplit('/', 1)[-1]}"
            moved[label] = _move(sqs, dead_letters, url, unwrap=raw)
    if stream_destination and replay is not None and stream_destination in by_arn:
        url = by_arn[stream_destination]
        moved[f"{url.rsplit('/', 1)[-1]} -> stream"] = _replay(sqs, url, replay)
    return moved


def _subscriptions(sns: Any, by_arn: dict[str, str]) -> dict[tuple[str, str], bool]:
    """{(dead-letter queue url, subscribed queue url): raw delivery} for each SQS subscription
    with a redrive policy."""
    found = {}
    for page in sns.get_paginator("list_subscriptions").paginate():
        for subscription in page["Subscriptions"]:
            if subscription["Protocol"] != "sqs" or subscription["Endpoint"] not in by_arn:
                continue
            attributes = sns.get_subscription_attributes(
                SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
            policy = json.loads(attributes.get("RedrivePolicy") or "{}")
            dead_letters = by_arn.get(policy.get("deadLetterTargetArn", ""))
            if dead_letters:
                found[dead_letters, by_arn[subscription["Endpoint"]]] = (
                    attributes.get("RawMessageDelivery") == "true")
    return found


def _as_delivered(body: str, unwrap: bool) -> str:
    """A raw subscription's message as SNS delivers it: the envelope's Message, if enveloped."""
    if not unwrap:
        return body
    try:
        envelope = json.loads(body)
    except ValueError:
        return body
    if isinstance(envelope, dict) and envelope.get("Type") == "Notification" \
            and isinstance(envelope.get("Message"), str):
        return envelope["Message"]
    return body


def _replay(sqs: Any, url: str, replay: Replay) -> int:
    count, failed, kept = 0, [], []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=60, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                replay(json.loads(message["Body"])["DDBStreamBatchInfo"])
            except Exception as exc:  # noqa: BLE001 - it stays; say why at the end
                failed.append(f"{type(exc).__name__}: {exc}")
                kept.append(message["ReceiptHandle"])
                continue
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            count += 1
    for handle in kept:  # visible again now, for the next `make redrive`
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    if failed:
        raise RuntimeError(f"{len(failed)} stream batch(es) failed again and stay in "
                           f"{url.rsplit('/', 1)[-1]}: {failed[0]}")
    return count


def _move(sqs: Any, source: str, target: str, unwrap: bool = False) -> int:
    count = 0
    while True:
        messages = sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10,
                                       VisibilityTimeout=60, MessageAttributeNames=["All"],
                                       WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return count
        sent = sqs.send_message_batch(QueueUrl=target, Entries=[
            {"Id": str(i), "MessageBody": _as_delivered(m["Body"], unwrap),
             **({"MessageAttributes": m["MessageAttributes"]}
                if m.get("MessageAttributes") else {})}
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
