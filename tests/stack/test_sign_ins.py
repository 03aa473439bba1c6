"""A log-in's session on the Security page, written off the log-in's path (issue 29:
chalicelib/sign_ins.py, the record_sign_in Lambda): the log-in writes no security item and
publishes its session with "user.authenticated"; the consumer, fed by a subscription that
lets only log-ins through, lists it with `Signed in` and `New device`, once, never for a
session that has ended or an account that is deleted; `This device` shows before it ran."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from chalicelib import ended_sessions, lambdas, my_security, sign_ins
from chalicelib.security_table import SecurityTable
from chalicelib.user_events import UserAuthenticated, now_iso
from tests.helpers import post
from tests.stack.helpers import assert_ok, deliver_queue, local_client, sqs_event, sub_of
from tests.stack.test_my_security import (CHROME_LINUX, FIREFOX_WINDOWS, call, security,
                                          signed_in, whats)

pytestmark = [pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning"),
              pytest.mark.usefixtures("no_cached_credentials")]


def deliver(client: Any, stack: dict[str, str]) -> None:
    assert deliver_queue(client, stack, lambdas.RECORD_SIGN_IN) == []


def security_item(stack: dict[str, str], sub: str) -> dict[str, Any] | None:
    dynamodb = local_client(stack, "dynamodb")
    return dynamodb.get_item(TableName=stack["SECURITY_TABLE_NAME"],
                             Key={"pk": {"S": f"security#{sub}"}}).get("Item")


def event_of(tokens: dict[str, str], device: str = "Chrome on Linux",
             **fields: str) -> UserAuthenticated:
    """The event a log-in of these tokens published (a fresh event id)."""
    import jwt

    claims = jwt.decode(tokens["idToken"], options={"verify_signature": False})
    event = UserAuthenticated.from_claims(claims, at=now_iso(), device=device, ip="127.0.0.1")
    return UserAuthenticated(**{**event.__dict__, **fields})


def test_the_log_in_writes_no_security_item_and_the_consumer_lists_it_with_new_device(
        client, register, stack, monkeypatch):
    person = register(log_in=False)
    written: list[str] = []
    put = SecurityTable.put
    monkeypatch.setattr(SecurityTable, "put", lambda self, pk, *a, **k: (
        written.append(pk), put(self, pk, *a, **k))[1])
    here = signed_in(client, person, CHROME_LINUX)
    sub = sub_of(here)
    assert [pk for pk in written if pk.startswith("security#")] == []
    assert security_item(stack, sub) is None
    deliver(client, stack)
    view = security(client, here)
    assert [(s["device"], s["ip"], s["thisDevice"]) for s in view["sessions"]] == [
        ("Chrome on Linux", "127.0.0.1", True)]
    assert [(a["what"], a["device"], a["newDevice"]) for a in view["activity"]] == [
        ("Signed in", "Chrome on Linux", True)]


def test_this_device_is_listed_right_after_the_log_in_before_the_consumer_ran(client, register):
    person = register(log_in=False)
    here = signed_in(client, person, FIREFOX_WINDOWS)
    view = assert_ok(call(client, "GET", "/api/account/security",  # no delivery first
                          {**here, "agent": FIREFOX_WINDOWS}))
    assert [(s["device"], s["thisDevice"]) for s in view["sessions"]] == [
        ("Firefox on Windows", True)]
    assert view["activity"] == []  # the line comes with the consumer


def test_only_log_ins_reach_the_consumers_queue(client, register, stack):
    person = register()
    deliver(client, stack)
    assert_ok(call(client, "POST", "/api/account/name", person,
                   accessToken=person["accessToken"], name="Ada King"))
    sqs = local_client(stack, "sqs")
    url = sqs.get_queue_url(QueueName=stack["SIGN_IN_QUEUE_NAME"])["QueueUrl"]
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # the user.updated
    assert post(client, "/api/auth/login", {"username": person["username"],
                                            "password": person["password"]}).status_code == 200
    [message] = sqs.receive_message(QueueUrl=url)["Messages"]
    assert json.loads(message["Body"])["type"] == "user.authenticated"


def test_a_redelivered_log_in_adds_no_second_line(client, register, stack):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    deliver(client, stack)
    event = event_of(here)
    assert sign_ins.apply(event) == sign_ins.NOTHING
    body = event.to_json()
    result = client.lambda_.invoke(lambdas.RECORD_SIGN_IN,
                                   sqs_event(client, [body, body], stack["SIGN_IN_QUEUE_NAME"]))
    assert result.payload["batchItemFailures"] == []
    view = security(client, here)
    assert whats(view) == ["Signed in"] and len(view["sessions"]) == 1


def test_sessions_ended_everywhere_before_their_events_arrived_are_not_listed(
        client, register, stack):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    time.sleep(1.001 - time.time() % 1)  # ends are by the second (test_my_security says why)
    assert_ok(call(client, "POST", "/api/account/logout-everywhere", here,
                   accessToken=here["accessToken"]))
    deliver(client, stack)
    assert my_security.stored(sub_of(here))["sessions"] == []


def test_a_session_that_ends_while_its_event_is_written_is_taken_off_again(
        client, register, stack, monkeypatch):
    """The race: the end is recorded after the consumer looked, and takes the session off the
    list before the consumer wrote it (nothing to take off then): the look after the write
    sees the end and takes it off."""
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    write = my_security.signed_in

    def ended_just_before(sign_in: Any, **kwargs: Any) -> bool:
        ended_sessions.end_one({"sub": sign_in.sub, "origin_jti": sign_in.origin_jti})
        return write(sign_in, **kwargs)

    monkeypatch.setattr(my_security, "signed_in", ended_just_before)
    assert sign_ins.apply(event_of(here)) == sign_ins.ENDED_MEANWHILE
    assert my_security.stored(sub_of(here))["sessions"] == []


def test_a_deleted_accounts_late_log_in_brings_nothing_back(client, register, stack):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    sub = sub_of(here)
    assert_ok(call(client, "DELETE", "/api/account", here, accessToken=here["accessToken"],
                   password=person["password"]))
    deliver(client, stack)
    assert sign_ins.apply(event_of(here, device="Safari on iOS")) == sign_ins.NOTHING
    item = security_item(stack, sub)
    assert set(item) == {"pk", "deleted", "version", "expires_at"}  # a tombstone, no data
    my_security.record(sub, my_security.WRONG_PASSWORD)
    assert security_item(stack, sub) == item


def test_an_old_log_in_lists_no_session_and_one_without_a_session_is_left_alone(
        client, register, stack):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    deliver(client, stack)
    late = event_of(here, device="Safari on iOS", origin_jti=f"jti-{uuid.uuid4()}",
                    auth_time=str(int(time.time() - ended_sessions.REMEMBERED - 60)))
    assert sign_ins.apply(late) == sign_ins.TOO_OLD
    assert sign_ins.apply(event_of(here, origin_jti="")) == sign_ins.NO_SESSION
    view = security(client, here)
    assert [s["device"] for s in view["sessions"]] == ["Chrome on Linux"]
    assert [(a["what"], a["device"]) for a in view["activity"]] == [
        ("Signed in", "Safari on iOS"), ("Signed in", "Chrome on Linux")]


def test_a_malformed_message_fails_alone_and_goes_the_way_of_the_others(client, stack):
    good = UserAuthenticated(
        event_id=str(uuid.uuid4()), occurred_at=now_iso(), sub=f"sub-{uuid.uuid4().hex}",
        username="ada", email="ada@example.com", name="Ada", origin_jti=str(uuid.uuid4()),
        auth_time=str(int(time.time())), device="Chrome on Linux", ip="203.0.113.7")
    bad_time = UserAuthenticated(**{**good.__dict__, "event_id": str(uuid.uuid4()),
                                    "auth_time": "yesterday"}).to_json()
    result = client.lambda_.invoke(lambdas.RECORD_SIGN_IN, sqs_event(
        client, ["not an event", good.to_json(), bad_time], stack["SIGN_IN_QUEUE_NAME"]))
    assert result.payload["batchItemFailures"] == [{"itemIdentifier": "m0"},
                                                   {"itemIdentifier": "m2"}]
    assert whats(my_security.view({"sub": good.sub})) == ["Signed in"]


def test_the_profile_document_and_record_never_hold_the_log_ins_device_or_ip(
        client, register, stack):
    from chalicelib import users_bucket, users_table

    here = register()
    for function in (lambdas.SAVE_PROFILE, lambdas.ARCHIVE_PROFILE):
        assert deliver_queue(client, stack, function) == []
    document, record = users_bucket.get_profile(sub_of(here)), users_table.get(sub_of(here))
    assert document and record and document["name"] == record["name"] == "Ada Lovelace"
    for kept in (document, record):
        assert not {"device", "ip", "origin_jti", "auth_time"} & set(kept)
        assert "127.0.0.1" not in json.dumps(kept)


def test_a_log_in_message_of_before_parses_and_is_left_to_the_list_it_wrote_itself():
    old = {"type": "user.authenticated", "version": 1, "event_id": str(uuid.uuid4()),
           "occurred_at": now_iso(), "sub": "abc-123", "username": "ada",
           "email": "ada@example.com", "name": "Ada"}
    event = UserAuthenticated.from_json(json.dumps(old))
    assert (event.origin_jti, event.auth_time, event.signed_in_at, event.device,
            event.ip) == ("", "", "", "", "")
    assert sign_ins.apply(event) == sign_ins.NO_SESSION
