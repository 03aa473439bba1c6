"""Local event delivery: what Lambda's event source mappings do in AWS.

`chalice local` runs routes only. The pump reads the local SQS queues and the
users table's stream from the local AWS, builds the events in Lambda's shapes,
invokes the app's own handlers (the ones app.py declares, found through
`app.event_sources`), deletes what succeeded and redelivers what failed:

- SQS: a batch of up to `batch_size` messages; on success all are deleted; the ones a
  partial batch response lists (or all, when the handler raises) become visible again
  after `retry_delay` seconds instead of the queue's visibility timeout, to keep local
  feedback quick. The queue's redrive policy
  moves a message to its dead-letter queue after maxReceiveCount receives.
- DynamoDB stream: records in order from TRIM_HORIZON (or after the last record
  delivered, from `positions`, which local.state keeps across restarts); a failed
  batch follows the deployed mapping's settings, read from infra/event_sources.py:
  split in two and retried (a backoff up to `max_backoff` s), each record tried at most
  1 + MaximumRetryAttempts times, then the batch's position goes to the name-sync
  dead-letter queue and the shard moves on; `make redrive` (local/redrive.py) reads
  those records from the stream again and delivers them.

Every delivery and its outcome is printed on the console.
"""
from __future__ import annotations

import json
import os
import threading
from typing import Any, Callable, Mapping

from chalice.app import DynamoDBEventConfig, SQSEventConfig

# Lambda's shapes live in local.events; re-exported for modules that import them from here.
from local import events
from local.events import LambdaContext, sqs_record, stream_record

__all__ = ["Pump", "sqs_record", "stream_record"]

# Each queue's long poll: moto waits on a Condition (no CPU) and answers at the first
# message, but every poll is a request of its own (a connection and a thread in the local
# AWS): 2 s keeps an idle `make run` under 2 % of a core, and a stop waits at most that.
QUEUE_WAIT_SECONDS = 2


