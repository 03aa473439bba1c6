"""Local event delivery: what Lambda's event source mappings do in AWS.

`chalice local` runs routes only. The pump reads the local SQS queues and the
users table's stream from the local AWS, builds the events in Lambda's shapes,
invokes the app's own handlers (the ones app.py declares, found through
`app.event_sources`), deletes what succeeded and redelivers what failed:

- SQS: a batch of up to `batch_size` messages; on success all are deleted; the ones a
  partial batch response lists (or all, when the handler raises) become visible again
  after `retry_delay` seconds instead of the queue's visibility timeout, to keep local
  feedback quick. The queue's redrive policy moves a message to its dead-letter queue
  after maxReceiveCount receives. One poller per queue while it is quiet; while a
  receive comes back full (a backlog), more, up to the source's maximum_concurrency
  (app.py), each leaving at its first empty receive: Lambda scales its pollers with
  the backlog too, and an idle stack keeps one long poll per queue.
- DynamoDB stream: local/event_sources/stream.py (ordered, ParallelizationFactor, retries and the
  failure destination as the deployed mapping's settings say).

Every delivery and its outcome is printed on the console. `python -m local` runs the pump
in a process of its own (local/event_sources/deliver.py); the stack tier's tests run it in theirs.
"""
from __future__ import annotations

import json
import os
import threading
import time
from typing import Any, Callable, Mapping, NamedTuple

from chalice.app import DynamoDBEventConfig, SQSEventConfig

# Lambda's shapes live in events.py; re-exported for modules that import them from here.
from local.event_sources import events
from local.event_sources.events import LambdaContext, sqs_record, stream_record
from local.event_sources.stream import StreamDelivery

__all__ = ["Pump", "sqs_record", "stream_record"]

# Each queue's long poll: moto waits on a Condition (no CPU) and answers at the first
# message, but every poll is a request of its own (a connection and a thread in the local
# AWS): 2 s keeps an idle `make run` under 2 % of a core, and a stop waits at most that.
QUEUE_WAIT_SECONDS = 2
# The stream poll's wait for a write (a long poll too, GET /_local/wake from deliver.py; at most
# local.server.control.WAKE_MAX_SECONDS); a stop ends it at once (Pump.stop notifies the wake).
STREAM_WAIT_SECONDS = 10.0


