"""Helpers of the stack tier (moto and chalice's test client): the account API, your files,
IAM, the pipeline's events. What other tiers share too is in tests/helpers.py."""
from __future__ import annotations

import base64
import contextlib
import functools
import json
import re
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.helpers import PASSWORD, ROOT, post

# --- the account API (/api/auth/*) -------------------------------------------------------

NEW_PASSWORD = "N3w-password-2"


def new_person(**overrides: Any) -> dict[str, str]:
    """A sign-up body for a person nobody has used yet (username unique per call)."""
    username = f"user{uuid.uuid4().hex[:8]}"
    person = {"name": "Grace Hopper", "email": f"{username}@example.com",
              "username": username, "password": PASSWORD}
    person.update(overrides)
    return person


def log_in(client: Any, username: str, password: str) -> Any:
    return post(client, "/api/auth/login", {"username": username, "password": password})


def emails_to(outbox: Any, address: str) -> list[Any]:
    return [email for email in outbox.messages if email.to.casefold() == address.casefold()]


def assert_human(message: Any) -> None:
    """A sentence for a person: capitalised, spaced words, ends like a sentence, no internals."""
    assert isinstance(message, str), message
    assert re.fullmatch(r"[A-Z][^\n]{9,}[.!?)]", message), message
    assert len(message.split()) >= 3, message
    assert not re.search(r"Exception|Traceback|botocore|moto|Error:|\{", message), message


def assert_error(response: Any, status: int, code: str) -> str:
    """`response` is our JSON error `status`/`code` with a human message; returns the message."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = json.loads(response.body)
    assert set(body) == {"error", "message"}, body
    assert body["error"] == code, body
    assert_human(body["message"])
    return body["message"]


def assert_ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.body)


# --- the pipeline's events and the app's routes --------------------------------------------

def sqs_event(client: Any, bodies: list[str], queue: str) -> dict[str, Any]:
    """An SQS batch of `bodies` from `queue`, as chalice's test client generates it, but with
    a distinct messageId per message (chalice gives them all the same one): "m0", "m1", ...,
    by position, so a test can say WHICH message a batch reports failed."""
    event = client.events.generate_sqs_event(message_bodies=list(bodies), queue_name=queue)
    for i, record in enumerate(event["Records"]):
        record["messageId"] = f"m{i}"
    return event


def deliver_queue(client: Any, stack: dict[str, str], function: str) -> list[dict[str, str]]:
    """Every message waiting on the queue of `function` (an SQS Lambda of app.py), invoked
    as Lambda does, ten at a time, then deleted; the batch item failures it reported (those
    messages are left on the queue, as Lambda leaves them)."""

    from app import app

    [queue] = [s.queue for s in app.event_sources if getattr(s, "name", "") == function]
    sqs = local_client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    failures: list[dict[str, str]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                       VisibilityTimeout=30).get("Messages", []):
        event = sqs_event(client, [m["Body"] for m in batch], queue)
        failed = client.lambda_.invoke(function, event).payload["batchItemFailures"]
        failures += failed
        ids = {f["itemIdentifier"] for f in failed}
        for i, message in enumerate(batch):
            if f"m{i}" not in ids:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return failures


def login_event(sub: str | None = None, name: str = "Ada Lovelace",
                at: str = "2026-11-26T10:00:00.000000Z", event_id: str | None = None) -> Any:
    """A "user authenticated" event, as the login publishes it."""
    from chalicelib.user_events import UserAuthenticated

    return UserAuthenticated(event_id=event_id or str(uuid.uuid4()), occurred_at=at,
                             sub=sub or str(uuid.uuid4()), username="ada", email="ada@example.com",
                             name=name)


def route_of(path: str) -> str | None:
    """The route pattern of app.routes that serves `path` (query ignored), or None."""
    from app import app

    asked = path.split("?", 1)[0].strip("/").split("/")
    for pattern in app.routes:
        parts = pattern.strip("/").split("/")
        if len(parts) == len(asked) and all(
                part == given or (part.startswith("{") and part.endswith("}"))
                for part, given in zip(parts, asked, strict=True)):
            return pattern
    return None


# --- IAM: one authorization, and an evaluator for the policies infra/policy.py generates ---
#
# A second evaluator beside local/iam/policy.py, kept on purpose: the least-privilege tests
# (tests/stack/test_lambda_least_privilege.py) use it as an independent oracle. If they judged
# the generated policies with the evaluator the local AWS enforces them with, a bug in that
# evaluator (a wildcard matched too widely, a condition ignored) would make the policy and the
# proof wrong together; two small implementations must agree instead. It models only what
# infra/policy.py writes and fails loudly on anything else (NotAction, other operators).

@dataclass(frozen=True)
class Need:
    """One authorization AWS makes: this action on this resource, with this request context."""

    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()
    call: str = ""


def iam_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, wanted in tests.items():
            if key not in context:
                if if_exists:
                    continue
                return False
            if base == "StringLike":
                ok = any(iam_match(w, context[key]) for w in as_list(wanted))
            elif base == "StringEquals":
                ok = context[key] in as_list(wanted)
            else:
                raise AssertionError(f"condition operator {operator} is not modelled here")
            if not ok:
                return False
    return True


def policy_allows(document: dict[str, Any], need: Need) -> bool:
    """Whether the policy document allows the need (no Deny, conditions as modelled)."""
    verdict = False
    for statement in document["Statement"]:
        assert not {"NotAction", "NotResource", "NotPrincipal"} & set(statement), statement
        if not any(iam_match(a, need.action, ignore_case=True)
                   for a in as_list(statement["Action"])):
            continue
        if not any(iam_match(r, need.resource) for r in as_list(statement["Resource"])):
            continue
        if not _conditions_hold(statement.get("Condition", {}), dict(need.context)):
            continue
        if statement["Effect"] == "Deny":
            return False
        verdict = True
    return verdict


# --- Your files (the /api/account/files routes) ---

FILES = "/api/account/files"
PROFILE = "/api/account/profile-document"


def bearer(person: dict) -> dict[str, str]:
    return {"Authorization": person["idToken"]}


def sub_of(person: dict) -> str:
    """The person's `sub`, read from their ID token."""
    import jwt

    return jwt.decode(person["idToken"], options={"verify_signature": False})["sub"]


