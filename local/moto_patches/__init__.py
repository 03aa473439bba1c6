"""Every patch the local AWS makes, to moto and to `chalice local`, in one registry: what is
missing, what kind of patch it is, the version it was written for, and what upstream
would have to do for it to go. One list per package patched: moto's in `moto.py` (PATCHES),
`chalice local`'s in `chalice.py` (CHALICE_PATCHES); what a patch is, in `kinds.py`.

The emulations (local/cognito/, local/iam/, local/run/state.py) replace moto's methods only through
`replace()`, which refuses a target that is not listed here: a new patch must be named in PATCHES
first. local/run/serve.py patches `chalice local` through its `setattr_`;
tests/local/test_moto_patches_pinned.py fails when it sets anything CHALICE_PATCHES does not list,
and when the installed moto or chalice is not MOTO_VERSION / CHALICE_VERSION (the pins in
requirements-dev.txt). Each entry has a canary in tests/canaries/: a test showing, against moto or
chalice unpatched, the gap the patch closes; when a pin moves, a canary that fails names the patch
to delete. After an upgrade, re-check the canaries, then move the pin and the version in `kinds.py`.
"""
from __future__ import annotations

import types
from typing import Any, Callable

from local.moto_patches.chalice import CHALICE_PATCHES
from local.moto_patches.kinds import (CHALICE_VERSION, GAP, MOTO_VERSION, RUNTIME, SPEED,
                                      Patch)
from local.moto_patches.moto import PATCHES

__all__ = ["CHALICE_PATCHES", "CHALICE_VERSION", "GAP", "MOTO_VERSION", "PATCHES", "RUNTIME",
           "SPEED", "Patch", "applied", "is_applied", "replace", "target"]

_LISTED = {(p.target, p.by) for p in PATCHES}
applied: dict[tuple[str, str], Callable[..., Any]] = {}  # (target, by) -> what it replaced


def target(owner: Any, name: str) -> str:
    """module.Class.name, or module.name for a name of a module's own (a module owner)."""
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def is_applied(owner: Any, name: str, by: str) -> bool:
    return (target(owner, name), by) in applied


def replace(owner: Any, name: str, new: Any, *, by: str) -> Any:
    """Set `owner.name` to `new` (listed in PATCHES for `by`, at most once); return what was
    there before, for `new` to wrap. `owner` is a class of moto's, or a module of moto's for a
    name its code looks up in the module's globals."""
    key = (target(owner, name), by)
    if key not in _LISTED:
        raise LookupError(f"{key[0]} patched by {by} is not listed in local/moto_patches/")
    if key in applied:
        raise RuntimeError(f"{key[0]} already patched by {by}")
    applied[key] = previous = getattr(owner, name, None)  # None: moto has no such method
    setattr(owner, name, new)
    return previous
