"""Lambda's event shapes and context object, built the way AWS hands them to a handler.

One home for the local pump (SQS and DynamoDB-stream records), the tests (which
invoke handlers with the pump's own shapes) and the benchmark (API Gateway proxy
events through `app.app(event, context)`, exactly what Lambda calls).

Only the standard library, imported lazily where it costs anything: the benchmark
imports this module in a fresh interpreter right after timing `import app`.
"""
from __future__ import annotations

import time
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account


class LambdaContext:
    """The parts of Lambda's context object a handler may read."""

    memory_limit_in_mb = 128

    def __init__(self, function_name: str = "comm-it-local", timeout_s: float = 60,
                 region: str = "us-east-1", request_id: str = "") -> None:
        import uuid

        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_record(message: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A message from ReceiveMessage, as Lambda hands it to an SQS handler."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "binaryValue": value.get("BinaryValue"),
                   "stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
            for name, value in message.get("MessageAttributes", {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def stream_record(record: dict[str, Any], arn: str, region: str) -> dict[str, Any]:
    """A record from GetRecords, as Lambda hands it to a DynamoDB stream handler."""
    from datetime import datetime

    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = created.timestamp()
    data.setdefault("ApproximateCreationDateTime", time.time())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", region),
        "dynamodb": data,
        "eventSourceARN": arn,
    }


def stream_batch_failure(records: list[dict[str, Any]], arn: str, shard_id: str,
                         tries: int) -> dict[str, Any]:
    """What Lambda sends to a stream mapping's OnFailure destination when a batch's retries
    are exhausted: the batch's position (DDBStreamBatchInfo), not its records."""
    import datetime
    import uuid

    def arrival(record: dict[str, Any]) -> str:
        moment = record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(moment, datetime.datetime):
            return moment.astimezone(datetime.timezone.utc).isoformat()
        return str(moment)

    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "condition": "RetryAttemptsExhausted",
                           "approximateInvokeCount": tries},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                            "functionError": "Unhandled"},
        "version": "1.0", "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "DDBStreamBatchInfo": {
            "shardId": shard_id, "streamArn": arn, "batchSize": len(records),
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1])}}


def api_event(method: str, path: str, headers: dict[str, str] | None = None,
              body: str | None = None, stage: str = "api") -> dict[str, Any]:
    """An API Gateway (REST) proxy event, as Lambda hands it to the app's route handler."""
    headers = {"Host": "127.0.0.1", **(headers or {})}
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": "local",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


# --- what a consumer did with each message ------------------------------------------------------

# chalicelib/pipeline.py logs each SQS message's outcome ("message <id>: applied"); the
# pump and the tests read it there (the handler returns only what Lambda reads).
_OUTCOME_LOGGER = "chalicelib.pipeline"


class _Recorder:
    """The log records of one thread, while it runs a handler."""

    def __init__(self) -> None:
        import logging
        import threading

        self.records: list[Any] = []
        self._thread = threading.get_ident()
        self.handler = logging.Handler()
        self.handler.emit = self._emit  # type: ignore[method-assign]

    def _emit(self, record: Any) -> None:
        import threading

        if threading.get_ident() == self._thread:
            self.records.append(record)


class recording:  # noqa: N801 (used as `with events.recording() as outcomes:`)
    """Within the block, `outcomes` fills with message id -> what the consumer did with it,
    from the consumer's own log records (of this thread only)."""

    def __enter__(self) -> dict[str, str]:
        import logging

        self._recorder = _Recorder()
        self.outcomes: dict[str, str] = {}
        logging.getLogger(_OUTCOME_LOGGER).addHandler(self._recorder.handler)
        return self.outcomes

    def __exit__(self, *exc: object) -> None:
        import logging
        import re

        logging.getLogger(_OUTCOME_LOGGER).removeHandler(self._recorder.handler)
        for record in self._recorder.records:
            found = re.fullmatch(r"message (\S+): (.+)", record.getMessage())
            if found and record.levelno == logging.INFO:
                self.outcomes[found.group(1)] = found.group(2)
            elif record.levelno >= logging.ERROR and record.getMessage().startswith("message "):
                self.outcomes[record.getMessage().split()[1]] = "failed"
