"""The pipeline's dead-letter queues, looked into without taking anything out.

Where a stage's message goes when its Lambda gave up: save_profile's and
archive_profile's queues move a message there after its fifth receive (the body is
the user event itself: raw message delivery), and the users stream's mapping sends
sync_name's failed batches there as an OnFailure document (the batch's shard, sequence
numbers and arrival times; the records stay in the stream).

A look costs one GetQueueAttributes while the queue is empty (the usual case), and at
most LOOKS ReceiveMessage calls otherwise, with VisibilityTimeout=0: the messages stay
visible, so a redrive, the alarm and the next look see them as before. Short polling
samples a subset of SQS's servers, so in a queue of many messages a look may miss one:
the stage then shows as waiting, as it did before anyone looked (the alarm is raised
either way). A queue that cannot be read is logged and counts as empty.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib.aws import client

log = logging.getLogger(__name__)

LOOKS = 3
# The record's time is stamped before its write (the transaction's own latency, at most this)
# and its stream arrival after it.
WRITE_LATENCY = timedelta(seconds=1)


def queue_name(queue_arn: str) -> str:
    return queue_arn.rsplit(":", 1)[-1]


def queue_url(queue_arn: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> -> the queue's URL (no GetQueueUrl call)."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def holds(queue_arn: str, matches: Callable[[str], bool]) -> bool:
    """True when a message of the queue has a body that `matches`."""
    from botocore.exceptions import BotoCoreError, ClientError

    if not queue_arn:
        return False
    sqs, url = client("sqs"), queue_url(queue_arn)
    try:
        waiting = sqs.get_queue_attributes(QueueUrl=url,
                                           AttributeNames=["ApproximateNumberOfMessages"])
        if int(waiting["Attributes"].get("ApproximateNumberOfMessages", 0)) == 0:
            return False
        seen: set[str] = set()
        for _ in range(LOOKS):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=0).get("Messages", [])
            new = [m for m in messages if m["MessageId"] not in seen]
            if any(matches(m.get("Body", "")) for m in new):
                return True
            if not new:
                return False
            seen.update(m["MessageId"] for m in new)
    except (BotoCoreError, ClientError) as exc:
        log.warning("cannot look into %s: %s", queue_name(queue_arn), exc)
    return False


def stream_batch_covers(body: str, moment: str) -> bool:
    """True when `body` is a stream mapping's OnFailure document whose batch holds the
    record written at `moment` (ISO 8601, stamped just before the write).

    Its arrival times are the records' ApproximateCreationDateTime: rounded down to the
    second by default, to the millisecond when the stream is set to (and locally).
    """
    import json

    try:
        info = json.loads(body)["DDBStreamBatchInfo"]
        first = _instant(info["approximateArrivalOfFirstRecord"])
        last = _instant(info["approximateArrivalOfLastRecord"])
        at = _instant(moment)
    except (ValueError, TypeError, KeyError):
        return False
    rounding = timedelta(seconds=1) if first.microsecond == last.microsecond == 0 \
        else timedelta(milliseconds=1)
    return first - WRITE_LATENCY <= at < last + rounding


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
