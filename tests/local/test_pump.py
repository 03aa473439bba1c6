"""The local pump delivers the pipeline's events like Lambda's event source
mappings: through it, a login ends in DynamoDB, S3, Parameter Store and the greeting."""
from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from chalicelib import names

from tests.helpers import eventually, post
from tests.stack.helpers import local_client

# The pump delivers every message of every queue and the tests read its console:
# a stack of its own per test.
pytestmark = pytest.mark.usefixtures("fresh_stack")


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def test_a_login_reaches_dynamodb_s3_parameter_store_and_the_greeting(client, register, console,
                                                                      stack):
    person = register(name="Grace Hopper")
    auth = {"Authorization": person["idToken"]}
    greeting = eventually(lambda: (r := client.http.get("/api/greeting",
                                                        headers=auth)).status_code == 200 and r,
                        what="the greeting")
    assert greeting.json_body == {"message": "hello", "name": "Grace Hopper"}

    sub = jwt.decode(person["idToken"], options={"verify_signature": False})["sub"]
    item = eventually(lambda: aws("dynamodb", stack).get_item(
        TableName=stack["USERS_TABLE_NAME"], Key={"sub": {"S": sub}}).get("Item"),
        what="the user's item")
    assert item["name"]["S"] == "Grace Hopper" and item["username"]["S"] == person["username"]
    assert item["login_count"]["N"] == "1"
    document = json.loads(eventually(lambda: aws("s3", stack).get_object(
        Bucket=stack["USERS_BUCKET_NAME"], Key=f"app/{sub}/profile.json")["Body"].read(),
        what="S3"))
    assert document["name"] == "Grace Hopper" and document["email"] == person["email"]
    parameter = aws("ssm", stack).get_parameter(
        Name=f"/comm-it/local/users/{sub}/name")["Parameter"]
    assert parameter["Value"] == "Grace Hopper"

    # Parameter Store is the source of the greeting: change it there, the greeting follows.
    aws("ssm", stack).put_parameter(Name=parameter["Name"], Value="Rear Admiral Hopper",
                                    Type="String", Overwrite=True)
    names.forget_cache()  # another Lambda container would see it within names.CACHE_SECONDS
    renamed = client.http.get("/api/greeting", headers=auth)
    assert renamed.json_body["name"] == "Rear Admiral Hopper"

    assert any(line.startswith(f"[event] save_profile <- sqs:{stack['PROFILE_QUEUE_NAME']}") and
               line.endswith(": applied") for line in console)
    assert any(f"archive_profile <- sqs:{stack['ARCHIVE_QUEUE_NAME']}" in line
               and line.endswith(": written")
               for line in console)
    assert any("sync_name <- dynamodb-stream:comm-it-local-users INSERT" in line
               and line.endswith(": written")
               for line in console)
    assert any(f"record_sign_in <- sqs:{stack['SIGN_IN_QUEUE_NAME']}" in line
               and line.endswith(": listed") for line in console)  # the Security page's session


def test_a_second_login_counts_without_rewriting_the_name(client, register, console, stack):
    person = register()
    post(client, "/api/auth/login",
         {"username": person["username"], "password": person["password"]})
    items = eventually(lambda: [i for i in aws("dynamodb", stack).scan(
                                    TableName=stack["USERS_TABLE_NAME"])["Items"]
                                if i.get("login_count", {}).get("N") == "2"], what="two logins")
    sub = items[0]["sub"]["S"]
    eventually(lambda: any("sync_name" in line and line.endswith(": unchanged")
                           for line in console),
               what="the MODIFY record")
    version = aws("ssm", stack).get_parameter(
        Name=f"/comm-it/local/users/{sub}/name")["Parameter"]["Version"]
    assert version == 1


def test_a_poison_message_is_retried_then_dead_lettered_without_blocking_good_ones(
        client, register, console, stack):
    sns, sqs = aws("sns", stack), aws("sqs", stack)
    sns.publish(TopicArn=stack["USER_EVENTS_TOPIC_ARN"], Message='{"type": "user.authenticated"}')
    person = register(name="Still Greeted")
    greeting = eventually(lambda: (r := client.http.get(
        "/api/greeting", headers={"Authorization": person["idToken"]})).status_code == 200 and r,
        what="the good event to get through")
    assert greeting.json_body["name"] == "Still Greeted"

    dlq = sqs.get_queue_url(QueueName="comm-it-local-save-profile-dlq")["QueueUrl"]
    dead = eventually(lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"),
                    timeout=30, what="the poison message in the dead-letter queue")
    assert json.loads(dead[0]["Body"]) == {"type": "user.authenticated"}
    failures = [line for line in console if "save_profile" in line and "FAILED" in line]
    assert len(failures) >= 5  # retried up to the queue's maxReceiveCount before it moved
    assert any(line.endswith("received 5 of 5 times; its last try: the next receive moves it to "
                             "comm-it-local-save-profile-dlq") for line in console)


def test_a_queue_with_a_backlog_gets_more_pollers_up_to_its_maximum_concurrency_then_one(
        stack, local_aws):
    """Lambda scales an SQS mapping's pollers with the backlog, up to MaximumConcurrency:
    full receives add pollers, each leaves at its first empty receive."""
    import threading
    import time

    from chalice import Chalice

    from local.event_sources.pump import Pump

    sqs = aws("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack["PROFILE_QUEUE_NAME"])["QueueUrl"]
    for start in range(0, 60, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(start, start + 10)])
    app, lock, delivered = Chalice("pump-pollers"), threading.Lock(), []
    running, most = [0], [0]

    @app.on_sqs_message(queue=stack["PROFILE_QUEUE_NAME"], batch_size=10, maximum_concurrency=3,
                        name="save_profile")
    def save_profile(event: Any) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.3)  # long enough for the other pollers to receive theirs
        with lock:
            running[0] -= 1
            delivered.extend(json.loads(record.body)["n"] for record in event)

    pump = Pump(app, local_aws.session(), local_aws.endpoint, "us-east-1", say=[].append,
                retry_delay=0, queue_wait=1).start()
    try:
        eventually(lambda: len(delivered) == 60, what="every message delivered")
        assert 1 < most[0] <= 3
        assert sorted(delivered) == list(range(60))  # each once
        eventually(lambda: pump._pollers.get("save_profile", 1) == 1, timeout=10,
                   what="the extra pollers gone once the queue is empty")
    finally:
        pump.stop()
