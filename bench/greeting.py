"""Login to greeting shown, through `make run`'s own stack (`python -m local`, fresh data).

For each person: POST /api/auth/login, GET /hello (the page the browser goes to), then
GET /api/greeting/card on the page's schedule (templates/app.js: at once, then after 0.1 s,
x1.5 each time, at most 1 s) until it answers 200 with the person's own name. The time from
sending the login to that 200 is what the person waits (the browser's own rendering, a few
ms, is not in it). Measured three ways:
- the first login after the stack started (clients, moto's backends: what warm-up is for);
- one person at a time on an idle stack;
- `crowd` people at once (signed up beforehand): p50/p95, and every one greeted by name.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from bench.children import ROOT, Deadline, median, pct

PASSWORD = "Corr3ct-horse-bench"
# How long a person in the crowd is waited for. The page itself says "taking longer than usual"
# after about 30 s (and the report counts who waited longer); the bench waits on, to measure.
CROWD_PATIENCE_S = 180.0
# Searched, not matched: until every console line is written whole, two can share a line.
OUTBOX = re.compile(r'\[outbox\] email to=(?P<to>[^\s\[]+?) subject="[^"]*" code=(?P<code>\d{6})')


def page_delays() -> Any:
    """The /hello page's waits between asks while the greeting is pending (app.js)."""
    delay = 0.1
    while True:
        yield delay
        delay = min(1.0, delay * 1.5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """`python -m local` on free ports with an empty state directory; codes from its console."""

    def __init__(self) -> None:
        self.port, self.aws_port = _free_port(), _free_port()
        self.state = tempfile.TemporaryDirectory(prefix="comm-it-bench-state-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"PORT": str(self.port), "LOCAL_AWS_PORT": str(self.aws_port),
                    "LOCAL_STATE_DIR": self.state.name, "PYTHONUNBUFFERED": "1"})
        self.url = f"http://127.0.0.1:{self.port}"
        self.codes: dict[str, str] = {}
        self._seen = threading.Condition()
        self.started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "-m", "local"], cwd=ROOT, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True, bufsize=1,
                                        start_new_session=True)
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            if line.startswith("App: "):
                self.ready.set()
            for match in OUTBOX.finditer(line):
                with self._seen:
                    self.codes[match["to"]] = match["code"]
                    self._seen.notify_all()

    def wait_ready(self, timeout: float) -> float:
        if not self.ready.wait(timeout):
            raise RuntimeError(f"`python -m local` did not start within {timeout:.0f} s")
        return time.monotonic() - self.started

    def code(self, email: str, timeout: float = 30) -> str:
        with self._seen:
            if not self._seen.wait_for(lambda: email in self.codes, timeout):
                raise RuntimeError(f"no code emailed to {email}")
            return self.codes[email]

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.state.cleanup()


