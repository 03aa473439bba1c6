"""Recovery codes for two-step verification (chalicelib/recovery_codes.py, two_step.py,
/api/auth/login/recovery, /api/account/two-step/recovery-codes): 10 codes when it is turned on,
stored only as salted hashes; one signs in once (two-step verification is then off, and the
status says a recovery code turned it off); new codes end the old set; wrong ones count like
wrong app codes; all of it goes with the account."""
from __future__ import annotations

import base64
import json
import re
from typing import Any

import pyotp
import pytest

from chalicelib import attempts
from tests.helpers import post
from tests.stack.helpers import assert_error, assert_ok, local_client, log_in
from tests.stack.test_two_step import call, wrong
from tests.stack.test_my_security import deliver_sign_ins

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")


def turned_on(client: Any, person: dict[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    setup = assert_ok(call(client, "/api/account/two-step/setup", person,
                           {"password": person["password"]}))
    totp = pyotp.TOTP(setup["setupKey"])
    on = assert_ok(call(client, "/api/account/two-step/on", person, {"appCode": totp.now()}))
    return totp, on["recoveryCodes"]


def with_recovery_code(client: Any, person: dict[str, str], code: str,
                       password: str = "") -> Any:
    step = assert_ok(log_in(client, person["username"], person["password"]))
    return post(client, "/api/auth/login/recovery", {
        "username": step["username"], "session": step["session"],
        "password": password or person["password"], "recoveryCode": code})


def sub_of(person: dict[str, str]) -> str:
    return json.loads(base64.urlsafe_b64decode(person["idToken"].split(".")[1] + "==="))["sub"]


def stored(stack: dict[str, str], sub: str) -> dict[str, Any] | None:
    dynamodb = local_client(stack, "dynamodb")
    return dynamodb.get_item(TableName=stack["SECURITY_TABLE_NAME"],
                             Key={"pk": {"S": f"recovery#{sub}"}}).get("Item")


def status(client: Any, person: dict[str, str]) -> dict[str, Any]:
    return assert_ok(call(client, "/api/account/two-step", person))


def test_turning_on_shows_ten_codes_grouped_for_reading_and_stores_only_salted_hashes(
        client, register, stack):
    person = register()
    _, codes = turned_on(client, person)
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-hj-km-np-z2-9]{4}-[a-hj-km-np-z2-9]{4}", c) for c in codes)
    item = json.dumps(stored(stack, sub_of(person)))
    for code in codes:
        assert code not in item and code.replace("-", "") not in item
    hashes = json.loads(stored(stack, sub_of(person))["codes"]["S"])
    assert len({h["salt"] for h in hashes}) == 10  # a salt per code
    assert status(client, person)["recoveryCodesLeft"] == 10


def test_a_recovery_code_signs_in_once_and_turns_two_step_off_saying_so(client, register):
    person = register()
    _, codes = turned_on(client, person)
    tokens = assert_ok(with_recovery_code(client, person, codes[3].upper().replace("-", " ")))
    assert set(tokens) >= {"idToken", "accessToken", "refreshToken"}
    now = {**person, **tokens}
    state = status(client, now)
    assert state["enabled"] is False and state["turnedOffByRecoveryCode"] is True
    assert state["recoveryCodesLeft"] == 0
    # Never without a way in: the password alone signs in now (no code step).
    assert "idToken" in assert_ok(log_in(client, person["username"], person["password"]))
    # And the activity says what happened (the log-ins' lines once record_sign_in ran).
    deliver_sign_ins(client)
    view = assert_ok(client.http.get("/api/account/security",
                                     headers={"Authorization": now["idToken"]}))
    assert [a["what"] for a in view["activity"]][:3] == [
        "Signed in", "Signed in", "Two-step verification turned off"]
    assert "Recovery code used" in [a["what"] for a in view["activity"]]


def test_a_used_code_is_refused_the_second_time(client, register):
    person = register()
    totp, codes = turned_on(client, person)
    assert_ok(with_recovery_code(client, person, codes[0]))
    now = {**person, **assert_ok(log_in(client, person["username"], person["password"]))}
    setup = assert_ok(call(client, "/api/account/two-step/setup", now,
                           {"password": person["password"]}))
    totp = pyotp.TOTP(setup["setupKey"])
    again = assert_ok(call(client, "/api/account/two-step/on", now, {"appCode": totp.now()}))
    assert status(client, now)["turnedOffByRecoveryCode"] is False
    assert_error(with_recovery_code(client, person, codes[0]), 400, "CodeMismatch")
    assert_error(with_recovery_code(client, person, codes[1]), 400, "CodeMismatch")  # old set
    assert_ok(with_recovery_code(client, person, again["recoveryCodes"][1]))


def test_new_recovery_codes_need_a_current_app_code_and_end_the_old_set(client, register):
    person = register()
    totp, old = turned_on(client, person)
    assert_error(call(client, "/api/account/two-step/recovery-codes", person,
                      {"appCode": wrong(totp.now())}), 400, "CodeMismatch")
    new = assert_ok(call(client, "/api/account/two-step/recovery-codes", person,
                         {"appCode": totp.now()}))["recoveryCodes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert_error(with_recovery_code(client, person, old[0]), 400, "CodeMismatch")
    assert status(client, person)["enabled"] is True  # a wrong code changes nothing
    assert_ok(with_recovery_code(client, person, new[0]))


def test_the_recovery_code_step_needs_the_right_password_and_its_own_code_step(
        client, register):
    person = register()
    _, codes = turned_on(client, person)
    assert_error(with_recovery_code(client, person, codes[0], password="Wr0ng-password"),
                 403, "WrongPassword")
    assert_error(post(client, "/api/auth/login/recovery", {
        "username": person["username"], "session": "AYABeC-forged", "password": person["password"],
        "recoveryCode": codes[0]}), 401, "LoginExpired")
    assert status(client, person)["recoveryCodesLeft"] == 10


def test_wrong_recovery_codes_count_against_the_app_code_limit(client, register):
    person = register()
    totp, codes = turned_on(client, person)
    for _ in range(attempts.APP_CODE.free):
        assert_error(with_recovery_code(client, person, "aaaa-aaaa"), 400, "CodeMismatch")
    assert_error(with_recovery_code(client, person, codes[0]), 429, "TooManyAttempts")
    # The app code step is paused too: the same limit.
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}),
        429, "TooManyAttempts")


def test_turning_two_step_off_and_deleting_the_account_remove_the_codes(client, register, stack):
    person = register()
    totp, _ = turned_on(client, person)
    assert_ok(call(client, "/api/account/two-step/off", person, {"appCode": totp.now()}))
    assert stored(stack, sub_of(person)) is None
    turned_on(client, person)
    assert stored(stack, sub_of(person)) is not None
    assert_ok(client.http.request("DELETE", "/api/account", body=json.dumps(
        {"accessToken": person["accessToken"], "password": person["password"]}), headers={
        "Content-Type": "application/json", "Authorization": person["idToken"]}))
    assert stored(stack, sub_of(person)) is None


def test_a_wrong_app_code_at_the_code_step_is_in_the_activity(client, register):
    person = register()
    totp, _ = turned_on(client, person)
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"],
        "appCode": wrong(totp.now())}), 400, "CodeMismatch")
    view = assert_ok(client.http.get("/api/account/security",
                                     headers={"Authorization": person["idToken"]}))
    assert [a["what"] for a in view["activity"]][:2] == [
        "Wrong code", "Two-step verification turned on"]
