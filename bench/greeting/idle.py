"""The idle stack: people one at a time (signed up, a pause, then login -> greeting), and the
CPU all of `make run`'s processes use over IDLE_CPU_S once the work is done."""
from __future__ import annotations

import time
from typing import Any

from bench.children import Deadline, median, pct
from bench.greeting.person import login_to_greeting, sign_up
from bench.greeting.stack import Stack


IDLE_CPU_S = 30.0  # how long the idle stack's CPU is measured


def one_at_a_time(stack: Stack, deadline: Deadline, n: int, prefix: str) -> dict[str, Any]:
    alone, logins = [], []
    for i in range(n):
        deadline.left()
        name = f"{prefix} {i}"
        username = sign_up(stack, name)
        time.sleep(0.3)  # idle: the pipeline has nothing else to do
        alone.append(login_to_greeting(stack, username, name, logins=logins) * 1000)
    return {"n": len(alone), "p50_ms": median(alone), "p95_ms": pct(alone, 0.95),
            "max_ms": max(alone), "login_answered_p50_ms": median([t * 1000 for t in logins])}


def idle_cpu(stack: Stack, deadline: Deadline) -> dict[str, Any]:
    """The whole process group's CPU over IDLE_CPU_S once its work is done (queues empty, the
    snapshot saved)."""
    outputs, session = stack.clients()
    sqs = stack.client(session, "sqs")
    queues = [url for url in sqs.list_queues().get("QueueUrls", [])
              if "dead" not in url.lower() and "dlq" not in url.lower()]  # a DLQ holds no work
    settle_until = time.monotonic() + min(60.0, deadline.left())
    while time.monotonic() < settle_until:
        waiting = sum(int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
            ["Attributes"][a]) for url in queues for a in (
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"))
        if not waiting:
            break
        time.sleep(1)
    time.sleep(2)  # the last handler's own work
    # The work includes keeping it: save the snapshot now (POST /_local/save), or the state
    # saver's save of the crowd's changes (a few hundred ms of pickling) may fall in the window.
    stack.aws("save", "POST")
    deadline.left()
    cpu, wall = stack.group_cpu_s(), time.monotonic()
    time.sleep(IDLE_CPU_S)
    cpu, wall = stack.group_cpu_s() - cpu, time.monotonic() - wall
    return {"seconds": wall, "cpu_s": cpu, "percent_of_a_core": 100 * cpu / wall,
            "queues": len(queues)}