def _call(url: str, method: str = "GET", body: Any = None, token: str = "",
          retries: list[int] | None = None) -> tuple[int, bytes]:
    """One request; a refused or reset connection (a full listen queue) is tried again."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
    for attempt in range(20):
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (urllib.error.URLError, ConnectionError, OSError):
            if retries is not None:
                retries.append(1)
            time.sleep(0.05 * (attempt + 1))
    raise RuntimeError(f"{method} {url}: no answer after 20 tries")


def sign_up(stack: Stack, name: str) -> str:
    username = f"g{uuid.uuid4().hex[:10]}"
    email = f"{username}@example.com"
    status, body = _call(f"{stack.url}/api/auth/signup", "POST", {
        "name": name, "email": email, "username": username, "password": PASSWORD})
    if status != 201:
        raise RuntimeError(f"sign-up: {status} {body[:200]!r}")
    status, body = _call(f"{stack.url}/api/auth/confirm", "POST",
                         {"username": username, "code": stack.code(email)})
    if status != 200:
        raise RuntimeError(f"confirm: {status} {body[:200]!r}")
    return username


def login_to_greeting(stack: Stack, username: str, name: str,
                      retries: list[int] | None = None, logins: list[float] | None = None,
                      patience: float = 30) -> float:
    """Seconds from sending the login to the greeting with `name` (RuntimeError otherwise)."""
    started = time.perf_counter()
    status, body = _call(f"{stack.url}/api/auth/login", "POST",
                         {"username": username, "password": PASSWORD}, retries=retries)
    if status != 200:
        raise RuntimeError(f"login: {status} {body[:200]!r}")
    token = json.loads(body)["idToken"]
    if logins is not None:
        logins.append(time.perf_counter() - started)
    _call(f"{stack.url}/hello", retries=retries)
    delays = page_delays()
    while time.perf_counter() - started < patience:
        status, body = _call(f"{stack.url}/api/greeting/card", token=token, retries=retries)
        if status == 200:
            if name.encode() not in body:
                raise RuntimeError(f"greeted, but not as {name!r}: {body[:200]!r}")
            return time.perf_counter() - started
        time.sleep(next(delays))
    raise RuntimeError(f"{username} was not greeted within {patience:.0f} s")


def measure(deadline: Deadline, crowd: int, idle: int) -> dict[str, Any]:
    stack = Stack()
    try:
        start_s = stack.wait_ready(min(90.0, deadline.left()))
        first_name = "First Person"
        first = login_to_greeting(stack, sign_up(stack, first_name), first_name)
        alone = []
        for i in range(idle):
            deadline.left()
            name = f"Idle Person {i}"
            username = sign_up(stack, name)
            time.sleep(0.3)  # idle: the pipeline has nothing else to do
            alone.append(login_to_greeting(stack, username, name))
        people = _sign_up_many(stack, deadline, crowd)
        times, failures, retries, logins = _crowd(stack, people)
    finally:
        stack.stop()
    ms = [t * 1000 for t in times]
    return {
        "stack_start_s": start_s,
        "first_login_ms": first * 1000,
        "idle": {"n": len(alone), "p50_ms": median([t * 1000 for t in alone]),
                 "p95_ms": pct([t * 1000 for t in alone], 0.95), "max_ms": max(alone) * 1000},
        "crowd": {"n": crowd, "greeted": len(times), "failed": len(failures),
                  "failures": failures[:5], "connection_retries": len(retries),
                  "p50_ms": pct(ms, 0.5) if ms else None, "p95_ms": pct(ms, 0.95) if ms else None,
                  "max_ms": max(ms) if ms else None,
                  "over_30_s": sum(1 for t in times if t > 30),
                  "login_answered_p50_ms": pct([t * 1000 for t in logins], 0.5) if logins else None},
    }


def _sign_up_many(stack: Stack, deadline: Deadline, count: int) -> list[tuple[str, str]]:
    people: list[tuple[str, str]] = []
    names = iter([f"Crowd Person {i}" for i in range(count)])
    lock = threading.Lock()

    def work() -> None:
        while deadline.left():
            with lock:
                name = next(names, None)
            if name is None:
                return
            username = sign_up(stack, name)
            with lock:
                people.append((username, name))

    workers = [threading.Thread(target=work) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if len(people) != count:
        raise RuntimeError(f"only {len(people)} of {count} people signed up")
    return people


def _crowd(stack: Stack, people: list[tuple[str, str]]
           ) -> tuple[list[float], list[str], list[int], list[float]]:
    logins: list[float] = []
    times: list[float] = []
    failures: list[str] = []
    retries: list[int] = []
    go = threading.Barrier(len(people))

    def person(username: str, name: str) -> None:
        go.wait()
        try:
            times.append(login_to_greeting(stack, username, name, retries, logins, CROWD_PATIENCE_S))
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(f"{name}: {exc}")

    threads = [threading.Thread(target=person, args=p) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return times, failures, retries, logins
