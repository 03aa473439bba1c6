"""The profile document in S3 (chalicelib/users_bucket.py): deliveries of the login event
that interleave (SQS delivers at least once, to concurrent Lambdas) cannot overwrite each
other; the document ends with the newest login whatever the order."""
from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any, Callable, Iterator

import pytest

from chalicelib import users_bucket
from chalicelib.aws import client as aws_client
from chalicelib.config import deploy_value
from tests.stack.helpers import login_event, sqs_event

FIRST, OLDER, NEWER = ("2026-11-26T10:00:00.000000Z", "2026-11-26T11:00:00.000000Z",
                       "2026-11-26T12:00:00.000000Z")


def deliver(client: Any, event: Any) -> Any:
    """The archive Lambda invoked with `event`, as SQS delivers it from the archive queue."""
    return client.lambda_.invoke(
        "archive_profile", sqs_event(client, [event.to_json()], deploy_value("ARCHIVE_QUEUE_NAME")))


@contextlib.contextmanager
def just_before_writing(event: Any, meanwhile: Callable[[], Any]) -> Iterator[None]:
    """Run `meanwhile` once, when the delivery of `event` has read the document and is about
    to write its own (the moment a concurrent delivery can slip in)."""
    s3 = aws_client("s3")
    hook_id = f"interleave-{uuid.uuid4()}"
    ran = []

    def before_put(params: dict[str, Any], **_: Any) -> None:
        if not ran and json.loads(params["Body"])["lastEventId"] == event.event_id:
            ran.append(True)
            meanwhile()

    s3.meta.events.register("provide-client-params.s3.PutObject", before_put, unique_id=hook_id)
    try:
        yield
    finally:
        s3.meta.events.unregister("provide-client-params.s3.PutObject", unique_id=hook_id)
    assert ran, "the delivery never wrote: nothing was interleaved"


@pytest.mark.parametrize("document_exists", [False, True],
                         ids=["first-document", "existing-document"])
@pytest.mark.parametrize("interrupted", ["older", "newer"])
def test_a_delivery_overtaken_between_its_read_and_its_write_fails_and_its_retry_merges(
        client, document_exists, interrupted):
    sub = str(uuid.uuid4())
    if document_exists:
        deliver(client, login_event(sub, name="First Name", at=FIRST))
    older = login_event(sub, name="Old Name", at=OLDER)
    newer = login_event(sub, name="New Name", at=NEWER)
    slow, fast = (older, newer) if interrupted == "older" else (newer, older)

    with just_before_writing(slow, lambda: deliver(client, fast)):
        failed = deliver(client, slow)  # its write is conditional on the document it read
        assert failed.payload["batchItemFailures"] == [{"itemIdentifier": "m0"}]

    assert users_bucket.get_profile(sub)["name"] == fast.name  # the first write stands
    deliver(client, slow)  # the redelivery reads the document the other one wrote
    document = users_bucket.get_profile(sub)
    assert (document["name"], document["lastLoginAt"]) == ("New Name", NEWER)
    # As if the two had come one after the other: the one that wrote first was seen first.
    assert document["firstSeenAt"] == (FIRST if document_exists else fast.occurred_at)
