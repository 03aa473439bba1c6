"""The local pump retries a failing stream batch as the deployed mapping does
(infra/event_sources.py): split, each record tried 1 + MaximumRetryAttempts times, then the
batch's position to the name-sync dead-letter queue; `make redrive` delivers it again."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from chalice import Chalice

from infra import event_sources
from local.event_sources.pump import Pump
from local.event_sources.redrive import redrive
from tests.helpers import eventually
from tests.stack.helpers import local_client

# Each test reads the whole stream and the dead-letter queue: a stack of its own.
pytestmark = pytest.mark.usefixtures("fresh_stack")


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def stream_app(stack: dict[str, str], fail_for: set[str]) -> tuple[Chalice, list[list[str]]]:
    """An app whose stream handler fails for the subs in `fail_for`; the subs of each call."""
    table = aws("dynamodb", stack).describe_table(TableName=stack["USERS_TABLE_NAME"])["Table"]
    app, calls = Chalice("pump-retries"), []

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], name="sync_name")
    def sync_name(event: Any) -> None:
        subs = [record.keys["sub"]["S"] for record in event]
        calls.append(subs)
        if fail_for & set(subs):
            raise RuntimeError("Parameter Store is down")

    return app, calls


def dead_letters(stack: dict[str, str]) -> list[dict[str, Any]]:
    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"].rsplit(":", 1)[-1])
    messages = sqs.receive_message(QueueUrl=url["QueueUrl"], MaxNumberOfMessages=10,
                                   VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def put(stack: dict[str, str], sub: str) -> None:
    aws("dynamodb", stack).put_item(TableName=stack["USERS_TABLE_NAME"],
                                    Item={"sub": {"S": sub}, "name": {"S": "Ada"}})


def test_a_failing_stream_record_is_tried_as_configured_then_dead_lettered_and_redriven(
        stack, local_aws):
    retries = event_sources.stream_settings(stack)["MaximumRetryAttempts"]
    poison = f"poison-{uuid.uuid4().hex[:6]}"
    failing = {poison}
    app, calls = stream_app(stack, fail_for=failing)
    lines: list[str] = []
    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=lines.append,
                retry_delay=0, max_backoff=0, queue_wait=1).start()
    try:
        put(stack, poison)
        [letter] = eventually(lambda: dead_letters(stack), timeout=30,
                              what="the batch's position in the dead-letter queue")
        good = f"good-{uuid.uuid4().hex[:6]}"
        put(stack, good)  # the shard moved on
        eventually(lambda: [good] in calls, what="the next record delivered")
        assert calls == [[poison]] * (1 + retries) + [[good]]  # tried as configured, no more
        info = letter["DDBStreamBatchInfo"]
        assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert letter["requestContext"]["approximateInvokeCount"] == 1 + retries
        assert info["batchSize"] == 1 and info["startSequenceNumber"] == info["endSequenceNumber"]
        assert any(f"gave up on 1 record(s) after {1 + retries} tries" in line for line in lines)

        # `make redrive`: still failing, the dead letter stays; once it can succeed, the
        # record its position names is delivered again and the dead letter is gone.
        destination = event_sources.stream_settings(stack)["DestinationConfig"]["OnFailure"]
        sqs = aws("sqs", stack)
        with pytest.raises(RuntimeError, match="failed again and stay"):
            redrive(sqs, destination["Destination"], pump.replay_stream_batch)
        assert len(dead_letters(stack)) == 1
        failing.clear()
        moved = redrive(sqs, destination["Destination"], pump.replay_stream_batch)
        assert sum(moved.values()) == 1
        assert calls[-1] == [poison] and dead_letters(stack) == []
    finally:
        pump.stop()


def test_a_failing_batch_is_split_so_the_good_records_get_through(stack, local_aws,
                                                                   monkeypatch):
    monkeypatch.setattr(event_sources, "PARALLELIZATION_FACTOR", 1)  # the four in one batch
    retries = event_sources.stream_settings(stack)["MaximumRetryAttempts"]
    assert event_sources.stream_settings(stack)["BisectBatchOnFunctionError"] is True
    subs = [f"s{n}-{uuid.uuid4().hex[:6]}" for n in range(4)]
    poison = subs[1]
    for sub in subs:  # in the stream before the pump reads it: one batch of four
        put(stack, sub)
    app, calls = stream_app(stack, fail_for={poison})
    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=[].append,
                retry_delay=0, max_backoff=0, queue_wait=1).start()
    try:
        [letter] = eventually(lambda: dead_letters(stack), timeout=30, what="the dead letter")
        eventually(lambda: [subs[3]] in calls or subs[2:] in calls, what="the last half")
    finally:
        pump.stop()
    assert calls[0] == subs
    delivered = {sub for call in calls if poison not in call for sub in call}
    assert delivered == set(subs) - {poison}
    assert letter["DDBStreamBatchInfo"]["batchSize"] == 1
    assert sum(call == [poison] for call in calls) + sum(poison in call and len(call) > 1
                                                         for call in calls) == 1 + retries


def test_batches_of_different_people_run_side_by_side_and_each_persons_stay_in_order(
        stack, local_aws):
    """ParallelizationFactor: a shard's records in up to that many batches at once, one
    person's records (their key) always in the same batch sequence, in stream order."""
    import threading
    import time

    factor = event_sources.stream_settings(stack)["ParallelizationFactor"]
    assert factor > 1
    subs = [f"p{n}-{uuid.uuid4().hex[:6]}" for n in range(12)]
    for version in range(3):
        for sub in subs:
            aws("dynamodb", stack).put_item(TableName=stack["USERS_TABLE_NAME"], Item={
                "sub": {"S": sub}, "name": {"S": f"v{version}"}})
    table = aws("dynamodb", stack).describe_table(TableName=stack["USERS_TABLE_NAME"])["Table"]
    app, seen, lock = Chalice("pump-lanes"), [], threading.Lock()
    running, most = [0], [0]

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], name="sync_name")
    def sync_name(event: Any) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)  # long enough for the other lanes to start
        with lock:
            running[0] -= 1
            seen.extend((r.keys["sub"]["S"], r.new_image["name"]["S"]) for r in event)

    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=[].append,
                retry_delay=0, max_backoff=0, queue_wait=1).start()
    try:
        eventually(lambda: len(seen) == 3 * len(subs), what="every record delivered")
    finally:
        pump.stop()
    assert 1 < most[0] <= factor
    for sub in subs:
        assert [name for who, name in seen if who == sub] == ["v0", "v1", "v2"]
