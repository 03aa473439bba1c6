"""Security a person can see (chalicelib/my_security.py, /api/account/security,
/api/account/sessions/sign-out): every live session with its device, IP and times, this one
marked; `Sign out` on another ends it (its refresh is refused and revoked) and not this one;
the list drops ended sessions; the activity of 90 days, newest first, with `New device`; both
expire and go with the account, and the security table holds no token."""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import pytest

from chalicelib import attempts, lambdas, my_security
from chalicelib.security_table import SecurityTable
from tests.helpers import post
from tests.stack.helpers import NEW_PASSWORD, assert_error, assert_ok, deliver_queue, local_client

pytestmark = [pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning"),
              pytest.mark.usefixtures("no_cached_credentials")]

CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36")
FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
                   "Firefox/133.0")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")


def log_in(client: Any, person: dict[str, str], agent: str, password: str = "") -> Any:
    return post(client, "/api/auth/login", {"username": person["username"],
                                            "password": password or person["password"]},
                {"User-Agent": agent})


def signed_in(client: Any, person: dict[str, str], agent: str) -> dict[str, Any]:
    return {**person, **assert_ok(log_in(client, person, agent))}


def call(client: Any, method: str, path: str, tokens: dict[str, str], **body: Any) -> Any:
    return client.http.request(method, path, body=json.dumps(body), headers={
        "Content-Type": "application/json", "Authorization": tokens["idToken"],
        "User-Agent": tokens.get("agent", CHROME_LINUX)})


def deliver_sign_ins(client: Any) -> None:
    """What record_sign_in has waiting (the log-ins' sessions and lines), delivered."""
    assert deliver_queue(client, dict(os.environ), lambdas.RECORD_SIGN_IN) == []


def security(client: Any, tokens: dict[str, str]) -> dict[str, Any]:
    """The Security page once the log-ins so far have reached it (record_sign_in ran)."""
    deliver_sign_ins(client)
    return assert_ok(call(client, "GET", "/api/account/security", tokens))


def refresh(client: Any, tokens: dict[str, str]) -> Any:
    return post(client, "/api/auth/refresh", {"refreshToken": tokens["refreshToken"]})


def sign_out(client: Any, tokens: dict[str, str], session_id: str) -> Any:
    return call(client, "POST", "/api/account/sessions/sign-out", tokens,
                accessToken=tokens["accessToken"], sessionId=session_id)


def next_second() -> None:
    """Sessions end by the second they began in (tests/stack/test_ended_sessions.py says why)."""
    time.sleep(1.001 - time.time() % 1)


def whats(view: dict[str, Any]) -> list[str]:
    return [line["what"] for line in view["activity"]]


def test_every_live_session_is_listed_with_its_device_and_ip_and_this_one_is_marked(
        client, register):
    person = register(log_in=False)
    chrome = signed_in(client, person, CHROME_LINUX)
    firefox = signed_in(client, person, FIREFOX_WINDOWS)
    view = security(client, chrome)
    assert [(s["device"], s["thisDevice"]) for s in view["sessions"]] == [
        ("Chrome on Linux", True), ("Firefox on Windows", False)]
    assert {s["ip"] for s in view["sessions"]} == {"127.0.0.1"}
    assert all(s["started"] <= s["lastActive"] for s in view["sessions"])
    assert [s["thisDevice"] for s in security(client, firefox)["sessions"]] == [True, False]


def test_sign_out_ends_that_session_only_its_refresh_is_refused_then_revoked(client, register):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    there = signed_in(client, person, SAFARI_IPHONE)
    other = next(s for s in security(client, here)["sessions"] if not s["thisDevice"])
    view = assert_ok(sign_out(client, here, other["id"]))
    assert [s["device"] for s in view["sessions"]] == ["Chrome on Linux"]
    assert_error(refresh(client, there), 401, "SessionExpired")
    assert_error(refresh(client, there), 401, "SessionExpired")  # revoked: Cognito refuses it
    assert_error(call(client, "POST", "/api/auth/credentials", there), 401, "SessionEnded")
    assert_ok(refresh(client, here))
    assert_ok(call(client, "POST", "/api/auth/credentials", here))
    assert whats(security(client, here))[0] == "Signed out on another device"


