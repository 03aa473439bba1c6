"""The greeting: "Hello, <name>", the name read from Parameter Store.

The pipeline that writes the name is asynchronous, so right after the first
login the name may not be there yet: the ask is then held a moment (HOLD_SECONDS),
answered 200 as soon as the name can be read, or else 202 with Retry-After, and the
/hello page shows that it is getting ready and asks again. Once the
account is deleted (the pipeline removed the name and left a tombstone), the
old, still-signed ID token gets 401 SessionEnded instead.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from chalice import Response

from chalicelib import names, pages, users_table
from chalicelib.errors import ServiceUnavailable, json_response, session_ended

log = logging.getLogger(__name__)

PENDING = {"status": "pending",
           "message": "Your greeting is being prepared. Try again in a moment."}
RETRY_AFTER = {"Retry-After": "1"}
# A pending ask is held this long while the name may still come (each held second costs
# Lambda a second of duration, and saves the page's asks: docs/scaling.md).
HOLD_SECONDS = 2.0
# Subs whose account this container saw deleted (a tombstone is final, a sub never reused):
# their later asks are refused without a look-up, also while names' miss is cached.
_ended: set[str] = set()
_MAX_ENDED = 4096


def _name(claims: dict[str, Any]) -> str | None:
    """The name; or None after holding the ask up to HOLD_SECONDS, re-reading it as often as
    names allows (at most once a second): a pending page asks a few times, not every second."""
    deadline = time.monotonic() + HOLD_SECONDS
    while True:
        name = _look(claims)
        if name is not None:
            return name
        wait = names.next_read_in(claims["sub"])
        if time.monotonic() + wait > deadline:  # the next read would come too late: answer now
            return None
        time.sleep(wait)


def _look(claims: dict[str, Any]) -> str | None:
    from botocore.exceptions import BotoCoreError, ClientError

    if claims["sub"] in _ended:
        raise session_ended()
    try:
        name, asked = names.lookup(claims["sub"])
        # No name: not written yet, or the account was deleted (its ID tokens stay signed
        # and unexpired for up to an hour). Only a miss Parameter Store was just asked
        # about pays the look-up: at most once per names.MISS_SECONDS per person, and
        # the deletion forgets the cached miss (names.delete), so it shows at once.
        deleted = name is None and asked and users_table.is_deleted(claims["sub"])
    except (BotoCoreError, ClientError) as exc:
        log.error("cannot read the name of %s: %s", claims["sub"], exc)
        raise ServiceUnavailable("We could not load your greeting. Please try again.") from None
    if deleted:
        if len(_ended) >= _MAX_ENDED:
            _ended.clear()
        _ended.add(claims["sub"])
        raise session_ended()
    return name


def as_json(claims: dict[str, Any]) -> Response:
    name = _name(claims)
    if name is None:
        return json_response(202, PENDING, RETRY_AFTER)
    return json_response(200, {"message": "hello", "name": name})


def as_html(claims: dict[str, Any]) -> Response:
    name = _name(claims)
    if name is None:
        return pages.fragment("greeting_pending.html", status=202, headers=RETRY_AFTER)
    return pages.fragment("greeting.html", name=name)
