"""The app's own limits (chalicelib/attempts.py): every guess of a password or a code, and every
email asked for, counts against the account, the same locally and in Lambda. Past the limit the
answer is 429 TooManyAttempts with Retry-After and the wait in words, for a username that does
not exist as for one that does; the right answer is refused while paused. The app's clock is a
fake the tests move (Attempts takes its clock); the local AWS's own clock is moved with it."""
from __future__ import annotations

import json
import threading
from typing import Any

import pyotp
import pytest

from chalicelib import attempts
from tests.helpers import post
from tests.stack.helpers import assert_error, assert_ok, log_in, new_person

pytestmark = pytest.mark.filterwarnings("ignore:.*machine-to-machine.*:UserWarning")

WRONG_PASSWORD = "Wr0ng-password"  # noqa: S105 (a wrong one, on purpose)
# Guesses in a storm: twelve times the five a limit lets through (the app-code storm opens 15
# code steps with the right password). Each guess is a request to the app and its calls to the
# local AWS, and the clock stands still: the 6th guess is paused as the 1,000th would be.
# 1,000 took 23 s, 200 took 6 s of CPU and ~1,300 calls, and showed nothing more.
GUESSES = 60


def paused(response: Any, words: str) -> int:
    """`response` is the 429 of a paused kind, saying `words`; returns its Retry-After."""
    message = assert_error(response, 429, "TooManyAttempts")
    assert words in message, message
    retry_after = int(response.headers["Retry-After"])
    assert retry_after > 0
    return retry_after


def account_call(client: Any, path: str, person: dict[str, str], **body: str) -> Any:
    raw = json.dumps({"accessToken": person["accessToken"], **body})
    return client.http.request("POST", path, body=raw, headers={
        "Content-Type": "application/json", "Authorization": person["idToken"]})


def with_two_step(client: Any, person: dict[str, str]) -> pyotp.TOTP:
    setup = assert_ok(account_call(client, "/api/account/two-step/setup", person,
                                   password=person["password"]))
    totp = pyotp.TOTP(setup["setupKey"])
    assert_ok(account_call(client, "/api/account/two-step/on", person, appCode=totp.now()))
    return totp


def other_than(code: str, n: int) -> str:
    return f"{(int(code) + 1 + n) % 1_000_000:06d}"


# --- passwords ---------------------------------------------------------------------------------

def test_after_five_wrong_passwords_logging_in_is_paused_even_for_the_right_one(
        client, register, clock):
    person = register(log_in=False)
    for _ in range(5):
        assert_error(log_in(client, person["username"], WRONG_PASSWORD), 401, "NotAuthorized")
    assert paused(log_in(client, person["username"], person["password"]),
                  "paused for 1 minute") == 60
    clock.now += 60
    assert_ok(log_in(client, person["username"], person["password"]))


def test_the_pause_doubles_with_each_further_wrong_password_and_a_right_one_clears_it(
        client, register, clock):
    person = register(log_in=False)
    for _ in range(5):
        log_in(client, person["username"], WRONG_PASSWORD)
    clock.now += 60
    assert_error(log_in(client, person["username"], WRONG_PASSWORD), 401, "NotAuthorized")
    assert paused(log_in(client, person["username"], person["password"]), "2 minutes") == 120
    clock.now += 120
    assert_ok(log_in(client, person["username"], person["password"]))
    for _ in range(4):  # counted from zero again
        assert_error(log_in(client, person["username"], WRONG_PASSWORD), 401, "NotAuthorized")
    assert_ok(log_in(client, person["username"], person["password"]))


def test_a_username_that_does_not_exist_is_paused_with_the_same_words(client, register, clock):
    person = register(log_in=False)
    answers = []
    for username in (person["username"], "nobody-" + person["username"]):
        for _ in range(5):
            assert_error(log_in(client, username, WRONG_PASSWORD), 401, "NotAuthorized")
        answer = log_in(client, username, WRONG_PASSWORD)
        answers.append((answer.status_code, answer.json_body, answer.headers["Retry-After"]))
    assert answers[0] == answers[1]


def test_a_burst_of_wrong_passwords_at_once_gets_no_more_than_five_tried(register, clock):
    from chalicelib import cognito_sign_in
    from chalicelib.errors import ApiError

    person = register(log_in=False)
    outcomes: list[str] = []

    def guess() -> None:
        try:
            cognito_sign_in.log_in(person["username"], WRONG_PASSWORD)
        except ApiError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 20
    assert outcomes.count("NotAuthorized") <= 5
    assert outcomes.count("TooManyAttempts") >= 15


