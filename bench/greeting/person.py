"""One person's journey as the browser makes it: signed up (the emailed code from the stack's
console), then login -> GET /hello -> GET /api/greeting/card on the page's schedule until it
answers 200 with their own name."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from bench.greeting.stack import Stack, call


PASSWORD = "Corr3ct-horse-bench"


def page_delays() -> Any:
    """The /hello page's waits between asks while the greeting is pending (app.js)."""
    delay = 0.1
    while True:
        yield delay
        delay = min(1.0, delay * 1.5)


def sign_up(stack: Stack, name: str) -> str:
    username = f"g{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.com"
    status, body = call(f"{stack.url}/api/auth/signup", "POST", {
        "name": name, "email": email, "username": username, "password": PASSWORD})
    if status != 201:
        raise RuntimeError(f"sign-up: {status} {body[:200]!r}")
    status, body = call(f"{stack.url}/api/auth/confirm", "POST",
                         {"username": username, "code": stack.code(email)})
    if status != 200:
        raise RuntimeError(f"confirm: {status} {body[:200]!r}")
    return username


def login_to_greeting(stack: Stack, username: str, name: str,
                      retries: list[int] | None = None, logins: list[float] | None = None,
                      patience: float = 30) -> float:
    """Seconds from sending the login to the greeting with `name` (RuntimeError otherwise)."""
    started = time.perf_counter()
    status, body = call(f"{stack.url}/api/auth/login", "POST",
                         {"username": username, "password": PASSWORD}, retries=retries)
    if status != 200:
        raise RuntimeError(f"login: {status} {body[:200]!r}")
    token = json.loads(body)["idToken"]
    if logins is not None:
        logins.append(time.perf_counter() - started)
    call(f"{stack.url}/hello", retries=retries)
    delays = page_delays()
    while time.perf_counter() - started < patience:
        status, body = call(f"{stack.url}/api/greeting/card", token=token, retries=retries)
        if status == 200:
            if name.encode() not in body:
                raise RuntimeError(f"greeted, but not as {name!r}: {body[:200]!r}")
            return time.perf_counter() - started
        time.sleep(next(delays))
    raise RuntimeError(f"{username} was not greeted within {patience:.0f} s")
