"""AWS clients under concurrency (chalicelib/aws.py): a burst of requests on a fresh
process builds each client once, from one session, and a burst of calls through one
client never overflows its connection pool. A person's client is kept for their exact
credentials only.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Iterator

import pytest

from chalicelib import aws, config
from local.local_aws import CREDENTIALS, LocalAWS


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No client made yet, as in a process that just started."""
    aws.forget_cache()
    config.settings.cache_clear()
    yield
    aws.forget_cache()
    config.settings.cache_clear()


@pytest.fixture
def local_endpoint(local_aws: LocalAWS, monkeypatch: pytest.MonkeyPatch, fresh: None) -> str:
    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": local_aws.endpoint,
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    return local_aws.endpoint


def at_once(threads: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in `threads` threads released together; their results."""
    start, results, errors = threading.Barrier(threads), [], []

    def run() -> None:
        start.wait()
        try:
            results.append(work())
        except Exception as exc:  # noqa: BLE001 (reported below, with the others)
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not errors, errors[:3]
    return results


def test_a_burst_of_first_requests_builds_each_client_once(local_endpoint, monkeypatch):
    import boto3

    sessions = []
    original = boto3.setup_default_session

    def counted(**kwargs: Any) -> None:
        sessions.append(1)
        original(**kwargs)

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a process that just started
    monkeypatch.setattr(boto3, "setup_default_session", counted)
    clients = at_once(32, lambda: aws.client("ssm"))
    assert len({id(made) for made in clients}) == 1, "each request built its own client"
    assert len(sessions) == 1
    assert at_once(8, lambda: aws.client("ssm")) == [clients[0]] * 8


def test_clients_of_different_services_come_from_one_session(local_endpoint):
    ssm, sqs = aws.client("ssm"), aws.client("sqs")
    assert ssm is not sqs
    assert aws.client("ssm") is ssm


def test_a_burst_of_calls_through_one_client_never_overflows_its_pool(local_endpoint, caplog):
    sqs = aws.client("sqs")
    with caplog.at_level(logging.WARNING, logger="urllib3.connectionpool"):
        at_once(64, lambda: sqs.list_queues())
    full = [r.getMessage() for r in caplog.records if "Connection pool is full" in r.getMessage()]
    assert not full, f"{len(full)} warnings: {full[0]}"


def test_the_pool_holds_more_connections_than_a_burst_of_people(local_endpoint):
    assert aws.client("sqs").meta.config.max_pool_connections == aws.MAX_POOL_CONNECTIONS >= 200


class Keys:
    """Someone's temporary credentials (chalicelib/aws.TemporaryCredentials)."""

    def __init__(self, n: int, token: str = "token") -> None:
        self.access_key_id, self.secret_key, self.session_token = f"ASIA{n:016d}", "secret", token


def test_a_persons_client_is_kept_for_their_exact_credentials_only(local_endpoint):
    s3 = aws.client_as("s3", Keys(1))
    assert aws.client_as("s3", Keys(1)) is s3
    assert aws.client_as("sqs", Keys(1)) is not s3
    assert aws.client_as("s3", Keys(2)) is not s3, "someone else got this person's client"
    assert aws.client_as("s3", Keys(1, token="renewed")) is not s3
    assert s3._request_signer._credentials.access_key == "ASIA" + "1".zfill(16)


def test_past_the_limit_the_least_recently_used_persons_client_goes(local_endpoint):
    first, second = aws.client_as("s3", Keys(1)), aws.client_as("s3", Keys(2))
    for n in range(3, aws.PEOPLES_CLIENTS + 1):
        aws.client_as("s3", Keys(n))
    assert aws.client_as("s3", Keys(1)) is first  # used again: now the most recent
    aws.client_as("s3", Keys(aws.PEOPLES_CLIENTS + 1))  # one more: the oldest, 2, goes
    assert aws.client_as("s3", Keys(1)) is first
    assert aws.client_as("s3", Keys(2)) is not second



def test_a_persons_kept_client_holds_as_many_connections_as_the_apps_own(local_endpoint):
    """One person's requests at once (`chalice local` threads) share their kept client."""
    assert (aws.client_as("s3", Keys(1)).meta.config.max_pool_connections
            == aws.client("s3").meta.config.max_pool_connections == aws.MAX_POOL_CONNECTIONS)
