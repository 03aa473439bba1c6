"""What the event source mappings need beyond what Chalice's decorators can say.

Chalice sets batch size, maximum concurrency (SQS) and the starting position
(the stream) from app.py; it cannot set partial batch responses, retry limits,
batch splitting or a failure destination. One definition here: `make deploy`
applies it with UpdateEventSourceMapping after `chalice deploy` (Chalice's later
updates change only what it manages, so these stay), and `make package` merges
it into the SAM events of the template.
"""
from __future__ import annotations

from typing import Any, Mapping

SQS = "sqs"
STREAM = "dynamodb"

# SQS: the handler returns {"batchItemFailures": [...]}; only those come back.
SQS_SETTINGS: dict[str, Any] = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}


def stream_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The users table's stream: a failing batch is split and retried 3 times, then its
    position goes to the dead-letter queue and the shard moves on (an alarm fires)."""
    return {"MaximumRetryAttempts": 3,
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {"OnFailure": {"Destination": env["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]}}}


def settings(kind: str, env: Mapping[str, str]) -> dict[str, Any]:
    return dict(SQS_SETTINGS) if kind == SQS else stream_settings(env)


# Chalice's record of a deployment names each mapping `<function>-<kind>-event-source`.
_RECORDED = {"sqs_event": SQS, "dynamodb_event": STREAM}


def apply(lambda_client: Any, deployed: list[dict[str, Any]], env: Mapping[str, str]) -> list[str]:
    """Update every mapping Chalice recorded; returns the functions updated."""
    updated = []
    for resource in deployed:
        kind = _RECORDED.get(resource.get("resource_type", ""))
        if kind is None:
            continue
        lambda_client.update_event_source_mapping(UUID=resource["event_uuid"], **settings(kind, env))
        updated.append(resource["name"].split("-", 1)[0])
    return updated
