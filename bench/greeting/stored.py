"""Login -> greeting on the idle stack again after `stored` more records were written into the
users table (batch_write_item): its ratio to the figure with a handful stored."""
from __future__ import annotations

import time
import uuid
from typing import Any

from bench.children import Deadline
from bench.greeting.crowd import CROWD_PATIENCE_S, in_threads
from bench.greeting.idle import one_at_a_time
from bench.greeting.person import login_to_greeting, sign_up
from bench.greeting.stack import Stack


def idle_after_stored(stack: Stack, deadline: Deadline, stored: int, n: int,
            small: dict[str, Any]) -> dict[str, Any]:
    """Write `stored` more people's records into the users table, then log in on the idle stack."""
    outputs, session = stack.clients()
    db = stack.client(session, "dynamodb")
    table = outputs["USERS_TABLE_NAME"]
    seeded = time.monotonic()
    batches = [[{"PutRequest": {"Item": {
        # No name: their names are in Parameter Store already on a developer's stack (a name
        # here would make the pipeline write 10,000 parameters now, which is not what is measured)
        "sub": {"S": str(uuid.uuid4())}, "email": {"S": f"stored{i}@example.com"},
        "login_count": {"N": "1"},
        "last_login_at": {"S": "2026-11-01T10:00:00.000000Z"},
        "details_at": {"S": "2026-11-01T10:00:00.000000Z"}}}}
        for i in range(start, min(stored, start + 25))]
        for start in range(0, stored, 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        unprocessed = {table: batch}
        while unprocessed:
            unprocessed = db.batch_write_item(
                RequestItems=unprocessed).get("UnprocessedItems") or {}

    in_threads(write, batches, 4, deadline)
    seeded = time.monotonic() - seeded
    count = db.describe_table(TableName=table)["Table"]["ItemCount"]
    # The pump delivers the seeds' stream records first (no name: ignored); one person greeted
    # after them, not counted, says it has caught up.
    drained = time.monotonic()
    login_to_greeting(stack, sign_up(stack, "Caught Up"), "Caught Up",
                      patience=min(CROWD_PATIENCE_S, deadline.left()))
    drained = time.monotonic() - drained
    large = one_at_a_time(stack, deadline, n, "Late Person")
    return {"seeded": stored, "seeded_s": seeded, "table_items": count, "idle": large,
            "caught_up_s": drained,
            "ratio_p50": large["p50_ms"] / small["p50_ms"],
            "login_answered_ratio_p50": (large["login_answered_p50_ms"]
                                         / small["login_answered_p50_ms"])}
