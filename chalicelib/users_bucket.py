"""The user's details as a JSON document in the private S3 bucket.

One object per user at users/<sub>/profile.json. Writes are conditional on the
object read (If-Match its ETag, or If-None-Match when there is none), so two
concurrent deliveries cannot interleave, and an event older than the document
changes nothing.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.user_events import UserAuthenticated, now_iso

log = logging.getLogger(__name__)

WRITTEN = "written"
UNCHANGED = "unchanged"  # the document already holds this or a newer login


def key_for(sub: str) -> str:
    return f"users/{sub}/profile.json"


def save_profile(event: UserAuthenticated) -> str:
    current, etag = _read(event.sub)
    if current and current.get("lastLoginAt", "") >= event.occurred_at:
        return UNCHANGED
    document = {
        "sub": event.sub,
        "username": event.username,
        "email": event.email,
        "name": event.name,
        "lastLoginAt": event.occurred_at,
        "lastEventId": event.event_id,
        "firstSeenAt": (current or {}).get("firstSeenAt", event.occurred_at),
        "savedAt": now_iso(),
    }
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    # A PreconditionFailed here means another delivery wrote first: the error
    # fails this record, and its retry reads the newer document.
    client("s3").put_object(
        Bucket=settings().users_bucket,
        Key=key_for(event.sub),
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
        **condition,
    )
    return WRITTEN


def get_profile(sub: str) -> dict[str, Any] | None:
    return _read(sub)[0]


def _read(sub: str) -> tuple[dict[str, Any] | None, str]:
    from botocore.exceptions import ClientError

    try:
        response = client("s3").get_object(Bucket=settings().users_bucket, Key=key_for(sub))
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "404"):
            return None, ""
        raise
    return json.loads(response["Body"].read()), response["ETag"]
