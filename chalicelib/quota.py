"""The files quota, enforced where the data lands: S3's object-created events.

The app's upload route checks the limits (chalicelib/inputs.py MAX_FILE_BYTES, the
count chalicelib/my_files.py MAX_FILES), but a person may take their identity-pool
credentials and write to users/<sub>/files/ with the AWS CLI, around the app. So every
object created under users/ is an S3 event on the quota queue (infra/template.yaml),
and enforce_quota looks at the person's files as they are now:

- a file over MAX_FILE_BYTES goes, every version of it (the bucket is versioned: a
  plain delete would only hide it, and keep it for 30 days);
- past MAX_FILES, the files created last go (by their first version), every version.

Each removal logs one line with "quota": true (a metric filter and an alarm count them).
Looking at the prefix, not at the one event, makes a redelivered or late event harmless.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import inputs, my_files, user_keys
from chalicelib.aws import client
from chalicelib.config import settings

log = logging.getLogger(__name__)

_FILE_KEY = re.compile(r"users/([A-Za-z0-9_-]{1,128})/files/.+")


def subs_in(body: str) -> set[str]:
    """The people whose files an SQS body's S3 event touched (none for S3's test event)."""
    data = json.loads(body)
    subs = set()
    for record in data.get("Records", []) if isinstance(data, dict) else []:
        key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
        match = _FILE_KEY.fullmatch(key)
        if match and record.get("eventName", "").startswith("ObjectCreated"):
            subs.add(match.group(1))
    return subs


def enforce(sub: str) -> str:
    """Remove what breaks the quota under users/<sub>/files/; say what went."""
    files = _versions_by_key(sub)
    current = {key: versions for key, versions in files.items()
               if any(v.get("IsLatest") and "Size" in v for v in versions)}
    removed: list[str] = []
    for key, versions in current.items():
        size = next(v["Size"] for v in versions if v.get("IsLatest") and "Size" in v)
        if size > inputs.MAX_FILE_BYTES:
            _remove(key, versions, f"{size} bytes, over the {inputs.MAX_FILE_SIZE_TEXT} limit")
            removed.append(key)
    kept = sorted((k for k in current if k not in removed),
                  key=lambda k: (min(v["LastModified"] for v in current[k]), k))
    for key in kept[my_files.MAX_FILES:]:
        _remove(key, current[key], f"beyond the {my_files.MAX_FILES}-file limit")
        removed.append(key)
    return f"removed {len(removed)}" if removed else "within the quota"


def _versions_by_key(sub: str) -> dict[str, list[dict[str, Any]]]:
    s3 = client("s3")
    out: dict[str, list[dict[str, Any]]] = {}
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=settings().users_bucket, Prefix=user_keys.files_prefix(sub))
    for page in pages:
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            out.setdefault(version["Key"], []).append(version)
    return out


def _remove(key: str, versions: list[dict[str, Any]], why: str) -> None:
    objects = [{"Key": key, "VersionId": v["VersionId"]} for v in versions]
    result = client("s3").delete_objects(Bucket=settings().users_bucket,
                                         Delete={"Objects": objects, "Quiet": True})
    if result.get("Errors"):  # fail the message: its retry removes what is left
        raise RuntimeError(f"{key}: {len(result['Errors'])} versions not deleted")
    log.warning("removed %s (%d versions): %s", key, len(objects), why, extra={"quota": True})
