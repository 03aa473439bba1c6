"""`make run`'s stack as a subprocess, for the tests that need the real thing.

RunningStack starts `python -m local` from the repository root in its own
process group, on free ports, reads its console into `lines` (stdout) and
`err_lines` (stderr) from two threads, and stops it with SIGTERM to the whole
group. Verification and reset codes are read off the console outbox, the way a
person running `make run` reads them.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Callable

ROOT = Path(__file__).resolve().parent.parent
OUTBOX_LINE = re.compile(r'^\[outbox\] email to=(?P<to>\S+) subject="(?P<subject>[^"]*)" '
                         r'code=(?P<code>\d{6}|\d{8})\s*$')


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_pids(pgid: int) -> list[int]:
    """Every live (non-zombie) process whose process group is `pgid`, from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(entry))
    return pids


def connections_queued(pid: int, port: int, count: int, timeout: float = 5) -> int:
    """How many of `count` connections to `port` the kernel completes while process `pid`
    (the server) is stopped and accepts nobody: those its listen backlog holds."""
    import select

    sockets = [socket.socket() for _ in range(count)]
    os.kill(pid, signal.SIGSTOP)
    try:
        for sock in sockets:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        pending, connected = set(sockets), 0
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            _, writable, _ = select.select([], list(pending), [], deadline - time.monotonic())
            for sock in writable:
                pending.discard(sock)
                connected += sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
        return connected
    finally:
        os.kill(pid, signal.SIGCONT)
        for sock in sockets:
            sock.close()


class StackFailed(AssertionError):
    pass


