"""Faults in the middle of the pipeline, in the running local stack (`make run`): while people
log in, Parameter Store throttles, S3 answers 5xx and DynamoDB throttles, each for a while (a
log-in meanwhile may be refused "try again": its limits are in DynamoDB).
Afterwards, and after one `python -m local redrive` for whatever reached a dead-letter queue,
every person is greeted by their own name and DynamoDB, S3 and Parameter Store hold exactly one
record per person."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import jwt

from tests.helpers import PASSWORD, eventually, http_json
from tests.running import ROOT, RunningStack


QUEUES = ("comm-it-local-save-profile", "comm-it-local-archive-profile")
# (service, fault, seconds, people logging in meanwhile). S3's lasts longer than the pump's five
# receives of a message (about 2 s apart), so those logins' archive messages reach the dead-letter
# queue. (A throttled call is retried by botocore with a backoff of up to 1, then 2 s; a 5xx with
# one of up to 0.05 s: five receives under throttling would take about a minute.)
PHASES = (("ssm", "throttle", 4, 4), ("dynamodb", "throttle", 5, 4), ("s3", "5xx", 13, 4))


def queue_depths(stack: RunningStack, suffix: str = "") -> dict[str, int]:
    sqs = stack.observer("sqs")
    depths = {}
    for queue in QUEUES:
        url = sqs.get_queue_url(QueueName=queue + suffix)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        depths[queue + suffix] = int(attributes["ApproximateNumberOfMessages"]) + \
            int(attributes["ApproximateNumberOfMessagesNotVisible"])
    return depths


def stores(stack: RunningStack) -> dict[str, list]:
    items = stack.observer("dynamodb").scan(TableName="comm-it-local-users")["Items"]
    s3 = stack.observer("s3")
    bucket = next(b["Name"] for b in s3.list_buckets()["Buckets"]
                  if b["Name"].startswith("comm-it-local-users"))
    objects = s3.list_objects_v2(Bucket=bucket, Prefix="app/").get("Contents", [])  # the profiles
    ssm = stack.observer("ssm")
    parameters, token = [], None
    while True:
        page = ssm.get_parameters_by_path(Path="/comm-it/local/users", Recursive=True,
                                          MaxResults=10,
                                          **({"NextToken": token} if token else {}))
        parameters += page["Parameters"]
        token = page.get("NextToken")
        if not token:
            break
    return {"items": items, "objects": objects, "parameters": parameters}


def test_after_ssm_s3_and_dynamodb_faults_and_one_redrive_everyone_is_greeted_once(capsys):
    started = time.monotonic()
    with RunningStack() as stack:
        people = [(f"Faulty {i} {uuid.uuid4().hex[:4]}", f"f{i}x{uuid.uuid4().hex[:6]}")
                  for i in range(sum(phase[3] for phase in PHASES))]
        for name, username in people:
            stack.sign_up(name, username, PASSWORD)
        tokens: dict[str, str] = {}
        failures: list[Any] = []
        refused: list[str] = []  # while DynamoDB throttles: the app's limits live there

        def log_in(username: str, service: str) -> None:
            status, body = stack.log_in(username, PASSWORD)
            if status == 200:
                tokens[username] = body["idToken"]
            elif service == "dynamodb" and (status, body.get("error")) == (
                    503, "ServiceUnavailable") and "try again" in body.get("message", ""):
                refused.append(username)  # fails closed, saying to try again
            else:
                failures.append((username, status, body))

        waiting = iter(people)
        for service, kind, seconds, count in PHASES:
            status, body = http_json(stack.aws_endpoint, "POST", "/_local/faults",
                                     {"service": service, "kind": kind, "seconds": seconds})
            assert status == 201, body
            switched_on = time.monotonic()
            threads = [threading.Thread(target=log_in, args=(next(waiting)[1], service))
                       for _ in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            # The people on the page meanwhile: their greeting may fail, never with a 500.
            for token in list(tokens.values()):
                assert stack.greeting(token)[0] in (200, 202, 503)
            eventually(lambda: not http_json(stack.aws_endpoint, "GET",
                                             "/_local/faults")[1]["active"],
                       timeout=seconds + 5, what=f"the {service} fault to end")
            assert time.monotonic() - switched_on >= seconds - 0.5
        # Logging in needs no faulted service but DynamoDB (the app's own limits, the session
        # list: it fails closed, a brute force must not get through a throttled table); those
        # refused log in once the fault is over.
        assert not failures, failures
        for username in refused:
            log_in(username, "")
        assert not failures and len(tokens) == len(people), failures

        faults = http_json(stack.aws_endpoint, "GET", "/_local/faults")[1]["history"]
        eventually(lambda: not any(queue_depths(stack).values()), timeout=40,
                   what="the queues to settle (delivered, or moved to a dead-letter queue)")
        dead = queue_depths(stack, "-dlq")
        redrive = subprocess.run([sys.executable, "-m", "local", "redrive"], cwd=ROOT,
                                 env={**stack.env, "LOCAL_AWS_PORT": str(stack.aws_port)},
                                 capture_output=True, text=True, timeout=60)
        assert redrive.returncode == 0, redrive.stderr
        assert f"redrive: {sum(dead.values())} message(s) in all" in redrive.stdout, redrive.stdout

        for name, username in people:
            body = eventually(lambda username=username:
                              (r := stack.greeting(tokens[username]))[0] == 200 and r[1],
                              timeout=30, what=f"{name}'s greeting")
            assert body == {"message": "hello", "name": name}
        subs = {jwt.decode(t, options={"verify_signature": False})["sub"] for t in tokens.values()}
        found = eventually(lambda: (s := stores(stack)) and len(s["objects"]) == len(people) and s,
                           timeout=30, what="every S3 document")
        assert sorted(i["sub"]["S"] for i in found["items"]) == sorted(subs)
        # none doubled
        assert [i["login_count"]["N"] for i in found["items"]] == ["1"] * len(people)
        assert sorted(o["Key"] for o in found["objects"]) == sorted(f"app/{s}/profile.json"
                                                                    for s in subs)
        assert sorted(p["Name"] for p in found["parameters"]) == \
            sorted(f"/comm-it/local/users/{s}/name" for s in subs)
        assert not any(queue_depths(stack).values()) and not any(
            queue_depths(stack, "-dlq").values())

    figures = {
        "people": len(people), "greeted by their own name": len(people),
        "faults (service, kind, requests failed)": [(f["service"], f["kind"], f["answered"])
                                                    for f in faults],
        "dead letters before redrive": dead, "redriven": sum(dead.values()),
        "DynamoDB items": len(found["items"]), "S3 documents": len(found["objects"]),
        "Parameter Store names": len(found["parameters"]),
        "seconds": round(time.monotonic() - started),
    }
    with capsys.disabled():  # the figures on the `make test` console, not only with -s
        print("\nfaults figures: " + json.dumps(figures))
    assert all(f["answered"] > 0 for f in faults), faults  # every fault hit the pipeline
    assert sum(dead.values()) > 0, ("nothing reached a dead-letter queue: "
                                    "the redrive was not exercised")