def upload_file(client: Any, person: dict, name: Any, data: bytes = b"hello") -> Any:
    return post(client, FILES, {"name": name, "content": base64.b64encode(data).decode()},
                bearer(person))


def listed_files(client: Any, person: dict) -> dict:
    response = client.http.get(FILES, headers=bearer(person))
    assert response.status_code == 200, response.body
    return json.loads(response.body)


def listed_names(client: Any, person: dict) -> list[str]:
    return [item["name"] for item in listed_files(client, person)["files"]]


def delete_file(client: Any, person: dict, raw_path_name: str) -> Any:
    return client.http.delete(f"{FILES}/{raw_path_name}", headers=bearer(person))


def fetch_link(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def bucket_of(stack: dict[str, str]) -> str:
    return stack["USERS_BUCKET_NAME"]


class Refusing:
    """An S3 client on which IAM refuses everything (what AccessDenied looks like)."""

    def __init__(self, code: str = "AccessDenied"):
        self.code = code

    def __getattr__(self, operation: str):
        def refuse(**kwargs):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": self.code, "Message": "Access Denied"},
                               "ResponseMetadata": {"HTTPStatusCode": 403}}, operation)
        return refuse


# --- A person of the local AWS with the identity pool's credentials ---

LOCAL_REGION = "us-east-1"  # the region of the local AWS (local/local_aws.py)