def test_wrong_current_passwords_on_the_account_page_count_too(client, register, clock):
    person = register()
    for _ in range(5):
        assert_error(account_call(client, "/api/account/password", person,
                                  currentPassword=WRONG_PASSWORD, newPassword="N3w-password-9"),
                     403, "WrongPassword")
    paused(account_call(client, "/api/account/password", person,
                        currentPassword=person["password"], newPassword="N3w-password-9"),
           "Too many wrong passwords")


# --- app codes ----------------------------------------------------------------------------------

def test_app_code_guesses_with_the_right_password_between_them_never_get_through(
        client, register, clock):
    """The probe's attack: each right password opened a new code step and reset the count."""
    person = register()
    totp = with_two_step(client, person)
    right = totp.now()
    answers: dict[int, int] = {}
    step: dict[str, Any] = {}
    for n in range(GUESSES):
        if n % 4 == 0:  # a new code step, with the right password, every 4 guesses
            step = assert_ok(log_in(client, person["username"], person["password"]))
        response = post(client, "/api/auth/login/code", {
            "username": step["username"], "session": step["session"],
            "appCode": other_than(right, n)})
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
    assert answers == {400: 5, 429: GUESSES - 5}, answers
    step = assert_ok(log_in(client, person["username"], person["password"]))
    paused(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": right}),
        "Too many wrong codes from the authenticator app")
    clock.now += 60  # the pause ends: the right code of that moment works
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert "idToken" in assert_ok(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}))


def test_a_code_step_answered_with_another_username_is_refused_without_a_guess(
        client, register, clock):
    person, other = register(), register()
    with_two_step(client, person)
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(post(client, "/api/auth/login/code", {
        "username": other["username"], "session": step["session"], "appCode": "123456"}),
        401, "LoginExpired")


@pytest.mark.parametrize("session", ["short", "x" * 19, "A" * 4096])
def test_a_code_step_with_a_session_the_app_never_gave_is_401_login_expired(
        client, register, clock, session):
    person = register()
    assert_error(post(client, "/api/auth/login/code", {
        "username": person["username"], "session": session, "appCode": "123456"}),
        401, "LoginExpired")


def test_a_right_password_does_not_wipe_the_count_of_wrong_app_codes(client, register, clock):
    person = register()
    totp = with_two_step(client, person)
    for n in range(4):
        step = assert_ok(log_in(client, person["username"], person["password"]))
        assert_error(post(client, "/api/auth/login/code", {
            "username": step["username"], "session": step["session"],
            "appCode": other_than(totp.now(), n)}), 400, "CodeMismatch")
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert_error(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"],
        "appCode": other_than(totp.now(), 9)}), 400, "CodeMismatch")  # the 5th: paused now
    step = assert_ok(log_in(client, person["username"], person["password"]))
    paused(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}),
        "not checked for 1 minute")


def test_wrong_codes_turning_two_step_off_count_with_the_log_ins(client, register, clock):
    person = register()
    totp = with_two_step(client, person)
    for n in range(5):
        assert_error(account_call(client, "/api/account/two-step/off", person,
                                  appCode=other_than(totp.now(), n)), 400, "CodeMismatch")
    paused(account_call(client, "/api/account/two-step/off", person, appCode=totp.now()),
           "authenticator app")


# --- two-step verification is moved only with the password ---------------------------------------

def test_setting_up_two_step_needs_the_password_freshly_typed(client, register, clock):
    person = register()
    totp = with_two_step(client, person)
    assert_error(account_call(client, "/api/account/two-step/setup", person,
                              password=WRONG_PASSWORD), 403, "WrongPassword")
    response = account_call(client, "/api/account/two-step/setup", person)
    assert_error(response, 400, "MissingParameter")
    # Still the enrolled app's codes that log in.
    step = assert_ok(log_in(client, person["username"], person["password"]))
    assert "idToken" in assert_ok(post(client, "/api/auth/login/code", {
        "username": step["username"], "session": step["session"], "appCode": totp.now()}))


def live_sessions(stack: dict[str, str], username: str) -> int:
    """The person's refresh tokens that still work, in the local AWS's user pool."""
    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends["123456789012"]["us-east-1"].user_pools[stack["USER_POOL_ID"]]
    return sum(1 for issued in pool.refresh_tokens.values()
               if issued is not None and issued[1] == username)


