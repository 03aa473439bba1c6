"""The app's own limits (chalicelib/attempts.py) over an in-memory security table and a clock
the tests move: what counts, what is given back, what clears, and a write that met another."""
from __future__ import annotations

import pytest

from chalicelib.attempts import APP_CODE, EMAILS, PASSWORD, Attempts, TooManyAttempts
from chalicelib.errors import BadRequest, ServiceUnavailable, Unauthorized
from chalicelib.security_table import Conflict
from tests.helpers import Clock, MemoryTable


@pytest.fixture
def limits() -> Attempts:
    return Attempts(table=MemoryTable(), clock=Clock(1_000.0))


def wrong_password(limits: Attempts, who: str = "ada") -> None:
    with pytest.raises(Unauthorized), limits.guessing(PASSWORD, who):
        raise Unauthorized("Incorrect username or password.", code="NotAuthorized")


def test_an_error_that_is_not_a_wrong_guess_gives_the_attempt_back(limits):
    for _ in range(20):
        with pytest.raises(ServiceUnavailable), limits.guessing(PASSWORD, "ada"):
            raise ServiceUnavailable("The sign-in service did not answer.")
    for _ in range(4):
        wrong_password(limits)
    with limits.guessing(PASSWORD, "ada"):
        pass  # the 5th attempt is still free


def test_the_count_is_per_kind_and_a_right_answer_clears_only_its_own(limits):
    for _ in range(4):
        with pytest.raises(BadRequest), limits.guessing(APP_CODE, "ada"):
            raise BadRequest("That code is not right.", code="CodeMismatch")
    with limits.guessing(PASSWORD, "ada"):
        pass
    with pytest.raises(BadRequest), limits.guessing(APP_CODE, "ada"):
        raise BadRequest("That code is not right.", code="CodeMismatch")
    with pytest.raises(TooManyAttempts), limits.guessing(APP_CODE, "ada"):
        pass


def test_usernames_are_counted_whatever_their_case(limits):
    for who in ("Ada", "ADA", "ada", "aDa", "AdA"):
        wrong_password(limits, who)
    with pytest.raises(TooManyAttempts):
        with limits.guessing(PASSWORD, "ada"):
            pass


def test_a_quiet_day_forgets_the_count(limits):
    for _ in range(4):
        wrong_password(limits)
    limits.clock.now += PASSWORD.forget_after
    for _ in range(4):
        wrong_password(limits)
    with limits.guessing(PASSWORD, "ada"):
        pass


def test_emails_are_counted_whether_or_not_they_were_wanted_and_given_back_when_not_sent(limits):
    def send(fails: bool = False) -> None:
        with limits.spending(EMAILS, "ada"):
            if fails:
                raise RuntimeError("Cognito did not answer")
    for _ in range(4):
        send()
    with pytest.raises(RuntimeError):
        send(fails=True)  # not sent after all: given back
    send()
    with pytest.raises(TooManyAttempts) as paused:
        send()
    assert paused.value.headers == {"Retry-After": "60"}


def test_a_write_that_meets_another_attempt_reads_again_and_counts_once(limits):
    table = limits.table
    real_put, met = table.put, []

    def put_after_another(pk, values, **kwargs):
        if not met:  # another request counts first, between this one's read and write
            met.append(pk)
            real_put(pk, {"count": 1, "paused_until": 0}, now=kwargs["now"],
                     expires_at=kwargs["expires_at"], replacing=None)
            raise Conflict(pk)
        return real_put(pk, values, **kwargs)

    table.put = put_after_another
    wrong_password(limits)
    assert table.items["password#ada"]["count"] == 2
