"""The event pump rests when idle and wakes at the first write: the stream poll's wait doubles
up to its cap while nothing is written, a DynamoDB write to the local AWS (local.control.WAKE)
ends the wait and brings it back to the shortest."""
from __future__ import annotations

import threading
import uuid

from local.control import WAKE, Wake
from tests.helpers import eventually


class RecordingWake(Wake):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float] = []
        self.at_write: int | None = None

    def wait(self, seen: int, timeout: float) -> int:
        self.timeouts.append(timeout)
        return super().wait(seen, timeout)

    def write(self) -> None:
        self.at_write = len(self.timeouts)
        self.notify()


def test_the_stream_poll_backs_off_while_idle_and_a_write_wakes_it(stack, local_aws):
    from app import app
    from local.pump import Pump

    wake = RecordingWake()
    lines: list[str] = []
    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=lines.append,
                retry_delay=0, idle_wait=0.01, idle_max_wait=0.08, wake=wake,
                queue_wait=1).start()
    try:
        backed_off = [0.01, 0.02, 0.04, 0.08, 0.08]
        def capped() -> bool:
            t = list(wake.timeouts)
            return any(t[i:i + 5] == backed_off for i in range(len(t)))
        eventually(capped, timeout=30)
        wake.write()
        eventually(lambda: len(wake.timeouts) > wake.at_write + 1, timeout=30)
        # The wait the write ended (or, written while reading, the one after) is followed by the
        # shortest again.
        assert 0.01 in wake.timeouts[wake.at_write:wake.at_write + 2]
        assert wake.timeouts[wake.at_write - 1] == 0.08
    finally:
        pump.stop()
    assert not any(t > 0.08 for t in wake.timeouts)


def test_dynamodb_writes_wake_the_pump_and_stream_reads_do_not(stack, local_aws):
    dynamodb = local_aws.session().client("dynamodb", endpoint_url=local_aws.endpoint)
    streams = local_aws.session().client("dynamodbstreams", endpoint_url=local_aws.endpoint)
    table = stack["USERS_TABLE_NAME"]
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    before = WAKE.count
    streams.describe_stream(StreamArn=arn)
    dynamodb.get_item(TableName=table, Key={"sub": {"S": str(uuid.uuid4())}})
    assert WAKE.count == before
    woken = threading.Event()
    waiter = threading.Thread(target=lambda: WAKE.wait(before, 30) != before and woken.set())
    waiter.start()
    dynamodb.put_item(TableName=table, Item={"sub": {"S": f"wake-{uuid.uuid4()}"}})
    waiter.join(30)
    assert woken.is_set() and WAKE.count > before
