"""The user-authenticated event: its JSON contract, and what login does with it."""
from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.user_events import MalformedEvent, UserAuthenticated, now_iso

from tests.helpers import post
from tests.stack.helpers import local_client


def test_an_event_survives_its_json_round_trip():
    event = UserAuthenticated.from_claims({"sub": str(uuid.uuid4()), "cognito:username": "ada",
                                           "email": "ada@example.com", "name": "Ada"},
                                          at=now_iso())
    data = json.loads(event.to_json())
    assert data["type"] == "user.authenticated" and data["version"] == 1
    assert UserAuthenticated.from_json(event.to_json()) == event


def test_event_ids_are_unique_and_times_sort_as_text():
    claims = {"sub": "s", "name": "n"}
    first = UserAuthenticated.from_claims(claims, at=now_iso())
    second = UserAuthenticated.from_claims(claims, at=now_iso())
    assert first.event_id != second.event_id
    assert len(now_iso()) == len("2026-11-26T10:00:00.000000Z")
    assert first.occurred_at <= second.occurred_at


@pytest.mark.parametrize("body", [
    "{not json", "[]", "null", json.dumps({"type": "other", "version": 1}),
    json.dumps({"type": "user.authenticated", "version": 2}),
    json.dumps({"type": "user.authenticated", "version": 1, "event_id": "e"}),
    json.dumps({"type": "user.authenticated", "version": 1, "event_id": "e", "occurred_at": "t",
                "sub": "", "username": "u", "email": "e", "name": "n"}),
    json.dumps({"type": "user.authenticated", "version": 1, "event_id": "e", "occurred_at": "t",
                "sub": 5, "username": "u", "email": "e", "name": "n"}),
])
def test_anything_but_a_well_formed_event_is_malformed(body):
    with pytest.raises(MalformedEvent):
        UserAuthenticated.from_json(body)


def test_login_publishes_one_event_with_the_users_identity(client, register, fresh_stack):
    stack = fresh_stack  # it counts the queue's messages

    sqs = local_client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=stack["ARCHIVE_QUEUE_NAME"])["QueueUrl"]
    person = register(name="Ada Lovelace")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(messages) == 1
    event = UserAuthenticated.from_json(messages[0]["Body"])  # raw delivery: the body is the event
    assert (event.name, event.email, event.username) == ("Ada Lovelace", person["email"],
                                                         person["username"])


def test_login_answers_503_when_the_event_cannot_be_published(client, register, monkeypatch):
    person = register(log_in=False)
    monkeypatch.setenv("USER_EVENTS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:no-such-topic")
    from chalicelib import config
    config.settings.cache_clear()
    response = post(client, "/api/auth/login",
                    {"username": person["username"], "password": person["password"]})
    assert response.status_code == 503
    assert response.json_body["error"] == "ServiceUnavailable"
    assert "try again" in response.json_body["message"]