class Pump:
    def __init__(self, app: Any, session: Any, endpoint: str, region: str,
                 say: Callable[[str], None] = print, retry_delay: float = 2,
                 idle_wait: float = 0.05, max_backoff: float = 5,
                 positions: dict[str, str] | None = None,
                 env: Mapping[str, str] | None = None,
                 idle_max_wait: float = 2.0, wake: Any = None,
                 queue_wait: int = QUEUE_WAIT_SECONDS) -> None:
        self._app = app
        self._session = session
        self._endpoint = endpoint
        self._region = region
        self._say = say
        self.retry_delay = retry_delay
        # The stack's values (the dead-letter queue's ARN), os.environ's when not given.
        self._env: Mapping[str, str] = os.environ if env is None else env
        self.max_backoff = max_backoff
        # "<stream arn> <shard id>" -> sequence number of the last record delivered
        self.positions: dict[str, str] = {} if positions is None else positions
        self._idle_wait = idle_wait
        self._queue_wait = queue_wait  # a stop waits for the long polls: tests shorten it
        # Idle: the stream poll's wait doubles up to idle_max_wait; a DynamoDB write to the
        # local AWS (local.control.WAKE) ends it at once, so idle costs nothing and work is quick.
        self._idle_max_wait = max(idle_wait, idle_max_wait)
        if wake is None:
            from local.control import WAKE as wake  # noqa: N811 (the default of an injectable wake)
        self._wake = wake
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients_lock = threading.Lock()  # a boto3 session is not thread-safe

    def _client(self, service: str) -> Any:
        from botocore.config import Config

        with self._clients_lock:
            return self._session.client(service, region_name=self._region,
                                        endpoint_url=self._endpoint,
                                        config=Config(retries={"max_attempts": 2}))

    def start(self) -> "Pump":
        for source in self._app.event_sources:
            if isinstance(source, SQSEventConfig):
                target = self._pump_queue
            elif isinstance(source, DynamoDBEventConfig):
                target = self._pump_stream
            else:
                continue
            thread = threading.Thread(target=self._guarded, args=(target, source),
                                      name=f"pump-{source.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        self._wake.notify()  # the stream poll may be in a long idle wait
        for thread in self._threads:
            thread.join(timeout)

    def _guarded(self, target: Callable[[Any], None], source: Any) -> None:
        while not self._stop.is_set():
            try:
                target(source)
            except Exception as exc:  # the local AWS went away or hiccuped: keep going  # noqa: BLE001 (a handler failure is what the mapping retries)
                if self._stop.is_set():
                    return
                self._say(f"[event] {source.name}: delivery error {exc!r}; retrying")
                self._stop.wait(1)

    def _invoke(self, source: Any, event: dict[str, Any]) -> Any:
        handler = self._app.handler_map[source.name]
        return handler(event, LambdaContext(source.name, region=self._region))

    # --- SQS ------------------------------------------------------------------------
    def _pump_queue(self, source: SQSEventConfig) -> None:
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url,
                                              AttributeNames=["QueueArn", "RedrivePolicy"])
        arn = attributes["Attributes"]["QueueArn"]
        redrive = json.loads(attributes["Attributes"].get("RedrivePolicy", "{}"))
        max_receives = int(redrive.get("maxReceiveCount", 0))
        dead_letters = redrive.get("deadLetterTargetArn", "").rsplit(":", 1)[-1]
        label = f"{source.name} <- sqs:{source.queue}"
        while not self._stop.is_set():
            messages = sqs.receive_message(QueueUrl=url,
                                           MaxNumberOfMessages=min(source.batch_size, 10),
                                           WaitTimeSeconds=self._queue_wait,
                                           AttributeNames=["All"],
                                           MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            event = {"Records": [sqs_record(m, arn, self._region) for m in messages]}
            try:
                with events.recording() as outcomes:  # what the consumer logged per message
                    response = self._invoke(source, event) or {}
            except Exception as exc:  # noqa: BLE001 (a handler failure is what the mapping retries)
                self._say(f"[event] {label}: FAILED {type(exc).__name__}: {exc}")
                for message in messages:
                    received = int(message["Attributes"].get("ApproximateReceiveCount", "0"))
                    if max_receives and received >= max_receives:
                        fate = f"its last try: the next receive moves it to {dead_letters}"
                    else:
                        fate = f"redelivering in {self.retry_delay} s"
                    self._say(f"[event] {label} message {message['MessageId'][:8]}: received "
                              f"{received} of {max_receives or '∞'} times; {fate}")
                for message in messages:
                    self._retry_later(sqs, url, message)
                continue
            # Partial batch response (ReportBatchItemFailures, as in AWS): only the
            # listed messages come back; the others are deleted.
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            for message in [m for m in messages if m["MessageId"] in failed]:
                received = int(message["Attributes"].get("ApproximateReceiveCount", "0"))
                fate = (f"its last try: the next receive moves it to {dead_letters}"
                        if max_receives and received >= max_receives
                        else f"redelivering in {self.retry_delay} s")
                self._say(f"[event] {label} message {message['MessageId'][:8]}: FAILED; received "
                          f"{received} of {max_receives or '∞'} times; {fate}")
                self._retry_later(sqs, url, message)
            messages = [m for m in messages if m["MessageId"] not in failed]
            if messages:
                sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)])
            for message in messages:
                self._say(f"[event] {label} message {message['MessageId'][:8]}: "
                          f"{outcomes.get(message['MessageId'], 'ok')}")

    def _retry_later(self, sqs: Any, url: str, message: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        try:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=self.retry_delay)
        except ClientError:
            pass  # its receipt handle is no longer valid (the message is gone): nothing to retry

    # --- DynamoDB stream ------------------------------------------------------------
    def _pump_stream(self, source: DynamoDBEventConfig) -> None:
        streams = self._client("dynamodbstreams")
        # The table named in the app's stream ARN, at its current stream: the ARN
        # app.py saw at import time may predate a reset of the local AWS.
        table = source.stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        arn = self._client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        label = f"{source.name} <- dynamodb-stream:{table}"
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        # A fresh iterator after the last record delivered, on every poll: when moto cancels a
        # transaction it restores a copy of the table, stream shard included, and an old
        # iterator would go on reading the abandoned shard (no record ever again). The
        # positions are kept across restarts with the local data (local.state).
        def iterator(shard_id: str) -> str:
            after = self.positions.get(f"{arn} {shard_id}")
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                        if after else {"ShardIteratorType": "TRIM_HORIZON"})
            return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                              **position)["ShardIterator"]

        wait = self._idle_wait
        while not self._stop.is_set():
            busy = False
            seen = self._wake.count  # before reading: a write while reading ends the next wait
            for shard in shards:
                page = streams.get_records(ShardIterator=iterator(shard["ShardId"]),
                                           Limit=source.batch_size)
                records = page.get("Records", [])
                if records:
                    busy = True
                    if not self._deliver_stream_batch(source, label, arn, shard["ShardId"],
                                                      records):
                        return  # stopping: the batch is delivered again after the restart
                    last = records[-1]["dynamodb"]["SequenceNumber"]
                    self.positions[f"{arn} {shard['ShardId']}"] = last
            if busy:
                wait = self._idle_wait
            elif self._wake.wait(seen, wait) == seen:  # nothing written: wait longer next time
                wait = min(self._idle_max_wait, wait * 2)
            else:  # written to: the record may be a moment behind the write, look again soon
                wait = self._idle_wait

    def _deliver_stream_batch(self, source: Any, label: str, arn: str, shard_id: str,
                              records: list[dict[str, Any]]) -> bool:
        """Deliver as the deployed mapping does (infra/event_sources.py): a failing batch is
        split in two (BisectBatchOnFunctionError) and each part tried again; a record is tried
        at most 1 + MaximumRetryAttempts times, then its batch's position goes to the
        OnFailure destination (the name-sync dead-letter queue) and the shard moves on.
        False when stopping (the batch is delivered again after the restart)."""
        from infra import event_sources

        settings = event_sources.stream_settings(self._env)
        return self._try_stream(source, label, arn, shard_id, records, tries=0,
                                retries=int(settings["MaximumRetryAttempts"]),
                                bisect=bool(settings.get("BisectBatchOnFunctionError")),
                                destination=settings["DestinationConfig"]["OnFailure"][
                                    "Destination"])

    def _try_stream(self, source: Any, label: str, arn: str, shard_id: str,
                    records: list[dict[str, Any]], tries: int, retries: int, bisect: bool,
                    destination: str) -> bool:
        event = {"Records": [stream_record(r, arn, self._region) for r in records]}
        while True:
            tries += 1
            try:
                outcomes = self._invoke(source, event) or {}
            except Exception as exc:  # noqa: BLE001 (a handler failure is what the mapping retries)
                self._say(f"[event] {label}: FAILED {type(exc).__name__}: {exc} "
                          f"({len(records)} record(s), try {tries} of {1 + retries})")
                if tries > retries:
                    self._dead_letter(label, arn, shard_id, records, tries, destination)
                    return True
                delay = min(self.max_backoff, max(0.05, self.retry_delay) * 2 ** (tries - 1))
                if self._stop.wait(delay):
                    return False
                if bisect and len(records) > 1:
                    half = len(records) // 2
                    return all(self._try_stream(source, label, arn, shard_id, part, tries, retries,
                                                bisect, destination)
                               for part in (records[:half], records[half:]))
                continue
            for record in records:
                self._say(f"[event] {label} {record['eventName']} {record['eventID'][:8]}: "
                          f"{outcomes.get(record['eventID'], 'ok')}")
            return True

    def _dead_letter(self, label: str, arn: str, shard_id: str, records: list[dict[str, Any]],
                     tries: int, destination: str) -> None:
        """The batch's position to the OnFailure destination, as Lambda sends it (the records
        themselves stay in the stream, where `make redrive` reads them again)."""
        document = events.stream_batch_failure(records, arn, shard_id, tries)
        sqs = self._client("sqs")
        queue = destination.rsplit(":", 1)[-1]
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(document))
        self._say(f"[event] {label}: gave up on {len(records)} record(s) after {tries} tries; "
                  f"their position went to {queue} (`make redrive` delivers them again)")

    def replay_stream_batch(self, info: dict[str, Any]) -> int:
        """Deliver again the records a dead letter's DDBStreamBatchInfo names (for
        local/redrive.py), once, to the stream's handler; the count delivered. An exception
        when the handler fails again (the dead letter then stays where it is)."""
        streams = self._client("dynamodbstreams")
        source = next(s for s in self._app.event_sources if isinstance(s, DynamoDBEventConfig))
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
        end, records = int(info["endSequenceNumber"]), []
        while iterator and not (records and int(records[-1]["dynamodb"]["SequenceNumber"]) >= end):
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            if not page.get("Records"):
                break
            records += [r for r in page["Records"] if int(r["dynamodb"]["SequenceNumber"]) <= end]
            iterator = page.get("NextShardIterator")
        if records:
            self._invoke(source, {"Records": [stream_record(r, info["streamArn"], self._region)
                                              for r in records]})
        return len(records)
