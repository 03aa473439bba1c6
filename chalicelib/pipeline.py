"""The event pipeline's consumers: what each Lambda does with its batch.

    login, account changes -> SNS user events -> SQS save-profile    -> users table (DynamoDB)
                                              -> SQS archive-profile -> users bucket (S3)
    users table stream -> user's name in Parameter Store

Each consumer dispatches on the event's type (chalicelib/user_events.py):
users_table.apply and users_bucket.apply; a deletion's tombstone in the table
removes the name from Parameter Store through the stream.

SQS batches: every record is tried; when some fail, the ones that succeeded are
deleted here and the invocation fails, so only the failed ones come back (and,
after the queue's maxReceiveCount, land in its dead-letter queue). Chalice
cannot turn on ReportBatchItemFailures for its event source mappings, which is
why the handler deletes them itself.

Stream batches: each record's effect is idempotent (put/delete a parameter), so
a transient failure fails the batch and Lambda retries it; a record that can
never succeed (no sub, an unknown change) is logged and skipped instead of blocking the
shard.
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from chalicelib import names, users_bucket, users_table
from chalicelib.aws import client
from chalicelib.user_events import UserEvent
from chalicelib.user_events import parse as parse_event

log = logging.getLogger(__name__)


class BatchFailed(Exception):
    """Some records of the batch failed; the succeeded ones are already deleted."""


def save_profiles(sqs_event: Any) -> dict[str, str]:
    return _each_message(sqs_event, users_table.apply)


def archive_profiles(sqs_event: Any) -> dict[str, str]:
    return _each_message(sqs_event, users_bucket.apply)


def _each_message(sqs_event: Any, apply: Callable[[UserEvent], str]) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    succeeded: list[dict[str, Any]] = []
    failed: list[str] = []
    for record in sqs_event.to_dict()["Records"]:
        message_id = record.get("messageId", "?")
        try:
            event = parse_event(record["body"])
            outcomes[message_id] = apply(event)
            succeeded.append(record)
        except Exception as exc:  # one bad record must not sink the others
            log.error("message %s failed (receive count %s): %s", message_id,
                      record.get("attributes", {}).get("ApproximateReceiveCount", "?"), exc)
            outcomes[message_id] = f"failed: {exc}"
            failed.append(message_id)
    if failed:
        _delete(succeeded)
        raise BatchFailed(f"{len(failed)} of {len(failed) + len(succeeded)} messages failed: "
                          f"{', '.join(failed)}")
    return outcomes


def _delete(records: list[dict[str, Any]]) -> None:
    for arn, group in _by_queue(records).items():
        entries = [{"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(group)]
        for start in range(0, len(entries), 10):
            client("sqs").delete_message_batch(QueueUrl=_queue_url(arn),
                                               Entries=entries[start:start + 10])


def _by_queue(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["eventSourceARN"], []).append(record)
    return groups


@functools.lru_cache(maxsize=None)
def _queue_url(queue_arn: str) -> str:
    *_, account, name = queue_arn.split(":")
    return client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def sync_names(stream_event: Any) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for record in stream_event.to_dict()["Records"]:
        event_id = record.get("eventID", "?")
        try:
            outcomes[event_id] = _sync_name(record)
        except _PoisonRecord as exc:
            log.error("skipping stream record %s that can never succeed: %s", event_id, exc)
            outcomes[event_id] = f"skipped: {exc}"
    return outcomes


class _PoisonRecord(ValueError):
    pass


def _sync_name(record: dict[str, Any]) -> str:
    change = record.get("eventName")
    data = record.get("dynamodb") or {}
    sub = _text(data.get("Keys"), "sub")
    if not sub:
        raise _PoisonRecord("no sub in the record's keys")
    if change == "REMOVE":
        return "removed" if names.delete(sub) else "already absent"
    if change not in ("INSERT", "MODIFY"):
        raise _PoisonRecord(f"unknown eventName {change!r}")
    if _text(data.get("NewImage"), "deleted_at"):  # the account's tombstone
        return "removed (account deleted)" if names.delete(sub) else "already absent"
    new_name = _text(data.get("NewImage"), "name")
    if not new_name:
        return "ignored (no name in the new image)"
    if change == "MODIFY" and _text(data.get("OldImage"), "name") == new_name:
        return "unchanged"  # a login that changed only the count: keep Parameter Store calm
    names.put(sub, new_name)
    return "written"


def _text(image: dict[str, Any] | None, attribute: str) -> str:
    value = (image or {}).get(attribute) or {}
    return value.get("S", "") if isinstance(value, dict) else ""
