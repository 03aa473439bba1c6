"""The app's own limits, per account: wrong passwords, wrong codes, emails sent.

The app signs every person in through its own routes, so it holds its own limits instead of
trusting Cognito's (undocumented in AWS, missing locally): the same code, the same numbers,
locally and in Lambda. Each limit lets `free` attempts through; the attempt that reaches it
pauses the account's attempts of that kind for `first_wait`, doubling with each further one
up to `max_wait`; a right answer clears the count of its own kind only (a right password never
wipes the count of wrong app codes). `forget_after` seconds of quiet start the count again.

An attempt is counted BEFORE it is tried (and given back when it turns out not to be a guess,
e.g. Cognito unreachable): so a burst of guesses at the same moment gets no more through than
one at a time. The state is an item per account and kind in the security table
(security_table.py), keyed by what the person typed as who they are, so a username that does
not exist is paused with the same words as one that does.
"""
from __future__ import annotations

import contextlib
import functools
import math
import time
from typing import Any, Callable, Iterator, NamedTuple

from chalicelib.errors import ApiError, TooManyRequests
from chalicelib.security_table import Conflict, SecurityTable

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


class Limit(NamedTuple):
    kind: str
    free: int  # attempts before a pause
    first_wait: int  # seconds of the first pause; each further attempt doubles it
    max_wait: int
    forget_after: int  # seconds of quiet after which the count starts again
    wrong: frozenset[str]  # the ApiError codes that mean "a wrong guess": kept counted
    paused: str  # what the person is told; {wait} is e.g. "2 minutes"

    def wait(self, count: int) -> int:
        """Seconds of the pause that the `count`-th attempt starts (0: none)."""
        if count < self.free:
            return 0
        return min(self.first_wait * 2 ** min(count - self.free, 32), self.max_wait)


PASSWORD = Limit(
    "password", 5, MINUTE, HOUR, DAY,
    frozenset({"NotAuthorized", "WrongPassword", "AccountLocked"}),
    "Too many wrong passwords for this account: logging in to it is paused for {wait}. Try "
    "again then, or reset the password with “Forgot your password?”.")
APP_CODE = Limit(
    "app-code", 5, MINUTE, HOUR, DAY, frozenset({"CodeMismatch", "AccountLocked"}),
    "Too many wrong codes from the authenticator app for this account: codes are not checked "
    "for {wait}. Try again then with the code your app shows.")
RESET_CODE = Limit(
    "reset-code", 5, MINUTE, HOUR, DAY, frozenset({"CodeMismatch", "ExpiredCode"}),
    "Too many wrong reset codes for this account: resetting its password is paused for {wait}. "
    "Try again then with the code from the latest email.")
VERIFY_CODE = Limit(
    "verify-code", 5, MINUTE, HOUR, DAY, frozenset({"CodeMismatch", "ExpiredCode"}),
    "Too many wrong verification codes for this account: codes are not checked for {wait}. "
    "Try again then with the code from the latest email.")
# The code a log-in by email sends (chalicelib/email_sign_in.py): a kind of its own, so a
# storm of guessed codes pauses only codes (the password still logs in) and a right password
# never clears it. An expired or used code counts too, as for the other emailed codes.
SIGN_IN_CODE = Limit(
    "sign-in-code", 5, MINUTE, HOUR, DAY, frozenset({"CodeMismatch", "ExpiredCode",
                                                     "AccountLocked"}),
    "Too many wrong sign-in codes for this account: codes are not checked for {wait}. Try "
    "again then with a new code, or log in with your password meanwhile.")
# A passkey refused at log-in (chalicelib/passkeys.py): not a guess one can type, but a stolen
# or cloned one tried again and again is paused, as Cognito's lock would.
PASSKEY = Limit(
    "passkey", 5, MINUTE, HOUR, DAY, frozenset({"PasskeyRefused", "AccountLocked"}),
    "Too many refused passkeys for this account: passkeys are not checked for {wait}. Log in "
    "with your password meanwhile.")
# A passkey log-in started (chalicelib/passkeys.py): no guess, but each start asks Cognito and
# keeps a challenge 3 minutes; a passkey log-in clears the count.
PASSKEY_STARTS = Limit(
    "passkey-start", 10, MINUTE, HOUR, HOUR, frozenset(),
    "Passkey log-ins were started for this account many times in a short while: wait {wait} "
    "before starting another, and log in with your password meanwhile.")
EMAILS = Limit(
    "emails", 5, MINUTE, HOUR, HOUR, frozenset(),
    "We have emailed this account several times in a short while: wait {wait} before asking "
    "for another email, and check your spam folder meanwhile.")
