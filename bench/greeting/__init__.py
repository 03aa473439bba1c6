"""Login to greeting shown, through `make run`'s own stack (`python -m local`, fresh data).

For each person: POST /api/auth/login, GET /hello (the page the browser goes to), then
GET /api/greeting/card on the page's schedule (templates/app.js: at once, then after 0.1 s,
x1.5 each time, at most 1 s) until it answers 200 with the person's own name. The time from
sending the login to that 200 is what the person waits (the browser's own rendering, a few
ms, is not in it). Measured three ways:
- the first login after the stack started (clients, moto's backends: what warm-up is for);
- one person at a time on an idle stack;
- `crowd` people at once (signed up beforehand): p50/p95, and every one greeted by name, and
  the Parameter Store reads it took (counted at the local AWS's front door, /_local/calls);
- the CPU all of `make run`'s processes (the process group, from /proc) use over 30 s idle;
- `big_crowd` people at once (created beforehand through the local AWS's Cognito admin API:
  quicker than sign-ups), then what the pipeline wrote, counted: one item, one profile object
  (one version) and one name parameter each, login_count 1;
- login -> greeting on the idle stack again after `stored` items were written into the users
  table (batch_write_item): the ratio to the figure with a handful stored.

A module per measure; `measure` below runs them in order on one stack:
    stack.py      `python -m local` on free ports, its console, control calls and CPU
    person.py     one person signed up, then login -> greeting on the page's schedule
    idle.py       one at a time on the idle stack; the idle stack's CPU
    crowd.py      the crowd at once, its summary and its Parameter Store reads
    big_crowd.py  the big crowd at once, and what the pipeline wrote for it
    stored.py     one at a time again after many records stored
"""
from __future__ import annotations

from typing import Any

from bench.children import Deadline
from bench.greeting.big_crowd import created_and_greeted
from bench.greeting.crowd import at_once, parameter_reads, sign_up_many, summary
from bench.greeting.idle import idle_cpu, one_at_a_time
from bench.greeting.person import login_to_greeting, sign_up
from bench.greeting.stack import Stack
from bench.greeting.stored import idle_after_stored


def measure(deadline: Deadline, crowd: int, idle: int, big_crowd: int = 0,
            stored: int = 0) -> dict[str, Any]:
    stack = Stack()
    result: dict[str, Any] = {}
    try:
        result["stack_start_s"] = stack.wait_ready(min(90.0, deadline.left()))
        first_name = "First Person"
        result["first_login_ms"] = login_to_greeting(stack, sign_up(stack, first_name),
                                                     first_name) * 1000
        result["idle"] = one_at_a_time(stack, deadline, idle, "Idle Person")
        people = sign_up_many(stack, deadline, crowd)
        before = parameter_reads(stack)
        result["crowd"] = summary(crowd, *at_once(stack, people, deadline))
        reads = parameter_reads(stack) - before
        greeted = result["crowd"]["greeted"]
        allowed = result["crowd"].pop("allowed_reads")
        result["crowd"]["get_parameter"] = {
            "reads": reads, "per_greeted_person": reads / greeted if greeted else None,
            # a person pending t s may cost one read to find out, then one per second:
            # 1 + ceil(t) reads at most (the "one per pending person per second")
            "allowed": allowed,
            "of_allowed": reads / allowed if allowed else None}
        result["idle_cpu"] = idle_cpu(stack, deadline)
        # A later phase that fails is reported (its targets missed), the figures before it kept.
        if big_crowd:
            try:
                result["big_crowd"] = created_and_greeted(stack, deadline, big_crowd)
            except RuntimeError as exc:
                result["big_crowd_error"] = str(exc)
        if stored:
            try:
                result["stored"] = idle_after_stored(stack, deadline, stored, idle, result["idle"])
            except RuntimeError as exc:
                result["stored_error"] = str(exc)
        # Last, with everything above stored: the stop saves the snapshot of all of it.
        result["stop"] = stack.stop_timed()
    finally:
        stack.stop()
    return result
