"""What the event source mappings need beyond what Chalice's decorators can say.

Chalice sets batch size, maximum concurrency (SQS) and the starting position
(the stream) from app.py; it cannot set partial batch responses, retry limits,
batch splitting or a failure destination. One definition here: `make deploy`
applies it with UpdateEventSourceMapping after `chalice deploy` (Chalice's later
updates change only what it manages, so these stay), waiting until each mapping has
settled and reading each back, and `make package` merges
it into the SAM events of the template.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from infra.errors import DeployError

SQS = "sqs"
STREAM = "dynamodb"

# SQS: the handler returns {"batchItemFailures": [...]}; only those come back.
SQS_SETTINGS: dict[str, Any] = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
# Concurrent batches per stream shard (1-10): each is a sync_name invocation writing names,
# so a 200-person crowd writes at most this many at a time (docs/scaling.md).
PARALLELIZATION_FACTOR = 4


def stream_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The users table's stream: up to 4 batches of a shard at once (a person's records
    always in one, in order), so a crowd's names are not written one after the other; a
    failing batch is split and retried 3 times, then its position goes to the dead-letter
    queue and the shard moves on (an alarm fires)."""
    return {"ParallelizationFactor": PARALLELIZATION_FACTOR,
            "MaximumRetryAttempts": 3,
            "BisectBatchOnFunctionError": True,
            "DestinationConfig": {
                "OnFailure": {"Destination": env["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]}}}


def settings(kind: str, env: Mapping[str, str]) -> dict[str, Any]:
    return dict(SQS_SETTINGS) if kind == SQS else stream_settings(env)


# Chalice's record of a deployment names each mapping `<function>-<kind>-event-source`.
_RECORDED = {"sqs_event": SQS, "dynamodb_event": STREAM}
SETTLED = ("Enabled", "Disabled")
# Lambda answers ResourceInUseException while a mapping is Creating/Updating (right after
# `chalice deploy`); Chalice's own updater retries it too. Waits: 2, 4, 8, ... capped at 30 s,
# for at most about 5 minutes per mapping.
FIRST_WAIT, MAX_WAIT, MAX_ATTEMPTS = 2.0, 30.0, 15


def _waits() -> list[float]:
    return [min(FIRST_WAIT * 2 ** n, MAX_WAIT) for n in range(MAX_ATTEMPTS)]


def apply(lambda_client: Any, deployed: list[dict[str, Any]], env: Mapping[str, str],
          sleep: Callable[[float], None] = time.sleep) -> list[str]:
    """Update every mapping Chalice recorded once it has settled, then read each back:
    a DeployError if its settings are not infra/event_sources.py's. Returns the functions."""
    updated = []
    for resource in deployed:
        kind = _RECORDED.get(resource.get("resource_type", ""))
        if kind is None:
            continue
        function = resource["name"].split("-", 1)[0]
        wanted = settings(kind, env)
        _wait_settled(lambda_client, resource["event_uuid"], function, sleep)
        _update(lambda_client, resource["event_uuid"], wanted, function, sleep)
        _wait_settled(lambda_client, resource["event_uuid"], function, sleep)
        _check(lambda_client.get_event_source_mapping(UUID=resource["event_uuid"]),
               wanted, function)
        updated.append(function)
    return updated


def _wait_settled(lambda_client: Any, uuid: str, function: str,
                  sleep: Callable[[float], None]) -> None:
    state = ""
    for wait in _waits():
        state = lambda_client.get_event_source_mapping(UUID=uuid).get("State", "")
        if state in SETTLED:
            return
        sleep(wait)
    raise DeployError(f"The event source mapping of {function} ({uuid}) is still {state} after "
                      f"{sum(_waits()):.0f} s; run `make deploy` again once Lambda has settled it "
                      f"(aws lambda get-event-source-mapping --uuid {uuid}).")


def _update(lambda_client: Any, uuid: str, wanted: dict[str, Any], function: str,
            sleep: Callable[[float], None]) -> None:
    from infra.errors import aws_error

    for wait in _waits():
        try:
            lambda_client.update_event_source_mapping(UUID=uuid, **wanted)
            return
        except Exception as exc:  # botocore's ClientError; its class is per client
            if aws_error(exc)[0] != "ResourceInUseException":
                raise
            sleep(wait)
    raise DeployError(f"Lambda kept refusing to update the event source mapping of {function} "
                      f"({uuid}): ResourceInUseException for {sum(_waits()):.0f} s. Run "
                      "`make deploy` again; until then its settings are not the app's.")


def differences(mapping: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Each setting of `wanted` the mapping does not have, as 'Key: got X, want Y'."""
    return [f"{key}: got {mapping.get(key)!r}, want {value!r}"
            for key, value in wanted.items() if mapping.get(key) != value]


def _check(mapping: Mapping[str, Any], wanted: Mapping[str, Any], function: str) -> None:
    wrong = differences(mapping, wanted)
    if wrong:
        raise DeployError(
            f"The event source mapping of {function} ({mapping.get('UUID')}) does not have the "
            f"settings of infra/event_sources.py after the update: {'; '.join(wrong)}. Without "
            "them Lambda may delete failed messages or retry a stream batch forever; run "
            "`make deploy` again, and do not send traffic to the stage until it passes.")
