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
and once more on a clean stop. After `kill -9` the last snapshot is what
survives, at most `interval` seconds old; it is self-consistent, so a message is
either still in its queue (and delivered after the restart: the consumers are
idempotent) or its effect is saved; messages a consumer had received but not
finished become visible again at the start (that consumer died with the process).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

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

# Calls that only read: they need no new snapshot. Everything else may change state.
_READS = re.compile(r"^(Describe|List|Get|Scan|Query|BatchGet|Receive|Head)")
_READS_THAT_WRITE = {"GetId", "GetOpenIdToken", "GetCredentialsForIdentity",
                     "GetOpenIdTokenForDeveloperIdentity"}


def changes_state(environ: dict[str, Any]) -> bool:
    if environ.get("REQUEST_METHOD") in ("GET", "HEAD", "OPTIONS"):
        return False
    action = environ.get("HTTP_X_AMZ_TARGET", "").rsplit(".", 1)[-1]
    return not (action and _READS.match(action) and action not in _READS_THAT_WRITE)


_installed = False


def install() -> None:
    """An SQS long poll waits without holding the gate (a snapshot would wait up to 20 s)."""
    global _installed
    if _installed:
        return
    from moto.sqs.models import Queue

    original = Queue.wait_for_messages

    def wait_for_messages(self: Any, timeout: int) -> None:
        with GATE.paused():
            original(self, timeout)

    Queue.wait_for_messages = wait_for_messages
    _installed = True


# --- pickling moto ------------------------------------------------------------------------------

def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


_LOCK_TYPES = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock,
               threading.Condition: threading.Condition, threading.Event: threading.Event}


class _Pickler(pickle.Pickler):
    """moto's objects, with what plain pickle refuses: locks (made anew), cryptography keys
    (as PEM), defaultdicts whose factory is a lambda (the factory described by what it makes)
    and defaultdict subclasses whose __init__ takes other arguments."""

    def reducer_override(self, obj: Any) -> Any:
        from collections import defaultdict

        kind = type(obj)
        if kind in _LOCK_TYPES:
            return _LOCK_TYPES[kind], ()
        if kind.__module__.startswith("cryptography.") and hasattr(obj, "private_bytes"):
            from cryptography.hazmat.primitives import serialization as s

            return _load_private_key, (obj.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                                         s.NoEncryption()),)
        if kind.__module__.startswith("cryptography.") and hasattr(obj, "public_bytes") \
                and hasattr(obj, "verify"):
            from cryptography.hazmat.primitives import serialization as s

            return _load_public_key, (obj.public_bytes(s.Encoding.PEM,
                                                       s.PublicFormat.SubjectPublicKeyInfo),)
        if isinstance(obj, defaultdict):
            made_by_lambda = getattr(obj.default_factory, "__name__", "") == "<lambda>"
            if kind is defaultdict and not made_by_lambda:
                return NotImplemented
            # A subclass (moto's ParameterDict) has its own __init__: rebuild it without calling it.
            factory = ("shape", _factory_shape(obj.default_factory())) if made_by_lambda \
                else obj.default_factory
            return (_rebuild_defaultdict, (kind, factory), getattr(obj, "__dict__", None) or None,
                    None, iter(obj.items()))
        return NotImplemented


def _factory_shape(sample: Any) -> Any:
    """A picklable description of what a lambda factory makes: a type, or ("dd", inner)."""
    from collections import defaultdict

    if isinstance(sample, defaultdict):
        return ("dd", _factory_shape(sample.default_factory()) if sample.default_factory else None)
    if type(sample) in (dict, list, set, int, str, float):
        return type(sample)
    raise pickle.PicklingError(f"cannot save a defaultdict whose factory makes {type(sample)!r}")


def _factory(shape: Any) -> Any:
    from collections import defaultdict

    if isinstance(shape, tuple):
        inner = _factory(shape[1]) if shape[1] is not None else None
        return lambda: defaultdict(inner)
    return shape


def _rebuild_defaultdict(kind: type, factory: Any) -> Any:
    from collections import defaultdict

    if isinstance(factory, tuple) and factory[0] == "shape":
        factory = _factory(factory[1])
    rebuilt = defaultdict.__new__(kind)
    defaultdict.__init__(rebuilt, factory)
    return rebuilt


def _backend_dicts() -> Iterator[tuple[str, str, Any]]:
    """(module, attribute, BackendDict) of every moto service that holds data."""
    from moto.core.base_backend import BackendDict

    for backends in list(BackendDict._instances):
        module = sys.modules.get(backends.backend.__module__)
        candidates = [module] if module else []
        package = backends.backend.__module__.rsplit(".", 1)[0]
        candidates += [sys.modules[name] for name in (package, f"{package}.models") if name in sys.modules]
        for candidate in candidates:
            for attribute, value in vars(candidate).items():
                if value is backends:
                    yield candidate.__name__, attribute, backends
                    break
            else:
                continue
            break


def _dump_backends() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    return {(module, attribute): {account: dict(regions) for account, regions in backends.items()}
            for module, attribute, backends in _backend_dicts()}


def _load_backends(saved: dict[tuple[str, str], dict[str, dict[str, Any]]]) -> None:
    import importlib

    for (module, attribute), accounts in saved.items():
        backends = getattr(importlib.import_module(module), attribute)
        for account, regions in accounts.items():
            account_backends = backends[account]  # creates it, and registers the service with moto
            for region, backend in regions.items():
                dict.__setitem__(account_backends, region, backend)


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
        self._saved_changes = -1
        self._captured_changes = 0
        self.last_capture_s = 0.0  # how long the last snapshot held the local AWS
        self.last_wait_s = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # what is saved
    def capture(self) -> bytes:
        buffer = io.BytesIO()
        started = time.monotonic()
        with GATE.exclusive():
            held = time.monotonic()
            changes = GATE.changes
            document = {"format": FORMAT, "template": template_digest(), "saved_at": time.time(),
                        "extras": {name: read() for name, read in self.extras.items()},
                        "backends": _dump_backends()}
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(document)
        self.last_capture_s = time.monotonic() - held
        self.last_wait_s = held - started
        self._captured_changes = changes
        return buffer.getvalue()

    def save(self) -> None:
        data = self.capture()
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, self.path)
        self._saved_changes = self._captured_changes
        self.saved_at = time.time()

    def load(self) -> dict[str, Any] | None:
        """Restore moto's backends from the file; its extras, or None when starting empty.

        Call before the local AWS serves anything. A snapshot of another template (the
        resources changed) is set aside, not loaded: the stack is then created anew."""
        if not self.path.exists():
            return None
        try:
            with open(self.path, "rb") as source:
                document = pickle.load(source)
        except Exception as exc:  # noqa: BLE001 - a damaged file must not stop `make run`
            self._set_aside(f"could not be read ({type(exc).__name__}: {exc})")
            return None
        if document.get("format") != FORMAT or document.get("template") != template_digest():
            self._set_aside("was saved for another version of infra/template.yaml")
            return None
        _load_backends(document["backends"])
        released = _release_in_flight()
        self._saved_changes = GATE.changes
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
            if GATE.changes != self._saved_changes:
                try:
                    self.save()
                except Exception as exc:  # noqa: BLE001 - keep serving; say why it is not saved
                    self._say(f"[state] could not save the local AWS: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        """Stop the saver and save once more (a clean stop keeps everything)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.save()
