"""The event pipeline's consumers: what each Lambda does with its batch.

    login, account changes -> SNS user events -> SQS save-profile    -> users table (DynamoDB)
                                              -> SQS archive-profile -> users bucket (S3)
                      (logins only, filtered) -> SQS record-sign-in  -> the Security page's
                                                 sessions and activity (security table)
    users table stream -> user's name in Parameter Store
    users bucket's object events -> SQS enforce-quota -> what breaks the files quota removed

Each consumer dispatches on the event's type (chalicelib/user_events.py):
users_table.apply, users_bucket.apply and sign_ins.apply; a deletion's tombstone in the table
removes the name from Parameter Store through the stream.

SQS batches: every record is tried; the ones that failed are returned as
{"batchItemFailures": [{"itemIdentifier": <messageId>}]} (the event source mapping
has ReportBatchItemFailures on: infra/event_sources.py), so Lambda deletes the
rest and only the failed ones come back (and, after the queue's maxReceiveCount,
land in its dead-letter queue). Powertools calls this BatchProcessor.

Stream batches: each record's effect is idempotent (put/delete a parameter), so
a transient failure fails the batch and Lambda retries it (a bounded number of
times, splitting the batch, then the mapping sends the batch's position to a
dead-letter queue: infra/event_sources.py); a record that can never succeed (no
sub, an unknown change, Parameter Store refusing for good, e.g. its 10,000
parameter limit) is logged with "skipped": true (an alarm counts those lines) and
skipped instead of blocking the shard.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from chalicelib import logs, names, quota, sign_ins, users_bucket, users_table
from chalicelib.aws import error_code
from chalicelib.user_events import UserEvent
from chalicelib.user_events import parse as parse_event

log = logging.getLogger(__name__)


def save_profiles(sqs_event: Any) -> dict[str, list[dict[str, str]]]:
    return _each_message(sqs_event, users_table.apply)


def archive_profiles(sqs_event: Any) -> dict[str, list[dict[str, str]]]:
    return _each_message(sqs_event, users_bucket.apply)


def record_sign_ins(sqs_event: Any) -> dict[str, list[dict[str, str]]]:
    return _each_message(sqs_event, sign_ins.apply)


BatchFailures = dict[str, list[dict[str, str]]]


def enforce_quotas(sqs_event: Any) -> BatchFailures:
    """The users bucket's events (the quota queue) -> what breaks a person's quota goes."""
    return _each_body(sqs_event, quota.handle)


def _each_message(sqs_event: Any, apply: Callable[[UserEvent], str]) -> BatchFailures:
    def handle(body: str) -> str:
        event = parse_event(body)
        with logs.fields(event_id=event.event_id):
            return apply(event)

    return _each_body(sqs_event, handle)


def _each_body(sqs_event: Any, handle: Callable[[str], str]) -> BatchFailures:
    """{"batchItemFailures": [...]}, exactly what Lambda reads (ReportBatchItemFailures);
    each message's outcome is logged."""
    failures: list[dict[str, str]] = []
    for record in sqs_event.to_dict()["Records"]:
        message_id = record.get("messageId", "?")
        with logs.fields(message_id=message_id):
            try:
                outcome = handle(record["body"])
                log.info("message %s: %s", message_id, outcome)
            except Exception as exc:  # noqa: BLE001 (one bad record must not sink the others)
                log.error("message %s failed (receive count %s): %s: %s", message_id,
                          record.get("attributes", {}).get("ApproximateReceiveCount", "?"),
                          type(exc).__name__, exc)
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def sync_names(stream_event: Any) -> dict[str, str]:
    outcomes: dict[str, str] = {}
    for record in stream_event.to_dict()["Records"]:
        event_id = record.get("eventID", "?")
        with logs.fields(event_id=event_id):
            try:
                outcomes[event_id] = _sync_name(record)
            except Exception as exc:
                if not isinstance(exc, _PoisonRecord) and error_code(exc) not in NEVER_SUCCEEDS:
                    raise  # transient: the mapping retries the batch (bounded), then gives up
                reason = error_code(exc) or str(exc)
                log.error("skipping stream record %s that can never succeed: %s", event_id,
                          reason, extra={"skipped": True})
                outcomes[event_id] = f"skipped: {reason}"
    return outcomes


# Parameter Store errors that the same request will never get past: retrying only
# blocks the shard behind them. ParameterLimitExceeded is the 10,001st user.
NEVER_SUCCEEDS = frozenset({"ParameterLimitExceeded", "ParameterMaxVersionLimitExceeded",
                            "HierarchyLevelLimitExceededException",
                            "HierarchyTypeMismatchException", "ValidationException",
                            "UnsupportedParameterType"})


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
    names.put(sub, new_name, event_id=_text(data.get("NewImage"), "last_event_id"))
    return "written"


def _text(image: dict[str, Any] | None, attribute: str) -> str:
    value = (image or {}).get(attribute) or {}
    return value.get("S", "") if isinstance(value, dict) else ""
