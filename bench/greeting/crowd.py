"""People at once: the crowd signed up beforehand (8 threads), then every one logging in at the
same moment (a barrier) and waited for up to CROWD_PATIENCE_S; its summary (p50/p95/max,
greeted by name, connection retries) and the Parameter Store reads it took, counted at the
local AWS's front door (/_local/calls)."""
from __future__ import annotations

import math
import threading
import time
from typing import Any

from bench.children import Deadline, pct
from bench.greeting.person import login_to_greeting, sign_up
from bench.greeting.stack import Stack


# How long a person in the crowd is waited for. The page itself says "taking longer than usual"
# after about 30 s (and the report counts who waited longer); the bench waits on, to measure.
CROWD_PATIENCE_S = 180.0
# Parameter Store reads, counted as calls (what its throughput quota counts): the app reads
# names with GetParameters, several waiting people's in one call (chalicelib/read_batches.py).
PARAMETER_READS = ("AmazonSSM.GetParameter", "AmazonSSM.GetParameters")


def parameter_reads(stack: Stack) -> int:
    calls = stack.aws("calls")
    return sum(calls.get(target, 0) for target in PARAMETER_READS)


def summary(n: int, times: list[float], failures: list[str], retries: list[int],
            logins: list[float], took_s: float) -> dict[str, Any]:
    ms = [t * 1000 for t in times]
    return {"n": n, "greeted": len(times), "failed": len(failures),
            "failures": failures[:5], "connection_retries": len(retries),
            "p50_ms": pct(ms, 0.5) if ms else None, "p95_ms": pct(ms, 0.95) if ms else None,
            "max_ms": max(ms) if ms else None,
            "over_30_s": sum(1 for t in times if t > 30), "took_s": took_s,
            "allowed_reads": sum(1 + math.ceil(t) for t in times),
            "login_answered_p50_ms": pct([t * 1000 for t in logins], 0.5) if logins else None}


def in_threads(work: Any, items: list[Any], threads: int, deadline: Deadline) -> None:
    queue = list(items)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        while not errors and deadline.left():
            with lock:
                if not queue:
                    return
                item = queue.pop()
            try:
                work(item)
            except BaseException as exc:  # noqa: BLE001 - raised below, in the caller
                errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]


def sign_up_many(stack: Stack, deadline: Deadline, count: int) -> list[tuple[str, str]]:
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


def at_once(stack: Stack, people: list[tuple[str, str]], deadline: Deadline
           ) -> tuple[list[float], list[str], list[int], list[float], float]:
    logins: list[float] = []
    times: list[float] = []
    failures: list[str] = []
    retries: list[int] = []
    go = threading.Barrier(len(people))

    def person(username: str, name: str) -> None:
        go.wait()
        try:
            times.append(login_to_greeting(stack, username, name, retries, logins,
                                           CROWD_PATIENCE_S))
        except Exception as exc:  # noqa: BLE001 - counted and reported
            failures.append(f"{name}: {exc}")

    threads = [threading.Thread(target=person, args=p, daemon=True) for p in people]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    end = started + min(CROWD_PATIENCE_S + 30, deadline.left())
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return list(times), list(failures), list(retries), list(logins), time.monotonic() - started
