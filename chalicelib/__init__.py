"""Comm-IT's application code: everything here ships to Lambda.

Every Lambda of the app imports the same app.py, and each uses only some of these
modules (the stream Lambda never needs Cognito or people's files). So
`from chalicelib import cognito` gives the module with the standard library's lazy
loader: it is a real module object (tests can patch it), executed on first use
(PEP 562 module __getattr__ + importlib.util.LazyLoader). On Python 3.11 that first use
is not safe from two threads at once: Lambda runs one event per container at a time, and
the local servers, which use threads, run every module at start (local/run/warm.py).
"""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    fullname = f"{__name__}.{name}"
    spec = None if name.startswith("_") else importlib.util.find_spec(fullname)
    if spec is None or spec.loader is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    globals()[name] = module
    spec.loader.exec_module(module)  # deferred: runs on the first attribute access
    return module