def test_this_device_and_a_session_no_longer_listed_cannot_be_signed_out_here(client, register):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    mine = security(client, here)["sessions"][0]["id"]
    assert_error(sign_out(client, here, mine), 400, "ThisDevice")
    assert_error(sign_out(client, here, "0" * 24), 409, "SessionGone")


def test_log_out_everywhere_and_a_password_change_leave_only_the_session_that_goes_on(
        client, register):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    signed_in(client, person, FIREFOX_WINDOWS)
    next_second()
    changed = assert_ok(call(client, "POST", "/api/account/password", here,
                             accessToken=here["accessToken"], currentPassword=person["password"],
                             newPassword=NEW_PASSWORD))
    now = {**here, **changed}
    view = security(client, now)
    assert [(s["device"], s["thisDevice"]) for s in view["sessions"]] == [
        ("Chrome on Linux", True)]
    assert whats(view)[0] == "Password changed"
    next_second()
    assert_ok(call(client, "POST", "/api/account/logout-everywhere", now,
                   accessToken=now["accessToken"]))
    again = signed_in(client, {**person, "password": NEW_PASSWORD}, FIREFOX_WINDOWS)
    view = security(client, again)
    assert [s["device"] for s in view["sessions"]] == ["Firefox on Windows"]
    assert whats(view)[:2] == ["Signed in", "Signed out everywhere"]


def test_log_out_takes_the_session_off_the_list_even_before_its_log_in_reached_it(
        client, register):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    there = signed_in(client, person, FIREFOX_WINDOWS)
    response = client.http.post("/api/auth/logout", body=json.dumps(
        {"refreshToken": there["refreshToken"]}), headers={
        "Content-Type": "application/json", "Authorization": there["idToken"]})
    assert response.status_code == 200, response.body
    view = security(client, here)  # record_sign_in runs now, after the log-out
    assert [s["device"] for s in view["sessions"]] == ["Chrome on Linux"]
    assert [(a["what"], a["device"]) for a in view["activity"]] == [  # it happened
        ("Signed in", "Firefox on Windows"), ("Signed in", "Chrome on Linux")]


def test_activity_is_newest_first_with_new_device_only_for_a_browser_never_seen(
        client, register):
    person = register(log_in=False)
    first = signed_in(client, person, CHROME_LINUX)
    signed_in(client, person, CHROME_LINUX)
    assert_error(log_in(client, person, FIREFOX_WINDOWS, password="Wr0ng-password"),
                 401, "NotAuthorized")
    signed_in(client, person, FIREFOX_WINDOWS)
    view = security(client, first)
    assert [(a["what"], a["device"], a["newDevice"]) for a in view["activity"]] == [
        ("Signed in", "Firefox on Windows", True),
        ("Wrong password", "Firefox on Windows", False),
        ("Signed in", "Chrome on Linux", False),
        ("Signed in", "Chrome on Linux", True)]
    assert all(a["ip"] == "127.0.0.1" for a in view["activity"])
    times = [a["at"] for a in view["activity"]]
    assert times == sorted(times, reverse=True)
    assert view["activityDays"] == 90


def test_five_wrong_passwords_lock_the_account_and_the_activity_says_so(client, register):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    for _ in range(attempts.PASSWORD.free):
        log_in(client, person, CHROME_LINUX, password="Wr0ng-password")
    assert whats(security(client, here))[:2] == ["Account locked", "Wrong password"]


@pytest.fixture
def moved_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """chalicelib's limits on the real table, with a clock the test moves: now[0] seconds."""
    moment = [time.time()]
    monkeypatch.setattr(attempts, "limits",
                        lambda: attempts.Attempts(table=SecurityTable(), clock=lambda: moment[0]))
    return moment


