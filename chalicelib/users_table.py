"""The user's record in DynamoDB, keyed by the user pool sub.

`apply(event)` applies one user event, idempotently: each event id is applied
once (a marker in the processed-events table, written in the same transaction,
expires after the SQS retention period), and the details in the record are
always those of the newest snapshot (`details_at`): an older login only counts
the login, an older change changes nothing.

"user.deleted" replaces the record with a tombstone (the sub, when, and the
event id: no personal data). A tombstone is final: no event, older or
redelivered, ever writes details over it again (user pool subs are never reused).
"""
from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.read_batches import BatchReader
from chalicelib.user_events import (Snapshot, UserAuthenticated, UserDeleted, UserEvent,
                                    UserUpdated, now_iso)

log = logging.getLogger(__name__)

MARKER_TTL_SECONDS = 15 * 24 * 3600  # longer than SQS's longest retention (14 days)

APPLIED = "applied"
APPLIED_OLDER = "applied-older"  # counted, details kept (they are newer)
DUPLICATE = "duplicate"
SKIPPED_OLDER = "skipped (the record holds newer details, or is a tombstone)"
SKIPPED_DELETED = "skipped (the account is deleted)"
DELETED = "deleted (tombstone written)"

# The details of a record are newer than :at (records written before `details_at`
# existed know only their last login's time). A tombstone is never "older".
_NOT_NEWER = ("attribute_not_exists(#sub) OR (attribute_not_exists(deleted_at) AND ("
              "details_at < :at OR (attribute_not_exists(details_at) AND "
              "(attribute_not_exists(last_login_at) OR last_login_at < :at))))")


def apply(event: UserEvent) -> str:
    """Apply one user event to the person's record; say what happened."""
    if isinstance(event, UserAuthenticated):
        return record_login(event)
    if isinstance(event, UserUpdated):
        return record_update(event)
    return record_deletion(event)


def record_login(event: UserAuthenticated) -> str:
    """Apply one login to the user's record; say what happened."""
    for update, outcome in ((_newer_login(event), APPLIED), (_older_login(event), APPLIED_OLDER)):
        try:
            _transact(event, {"Update": update})
            return outcome
        except _Cancelled as cancelled:
            if cancelled.reasons[0] == "ConditionalCheckFailed":
                return DUPLICATE  # the event id's marker exists: applied before
            # else: newer details, or a tombstone; try the next update
    return SKIPPED_DELETED  # neither fits: only a tombstone refuses both


def record_update(event: UserUpdated) -> str:
    try:
        _transact(event, {"Update": _details(event)})
    except _Cancelled as cancelled:
        if cancelled.reasons[0] == "ConditionalCheckFailed":
            return DUPLICATE
        return SKIPPED_OLDER
    return APPLIED


def record_deletion(event: UserDeleted) -> str:
    tombstone = {"Put": {"TableName": settings().users_table,
                         "Item": {"sub": {"S": event.sub},
                                  "deleted_at": {"S": event.occurred_at},
                                  "details_at": {"S": event.occurred_at},
                                  "last_event_id": {"S": event.event_id}}}}
    try:
        _transact(event, tombstone)
    except _Cancelled:
        return DUPLICATE
    return DELETED


def get(sub: str) -> dict[str, Any] | None:
    item = client("dynamodb").get_item(TableName=settings().users_table, Key={"sub": {"S": sub}},
                                       ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def event_marker(event_id: str) -> dict[str, Any] | None:
    """The processed-events marker of one event (sub, occurred_at, applied_at), or None
    while save_profile has not applied it (or after its TTL)."""
    item = client("dynamodb").get_item(TableName=settings().processed_events_table,
                                       Key={"event_id": {"S": event_id}},
                                       ConsistentRead=True).get("Item")
    return _plain(item) if item else None


def is_deleted(sub: str) -> bool:
    """True when the person deleted the account (the record is a tombstone). Asks made at
    the same moment in one container go together (BatchGetItem: read_batches.py)."""
    return bool(_tombstones.read(sub))


_TOMBSTONE_LOOKS = 3  # BatchGetItem answers part of a batch when throttled: ask again


def _deleted(subs: list[str]) -> dict[str, bool]:
    table = settings().users_table
    keys = [{"sub": {"S": sub}} for sub in subs]
    found: dict[str, bool] = {}
    for _ in range(_TOMBSTONE_LOOKS):
        answer = client("dynamodb").batch_get_item(RequestItems={table: {
            "Keys": keys, "ConsistentRead": True, "ProjectionExpression": "#s, deleted_at",
            "ExpressionAttributeNames": {"#s": "sub"}}})
        for item in answer.get("Responses", {}).get(table, []):
            found[item["sub"]["S"]] = "deleted_at" in item
        keys = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
        if not keys:
            return found
    raise ServiceUnavailable("We could not check your account just now. Please try again.")


_tombstones: BatchReader[str, bool] = BatchReader(_deleted, size=100)  # BatchGetItem's most


class _Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


def _transact(event: UserEvent, change: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    cfg = settings()
    marker = {
        "Put": {
            "TableName": cfg.processed_events_table,
            # The marker also dates the event and its application: the journey of a
            # change (chalicelib/changes.py) reads it back, for its own person only.
            "Item": {"event_id": {"S": event.event_id},
                     "sub": {"S": event.sub},
                     "occurred_at": {"S": event.occurred_at},
                     "applied_at": {"S": now_iso()},
                     "expires_at": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)}},
            "ConditionExpression": "attribute_not_exists(event_id)",
        }
    }
    try:
        client("dynamodb").transact_write_items(TransactItems=[marker, change])
    except ClientError as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" not in reasons:
            raise  # conflicts and throttling: let the batch retry
        raise _Cancelled(reasons + ["None"] * (2 - len(reasons))) from None


# The details a snapshot carries, written unless the record holds newer ones (_NOT_NEWER).
_DETAILS = ("#name = :name, email = :email, username = :username, details_at = :at, "
            "last_event_id = :event_id, created_at = if_not_exists(created_at, :at)")


def _details(event: Snapshot) -> dict[str, Any]:
    """The update that writes the snapshot's details."""
    return _not_newer(event, f"SET {_DETAILS}", {})


def _newer_login(event: UserAuthenticated) -> dict[str, Any]:
    """The update a login newer than the record's details makes: its details, its time, and
    one more login."""
    return _not_newer(event, f"SET {_DETAILS}, last_login_at = :at ADD login_count :one",
                      {":one": {"N": "1"}})


def _not_newer(event: Snapshot, expression: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "TableName": settings().users_table,
        "Key": {"sub": {"S": event.sub}},
        "UpdateExpression": expression,
        "ConditionExpression": _NOT_NEWER,
        "ExpressionAttributeNames": {"#name": "name", "#sub": "sub"},
        "ExpressionAttributeValues": {
            ":name": {"S": event.name}, ":email": {"S": event.email},
            ":username": {"S": event.username}, ":at": {"S": event.occurred_at},
            ":event_id": {"S": event.event_id}, **values},
    }


def _older_login(event: UserAuthenticated) -> dict[str, Any]:
    return {
        "TableName": settings().users_table,
        "Key": {"sub": {"S": event.sub}},
        "UpdateExpression": "ADD login_count :one",
        "ConditionExpression": "attribute_exists(#sub) AND attribute_not_exists(deleted_at)",
        "ExpressionAttributeNames": {"#sub": "sub"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        (kind, value), = typed.items()
        out[key] = int(value) if kind == "N" else value
    return out
