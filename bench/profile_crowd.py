"""Where the local AWS's time goes under the 200-person crowd (bench/README.md, issue 17).

    .venv/bin/python -m bench.profile_crowd [people] [out.txt]

Starts `make run`'s stack (bench/greeting/stack.py), signs the crowd up, then samples the
`python -m local` process (the moto server and the state saver live in it; `chalice local` and
the event delivery, local/event_sources/deliver.py, are its children) with py-spy while they
all log in at once on the page's schedule, and prints the functions most often on the stack
(inclusive) and at the top (own time).
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys
import time

from bench.children import Deadline, pct
from bench.greeting.crowd import at_once, sign_up_many
from bench.greeting.stack import Stack


def main(argv: list[str]) -> int:
    people_n = int(argv[0]) if argv else 200
    out = argv[1] if len(argv) > 1 else "/tmp/comm-it-crowd-profile.txt"
    deadline = Deadline(600)
    stack = Stack()
    try:
        stack.wait_ready(90)
        people = sign_up_many(stack, deadline, people_n)
        spy = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "py-spy"),
                                "record", "-o", out,
                                "--format", "raw", "--threads", "--nonblocking", "-r", "50",
                                "-p", str(stack.process.pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        time.sleep(1)
        times, failures, _, _, took = at_once(stack, people, deadline)
        spy.send_signal(2)
        spy.wait(30)
        print(f"{len(times)} greeted, {len(failures)} failed in {took:.0f} s; "
              f"p95 {pct([t * 1000 for t in times], 0.95):.0f} ms")
    finally:
        stack.stop()
    report(out)
    return 0


def report(path: str, top: int = 25) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as raw:
        for line in raw:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            frames = stack.split(";")[1:]  # the first names the thread
            n = int(count)
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            if frames:
                own[frames[-1]] += n
    print(f"{total} samples (threads running or runnable: py-spy leaves idle ones out)")
    print("most on the stack (inclusive):")
    for frame, n in inclusive.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {frame}")
    print("own time (top of the stack):")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f} %  {frame}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
