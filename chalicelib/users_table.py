"""The user's record in DynamoDB, keyed by the user pool sub.

`record_login` is idempotent: each event id is applied once (a marker in the
processed-events table, written in the same transaction, expires after the SQS
retention period), and an event older than the record's last login only counts
the login: it never writes older details over newer ones.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.user_events import UserAuthenticated

log = logging.getLogger(__name__)

MARKER_TTL_SECONDS = 15 * 24 * 3600  # longer than SQS's longest retention (14 days)

APPLIED = "applied"
APPLIED_OLDER = "applied-older"  # counted, details kept (they are newer)
DUPLICATE = "duplicate"


def record_login(event: UserAuthenticated) -> str:
    """Apply one login to the user's record; say what happened."""
    for update, outcome in ((_newer_update(event), APPLIED), (_older_update(event), APPLIED_OLDER)):
        try:
            _transact(event, update)
            return outcome
        except _Cancelled as cancelled:
            if cancelled.reasons[0] == "ConditionalCheckFailed":
                return DUPLICATE  # the event id's marker exists: applied before
            # else: the record holds a newer login; count this one without its details
    raise RuntimeError(f"the login {event.event_id} fits neither update of {event.sub}")


def get(sub: str) -> dict[str, Any] | None:
    item = client("dynamodb").get_item(TableName=settings().users_table, Key={"sub": {"S": sub}},
                                       ConsistentRead=True).get("Item")
    return _plain(item) if item else None


class _Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(reasons)
        self.reasons = reasons


def _transact(event: UserAuthenticated, update: dict[str, Any]) -> None:
    from botocore.exceptions import ClientError

    cfg = settings()
    marker = {
        "Put": {
            "TableName": cfg.processed_events_table,
            "Item": {"event_id": {"S": event.event_id},
                     "sub": {"S": event.sub},
                     "expires_at": {"N": str(int(time.time()) + MARKER_TTL_SECONDS)}},
            "ConditionExpression": "attribute_not_exists(event_id)",
        }
    }
    try:
        client("dynamodb").transact_write_items(TransactItems=[marker, {"Update": update}])
    except ClientError as exc:
        if error_code(exc) != "TransactionCanceledException":
            raise
        reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" not in reasons:
            raise  # conflicts and throttling: let the batch retry
        raise _Cancelled(reasons + ["None"] * (2 - len(reasons))) from None


def _newer_update(event: UserAuthenticated) -> dict[str, Any]:
    return {
        "TableName": settings().users_table,
        "Key": {"sub": {"S": event.sub}},
        "UpdateExpression": (
            "SET #name = :name, email = :email, username = :username, "
            "last_login_at = :at, last_event_id = :event_id, "
            "created_at = if_not_exists(created_at, :at) ADD login_count :one"
        ),
        "ConditionExpression": "attribute_not_exists(#sub) OR last_login_at < :at",
        "ExpressionAttributeNames": {"#name": "name", "#sub": "sub"},
        "ExpressionAttributeValues": {
            ":name": {"S": event.name}, ":email": {"S": event.email},
            ":username": {"S": event.username}, ":at": {"S": event.occurred_at},
            ":event_id": {"S": event.event_id}, ":one": {"N": "1"},
        },
    }


def _older_update(event: UserAuthenticated) -> dict[str, Any]:
    return {
        "TableName": settings().users_table,
        "Key": {"sub": {"S": event.sub}},
        "UpdateExpression": "ADD login_count :one",
        "ConditionExpression": "attribute_exists(#sub)",
        "ExpressionAttributeNames": {"#sub": "sub"},
        "ExpressionAttributeValues": {":one": {"N": "1"}},
    }


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        (kind, value), = typed.items()
        out[key] = int(value) if kind == "N" else value
    return out