def test_a_password_check_leaves_no_session_behind(client, register, clock, stack):
    """Set-up checks the password with InitiateAuth: the session that opens is ended at once."""
    person = register()
    before = live_sessions(stack, person["username"])
    assert before == 1
    assert_ok(account_call(client, "/api/account/two-step/setup", person,
                           password=person["password"]))
    assert live_sessions(stack, person["username"]) == before


# --- reset codes --------------------------------------------------------------------------------

def test_a_storm_of_wrong_reset_codes_is_paused_and_the_right_one_refused_meanwhile(
        client, register, outbox, clock):
    person = register(log_in=False)
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    code = outbox.last_code(person["email"])
    answers: dict[int, int] = {}
    for n in range(GUESSES):
        response = post(client, "/api/auth/reset", {"username": person["username"],
                                                   "code": other_than(code, n),
                                                   "password": "N3w-password-1"})
        answers[response.status_code] = answers.get(response.status_code, 0) + 1
    assert answers == {400: 5, 429: GUESSES - 5}, answers
    right = {"username": person["username"], "code": code, "password": "N3w-password-1"}
    paused(post(client, "/api/auth/reset", right), "resetting its password is paused")
    assert_ok(log_in(client, person["username"], person["password"]))  # unchanged
    clock.now += 60
    assert_ok(post(client, "/api/auth/reset", right))
    assert_ok(log_in(client, person["username"], "N3w-password-1"))


# --- verification codes (sign-up, new email) ----------------------------------------------------

def test_wrong_sign_up_codes_are_paused_after_five(client, outbox, clock):
    person = new_person()
    assert_ok(post(client, "/api/auth/signup", person), 201)
    code = outbox.last_code(person["email"])
    for n in range(5):
        assert_error(post(client, "/api/auth/confirm", {"username": person["username"],
                                                        "code": other_than(code, n)}),
                     400, "CodeMismatch")
    paused(post(client, "/api/auth/confirm", {"username": person["username"], "code": code}),
           "verification codes")
    clock.now += 60
    assert_ok(post(client, "/api/auth/confirm", {"username": person["username"], "code": code}))


def test_wrong_codes_for_a_new_email_address_are_paused_after_five(client, register, outbox,
                                                                   clock):
    person = register()
    new_email = "new-" + person["email"]
    assert_ok(account_call(client, "/api/account/email", person, email=new_email))
    code = outbox.last_code(new_email)
    for n in range(5):
        assert_error(account_call(client, "/api/account/email/verify", person,
                                  code=other_than(code, n)), 400, "CodeMismatch")
    paused(account_call(client, "/api/account/email/verify", person, code=code),
           "verification codes")


# --- emails -------------------------------------------------------------------------------------

def test_emails_asked_for_an_account_are_paused_after_five_whichever_the_flow(
        client, register, outbox, clock):
    person = register(log_in=False)
    sent = len(outbox.messages)
    for _ in range(5):
        assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    assert len(outbox.messages) == sent + 5
    assert paused(post(client, "/api/auth/forgot", {"username": person["username"]}),
                  "wait 1 minute before asking for another email") == 60
    paused(post(client, "/api/auth/resend", {"username": person["username"]}), "another email")
    assert len(outbox.messages) == sent + 5
    clock.now += 60
    assert_ok(post(client, "/api/auth/forgot", {"username": person["username"]}))
    assert len(outbox.messages) == sent + 6


def test_resends_for_a_username_that_does_not_exist_are_paused_alike(client, clock):
    for _ in range(5):
        assert_ok(post(client, "/api/auth/resend", {"username": "nobody-resend"}))
    paused(post(client, "/api/auth/resend", {"username": "nobody-resend"}), "another email")


# --- the limits themselves ----------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "words"), [
    (1, "1 second"), (40, "40 seconds"), (60, "1 minute"), (61, "2 minutes"), (3600, "1 hour"),
    (7200, "2 hours")])
def test_a_wait_is_said_in_words_rounded_up(seconds, words):
    assert attempts.in_words(seconds) == words


def test_every_limit_pauses_after_its_free_attempts_and_never_longer_than_its_cap():
    for limit in attempts.LIMITS:
        waits = [limit.wait(n) for n in range(1, 60)]
        assert waits[:limit.free - 1] == [0] * (limit.free - 1)
        assert waits[limit.free - 1] == limit.first_wait
        assert waits == sorted(waits) and max(waits) == limit.max_wait <= limit.forget_after
