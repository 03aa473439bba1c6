"""The files quota, enforced where the data lands: the users bucket's events.

The app's upload route checks the limits (chalicelib/inputs.py MAX_FILE_BYTES, the count
chalicelib/my_files.py MAX_FILES), but a person may take their identity-pool credentials
and write, overwrite and delete under users/<sub>/files/ with the AWS CLI, around the app.
So every object created under users/ (only files are there: chalicelib/user_keys.py), and
every delete marker, is an S3 event on the quota queue (infra/template.yaml), and `enforce`
looks at the person's files as they are now, every version (the bucket is versioned for the
profile's history):

- a file keeps no older version and no delete marker: what is stored is what the person's
  listing shows (a deleted file goes with every version);
- a file over MAX_FILE_BYTES goes, every version; so does an object with no name
  (users/<sub>/files/ itself);
- past MAX_FILES, the files written last (my_files.newest_last) go, every version, once
  they are SETTLE_SECONDS old. Younger ones may be uploads through the app that are still
  deciding: an upload counts again after its write and removes its own file unless the
  person has at most MAX_FILES (my_files.py), so the uploads answered 201 never pass the
  limit together, and the quota must not act before the others have left. An upload lasts
  at most the API Lambda's timeout (infra/stage.py, 25 s): SETTLE_SECONDS is longer. When
  young files are past the limit, the quota sends itself a message to look again once they
  are settled (once per event: each file's own event does the same);
- once the account is deleted (its tombstone, chalicelib/users_bucket.py), whatever is
  written under its files with credentials from before the deletion goes, every version.

Each removal of a file logs one line with "quota": true (a metric filter and an alarm count
them); removing the older versions of a file that stays is housekeeping, logged as info.
Looking at the prefix, not at the one event, makes a redelivered or late event harmless.
"""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import inputs, my_files, user_keys, users_bucket
from chalicelib.aws import client
from chalicelib.config import deploy_value, settings

log = logging.getLogger(__name__)

SETTLE_SECONDS = 30
LOOK_AGAIN = "quotaLookAgain"  # the body {"quotaLookAgain": "<sub>"} of the quota's own message
_SUB = r"[A-Za-z0-9_-]{1,128}"
_FILE_KEY = re.compile(rf"users/({_SUB})/files/.*", re.DOTALL)
_EVENTS = ("ObjectCreated:", "ObjectRemoved:DeleteMarkerCreated")
_DELETE_AT_ONCE = 1000  # DeleteObjects' most


def handle(body: str) -> str:
    """One message of the quota queue: S3's event, or the quota's own look again."""
    data = json.loads(body)
    again = data.get(LOOK_AGAIN) if isinstance(data, dict) else None
    if again is not None:
        if not isinstance(again, str) or not re.fullmatch(_SUB, again):
            raise ValueError("a look-again message without a person")
        return enforce(again, looking_again=True)
    return "; ".join(enforce(sub) for sub in sorted(subs_in(data))) or "ignored (not a file)"


def subs_in(data: Any) -> set[str]:
    """The people whose files an S3 event touched (none for S3's test event)."""
    subs = set()
    for record in data.get("Records", []) if isinstance(data, dict) else []:
        key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
        match = _FILE_KEY.fullmatch(key)
        if match and record.get("eventName", "").startswith(_EVENTS):
            subs.add(match.group(1))
    return subs


def enforce(sub: str, *, now: float | None = None, looking_again: bool = False) -> str:
    """Remove what breaks the quota under users/<sub>/files/; say what went."""
    now = time.time() if now is None else now
    files = _versions_by_key(sub)
    if files and users_bucket.is_deleted(sub):
        for key, versions in files.items():
            _remove_file(key, versions, "written after the account was deleted")
        return f"removed {len(files)} (the account is deleted)"
    latest = {key: next((v for v in versions if v.get("IsLatest")), None)
              for key, versions in files.items()}
    gone: dict[str, str] = {}
    current: dict[str, dict[str, Any]] = {}
    for key, version in latest.items():
        if version is None or "Size" not in version:
            gone[key] = ""  # deleted (a delete marker is the latest): every version goes
        elif key == user_keys.files_prefix(sub):
            gone[key] = "an object without a name"
        elif version["Size"] > inputs.MAX_FILE_BYTES:
            gone[key] = (f"{version['Size']} bytes, over the {inputs.MAX_FILE_SIZE_TEXT} "
                         "limit")
        else:
            current[key] = version
    kept = sorted(current,
                  key=lambda key: my_files.newest_last(current[key]["LastModified"], key))
    settled_before = now - SETTLE_SECONDS
    young = []
    for key in kept[my_files.MAX_FILES:]:
        written = current[key]["LastModified"].timestamp()
        if written <= settled_before:
            gone[key] = f"beyond the {my_files.MAX_FILES}-file limit"
        else:
            young.append(written)
    older = {key: [v for v in versions if v is not latest[key]]
             for key, versions in files.items() if key not in gone}
    _remove({key: older_versions for key, older_versions in older.items() if older_versions})
    for key, why in gone.items():
        _remove_file(key, files[key], why)
    broke = sum(1 for why in gone.values() if why)
    outcome = [f"removed {broke}" if broke else "within the quota"]
    if len(gone) > broke:
        outcome.append(f"{len(gone) - broke} deleted files' versions removed")
    if any(older.values()):
        outcome.append(f"{sum(len(v) for v in older.values())} older versions removed")
    if young and not looking_again:
        delay = max(young) + SETTLE_SECONDS + 1 - now
        _look_again(sub, delay)
        outcome.append(f"{len(young)} new files past the limit: looking again in {delay:.0f} s")
    return "; ".join(outcome)


def _versions_by_key(sub: str) -> dict[str, list[dict[str, Any]]]:
    s3 = client("s3")
    out: dict[str, list[dict[str, Any]]] = {}
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=settings().users_bucket, Prefix=user_keys.files_prefix(sub))
    for page in pages:
        for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
            out.setdefault(version["Key"], []).append(version)
    return out


def _remove_file(key: str, versions: list[dict[str, Any]], why: str) -> None:
    """Every version of one file; `why` it broke the quota ("" when the person deleted it)."""
    _remove({key: versions})
    if why:
        log.warning("removed %s (%d versions): %s", key, len(versions), why,
                    extra={"quota": True})
    else:
        log.info("removed the %d versions of %s, deleted by its owner", len(versions), key)


def _remove(versions_by_key: dict[str, list[dict[str, Any]]]) -> None:
    """These versions, the objects before the delete markers: a marker removed while the
    version it hides stayed would bring a deleted file back."""
    objects = [{"Key": key, "VersionId": v["VersionId"]}
               for key, versions in versions_by_key.items() for v in versions if "Size" in v]
    markers = [{"Key": key, "VersionId": v["VersionId"]}
               for key, versions in versions_by_key.items() for v in versions
               if "Size" not in v]
    s3, bucket = client("s3"), settings().users_bucket
    for batch in (objects, markers):
        for start in range(0, len(batch), _DELETE_AT_ONCE):
            chunk = batch[start:start + _DELETE_AT_ONCE]
            result = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            if result.get("Errors"):  # fail the message: its retry removes what is left
                raise RuntimeError(f"{chunk[0]['Key']}...: {len(result['Errors'])} versions "
                                   "not deleted")


def _look_again(sub: str, delay: float) -> None:
    """A message to the quota's own queue, delivered after `delay` seconds (SQS's most: 900)."""
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName=deploy_value("QUOTA_QUEUE_NAME"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({LOOK_AGAIN: sub}),
                     DelaySeconds=max(0, min(900, int(delay + 0.999))))
