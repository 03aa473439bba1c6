"""The user's details as a JSON document in the private S3 bucket.

One object per user at app/<sub>/profile.json (the layout: chalicelib/user_keys.py).
Writes are conditional on the object read (If-Match its ETag, or If-None-Match
when there is none), so two concurrent deliveries cannot interleave, and an event
older than the document changes nothing.

"user.deleted" removes every version of everything under users/<sub>/ and app/<sub>/
(the person's files, the profile and the archive: the bucket is versioned, so a plain
delete would only hide them) and leaves a tombstone at tombstones/<sub>.json (the sub and
when, no personal data) that stops any older or redelivered event from writing the profile
again. The tombstone is written before the sweep, and a profile write looks for it after
writing, so a login racing the deletion cannot leave a profile behind.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from chalicelib import user_keys
from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.user_events import (Snapshot, UserAuthenticated, UserDeleted, UserEvent,
                                    now_iso)

log = logging.getLogger(__name__)

WRITTEN = "written"
UNCHANGED = "unchanged"  # the document already holds this or a newer snapshot
SKIPPED_DELETED = "skipped (the account is deleted)"


def apply(event: UserEvent) -> str:
    """Apply one user event to the person's objects; say what happened."""
    if isinstance(event, UserDeleted):
        return delete_everything(event)
    return save_profile(event)


def save_profile(event: Snapshot) -> str:
    if is_deleted(event.sub):
        return SKIPPED_DELETED
    current, etag = _read(event.sub)
    current_at = (current or {}).get("detailsAt") or (current or {}).get("lastLoginAt", "")
    if current and current_at >= event.occurred_at:
        return UNCHANGED
    login = isinstance(event, UserAuthenticated)
    document = {
        "sub": event.sub,
        "username": event.username,
        "email": event.email,
        "name": event.name,
        "detailsAt": event.occurred_at,
        "lastLoginAt": event.occurred_at if login else (current or {}).get("lastLoginAt", ""),
        "lastEventId": event.event_id,
        "firstSeenAt": (current or {}).get("firstSeenAt", event.occurred_at),
        "savedAt": now_iso(),
    }
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    # A PreconditionFailed here means another delivery wrote first: the error
    # fails this record, and its retry reads the newer document.
    client("s3").put_object(
        Bucket=settings().users_bucket,
        Key=user_keys.profile_key(event.sub),
        Body=json.dumps(document, indent=2).encode(),
        ContentType="application/json",
        **condition,
    )
    if is_deleted(event.sub):  # deleted while we wrote: take it back
        _delete_all_versions(event.sub)
        return SKIPPED_DELETED
    return WRITTEN


def delete_everything(event: UserDeleted) -> str:
    """Tombstone first, then every version of every object under users/<sub>/ and app/<sub>/."""
    if not is_deleted(event.sub):
        client("s3").put_object(
            Bucket=settings().users_bucket, Key=user_keys.tombstone_key(event.sub),
            Body=json.dumps({"sub": event.sub, "deletedAt": event.occurred_at,
                             "eventId": event.event_id}).encode(),
            ContentType="application/json")
    removed = _delete_all_versions(event.sub)
    return f"deleted ({removed} object versions)"


def is_deleted(sub: str) -> bool:
    """Whether the account's tombstone is there: listed, not read, so that the quota
    (chalicelib/quota.py) needs no s3:GetObject and a missing one is not a 403."""
    return _exists(user_keys.tombstone_key(sub))


def _exists(key: str) -> bool:
    """Listed on the exact key (ListObjectsV2, the one way a role that may list only some
    prefixes learns that a key is missing: a GetObject of it is a 403, not a 404)."""
    listed = client("s3").list_objects_v2(Bucket=settings().users_bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def get_profile(sub: str) -> dict[str, Any] | None:
    return _read(sub)[0]


def _read(sub: str) -> tuple[dict[str, Any] | None, str]:
    return _get_json(user_keys.profile_key(sub))


def _get_json(key: str) -> tuple[dict[str, Any] | None, str]:
    from botocore.exceptions import ClientError

    if not _exists(key):
        return None, ""
    try:  # listed: a NoSuchKey now is a delete in between
        response = client("s3").get_object(Bucket=settings().users_bucket, Key=key)
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "404"):
            return None, ""
        raise
    return json.loads(response["Body"].read()), response["ETag"]


def _delete_all_versions(sub: str) -> int:
    """Every version and delete marker under the person's two prefixes; how many went."""
    s3 = client("s3")
    bucket = settings().users_bucket
    removed = 0
    for prefix in user_keys.prefixes(sub):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket,
                                                                      Prefix=prefix):
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            for start in range(0, len(objects), 1000):  # DeleteObjects takes at most 1,000
                chunk = objects[start:start + 1000]
                result = s3.delete_objects(Bucket=bucket,
                                           Delete={"Objects": chunk, "Quiet": True})
                errors = result.get("Errors", [])
                if errors:  # fail the message: its retry deletes what is left
                    raise RuntimeError(f"{len(errors)} objects of {sub} not deleted: "
                                       f"{errors[0].get('Code')}")
                removed += len(chunk)
    return removed
