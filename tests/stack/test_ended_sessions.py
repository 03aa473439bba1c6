"""An ended session's ID token reaches none of the person's AWS data (chalicelib/ended_sessions.py):
after Log out, Log out everywhere, a password change or reset, or the account's deletion, the old
token is still signed and unexpired, yet listing, uploading and deleting files and minting
credentials answer 401 SessionEnded, cached credentials or not; the sessions that go on keep
working."""
from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.helpers import post
from tests.stack.helpers import NEW_PASSWORD, assert_error, assert_ok, log_in

pytestmark = [pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning"),
              pytest.mark.usefixtures("no_cached_credentials")]


def guarded(client: Any, method: str, path: str, tokens: dict[str, str], **body: Any) -> Any:
    return client.http.request(method, path, body=json.dumps(body), headers={
        "Content-Type": "application/json", "Authorization": tokens["idToken"]})


def reaches_files(client: Any, tokens: dict[str, str]) -> bool:
    """Lists, uploads and deletes a file; credentials too. False when all four are 401."""
    answers = [
        guarded(client, "GET", "/api/account/files", tokens),
        guarded(client, "POST", "/api/account/files", tokens, name="a.txt", content="aGk="),
        guarded(client, "DELETE", "/api/account/files/a.txt", tokens),
        guarded(client, "POST", "/api/auth/credentials", tokens),
    ]
    if all(answer.status_code == 401 for answer in answers):
        for answer in answers:
            assert_error(answer, 401, "SessionEnded")
        return False
    for answer in answers:
        assert answer.status_code in (200, 201), answer.body
    return True


def second_session(client: Any, person: dict[str, str]) -> dict[str, str]:
    return assert_ok(log_in(client, person["username"], person["password"]))


def next_second() -> None:
    """Sessions end by the second they began in (Cognito's auth_time): one begun in the very
    second of a sign-out everywhere goes on, as the session a password change opens must. A
    test's sessions begin a second before the end, as a person's would."""
    time.sleep(1.001 - time.time() % 1)


def test_after_log_out_everywhere_an_old_id_token_reaches_no_file_even_with_cached_credentials(
        client, register):
    person = register()
    other = second_session(client, person)
    assert reaches_files(client, other)  # its credentials are cached now
    next_second()
    assert_ok(guarded(client, "POST", "/api/account/logout-everywhere", person,
                      accessToken=person["accessToken"]))
    assert not reaches_files(client, other)
    assert not reaches_files(client, person)
    assert reaches_files(client, second_session(client, person))  # a new log-in works


def test_after_log_out_that_sessions_id_token_reaches_no_file_and_the_others_still_do(
        client, register):
    person = register()
    other = second_session(client, person)
    assert reaches_files(client, person) and reaches_files(client, other)
    answer = client.http.request("POST", "/api/auth/logout", body=json.dumps(
        {"refreshToken": person["refreshToken"]}), headers={
        "Content-Type": "application/json", "Authorization": person["idToken"]})
    assert_ok(answer)
    assert not reaches_files(client, person)
    assert reaches_files(client, other)


def test_log_out_with_a_token_that_is_not_valid_still_logs_out(client, register):
    person = register()
    answer = client.http.request("POST", "/api/auth/logout", body=json.dumps(
        {"refreshToken": person["refreshToken"]}), headers={
        "Content-Type": "application/json", "Authorization": "not-a-token"})
    assert assert_ok(answer) == {"ok": True}


def test_after_a_password_change_the_other_sessions_reach_no_file_and_this_one_goes_on(
        client, register):
    person = register()
    other = second_session(client, person)
    next_second()
    changed = assert_ok(guarded(client, "POST", "/api/account/password", person,
                                accessToken=person["accessToken"],
                                currentPassword=person["password"], newPassword=NEW_PASSWORD))
    assert not reaches_files(client, other)
    assert not reaches_files(client, person)
    assert reaches_files(client, changed)


def test_after_a_password_reset_every_old_id_token_reaches_no_file(client, register, outbox):
    person = register()
    assert reaches_files(client, person)
    next_second()
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    assert_ok(post(client, "/api/auth/reset", {"username": person["username"],
                                               "code": outbox.last_code(person["email"]),
                                               "password": NEW_PASSWORD}))
    assert not reaches_files(client, person)


def test_after_deletion_another_sessions_id_token_gets_no_credentials(client, register):
    person = register()
    other = second_session(client, person)
    next_second()
    assert_ok(guarded(client, "DELETE", "/api/account", person,
                      accessToken=person["accessToken"], password=person["password"]))
    assert_error(guarded(client, "POST", "/api/auth/credentials", other), 401, "SessionEnded")
    assert_error(guarded(client, "GET", "/api/account/files", other), 401, "SessionEnded")
