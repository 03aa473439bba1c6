"""The users table's stream, delivered as Lambda's DynamoDB event source mapping does: the
part of pump.Pump that reads a stream (Pump inherits it; it uses the pump's clients,
handlers, console and stop event).

- Records in order from TRIM_HORIZON, or after the last record delivered (`positions`,
  which local.run.state keeps across restarts).
- ParallelizationFactor (infra/event_sources.py): up to that many batches of a shard at
  once, a key's records always in the same one and in order.
- A failed batch follows the deployed mapping's settings: split in two and retried (a
  backoff up to `max_backoff` s), each record tried at most 1 + MaximumRetryAttempts
  times, then the batch's position goes to the name-sync dead-letter queue and the shard
  moves on; `make redrive` (redrive.py) reads those records from the stream again
  and delivers them (`replay_stream_batch`).
"""
from __future__ import annotations

import json
import zlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice.app import DynamoDBEventConfig

from infra import event_sources
from local.event_sources import events
from local.event_sources.events import stream_record


class StreamDelivery:
    """Pump's stream half. It uses the pump's attributes and methods (pump.Pump):
    _client, _invoke, _say, _stop, _wake, _env, _region, _app, positions, _moved, retry_delay,
    max_backoff, _idle_wait."""

    def _pump_stream(self, source: DynamoDBEventConfig) -> None:
        streams = self._client("dynamodbstreams")
        # The table named in the app's stream ARN, at its current stream: the ARN
        # app.py saw at import time may predate a reset of the local AWS.
        table = source.stream_arn.split(":table/", 1)[1].split("/stream/", 1)[0]
        arn = self._client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
        label = f"{source.name} <- dynamodb-stream:{table}"
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        # A fresh iterator after the last record delivered, on every poll: the position is the
        # one fact kept (across restarts too, with the local data: local.run.state), and an
        # iterator taken from it is never older than the shard it reads.
        def iterator(shard_id: str) -> str:
            after = self.positions.get(f"{arn} {shard_id}")
            position = ({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                        if after else {"ShardIteratorType": "TRIM_HORIZON"})
            return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                              **position)["ShardIterator"]

        lanes = int(event_sources.stream_settings(self._env)["ParallelizationFactor"])
        with ThreadPoolExecutor(lanes, thread_name_prefix=f"pump-{source.name}") as pool:
            self._poll_stream(source, streams, arn, label, shards, iterator, lanes, pool)

    def _poll_stream(self, source: Any, streams: Any, arn: str, label: str,
                     shards: list[dict[str, Any]], iterator: Any, lanes: int,
                     pool: ThreadPoolExecutor) -> None:
        # The stream changes only when the table is written, and every write to the local AWS
        # counts on the wake (local.server.control.WAKE): the shards are read after a write only,
        # and idle the poll is one long wait for the next write (not a read every few seconds).
        read = True
        while not self._stop.is_set():
            seen = self._wake.count  # before reading: a write while reading ends the next wait
            busy = False
            for shard in shards if read else ():
                page = streams.get_records(ShardIterator=iterator(shard["ShardId"]),
                                           Limit=source.batch_size * lanes)
                records = page.get("Records", [])
                if records:
                    busy = True
                    if not self._deliver_in_lanes(source, label, arn, shard["ShardId"],
                                                  records, lanes, pool):
                        return  # stopping: the batch is delivered again after the restart
                    last = records[-1]["dynamodb"]["SequenceNumber"]
                    self.positions[f"{arn} {shard['ShardId']}"] = last
                    self._moved()
            # Records read: there may be more (a full page), read again at once; else wait.
            read = busy or self._wake.wait(seen, self._idle_wait) != seen

    def _deliver_in_lanes(self, source: Any, label: str, arn: str, shard_id: str,
                          records: list[dict[str, Any]], lanes: int,
                          pool: ThreadPoolExecutor) -> bool:
        """ParallelizationFactor: the records in up to `lanes` batches at once (on `pool`, the
        stream's threads), each key's records in one lane and in their order (as Lambda does:
        by the partition key's hash), each lane in batches of the source's batch size. False
        when stopping."""
        by_lane: dict[int, list[dict[str, Any]]] = {}
        for record in records:
            key = json.dumps(record["dynamodb"].get("Keys", {}), sort_keys=True).encode()
            by_lane.setdefault(zlib.crc32(key) % lanes, []).append(record)
        size = source.batch_size

        def lane(part: list[dict[str, Any]]) -> bool:
            return all(self._deliver_stream_batch(source, label, arn, shard_id,
                                                  part[i:i + size])
                       for i in range(0, len(part), size))

        if len(by_lane) == 1:
            return lane(records)
        return all(list(pool.map(lane, by_lane.values())))

    def _deliver_stream_batch(self, source: Any, label: str, arn: str, shard_id: str,
                              records: list[dict[str, Any]]) -> bool:
        """Deliver as the deployed mapping does (infra/event_sources.py): a failing batch is
        split in two (BisectBatchOnFunctionError) and each part tried again; a record is tried
        at most 1 + MaximumRetryAttempts times, then its batch's position goes to the
        OnFailure destination (the name-sync dead-letter queue) and the shard moves on.
        False when stopping (the batch is delivered again after the restart)."""
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
        redrive.py), once, to the stream's handler; the count delivered. An exception
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
