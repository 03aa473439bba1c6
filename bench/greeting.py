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
"""
from __future__ import annotations

import json
import math
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

    def aws(self, path: str, method: str = "GET") -> Any:
        """A control call to the local AWS (local/control.py)."""
        status, body = _call(f"http://127.0.0.1:{self.aws_port}/_local/{path}", method)
        if status != 200:
            raise RuntimeError(f"/_local/{path}: {status} {body[:200]!r}")
        return json.loads(body)

    def clients(self) -> tuple[dict[str, str], Any]:
        """The stack's names and a boto3 session with the local AWS's dev keys."""
        import boto3

        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local",
                                        region_name="us-east-1")
        return self.aws("outputs", "POST"), session

    def client(self, session: Any, service: str) -> Any:
        return session.client(service, endpoint_url=f"http://127.0.0.1:{self.aws_port}")

    def _group_stats(self) -> list[list[str]]:
        """/proc/<pid>/stat's fields after the name of every live process of the stack's group."""
        stats = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid and fields[0] != "Z":  # field 5, pgrp
                stats.append(fields)
        return stats

    def group_cpu_s(self) -> float:
        """CPU seconds (user + system) used so far by every live process of the stack's group."""
        total = sum(int(f[11]) + int(f[12]) for f in self._group_stats())  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def stop_timed(self, timeout: float = 60) -> dict[str, Any]:
        """SIGTERM to the group (what Ctrl-C sends, as SIGINT): seconds until every process of
        it has ended (the snapshot saved), and `python -m local`'s exit code."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        while self._group_stats() and time.monotonic() - started < timeout:
            time.sleep(0.01)
        return {"seconds": time.monotonic() - started, "exit_code": code,
                "left": len(self._group_stats())}

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


IDLE_CPU_S = 30.0  # how long the idle stack's CPU is measured
# Parameter Store reads, counted as calls (what its throughput quota counts): the app reads
# names with GetParameters, several waiting people's in one call (chalicelib/read_batches.py).
PARAMETER_READS = ("AmazonSSM.GetParameter", "AmazonSSM.GetParameters")


def _parameter_reads(stack: Stack) -> int:
    calls = stack.aws("calls")
    return sum(calls.get(target, 0) for target in PARAMETER_READS)


def measure(deadline: Deadline, crowd: int, idle: int, big_crowd: int = 0,
            stored: int = 0) -> dict[str, Any]:
    stack = Stack()
    result: dict[str, Any] = {}
    try:
        result["stack_start_s"] = stack.wait_ready(min(90.0, deadline.left()))
        first_name = "First Person"
        result["first_login_ms"] = login_to_greeting(stack, sign_up(stack, first_name),
                                                     first_name) * 1000
        result["idle"] = _idle(stack, deadline, idle, "Idle Person")
        people = _sign_up_many(stack, deadline, crowd)
        before = _parameter_reads(stack)
        result["crowd"] = _summary(crowd, *_crowd(stack, people, deadline))
        reads = _parameter_reads(stack) - before
        greeted = result["crowd"]["greeted"]
        allowed = result["crowd"].pop("allowed_reads")
        result["crowd"]["get_parameter"] = {
            "reads": reads, "per_greeted_person": reads / greeted if greeted else None,
            # a person pending t s may cost one read to find out, then one per second:
            # 1 + ceil(t) reads at most (the "one per pending person per second")
            "allowed": allowed,
            "of_allowed": reads / allowed if allowed else None}
        result["idle_cpu"] = _idle_cpu(stack, deadline)
        # A later phase that fails is reported (its targets missed), the figures before it kept.
        if big_crowd:
            try:
                result["big_crowd"] = _big_crowd(stack, deadline, big_crowd)
            except RuntimeError as exc:
                result["big_crowd_error"] = str(exc)
        if stored:
            try:
                result["stored"] = _stored(stack, deadline, stored, idle, result["idle"])
            except RuntimeError as exc:
                result["stored_error"] = str(exc)
        # Last, with everything above stored: the stop saves the snapshot of all of it.
        result["stop"] = stack.stop_timed()
    finally:
        stack.stop()
    return result


def _idle(stack: Stack, deadline: Deadline, n: int, prefix: str) -> dict[str, Any]:
    alone, logins = [], []
    for i in range(n):
        deadline.left()
        name = f"{prefix} {i}"
        username = sign_up(stack, name)
        time.sleep(0.3)  # idle: the pipeline has nothing else to do
        alone.append(login_to_greeting(stack, username, name, logins=logins) * 1000)
    return {"n": len(alone), "p50_ms": median(alone), "p95_ms": pct(alone, 0.95),
            "max_ms": max(alone), "login_answered_p50_ms": median([t * 1000 for t in logins])}


def _summary(n: int, times: list[float], failures: list[str], retries: list[int],
             logins: list[float], took_s: float) -> dict[str, Any]:
    ms = [t * 1000 for t in times]
    return {"n": n, "greeted": len(times), "failed": len(failures),
            "failures": failures[:5], "connection_retries": len(retries),
            "p50_ms": pct(ms, 0.5) if ms else None, "p95_ms": pct(ms, 0.95) if ms else None,
            "max_ms": max(ms) if ms else None,
            "over_30_s": sum(1 for t in times if t > 30), "took_s": took_s,
            "allowed_reads": sum(1 + math.ceil(t) for t in times),
            "login_answered_p50_ms": pct([t * 1000 for t in logins], 0.5) if logins else None}


def _idle_cpu(stack: Stack, deadline: Deadline) -> dict[str, Any]:
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


def _big_crowd(stack: Stack, deadline: Deadline, n: int) -> dict[str, Any]:
    outputs, session = stack.clients()
    idp = stack.client(session, "cognito-idp")
    pool = outputs["USER_POOL_ID"]
    people = [(f"t{uuid.uuid4().hex[:10]}", f"Thousand Person {i}") for i in range(n)]
    created = time.monotonic()

    def create(person: tuple[str, str]) -> None:
        username, name = person
        idp.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "name", "Value": name},
                                              {"Name": "email", "Value": f"{username}@example.com"},
                                              {"Name": "email_verified", "Value": "true"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=username, Password=PASSWORD,
                                    Permanent=True)

    _in_threads(create, people, 8, deadline)
    created = time.monotonic() - created
    summary = _summary(n, *_crowd(stack, people, deadline))
    summary.pop("allowed_reads")
    summary["created_s"] = created
    summary["stored"] = _count_written(stack, {name for _, name in people}, deadline)
    return summary


# How long the pipeline's writes for the 1,000-crowd are waited for after the crowd is
# greeted: first SETTLE_S (what is missing then is counted "late"), then up to LATE_S more;
# what is still missing then is lost (the dead-letter queues' counts say where it went).
SETTLE_S, LATE_S = 60.0, 120.0
WRITTEN = ("dynamodb_items", "s3_profiles", "ssm_parameters")


def _count_written(stack: Stack, names: set[str], deadline: Deadline) -> dict[str, Any]:
    """What the pipeline wrote for the people named `names`: lost or doubled shows here,
    and "late" (written, but after SETTLE_S) apart from lost."""
    first = _written(stack, names, min(SETTLE_S, deadline.left()))
    counts = first
    if any(first[k] < len(names) for k in WRITTEN):
        counts = _written(stack, names, min(LATE_S, deadline.left()))
    counts["late"] = {k: counts[k] - first[k] for k in WRITTEN}
    counts["settle_s"] = SETTLE_S
    counts["dead_letters"] = _dead_letters(stack)
    return counts


def _dead_letters(stack: Stack) -> dict[str, int]:
    """Messages in each dead-letter queue now: where a lost write would have gone."""
    _, session = stack.clients()
    sqs = stack.client(session, "sqs")
    return {url.rsplit("/", 1)[-1]: int(sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"]["ApproximateNumberOfMessages"])
            for url in sqs.list_queues().get("QueueUrls", []) if url.endswith("-dlq")}


def _written(stack: Stack, names: set[str], settle_s: float) -> dict[str, Any]:
    """The counts once everything is written, or after `settle_s`."""
    outputs, session = stack.clients()
    db, s3, ssm = (stack.client(session, s) for s in ("dynamodb", "s3", "ssm"))
    settle_until = time.monotonic() + settle_s
    while True:
        items = [item for page in db.get_paginator("scan").paginate(
            TableName=outputs["USERS_TABLE_NAME"], ConsistentRead=True)
            for item in page["Items"] if item.get("name", {}).get("S") in names]
        subs = {item["sub"]["S"] for item in items}
        versions = [v["Key"] for page in s3.get_paginator("list_object_versions").paginate(
            Bucket=outputs["USERS_BUCKET_NAME"], Prefix="users/")
            for v in page.get("Versions", [])
            if v["Key"].split("/")[1] in subs and v["Key"].endswith("/profile.json")]
        parameters = [p for page in ssm.get_paginator("get_parameters_by_path").paginate(
            Path="/", Recursive=True) for p in page["Parameters"] if p["Value"] in names]
        done = min(len(items), len(set(versions)), len(parameters)) >= len(names)
        if done or time.monotonic() > settle_until:
            break
        time.sleep(1)
    return {"people": len(names), "dynamodb_items": len(items),
            "dynamodb_login_count_not_1": sum(1 for i in items
                                              if i.get("login_count", {}).get("N") != "1"),
            "s3_profile_versions": len(versions), "s3_profiles": len(set(versions)),
            "ssm_parameters": len(parameters),
            "ssm_distinct_names": len({p["Value"] for p in parameters})}


def _stored(stack: Stack, deadline: Deadline, stored: int, n: int,
            small: dict[str, Any]) -> dict[str, Any]:
    """Write `stored` more people's records into the users table, then log in on the idle stack."""
    outputs, session = stack.clients()
    db = stack.client(session, "dynamodb")
    table = outputs["USERS_TABLE_NAME"]
    seeded = time.monotonic()
    batches = [[{"PutRequest": {"Item": {
        # No name: their names are in Parameter Store already on a developer's stack (a name
        # here would make the pipeline write 10,000 parameters now, which is not what is measured)
        "sub": {"S": str(uuid.uuid4())}, "email": {"S": f"stored{i}@example.com"},
        "login_count": {"N": "1"},
        "last_login_at": {"S": "2026-11-01T10:00:00.000000Z"},
        "details_at": {"S": "2026-11-01T10:00:00.000000Z"}}}}
        for i in range(start, min(stored, start + 25))]
        for start in range(0, stored, 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        unprocessed = {table: batch}
        while unprocessed:
            unprocessed = db.batch_write_item(
                RequestItems=unprocessed).get("UnprocessedItems") or {}

    _in_threads(write, batches, 4, deadline)
    seeded = time.monotonic() - seeded
    count = db.describe_table(TableName=table)["Table"]["ItemCount"]
    # The pump delivers the seeds' stream records first (no name: ignored); one person greeted
    # after them, not counted, says it has caught up.
    drained = time.monotonic()
    login_to_greeting(stack, sign_up(stack, "Caught Up"), "Caught Up",
                      patience=min(CROWD_PATIENCE_S, deadline.left()))
    drained = time.monotonic() - drained
    large = _idle(stack, deadline, n, "Late Person")
    return {"seeded": stored, "seeded_s": seeded, "table_items": count, "idle": large,
            "caught_up_s": drained,
            "ratio_p50": large["p50_ms"] / small["p50_ms"],
            "login_answered_ratio_p50": (large["login_answered_p50_ms"]
                                         / small["login_answered_p50_ms"])}


def _in_threads(work: Any, items: list[Any], threads: int, deadline: Deadline) -> None:
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


def _crowd(stack: Stack, people: list[tuple[str, str]], deadline: Deadline
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
