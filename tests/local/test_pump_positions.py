"""The local pump reports a stream's position the moment a batch is delivered, before it
reads on (local/event_sources/deliver.py sends it to the local AWS, which saves it with its
snapshot): a stop right after a delivery cannot leave the position behind and deliver the
batch again after the restart (a second version of the person's name in Parameter Store)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from chalice import Chalice

from local.event_sources.pump import Pump
from tests.helpers import eventually
from tests.stack.helpers import local_client

# The pump reads the whole stream from its start: a stack of its own.
pytestmark = pytest.mark.usefixtures("fresh_stack")


def test_a_delivered_batchs_position_is_reported_before_the_stream_is_read_again(
        stack, local_aws):
    dynamodb = local_client(stack, "dynamodb")
    table = dynamodb.describe_table(TableName=stack["USERS_TABLE_NAME"])["Table"]
    app, seen = Chalice("pump-positions"), []

    @app.on_dynamodb_record(stream_arn=table["LatestStreamArn"], name="sync_name")
    def sync_name(event: Any) -> None:
        seen.extend(("delivered", record.keys["sub"]["S"], record.sequence_number)
                    for record in event)

    pump: Pump | None = None

    def moved() -> None:
        assert pump is not None
        seen.append(("moved", *pump.positions.values()))

    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=[].append,
                queue_wait=1, moved=moved)
    pump.start()
    subs = [f"p{n}-{uuid.uuid4().hex[:6]}" for n in range(2)]
    try:
        for done, sub in enumerate(subs, start=1):
            dynamodb.put_item(TableName=stack["USERS_TABLE_NAME"],
                              Item={"sub": {"S": sub}, "name": {"S": "Ada"}})
            eventually(lambda: len(seen) >= 2 * done and seen[-1][0] == "moved",  # noqa: B023
                       what=f"{sub}'s position")
    finally:
        pump.stop()
    # Each delivery is followed by its position, at the record just delivered, before the next.
    assert [kind for kind, *_ in seen] == ["delivered", "moved"] * 2
    assert [entry[1] for entry in seen[0::2]] == subs
    assert [entry[1] for entry in seen[1::2]] == [entry[2] for entry in seen[0::2]]
