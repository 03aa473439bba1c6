"""The journey of a change: where one "user.updated" event has got to, stage by stage.

    published to SNS -> saved to DynamoDB (save_profile) -> archived to S3 (archive_profile)
    -> name in Parameter Store (sync_name) -> the greeting

Nothing is recorded for the trace alone; each stage already leaves its mark, with the
event id in it:
- save_profile: the processed-events marker (event id, sub, occurred_at, applied_at),
  written in the same transaction as the record (chalicelib/users_table.py). It also
  says whose event it is: anyone else's, or an id no stage has seen yet, is a 404.
- archive_profile: the profile document's lastEventId and savedAt, and its S3 version
  (chalicelib/users_bucket.py), read with the person's own credentials (my_files).
- sync_name: the parameter version whose description names the event (chalicelib/names.py).
- the greeting reads that parameter (chalicelib/greeting.py).

A stage is "done", "waiting", "superseded" (a newer change got there first, so this
one's values were never meant to land), "failed" (its Lambda gave up: the message is in
the stage's dead-letter queue, where an alarm fires and a redrive delivers it again) or
"blocked" (it comes after a failed stage). A waiting stage, and only a waiting one, is
looked for in its dead-letter queue (chalicelib/dead_letters.py): save_profile's and
archive_profile's hold the event itself; sync_name's holds the failed stream batch's
arrival times, which cover the moment save_profile wrote the record. An event only found
in save_profile's dead-letter queue is known by its body's sub. The page polls until no
stage is waiting or its time limit passes.
"""
from __future__ import annotations

import re
from datetime import timezone
from typing import Any

from chalicelib import dead_letters, my_files, names, user_events, users_table
from chalicelib.config import settings
from chalicelib.errors import ApiError

DONE, WAITING, SUPERSEDED, FAILED, BLOCKED = "done", "waiting", "superseded", "failed", "blocked"
# (id, label, the Lambda that does it): the page's one list of stages.
STAGES = (
    ("published", "Published to SNS", ""),
    ("saved", "Saved to DynamoDB", "save_profile"),
    ("archived", "Archived to S3", "archive_profile"),
    ("parameter", "Name in Parameter Store", "sync_name"),
    ("greeting", "Greeting", ""),
)
_EVENT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def unknown_change() -> ApiError:
    return ApiError("We know of no change of yours with that id (yet: it shows once it is "
                    "saved).", code="UnknownChange", status=404)


def journey(person: my_files.Person, event_id: str) -> dict[str, Any]:
    """Every stage of the person's event `event_id`: state, time and what it left behind."""
    if not _EVENT_ID.fullmatch(event_id or ""):
        raise unknown_change()
    marker = users_table.event_marker(event_id)
    if not marker:
        return _unsaved(person, event_id)
    if marker.get("sub") != person.sub:
        raise unknown_change()  # never say whether someone else's event exists
    occurred_at = marker.get("occurred_at", "")
    record = users_table.get(person.sub) or {}
    newest = record.get("last_event_id") == event_id
    stages = {
        "published": _stage(DONE, occurred_at),
        "saved": _stage(DONE, marker.get("applied_at", ""),
                        "the record holds this change" if newest else
                        "applied; the record now holds a newer change"),
        "archived": _archived(person, event_id, occurred_at),
    }
    versions = names.versions(person.sub)
    stages["parameter"] = _parameter(versions, event_id, record if newest else None,
                                     marker.get("applied_at", ""))
    if stages["parameter"]["state"] == DONE:
        # What the greeting reads (the newest version; its cache keeps a read for seconds).
        stages["greeting"] = _stage(DONE, stages["parameter"]["at"],
                                    f"Hello, {versions[-1]['value']}")
    else:
        stages["greeting"] = _after(stages["parameter"])
    return _answer(event_id, stages)


def _unsaved(person: my_files.Person, event_id: str) -> dict[str, Any]:
    """An event save_profile has not recorded: failed if its dead-letter queue holds it
    (with this person's sub), otherwise not known (yet)."""
    queue = settings().profile_dead_letter_queue_arn
    event = _dead_letter_event(queue, person, event_id)
    if event is None:
        raise unknown_change()
    stages = {"published": _stage(DONE, event.occurred_at), "saved": _failed(queue),
              "archived": _archived(person, event_id, event.occurred_at)}
    stages["parameter"] = _stage(BLOCKED, "", "comes after save_profile")
    stages["greeting"] = _after(stages["parameter"])
    return _answer(event_id, stages)


def _answer(event_id: str, stages: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "stages": [{"id": sid, "label": label, "function": function, **stages[sid]}
                   for sid, label, function in STAGES],
        # Nothing more will happen by itself: every stage got where it will get.
        "complete": all(stages[sid]["state"] != WAITING for sid, _, _ in STAGES),
    }


def _stage(state: str, at: str, detail: str = "") -> dict[str, str]:
    return {"state": state, "at": at, "detail": detail}


def _failed(queue_arn: str, what: str = "its message") -> dict[str, str]:
    return _stage(FAILED, "", f"{what} is in the dead-letter queue "
                              f"{dead_letters.queue_name(queue_arn)}")


def _after(previous: dict[str, str]) -> dict[str, str]:
    """The greeting follows the parameter: waiting or superseded with it, blocked after a
    failure."""
    if previous["state"] in (FAILED, BLOCKED):
        return _stage(BLOCKED, "", "comes after a failed stage")
    return _stage(previous["state"], "")


def _dead_letter_event(queue_arn: str, person: my_files.Person,
                       event_id: str) -> user_events.UserEvent | None:
    found: list[user_events.UserEvent] = []

    def matches(body: str) -> bool:
        try:
            event = user_events.parse(body)
        except user_events.MalformedEvent:
            return False
        if event.event_id != event_id or event.sub != person.sub:
            return False
        found.append(event)
        return True

    return found[0] if dead_letters.holds(queue_arn, matches) else None


def _archived(person: my_files.Person, event_id: str, occurred_at: str) -> dict[str, str]:
    found = my_files.read_profile(person)
    if found is not None:
        document, version = found
        if document.get("lastEventId") == event_id:
            return _stage(DONE, document.get("savedAt", ""), f"profile.json version {version}")
        if (document.get("detailsAt") or "") >= occurred_at:
            return _stage(SUPERSEDED, "", "profile.json holds a newer change")
    queue = settings().archive_dead_letter_queue_arn
    if _dead_letter_event(queue, person, event_id) is not None:
        return _failed(queue)
    return _stage(WAITING, "")


def _parameter(versions: list[dict[str, Any]], event_id: str,
               record: dict[str, Any] | None, applied_at: str) -> dict[str, str]:
    for version in versions:
        if version["event_id"] == event_id:
            modified = version["modified"]
            at = modified.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ") \
                if modified else ""
            return _stage(DONE, at, f"version {version['version']}")
    if record is None:  # DynamoDB holds a newer change: it is the one sync_name writes
        return _stage(SUPERSEDED, "", "a newer change is the one written")
    if versions and versions[-1]["value"] == record.get("name"):
        # sync_name writes nothing when the name did not change: it already held it.
        return _stage(DONE, "", f"version {versions[-1]['version']} already held this name")
    queue = settings().name_sync_dead_letter_queue_arn
    if applied_at and dead_letters.holds(
            queue, lambda body: dead_letters.stream_batch_covers(body, applied_at)):
        return _failed(queue, "the stream batch with the record's change")
    return _stage(WAITING, "")
