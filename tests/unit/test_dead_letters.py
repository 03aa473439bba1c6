"""Looking into a dead-letter queue (chalicelib/dead_letters.py) without AWS: the queue's
URL from its ARN, and which failed stream batch holds a record written at a given moment."""
from __future__ import annotations

import json

import pytest

from chalicelib import dead_letters


def failure(first: str, last: str) -> str:
    """A stream mapping's OnFailure document, as Lambda sends it (trimmed to what is read)."""
    return json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted"},
                       "DDBStreamBatchInfo": {"approximateArrivalOfFirstRecord": first,
                                              "approximateArrivalOfLastRecord": last}})


def test_a_queue_url_is_built_from_its_arn():
    arn = "arn:aws:sqs:eu-west-1:123456789012:comm-it-dev-save-profile-dlq"
    assert dead_letters.queue_url(arn) == \
        "https://sqs.eu-west-1.amazonaws.com/123456789012/comm-it-dev-save-profile-dlq"
    assert dead_letters.queue_name(arn) == "comm-it-dev-save-profile-dlq"


@pytest.mark.parametrize("moment, covered", [
    ("2026-12-03T10:00:04.999000Z", True),   # stamped just before the write
    ("2026-12-03T10:00:05.200000Z", True),   # inside the batch
    ("2026-12-03T10:00:06.000500Z", True),   # the last record's millisecond
    ("2026-12-03T10:00:06.002000Z", False),  # after the batch's last record
    ("2026-12-03T10:00:03.900000Z", False),  # more than a write's latency before it
])
def test_a_millisecond_batch_covers_only_the_records_written_in_it(moment, covered):
    body = failure("2026-12-03T10:00:05.010Z", "2026-12-03T10:00:06.000Z")
    assert dead_letters.stream_batch_covers(body, moment) is covered


@pytest.mark.parametrize("moment, covered", [
    ("2026-12-03T10:00:05.900000Z", True),   # rounded down to 10:00:05
    ("2026-12-03T10:00:06.100000Z", False),
])
def test_a_batch_with_times_in_whole_seconds_covers_that_whole_second(moment, covered):
    body = failure("2026-12-03T10:00:05Z", "2026-12-03T10:00:05Z")
    assert dead_letters.stream_batch_covers(body, moment) is covered


@pytest.mark.parametrize("body", [
    "not json", "[]", json.dumps({"DDBStreamBatchInfo": {}}),
    failure("yesterday", "today"), failure("2026-12-03T10:00:05", "2026-12-03T10:00:06"),
])
def test_anything_else_in_the_queue_covers_nothing(body):
    assert dead_letters.stream_batch_covers(body, "2026-12-03T10:00:05.500000Z") is False
