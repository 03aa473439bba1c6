"""moto's backends as one picklable document, for local/run/state.py's snapshots.

Plain pickle refuses some of moto's objects; `Pickler` saves them anyway (see its
docstring). `dump_backends()` gathers every moto service that holds data, and
`load_backends()` puts a saved one back. `Unpickler` (and `loads`) load a snapshot saved by
an older layout of local/, following RENAMED: where each moved module's names went.
"""
from __future__ import annotations

import io
import pickle
import sys
import threading
from typing import Any, Iterator


def _load_private_key(pem: bytes) -> Any:
    """A key this module saved: its RSA checks (about 50 ms a key) were made when it was
    generated, so loading skips them."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None, unsafe_skip_rsa_key_validation=True)


def _load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


_LOCK_TYPES = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock,
               threading.Condition: threading.Condition, threading.Event: threading.Event}


class Pickler(pickle.Pickler):
    """moto's objects, with what plain pickle refuses: locks (made anew), cryptography keys
    (as PEM), defaultdicts whose factory is a lambda (the factory described by what it makes)
    and defaultdict subclasses whose __init__ takes other arguments."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:  # most objects: moto's models, pickled as usual
            return NotImplemented
        from collections import defaultdict

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
        if not isinstance(obj, defaultdict):  # what a defaultdict needs depends on its factory
            _PLAIN.add(kind)
        return NotImplemented


# Types reducer_override leaves to pickle, learnt as they are met: the override is called for
# every object that is not a builtin (a snapshot of 10,000 people: ~10^6 calls), so the common
# answer is one set lookup.
_PLAIN: set[type] = set()


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
        candidates += [sys.modules[name] for name in (package, f"{package}.models")
                       if name in sys.modules]
        for candidate in candidates:
            for attribute, value in vars(candidate).items():
                if value is backends:
                    yield candidate.__name__, attribute, backends
                    break
            else:
                continue
            break


def dump_backends() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    return {(module, attribute): {account: dict(regions) for account, regions in backends.items()}
            for module, attribute, backends in _backend_dicts()}


def load_backends(saved: dict[tuple[str, str], dict[str, dict[str, Any]]]) -> None:
    import importlib

    for (module, attribute), accounts in saved.items():
        backends = getattr(importlib.import_module(module), attribute)
        for account, regions in accounts.items():
            account_backends = backends[account]  # creates it, and registers the service with moto
            for region, backend in regions.items():
                dict.__setitem__(account_backends, region, backend)


# --- loading snapshots saved by older layouts of local/ ------------------------------------------

# Where a module's pickled names went when local/ was reorganised: (old module, name) or
# (old module, "*") -> new module (and new name, when it changed too).
RENAMED: dict[tuple[str, str], tuple[str, str | None]] = {
    ("local.iam", "_UsersRememberingDeletions"): ("local.cognito.sessions",
                                                  "UsersRememberingDeletions"),
    ("local.identity_pool", "_UsersRememberingDeletions"): ("local.cognito.sessions",
                                                            "UsersRememberingDeletions"),
    ("local.cognito_lockout", "*"): ("local.cognito.lockout", None),
    ("local.state", "*"): ("local.run.moto_pickle", None),  # its pickling helpers moved there
}
# local/'s flat modules, each moved into the package of what it emulates (issue 31): any of
# their names a snapshot may hold (moto's objects of their classes, their functions).
MOVED = {
    "local.moto_pickle": "local.run.moto_pickle", "local.console": "local.run.console",
    "local.outbox": "local.run.outbox", "local.ports": "local.run.ports",
    "local.serve": "local.run.serve", "local.warm": "local.run.warm",
    "local.clock": "local.server.clock", "local.control": "local.server.control",
    "local.faults": "local.server.faults", "local.moto_dispatch": "local.server.dispatch",
    "local.cloudformation": "local.cloudformation.stacks",
    "local.stack": "local.cloudformation.language",
    "local.resources": "local.cloudformation.resources",
    "local.resource_changes": "local.cloudformation.resource_changes",
    "local.deliver": "local.event_sources.deliver", "local.events": "local.event_sources.events",
    "local.pump": "local.event_sources.pump", "local.pump_stream": "local.event_sources.stream",
    "local.redrive": "local.event_sources.redrive",
    "local.dynamodb_transactions": "local.dynamodb.transactions",
    "local.dynamodb_updates": "local.dynamodb.updates",
    "local.s3_events": "local.s3.delete_markers", "local.sqs_scans": "local.sqs.scans",
    "local.apigateway_import": "local.apigateway.rest_api_import",
    "local.wafv2": "local.wafv2.resources_for_web_acl",
}
RENAMED.update({(old, "*"): (new, None) for old, new in MOVED.items()})


class Unpickler(pickle.Unpickler):
    """pickle.Unpickler that follows RENAMED, so a snapshot of an older local/ still loads."""

    def find_class(self, module: str, name: str) -> Any:
        new = RENAMED.get((module, name)) or RENAMED.get((module, "*"))
        if new is not None:
            module, name = new[0], new[1] or name
        return super().find_class(module, name)


def loads(data: bytes) -> Any:
    return Unpickler(io.BytesIO(data)).load()
