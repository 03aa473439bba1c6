"""The local AWS's data, kept across restarts of `make run`.

moto keeps everything in memory. Here the whole of it (every service's backend
objects: Cognito users with their passwords and subs, DynamoDB items and its
stream, S3 objects, Parameter Store, SQS messages, ...) is pickled to one file
under the state directory and loaded again at the next start, so ids, subs and
tokens stay what they were (moto's request replay would generate new ones).

Consistency: a snapshot is taken while no request is inside moto (the `Gate`:
every request holds it shared, a snapshot exclusively; an SQS long poll lets go
of it while it only waits), so the file is one moment of the whole local AWS,
never half a request. Extra state that must match that moment (the pump's
stream positions) is read inside the same exclusive hold. The file is replaced
atomically (write, fsync, rename): a kill in the middle of a save leaves the
previous snapshot.

When: after changes (at most every `interval` seconds while something changes),
and on a clean stop if the last snapshot is behind (a write, the stream positions).
After `kill -9` the last snapshot is what survives, at most `interval` seconds old; it
is self-consistent, so a message is either still in its queue (and delivered after the
restart: the consumers are idempotent) or its effect is saved; messages a consumer had
received but not finished become visible again at the start (it died with the process).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from local import moto_patches
from local.run import moto_pickle

FORMAT = 1
FILE_NAME = "aws.pickle"


# --- the gate: requests shared, snapshots exclusive ----------------------------------------

class Gate:
    """A readers-writer lock: requests share it, a snapshot holds it alone (and goes first)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._local = threading.local()
        self.changes = 0  # requests that may have changed state, ever

    def _acquire_shared(self) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def _release_shared(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        self._acquire_shared()
        self._local.holding = True
        try:
            yield
        finally:
            self._local.holding = False
            self._release_shared()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Inside a request that only waits (an SQS long poll): let snapshots through."""
        if not getattr(self._local, "holding", False):
            yield
            return
        self._release_shared()
        try:
            yield
        finally:
            self._acquire_shared()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


GATE = Gate()

# Calls that only read need no new snapshot (a receive: when it handed messages out).
_READS = re.compile(r"^(Describe|List|Get|Scan|Query|BatchGet|Receive|Head)")
_READS_THAT_WRITE = {"GetId", "GetOpenIdToken", "GetCredentialsForIdentity",
                     "GetOpenIdTokenForDeveloperIdentity"}


def changes_state(environ: dict[str, Any], answer: bytes = b"") -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    action = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
    if action == "ReceiveMessage":  # messages handed out (visibility, counts); an idle poll: none
        return b'"ReceiptHandle"' in answer
    return not (action and _READS.match(action) and action not in _READS_THAT_WRITE)


_installed = False


def install() -> None:
    """An SQS long poll waits without holding the gate (a snapshot would wait up to 20 s)."""
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue

    def wait_for_messages(self: Any, timeout: int) -> None:
        with GATE.paused():
            original(self, timeout)

    original = moto_patches.replace(Queue, "wait_for_messages", wait_for_messages, by=__name__)
    _installed = True


def _release_in_flight() -> int:
    """Messages a consumer had received but not finished: visible again (it died with us)."""
    from moto.sqs.models import sqs_backends

    released = 0
    for _account, _region, backend in sqs_backends.iter_backends():
        for queue in backend.queues.values():
            for message in queue._messages:
                if not message.visible:
                    message.visible_at = 0.0
                    released += 1
            queue.pending_messages.clear()
    return released


def template_digest() -> str:
    from infra import template

    return hashlib.sha256(template.TEMPLATE_PATH.read_bytes()).hexdigest()[:16]


# --- the state file -------------------------------------------------------------------------------

class Store:
    """The state directory's snapshot: save(), load(), clear(), and a saver thread."""

    def __init__(self, directory: Path | str, interval: float = 0.5,
                 say: Callable[[str], None] = print) -> None:
        self.directory = Path(directory)
        self.path = self.directory / FILE_NAME
        self.interval = interval
        self.extras: dict[str, Callable[[], Any]] = {}  # name -> value to save with each snapshot
        self.saved_at = 0.0
        self._say = say
        # (GATE.changes, extras) as the last saved snapshot holds them, and the last captured
        self._saved: tuple[int, Any] = (-1, None)
        self._captured: tuple[int, Any] = (0, None)
        self.last_capture_s = 0.0  # how long the last snapshot held the local AWS
        self.last_wait_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saving = threading.Lock()  # the saver thread and POST /_local/save share one file

    # what is saved
    def capture(self) -> bytes:
        buffer = io.BytesIO()
        started = time.monotonic()
        with GATE.exclusive():
            held = time.monotonic()
            changes = GATE.changes
            extras = {name: read() for name, read in self.extras.items()}
            document = {"format": FORMAT, "template": template_digest(), "saved_at": time.time(),
                        "extras": extras, "backends": moto_pickle.dump_backends()}
            moto_pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(document)
        self.last_capture_s = time.monotonic() - held
        self.last_wait_s = held - started
        self._captured = (changes, extras)
        return buffer.getvalue()

    def save(self) -> None:
        with self._saving:
            data = self.capture()
            self.directory.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".partial")
            with open(partial, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, self.path)
            self._saved = self._captured
            self.saved_at = time.time()

    def load(self) -> dict[str, Any] | None:
        """Restore moto's backends from the file; its extras, or None when starting empty.
        Call before the local AWS serves anything. A snapshot of another template (the
        resources changed) is set aside, not loaded: the stack is then created anew."""
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as source:
                document = moto_pickle.Unpickler(source).load()
        except Exception as exc:  # noqa: BLE001 - a damaged file must not stop `make run`
            self._set_aside(f"could not be read ({type(exc).__name__}: {exc})")
            return None
        if document.get("format") != FORMAT or document.get("template") != template_digest():
            self._set_aside("was saved for another version of infra/template.yaml")
            return None
        moto_pickle.load_backends(document["backends"])
        released = _release_in_flight()
        self._saved = (GATE.changes, document["extras"])
        self.saved_at = document["saved_at"]
        return {**document["extras"], "_released_in_flight": released}

    def _set_aside(self, why: str) -> None:
        aside = self.path.with_name(f"{FILE_NAME}.{time.strftime('%Y%m%dT%H%M%S')}.old")
        os.replace(self.path, aside)
        self._say(f"[state] {self.path} {why}: starting clean (kept as {aside.name})")

    def clear(self) -> bool:
        """Forget the saved state; True when there was some."""
        existed = self.path.exists()
        for path in (self.path, self.path.with_suffix(".partial")):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return existed

    # when it is saved
    def start(self) -> "Store":
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        # While the data is large and busy, a snapshot every `interval` would hold the local AWS
        # too often: wait at least four times as long as the last one held it.
        while not self._stop.wait(max(self.interval, 4 * self.last_capture_s)):
            if GATE.changes != self._saved[0]:
                try:
                    self.save()
                except Exception as exc:  # noqa: BLE001 - keep serving; say why it is not saved
                    self._say(f"[state] could not save the local AWS: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        """Stop the saver; save once more unless the last snapshot already holds it all."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with GATE.exclusive():
            now = (GATE.changes, {name: read() for name, read in self.extras.items()})
            behind = now != self._saved or not self.path.exists()
        if behind:
            self.save()
