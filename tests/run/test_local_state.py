"""`make run` keeps the local AWS's data across restarts (local.run.state): accounts and their
passwords, DynamoDB items, S3 objects, Parameter Store names, SQS messages, even a message a
consumer had received and not finished; `--clean` (`make run CLEAN=1`) forgets all of it.
A kill -9 in the middle of the pipeline loses and doubles nothing that was saved."""
from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
import uuid
from typing import Any

import jwt
import pytest

from tests.helpers import PASSWORD, eventually, http_json
from tests.running import RunningStack


TABLE = "comm-it-local-users"
DLQ = "comm-it-local-save-profile-dlq"


def sub_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sub"]


def greeted(stack: RunningStack, token: str) -> Any:
    status, body = stack.greeting(token)
    return status == 200 and body


def bucket(stack: RunningStack) -> str:
    return next(b["Name"] for b in stack.observer("s3").list_buckets()["Buckets"]
                if b["Name"].startswith("comm-it-local-users"))


def count_everything(stack: RunningStack) -> dict[str, Any]:
    items = stack.observer("dynamodb").scan(TableName=TABLE)["Items"]
    objects = stack.observer("s3").list_objects_v2(Bucket=bucket(stack),
                                               Prefix="app/").get("Contents", [])  # the profiles
    parameters = stack.observer("ssm").get_parameters_by_path(Path="/comm-it/local/users",
                                                          Recursive=True, MaxResults=10)
    names = list(parameters["Parameters"])
    while parameters.get("NextToken"):
        parameters = stack.observer("ssm").get_parameters_by_path(
            Path="/comm-it/local/users", Recursive=True, MaxResults=10,
            NextToken=parameters["NextToken"])
        names += parameters["Parameters"]
    return {"items": items, "objects": objects, "parameters": names}


@pytest.fixture
def state_dir():
    with tempfile.TemporaryDirectory(prefix="comm-it-state-test-") as directory:
        yield directory


def test_an_account_and_its_data_survive_a_restart_and_clean_forgets_them(state_dir):
    username = f"ada{uuid.uuid4().hex[:6]}"
    env = {"LOCAL_STATE_DIR": state_dir}
    with RunningStack(env=env) as first:
        first.sign_up("Ada Lovelace", username, PASSWORD)
        status, tokens = first.log_in(username, PASSWORD)
        assert status == 200, tokens
        sub = sub_of(tokens["idToken"])
        assert eventually(lambda: greeted(first, tokens["idToken"]), what="the greeting") == \
            {"message": "hello", "name": "Ada Lovelace"}
        eventually(lambda: len(count_everything(first)["objects"]) == 1, what="the S3 document")
        sqs = first.observer("sqs")
        dlq = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
        sent = sqs.send_message(QueueUrl=dlq,
                                MessageBody='{"kept": "across restarts"}')["MessageId"]
        in_flight = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=600)["Messages"]
        assert [m["MessageId"] for m in in_flight] == [sent]  # received, never deleted
        assert first.stop() == 0, first.output()
    issued_before = tokens["idToken"]

    with RunningStack(env=env) as second:
        assert "1 unfinished message(s) delivered again" in \
            second.wait_for_line(lambda line: line.startswith("Local data: "), 10)
        # The local AWS signs with the key it keeps (local/cognito/signing_key.py): a token
        # it issued before the restart still verifies.
        assert greeted(second, issued_before) == {"message": "hello", "name": "Ada Lovelace"}
        status, tokens = second.log_in(username, PASSWORD)
        assert status == 200, tokens  # the same account, the same password
        assert sub_of(tokens["idToken"]) == sub
        assert eventually(lambda: greeted(second, tokens["idToken"]), what="the greeting") == \
            {"message": "hello", "name": "Ada Lovelace"}
        item = eventually(lambda: next((i for i in count_everything(second)["items"]
                                        if i.get("login_count", {}).get("N") == "2"), None),
                          what="the second login counted on the saved item")
        assert item["sub"]["S"] == sub and item["name"]["S"] == "Ada Lovelace"
        counts = count_everything(second)
        assert len(counts["items"]) == 1 and len(counts["objects"]) == 1
        assert [(p["Name"], p["Value"], p["Version"]) for p in counts["parameters"]] == \
            [(f"/comm-it/local/users/{sub}/name", "Ada Lovelace", 1)]  # the stream was not replayed
        sqs = second.observer("sqs")
        dlq = sqs.get_queue_url(QueueName=DLQ)["QueueUrl"]
        again = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1)["Messages"]
        assert [(m["MessageId"], m["Body"]) for m in again] == [
            (sent, '{"kept": "across restarts"}')]
        assert second.stop() == 0, second.output()

    with RunningStack(env=env, args=("--clean",)) as clean:
        status, answer = clean.log_in(username, PASSWORD)
        assert status == 401, answer
        assert any("forgot the saved local data" in line for line in clean.lines), clean.output()
        assert count_everything(clean) == {"items": [], "objects": [], "parameters": []}
        status, _ = http_json(clean.aws_endpoint, "GET", "/moto-api/data.json")
        assert status == 200