def test_activity_older_than_90_days_and_sessions_past_their_refresh_token_drop_away(
        stack, moved_clock):
    sub = f"sub-{uuid.uuid4()}"
    claims = {"sub": sub, "origin_jti": "jti-1", "auth_time": moved_clock[0]}
    my_security.signed_in(my_security.SignIn.of(claims))
    moved_clock[0] += my_security.SESSION_SECONDS + 1
    view = my_security.view(claims)
    assert view["sessions"] == [] and whats(view) == ["Signed in"]
    my_security.record(sub, my_security.EMAIL_CHANGED)
    moved_clock[0] += my_security.ACTIVITY_SECONDS - my_security.SESSION_SECONDS
    assert whats(my_security.view({"sub": sub})) == ["Email changed"]
    moved_clock[0] += my_security.SESSION_SECONDS
    assert whats(my_security.view({"sub": sub})) == []
    item = SecurityTable().get(f"security#{sub}", 0)  # and DynamoDB's TTL takes the item
    assert item is not None and item["expires_at"] <= moved_clock[0]


def test_a_refresh_moves_last_active_at_most_once_a_minute(stack, moved_clock):
    sub = f"sub-{uuid.uuid4()}"
    claims = {"sub": sub, "origin_jti": "jti-2", "auth_time": moved_clock[0]}
    my_security.signed_in(my_security.SignIn.of(claims))
    before = my_security.view(claims)["sessions"][0]["lastActive"]
    moved_clock[0] += my_security.ACTIVE_EVERY - 5
    my_security.active(claims)
    assert my_security.view(claims)["sessions"][0]["lastActive"] == before
    moved_clock[0] += 10
    my_security.active(claims)
    assert my_security.view(claims)["sessions"][0]["lastActive"] > before


def raw_items(stack: dict[str, str], sub: str) -> list[dict[str, Any]]:
    dynamodb = local_client(stack, "dynamodb")
    table = stack["SECURITY_TABLE_NAME"]
    return [item for key in (f"security#{sub}", f"recovery#{sub}")
            if (item := dynamodb.get_item(TableName=table, Key={"pk": {"S": key}}).get("Item"))]


def test_the_table_holds_no_token_and_the_items_go_with_the_account(client, register, stack):
    person = register(log_in=False)
    here = signed_in(client, person, CHROME_LINUX)
    refresh(client, here)
    sub = json.loads(__import__("base64").urlsafe_b64decode(
        here["idToken"].split(".")[1] + "==="))["sub"]
    stored = json.dumps(raw_items(stack, sub))
    assert stored != "[]"
    for token in (here["idToken"], here["accessToken"], here["refreshToken"]):
        for part in token.split("."):
            assert len(part) < 20 or part not in stored
    assert_ok(call(client, "DELETE", "/api/account", here, accessToken=here["accessToken"],
                   password=person["password"]))
    # Only a tombstone stays (the time of the deletion: no late write brings the item back).
    assert [set(item) for item in raw_items(stack, sub)] == [
        {"pk", "deleted", "version", "expires_at"}]


def test_the_persons_own_aws_credentials_reach_no_item_of_the_security_table(
        client, person, stack):
    from botocore.exceptions import ClientError

    alice = person()
    deliver_sign_ins(client)  # her log-in's session and line: the item exists
    dynamodb, table = alice.client("dynamodb"), stack["SECURITY_TABLE_NAME"]
    for key in (f"security#{alice.sub}", f"recovery#{alice.sub}"):
        for operation, kwargs in (("get_item", {"Key": {"pk": {"S": key}}}),
                                  ("put_item", {"Item": {"pk": {"S": key}}}),
                                  ("delete_item", {"Key": {"pk": {"S": key}}})):
            with pytest.raises(ClientError) as caught:
                getattr(dynamodb, operation)(TableName=table, **kwargs)
            assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert raw_items(stack, alice.sub) != []  # the app's own role reads it


def test_a_password_reset_and_an_email_change_are_in_the_activity(client, register, outbox):
    person = register(log_in=False)
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    assert_ok(post(client, "/api/auth/reset", {
        "username": person["username"], "code": outbox.last_code(person["email"]),
        "password": NEW_PASSWORD}))
    here = signed_in(client, {**person, "password": NEW_PASSWORD}, CHROME_LINUX)
    new_email = f"new-{person['email']}"
    assert_ok(call(client, "POST", "/api/account/email", here, accessToken=here["accessToken"],
                   email=new_email))
    assert_ok(call(client, "POST", "/api/account/email/verify", here,
                   accessToken=here["accessToken"], code=outbox.last_code(new_email)))
    assert whats(security(client, here)) == ["Email changed", "Signed in", "Password reset"]