# Each archive is a new version of app/<sub>/export/data.zip (up to ~20 MiB, kept 30 days).
EXPORTS = Limit(
    "exports", 3, HOUR, DAY, DAY, frozenset(),
    "You have downloaded all your data several times in a short while: a new archive can be "
    "made in {wait}. Your files are listed above meanwhile.")
LIMITS = (PASSWORD, APP_CODE, RESET_CODE, VERIFY_CODE, SIGN_IN_CODE, PASSKEY, PASSKEY_STARTS,
          EMAILS, EXPORTS)


class TooManyAttempts(TooManyRequests):
    code = "TooManyAttempts"


def in_words(seconds: float) -> str:
    """A wait as a person reads it, rounded up: "40 seconds", "1 minute", "2 hours"."""
    seconds = max(1, math.ceil(seconds))
    for unit, size in (("hour", HOUR), ("minute", MINUTE)):
        if seconds >= size:
            count = math.ceil(seconds / size)
            return f"{count} {unit}{'s' if count > 1 else ''}"
    return f"{seconds} second{'s' if seconds > 1 else ''}"


class _Attempt(NamedTuple):
    pk: str
    before: dict[str, Any] | None
    after: dict[str, Any]


class Attempts:
    """The limits' state: `table` (a SecurityTable), `clock` (epoch seconds)."""

    def __init__(self, *, table: SecurityTable, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self.clock = clock

    @contextlib.contextmanager
    def guessing(self, limit: Limit, who: str) -> Iterator[None]:
        """Around one guess (a password, a code) for the account `who`: 429 TooManyAttempts
        while its kind is paused. An ApiError whose code is in `limit.wrong` leaves the attempt
        counted; success clears the count; any other error gives the attempt back."""
        attempt = self._take(limit, who)
        try:
            yield
        except ApiError as exc:
            if exc.code not in limit.wrong:
                self._give_back(attempt)
            raise
        except BaseException:
            self._give_back(attempt)
            raise
        self.table.delete(attempt.pk)

    @contextlib.contextmanager
    def spending(self, limit: Limit, who: str) -> Iterator[None]:
        """Around one use (an email sent, an archive made, a log-in started) for `who`: 429
        past the limit; given back when the use fails (no email went out)."""
        attempt = self._take(limit, who)
        try:
            yield
        except BaseException:
            self._give_back(attempt)
            raise

    def paused(self, limit: Limit, who: str) -> bool:
        """The account's guesses of this kind are paused now (a wrong one just paused them)."""
        item = self.table.get(_key(limit, who), self.clock())
        return float((item or {}).get("paused_until", 0)) > self.clock()

    def clear(self, limit: Limit, who: str) -> None:
        self.table.delete(_key(limit, who))

    def _take(self, limit: Limit, who: str) -> _Attempt:
        pk = _key(limit, who)
        for tries in range(8):  # another attempt at the same moment: read again
            now = self.clock()
            # Most attempts find no count: the first try writes as if there were none (one
            # call, not two); only when one exists is it read.
            item = self.table.get(pk, now) if tries else None
            paused_until = float((item or {}).get("paused_until", 0))
            if now < paused_until:
                raise self._paused(limit, paused_until - now)
            count = int((item or {}).get("count", 0)) + 1
            # Paused in advance, as if this attempt were wrong: a right one clears it.
            after = {"count": count, "paused_until": now + limit.wait(count) if limit.wait(count)
                     else 0, "version": int((item or {}).get("version", 0)) + 1}
            try:
                self.table.put(pk, {"count": after["count"], "paused_until": after["paused_until"]},
                               now=now, expires_at=now + limit.forget_after, replacing=item)
            except Conflict:
                continue
            return _Attempt(pk, item, after)
        raise self._paused(limit, 1)

    def _give_back(self, attempt: _Attempt) -> None:
        before = attempt.before or {"count": 0, "paused_until": 0}
        now = self.clock()
        with contextlib.suppress(Conflict):  # counted again meanwhile: keep the count
            self.table.put(attempt.pk, {"count": before["count"],
                                        "paused_until": before["paused_until"]},
                           now=now, expires_at=float(before.get("expires_at", now + 1)),
                           replacing=attempt.after)

    @staticmethod
    def _paused(limit: Limit, seconds: float) -> TooManyAttempts:
        return TooManyAttempts(limit.paused.format(wait=in_words(seconds)),
                               headers={"Retry-After": str(max(1, math.ceil(seconds)))})


def _key(limit: Limit, who: str) -> str:
    # Usernames ignore case in the pool; addresses are compared in lower case.
    return f"{limit.kind}#{who.casefold()}"


@functools.lru_cache(maxsize=1)
def limits() -> Attempts:
    """The app's limits, on the stage's security table and the real clock."""
    return Attempts(table=SecurityTable())