def test_a_kill_9_in_the_middle_of_the_pipeline_loses_and_doubles_nothing_saved(state_dir):
    env = {"LOCAL_STATE_DIR": state_dir}
    people = [(f"Person {i} {uuid.uuid4().hex[:4]}", f"p{i}x{uuid.uuid4().hex[:6]}")
              for i in range(8)]
    first = RunningStack(env=env).start()
    try:
        for name, username in people:
            first.sign_up(name, username, PASSWORD)
        # Hold the pipeline half-way: the users table gets each login, S3 and Parameter Store fail.
        for service, kind in (("s3", "5xx"), ("ssm", "throttle")):
            status, body = http_json(first.aws_endpoint, "POST", "/_local/faults",
                                     {"service": service, "kind": kind, "seconds": 300})
            assert status == 201, body
        tokens: dict[str, str] = {}

        def log_in(name: str, username: str) -> None:
            status, body = first.log_in(username, PASSWORD)
            assert status == 200, body
            tokens[username] = body["idToken"]

        threads = [threading.Thread(target=log_in, args=person) for person in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(tokens) == len(people)
        eventually(lambda: len(count_everything(first)["items"]) == len(people), timeout=30,
                   what="every login in the users table")
        half = count_everything(first)
        assert (len(half["objects"]), len(half["parameters"])) == (0, 0)  # the rest is in flight
        status, saved = http_json(first.aws_endpoint, "POST", "/_local/save")
        assert status == 200, saved
        os.killpg(first.pgid, signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.stop()

    with RunningStack(env=env) as second:
        for name, username in people:
            body = eventually(lambda username=username: greeted(second, tokens[username]),
                              timeout=30,
                              what=f"{name}'s greeting after the restart")
            assert body == {"message": "hello", "name": name}
        counts = eventually(lambda: (c := count_everything(second)) and
                            len(c["objects"]) == len(people) and c, what="every S3 document")
        subs = {sub_of(t) for t in tokens.values()}
        assert {i["sub"]["S"] for i in counts["items"]} == subs
        assert all(i["login_count"]["N"] == "1" for i in counts["items"]), counts["items"]
        assert {o["Key"] for o in counts["objects"]} == {f"app/{s}/profile.json" for s in subs}
        assert sorted(p["Name"] for p in counts["parameters"]) == \
            sorted(f"/comm-it/local/users/{s}/name" for s in subs)
        sqs = second.observer("sqs")
        for queue in ("comm-it-local-save-profile-dlq", "comm-it-local-archive-profile-dlq"):
            url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            attributes = sqs.get_queue_attributes(QueueUrl=url,
                                                  AttributeNames=["All"])["Attributes"]
            assert attributes["ApproximateNumberOfMessages"] == "0", (queue, json.dumps(attributes))