class Pump(StreamDelivery):
    def __init__(self, app: Any, session: Any, endpoint: str, region: str,
                 say: Callable[[str], None] = print, retry_delay: float = 2,
                 idle_wait: float = STREAM_WAIT_SECONDS, max_backoff: float = 5,
                 positions: dict[str, str] | None = None,
                 env: Mapping[str, str] | None = None,
                 wake: Any = None,
                 queue_wait: int = QUEUE_WAIT_SECONDS,
                 moved: Callable[[], None] = lambda: None) -> None:
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
        self._moved = moved  # called by a stream's thread after its position moved
        # Idle: the stream poll waits for a DynamoDB write to the local AWS
        # (local.server.control.WAKE) at most idle_wait at a time, and reads the stream only after
        # one; stop() ends the wait.
        self._idle_wait = idle_wait
        self._queue_wait = queue_wait  # a stop waits for the long polls: tests shorten it
        if wake is None:
            from local.server.control import WAKE as wake  # noqa: N811 (the default of an injectable wake)
        self._wake = wake
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pollers: dict[str, int] = {}  # a queue's source name -> its pollers now
        self._pollers_lock = threading.Lock()
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
        deadline = time.monotonic() + timeout  # for all of them together
        with self._pollers_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

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
    def _add_poller(self, source: SQSEventConfig) -> None:
        """One more poller for a queue with a backlog, unless it has maximum_concurrency."""
        with self._pollers_lock:
            running = self._pollers.get(source.name, 1)
            if running >= (source.maximum_concurrency or 1) or self._stop.is_set():
                return
            self._pollers[source.name] = running + 1
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            thread = threading.Thread(target=self._extra_poller, args=(source,),
                                      name=f"pump-{source.name}-{running + 1}", daemon=True)
            self._threads.append(thread)
        thread.start()

    def _extra_poller(self, source: SQSEventConfig) -> None:
        try:
            self._drain_queue(source)
        except Exception as exc:  # noqa: BLE001 - the queue's first poller carries on
            if not self._stop.is_set():
                self._say(f"[event] {source.name}: delivery error {exc!r}; one poller less")
        finally:
            with self._pollers_lock:
                self._pollers[source.name] -= 1

    def _pump_queue(self, source: SQSEventConfig) -> None:
        """A queue's first poller: receive (a long poll), deliver, delete or retry, until
        stopped."""
        queue = self._queue(source)
        while not self._stop.is_set():
            self._deliver(source, queue, self._receive(queue, self._queue_wait))

    def _drain_queue(self, source: SQSEventConfig) -> None:
        """A further poller (see _add_poller): the same, with short polls, until a receive
        finds the queue empty."""
        queue = self._queue(source)
        while not self._stop.is_set():
            messages = self._receive(queue, 1)
            if not messages:
                return
            self._deliver(source, queue, messages)

    def _queue(self, source: SQSEventConfig) -> "_Queue":
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url,
                                              AttributeNames=["QueueArn", "RedrivePolicy"])
        redrive = json.loads(attributes["Attributes"].get("RedrivePolicy", "{}"))
        return _Queue(sqs=sqs, url=url, arn=attributes["Attributes"]["QueueArn"],
                      label=f"{source.name} <- sqs:{source.queue}",
                      batch=min(source.batch_size, 10),
                      max_receives=int(redrive.get("maxReceiveCount", 0)),
                      dead_letters=redrive.get("deadLetterTargetArn", "").rsplit(":", 1)[-1])

    def _receive(self, queue: "_Queue", wait: int) -> list[dict[str, Any]]:
        return queue.sqs.receive_message(QueueUrl=queue.url, MaxNumberOfMessages=queue.batch,
                                         WaitTimeSeconds=wait, AttributeNames=["All"],
                                         MessageAttributeNames=["All"]).get("Messages", [])

    def _deliver(self, source: SQSEventConfig, queue: "_Queue",
                 messages: list[dict[str, Any]]) -> None:
        """One batch to the handler: deleted when it succeeded, retried when it failed."""
        if not messages:
            return
        if len(messages) == queue.batch:  # more are waiting: deliver them side by side
            self._add_poller(source)
        event = {"Records": [sqs_record(m, queue.arn, self._region) for m in messages]}
        try:
            with events.recording() as outcomes:  # what the consumer logged per message
                response = self._invoke(source, event) or {}
        except Exception as exc:  # noqa: BLE001 (a handler failure is what the mapping retries)
            self._say(f"[event] {queue.label}: FAILED {type(exc).__name__}: {exc}")
            for message in messages:
                self._say(f"[event] {queue.label} message {message['MessageId'][:8]}: "
                          f"{self._fate(queue, message)}")
            for message in messages:
                self._retry_later(queue.sqs, queue.url, message)
            return
        # Partial batch response (ReportBatchItemFailures, as in AWS): only the
        # listed messages come back; the others are deleted.
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        for message in [m for m in messages if m["MessageId"] in failed]:
            self._say(f"[event] {queue.label} message {message['MessageId'][:8]}: FAILED; "
                      f"{self._fate(queue, message)}")
            self._retry_later(queue.sqs, queue.url, message)
        messages = [m for m in messages if m["MessageId"] not in failed]
        if messages:
            queue.sqs.delete_message_batch(QueueUrl=queue.url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)])
        for message in messages:
            self._say(f"[event] {queue.label} message {message['MessageId'][:8]}: "
                      f"{outcomes.get(message['MessageId'], 'ok')}")

    def _fate(self, queue: "_Queue", message: dict[str, Any]) -> str:
        """How often a failed message was received, and what happens to it next."""
        received = int(message["Attributes"].get("ApproximateReceiveCount", "0"))
        fate = (f"its last try: the next receive moves it to {queue.dead_letters}"
                if queue.max_receives and received >= queue.max_receives
                else f"redelivering in {self.retry_delay} s")
        return f"received {received} of {queue.max_receives or '∞'} times; {fate}"

    def _retry_later(self, sqs: Any, url: str, message: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        try:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                          VisibilityTimeout=self.retry_delay)
        except ClientError:
            pass  # its receipt handle is no longer valid (the message is gone): nothing to retry


class _Queue(NamedTuple):
    """A queue as its pollers deliver it: its client, URL and ARN, the batch size, and its
    redrive policy (how many receives, to which dead-letter queue)."""
    sqs: Any
    url: str
    arn: str
    label: str
    batch: int
    max_receives: int
    dead_letters: str