def listening(process: subprocess.Popen, port: int, console: Callable[[], str]) -> bool:
    """Whether `process` listens on `port` yet (an `eventually` check); a process that ended
    fails the test with its console."""
    assert process.poll() is None, console()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class RunningStack:
    """`python -m local` on free ports: start(), app_url, aws_endpoint, lines, stop()."""

    def __init__(self, port: int | None = None, aws_port: int | None = None,
                 env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.aws_port = aws_port or free_port()
        while self.aws_port == self.port:
            self.aws_port = free_port()
        self.env = {**os.environ, "PORT": str(self.port), "LOCAL_AWS_PORT": str(self.aws_port),
                    "PYTHONUNBUFFERED": "1", **(env or {})}
        # Never let the shell's AWS settings leak into the local stack.
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
            self.env.pop(name, None)
        # Its own saved local data (local.run.state), never the developer's `make run` data.
        self._own_state_dir = "LOCAL_STATE_DIR" not in (env or {})
        if self._own_state_dir:
            import tempfile

            self.env["LOCAL_STATE_DIR"] = tempfile.mkdtemp(prefix="comm-it-state-")
        self.args = args
        self.lines: list[str] = []
        self.err_lines: list[str] = []
        self.app_url = ""
        self.aws_endpoint = ""
        self.process: subprocess.Popen | None = None
        self.pgid = 0
        self.killed = False
        self._changed = threading.Condition()
        self._readers: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------

    def start(self, timeout: float = 60) -> "RunningStack":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local", *self.args], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", errors="replace", bufsize=1,
            start_new_session=True)  # its own process group: stop() reaches every child
        self.pgid = self.process.pid
        for stream, sink in ((self.process.stdout, self.lines),
                             (self.process.stderr, self.err_lines)):
            reader = threading.Thread(target=self._read, args=(stream, sink), daemon=True)
            reader.start()
            self._readers.append(reader)
        try:
            app = self.wait_for_line(lambda line: line.startswith("App: "), timeout)
        except StackFailed:
            self.stop()
            raise
        self.app_url = app.split(" ", 1)[1].strip()
        aws = self.wait_for_line(lambda line: line.startswith("AWS endpoint: "), 10)
        self.aws_endpoint = aws.split(": ", 1)[1].strip()
        return self

    def observer(self, service: str) -> Any:
        """A client of the local AWS that sees the data even while a fault is on (the app's
        own requests fail meanwhile: local/server/faults.py exempts this header)."""
        import boto3

        from local.server.faults import EXEMPT_HEADER

        client = boto3.client(service, endpoint_url=self.aws_endpoint, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        client.meta.events.register("before-send", lambda request, **_: request.headers
                                    .__setitem__(EXEMPT_HEADER, "1"))
        return client

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM to the whole group; SIGKILL what is left after `timeout` s (sets .killed)."""
        if self.process is None:
            return None
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.killed = True
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        deadline = time.monotonic() + timeout
        while group_pids(self.pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if group_pids(self.pgid):  # a child outlived its parent
            self.killed = True
            self._signal_group(signal.SIGKILL)
        for reader in self._readers:
            reader.join(timeout=5)
        if self._own_state_dir:
            import shutil

            shutil.rmtree(self.env["LOCAL_STATE_DIR"], ignore_errors=True)
        return self.process.returncode

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> "RunningStack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- console ----------------------------------------------------------------------

    def _read(self, stream: IO[str], sink: list[str]) -> None:
        for line in stream:
            with self._changed:
                sink.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def output(self) -> str:
        return ("--- stdout ---\n" + "\n".join(self.lines) +
                "\n--- stderr ---\n" + "\n".join(self.err_lines))

    def mark(self) -> int:
        """Where the console is now: pass it as `since` to wait for lines after it."""
        with self._changed:
            return len(self.lines)

    def wait_for_line(self, matches, timeout: float, since: int = 0) -> str:
        deadline = time.monotonic() + timeout
        seen = since
        with self._changed:
            while True:
                for line in self.lines[seen:]:
                    if matches(line):
                        return line
                seen = max(seen, len(self.lines))
                if self.process is not None and self.process.poll() is not None \
                        and not any(r.is_alive() for r in self._readers):
                    raise StackFailed(f"`python -m local` exited with code "
                                      f"{self.process.returncode} "
                                      f"before the expected line.\n{self.output()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StackFailed(f"`python -m local` printed no expected line within "
                                      f"{timeout:.0f} s.\n{self.output()}")
                self._changed.wait(min(left, 0.5))

    def codes(self, email: str, since: int = 0) -> list[str]:
        """Every code emailed to `email` (oldest first), from the console outbox."""
        found = []
        with self._changed:
            for line in self.lines[since:]:
                match = OUTBOX_LINE.match(line)
                if match and match["to"].casefold() == email.casefold():
                    found.append(match["code"])
        return found

    def wait_for_code(self, email: str, timeout: float = 10, since: int = 0) -> str:
        """The newest code emailed to `email` (after console line `since`), waiting for one."""
        deadline = time.monotonic() + timeout
        while True:
            codes = self.codes(email, since)
            if codes:
                return codes[-1]
            if time.monotonic() > deadline:
                raise StackFailed(f"No email with a code to {email} within {timeout:.0f} s.\n"
                                  f"{self.output()}")
            with self._changed:
                self._changed.wait(0.2)

    # --- people ------------------------------------------------------------------------

    def sign_up(self, name: str, username: str, password: str) -> None:
        """Sign up and verify with the code from the console outbox, as a person would."""
        from tests.helpers import http_json

        email = f"{username}@example.com"
        mark = self.mark()
        status, body = http_json(self.app_url, "POST", "/api/auth/signup", {
            "name": name, "email": email, "username": username, "password": password})
        assert status == 201, (status, body)
        code = self.wait_for_code(email, since=mark)
        status, body = http_json(self.app_url, "POST", "/api/auth/confirm",
                                 {"username": username, "code": code})
        assert status == 200, (status, body)

    def log_in(self, username: str, password: str) -> tuple[int, dict]:
        from tests.helpers import http_json

        return http_json(self.app_url, "POST", "/api/auth/login",
                         {"username": username, "password": password})

    def greeting(self, token: str) -> tuple[int, object]:
        from tests.helpers import http_json

        return http_json(self.app_url, "GET", "/api/greeting", token=token)
