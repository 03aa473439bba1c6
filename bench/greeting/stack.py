"""`make run`'s own stack for the login -> greeting measures: `python -m local` on free ports
with an empty state directory, the codes it emails read from its console, its control calls
(/_local/...), boto3 clients of its AWS, and the CPU of its whole process group."""
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
from typing import Any

from bench.children import ROOT


# Searched, not matched: until every console line is written whole, two can share a line.
OUTBOX = re.compile(r'\[outbox\] email to=(?P<to>[^\s\[]+?) subject="[^"]*" code=(?P<code>\d{6})')


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
        """A control call to the local AWS (local/server/control.py)."""
        status, body = call(f"http://127.0.0.1:{self.aws_port}/_local/{path}", method)
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


def call(url: str, method: str = "GET", body: Any = None, token: str = "",
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