class Person:
    """Someone signed in, with the AWS credentials the app handed them."""

    def __init__(self, tokens: dict[str, Any], credentials: dict[str, str], stack: dict[str, str]):
        import jwt

        self.tokens = tokens
        self.credentials = credentials
        self.sub = jwt.decode(tokens["idToken"], options={"verify_signature": False})["sub"]
        self.bucket = stack["USERS_BUCKET_NAME"]
        self.endpoint = stack["AWS_ENDPOINT_URL"]
        self._clients: dict[tuple[Any, ...], Any] = {}

    def client(self, service: str = "s3", **changes: str) -> Any:
        """A client signed with the person's credentials (`changes` replace some), made once
        per service and keys (a boto3 client costs ~6 ms to make)."""
        import boto3

        keys = {"aws_access_key_id": self.credentials["accessKeyId"],
                "aws_secret_access_key": self.credentials["secretKey"],
                "aws_session_token": self.credentials["sessionToken"], **changes}
        key = (service, *sorted(keys.items()))
        if key not in self._clients:
            self._clients[key] = boto3.client(service, endpoint_url=self.endpoint,
                                              region_name=LOCAL_REGION, **keys)
        return self._clients[key]

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def file(self, name: str) -> str:
        return f"users/{self.sub}/files/{name}"

    @property
    def profile(self) -> str:
        return f"app/{self.sub}/profile.json"


def local_client(stack: dict[str, str], service: str) -> Any:
    """A client of the stack's local AWS with its development keys, kept across tests (a boto3
    client costs ~6 ms to make; local.kept_session). Register no event hook on it."""
    return _local_session().client(service, region_name=LOCAL_REGION,
                                   endpoint_url=stack["AWS_ENDPOINT_URL"])


@functools.lru_cache(maxsize=1)
def _local_session() -> Any:
    from local.kept_session import KeptSession
    from local.local_aws import LocalAWS

    return KeptSession(LocalAWS.plain_session())


def credentials_for(client: Any, tokens: dict[str, Any]) -> dict[str, str]:
    """The person's identity-pool credentials, exchanged at the local Cognito Identity with
    their ID token, unsigned, as anyone holding the token can (infra/smoke/identity.py does the
    same in AWS): the app's POST /api/auth/credentials answers no key. `client` is the app's,
    unused."""
    import os

    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    from infra.smoke.identity import identity_pool_credentials

    identity = boto3.client("cognito-identity", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                            region_name=LOCAL_REGION, config=Config(signature_version=UNSIGNED))
    return identity_pool_credentials(identity, os.environ["IDENTITY_POOL_ID"],
                                     os.environ["USER_POOL_ID"], tokens["idToken"])


@contextlib.contextmanager
def stack_for(stacks: Any, owner: str, alone: bool) -> Iterator[dict[str, str]]:
    """`owner`'s stack, its outputs in os.environ, the app's caches cleared around it;
    `alone`: nobody builds on it afterwards (for a module-scoped fixture of its own, too)."""
    from chalicelib import config, names

    env = stacks.for_owner(owner)
    # A patch of its own: a test's monkeypatch.undo() must not take the stack's settings away.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        config.settings.cache_clear()
        names.forget_cache()
        yield env
    config.settings.cache_clear()
    names.forget_cache()
    if alone:
        stacks.owner = None  # nobody else may build on what this test did


@contextlib.contextmanager
def chalice_client(patch: pytest.MonkeyPatch) -> Iterator[Any]:
    """chalice's test client, with the local gateway hardened exactly as `make run`'s."""
    from chalice.test import Client

    from app import app
    from local.run.serve import harden_local_gateway

    harden_local_gateway(patch.setattr)
    with Client(app, stage_name="local", project_dir=str(ROOT)) as made:
        yield made


def users_stream_records(streams: Any, stack: dict[str, str]) -> list[dict[str, Any]]:
    """Every record on the users table's stream, from its oldest (TRIM_HORIZON), as the
    DynamoDB Streams API returns them; `streams` is a dynamodbstreams client."""
    arn = stack["USERS_TABLE_STREAM_ARN"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records += streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return records
