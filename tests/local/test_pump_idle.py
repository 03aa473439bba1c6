"""The event pump rests when idle and wakes at the first write: the stream is read only after a
DynamoDB write to the local AWS (local.server.control.WAKE); idle, the poll is a long wait for
one."""
from __future__ import annotations

import threading
import uuid

from local.server.control import WAKE, Wake
from tests.helpers import eventually


class RecordingWake(Wake):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float] = []

    def wait(self, seen: int, timeout: float) -> int:
        self.timeouts.append(timeout)
        return super().wait(seen, timeout)


def _counting_pump(app, local_aws, wake, lines, reads):
    """A pump whose stream client counts its GetRecords calls in `reads`."""
    from local.event_sources.pump import Pump

    class CountingPump(Pump):
        def _client(self, service):
            client = super()._client(service)
            if service == "dynamodbstreams":
                client.meta.events.register("before-call.dynamodb-streams.GetRecords",
                                            lambda **_: reads.append(1))
            return client

    return CountingPump(app, local_aws.plain_session(), local_aws.endpoint, "us-east-1",
                        say=lines.append, retry_delay=0, idle_wait=0.05, wake=wake,
                        queue_wait=1).start()


def test_idle_the_stream_is_not_read_and_a_write_is_delivered_at_once(stack, local_aws):
    from app import app

    wake = RecordingWake()
    lines: list[str] = []
    reads: list[int] = []
    pump = _counting_pump(app, local_aws, wake, lines, reads)
    try:
        eventually(lambda: len(wake.timeouts) >= 2 and reads, timeout=30)
        idle_reads, idle_waits = len(reads), len(wake.timeouts)
        eventually(lambda: len(wake.timeouts) >= idle_waits + 5, timeout=30)
        assert len(reads) == idle_reads  # five waits ran out, nothing written: nothing read
        sub = f"idle-{uuid.uuid4()}"
        dynamodb = local_aws.session().client("dynamodb", endpoint_url=local_aws.endpoint)
        dynamodb.put_item(TableName=stack["USERS_TABLE_NAME"],
                          Item={"sub": {"S": sub}, "name": {"S": "Ada Idle"}})
        wake.notify()  # what the local AWS's front door does at a DynamoDB write
        eventually(lambda: any("INSERT" in line for line in lines), timeout=30)
        assert len(reads) > idle_reads
    finally:
        pump.stop()
    assert set(wake.timeouts) == {0.05}


def test_a_stop_ends_the_long_idle_wait_at_once(stack, local_aws):
    from app import app
    from local.event_sources.pump import Pump

    wake = RecordingWake()
    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=[].append,
                retry_delay=0, idle_wait=600, wake=wake, queue_wait=1).start()
    eventually(lambda: wake.timeouts, timeout=30)  # in the 600 s wait now (nothing written)
    pump.stop(timeout=60)  # the queues' polls end within 1 s; the stream's only if woken
    assert [t.name for t in pump._threads if t.is_alive()] == []


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


def test_the_delivery_process_wait_is_a_long_poll_a_stop_ends(stack, local_aws):
    """local/event_sources/deliver.py's wake over HTTP: GET /_local/wake holds until a write or
    a notify (POST /_local/wake), which a stopping pump sends."""
    from local.event_sources.deliver import RemoteWake

    waiting, stopping = RemoteWake(local_aws.endpoint), RemoteWake(local_aws.endpoint)
    seen = waiting.wait(-1, 0)  # the count now
    answers: list[int] = []
    waiter = threading.Thread(target=lambda: answers.append(waiting.wait(seen, 10)))
    waiter.start()
    eventually(lambda: waiter.is_alive(), timeout=5)
    stopping.notify()
    waiter.join(30)
    assert answers and answers[0] != seen  # ended by the notify, not by the 10 s cap
