"""bench/greeting/'s arithmetic, without a stack (`make bench` runs the measures themselves):
the page's schedule it asks on, a crowd's summary, and its threads' errors reaching the caller."""
from __future__ import annotations

import itertools
import threading

import pytest

from bench.children import Deadline
from bench.greeting.crowd import in_threads, summary
from bench.greeting.person import page_delays


def test_the_greeting_is_asked_on_the_pages_schedule_growing_by_half_up_to_a_second():
    delays = list(itertools.islice(page_delays(), 8))
    assert delays[:3] == pytest.approx([0.1, 0.15, 0.225])
    assert delays[-2:] == [1.0, 1.0] and delays == sorted(delays)


def test_a_crowds_summary_counts_the_greeted_the_slow_and_the_reads_their_waits_allow():
    times = [0.5, 1.0, 31.5]  # seconds each waited
    found = summary(4, times, ["Crowd Person 3: no answer"], [1, 1], [0.2, 0.4], took_s=40.0)
    assert (found["n"], found["greeted"], found["failed"], found["connection_retries"]) == (
        4, 3, 1, 2)
    assert found["over_30_s"] == 1
    assert found["allowed_reads"] == (1 + 1) + (1 + 1) + (1 + 32)  # 1 + ceil(t) each
    assert found["max_ms"] == 31500 and found["p50_ms"] == 1000
    assert found["login_answered_p50_ms"] == pytest.approx(300)


def test_a_crowd_nobody_reached_has_no_percentiles():
    found = summary(2, [], ["a", "b"], [], [], took_s=1.0)
    assert (found["greeted"], found["p50_ms"], found["p95_ms"], found["max_ms"]) == (
        0, None, None, None)


def test_work_in_threads_does_every_item_once():
    done, lock = [], threading.Lock()

    def work(item: int) -> None:
        with lock:
            done.append(item)

    in_threads(work, list(range(50)), 4, Deadline(30))
    assert sorted(done) == list(range(50))


def test_a_failure_in_a_thread_is_raised_in_the_caller():
    def work(item: int) -> None:
        if item == 7:
            raise RuntimeError("item 7 failed")

    with pytest.raises(RuntimeError, match="item 7 failed"):
        in_threads(work, list(range(20)), 3, Deadline(30))
