"""A login racing a rename cannot bring the old name back (issue 14, broken item 5).

Every user event is a snapshot and the newest wins, so a snapshot must be stamped no later
than the moment its data was read: a login before InitiateAuth read the attributes, a
change after Cognito committed it. Here a rename commits between the login's InitiateAuth
(which read the old name) and its publish, deterministically (a hook around
cognito_sign_in.log_in); the pump runs the pipeline as `make run` does, and the newest name
ends up in DynamoDB, S3 and Parameter Store. The same race from outside, rounds of a rename
and a login sent at the same moment through `make run`: tests/run/test_stack_pipeline.py.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib import account, cognito_sign_in, names, users_table
from chalicelib.tokens import verify_id_token
from tests.helpers import PASSWORD, eventually
from tests.stack.helpers import local_client, log_in, sub_of


def aws(service: str, stack: dict[str, str]) -> Any:
    return local_client(stack, service)


def settled(stack: dict[str, str], sub: str, logins: int) -> dict[str, str]:
    """Where the name is once the pipeline applied `logins` logins and the rename."""
    record = users_table.get(sub) or {}
    if record.get("login_count", 0) < logins:
        return {}
    document = json.loads(aws("s3", stack).get_object(
        Bucket=stack["USERS_BUCKET_NAME"], Key=f"app/{sub}/profile.json")["Body"].read())
    names.forget_cache()
    return {"dynamodb": record.get("name", ""), "s3": document["name"],
            "ssm": names.get(sub) or ""}


def test_a_rename_committed_between_the_logins_read_and_its_publish_wins(
        client, register, stack, console, monkeypatch):
    person = register(name="Ada Lovelace")  # login 1
    sub = sub_of(person)
    claims = verify_id_token(person["idToken"])
    original = cognito_sign_in.log_in
    read: list[str] = []

    def log_in_then_rename(username: str, password: str) -> dict[str, Any]:
        tokens = original(username, password)  # InitiateAuth read "Ada Lovelace"
        read.append(verify_id_token(tokens["idToken"])["name"])
        account.change_name(claims, person["accessToken"], "Ada King")  # committed now
        return tokens  # ... and the login publishes after the rename did

    monkeypatch.setattr(cognito_sign_in, "log_in", log_in_then_rename)
    assert log_in(client, person["username"], PASSWORD).status_code == 200  # login 2
    assert read == ["Ada Lovelace"]
    where = eventually(lambda: settled(stack, sub, logins=2), what="both logins applied")
    assert where["dynamodb"] == "Ada King", where
    eventually(lambda: settled(stack, sub, logins=2) == {
        "dynamodb": "Ada King", "s3": "Ada King", "ssm": "Ada King"},
        what="the newest name in DynamoDB, S3 and Parameter Store")


def test_a_login_stamps_its_snapshot_before_cognito_reads_the_attributes(
        client, register, stack, monkeypatch):
    from chalicelib import user_events

    person = register(log_in=False)
    original = cognito_sign_in.log_in
    published: list[Any] = []
    moments: dict[str, str] = {}

    def log_in(username: str, password: str) -> dict[str, Any]:
        moments["before"] = user_events.now_iso()
        tokens = original(username, password)
        moments["after"] = user_events.now_iso()
        return tokens

    monkeypatch.setattr(cognito_sign_in, "log_in", log_in)
    monkeypatch.setattr(user_events, "publish", published.append)
    from tests.stack.helpers import log_in as http_log_in

    assert http_log_in(client, person["username"], PASSWORD).status_code == 200
    [event] = published
    assert event.occurred_at <= moments["before"] < moments["after"]


def test_a_name_change_is_stamped_after_cognito_committed_it(client, register, stack,
                                                              monkeypatch):
    from chalicelib import cognito_account, user_events

    person = register()
    claims = verify_id_token(person["idToken"])
    original = cognito_account.update_name
    moments: dict[str, str] = {}

    def update_name(access_token: str, name: str) -> None:
        original(access_token, name)
        moments["committed"] = user_events.now_iso()

    published: list[Any] = []
    monkeypatch.setattr(cognito_account, "update_name", update_name)
    monkeypatch.setattr(user_events, "publish", published.append)
    account.change_name(claims, person["accessToken"], "Ada King")
    [event] = published
    assert event.name == "Ada King" and event.occurred_at >= moments["committed"]


@pytest.fixture
def cached_name(stack: dict[str, str]) -> Any:
    names.forget_cache()
    yield
    names.forget_cache()


def test_the_process_that_renames_forgets_its_cached_greeting(client, register, stack,
                                                              cached_name):
    person = register(name="Ada Lovelace")
    sub = sub_of(person)
    names.put(sub, "Ada Lovelace")
    assert names.get(sub) == "Ada Lovelace"  # cached for a few seconds
    from chalicelib.aws import client as aws_client

    # What the stream Lambda writes after the rename, in its own container: not this cache.
    aws_client("ssm").put_parameter(Name=names.parameter_name(sub), Value="Ada King",
                                    Type="String", Overwrite=True)
    assert names.get(sub) == "Ada Lovelace"  # the cache still answers
    account.change_name(verify_id_token(person["idToken"]), person["accessToken"], "Ada King")
    assert names.get(sub) == "Ada King"
