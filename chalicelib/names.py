"""The users' names in SSM Parameter Store: the source of the greeting.

Hierarchy: /comm-it/<stage>/users/<sub>/name (a String parameter per user).
Reads are cached for a few seconds per Lambda container: GetParameter's default
throughput is low and shared, and a changed name still shows within seconds. A name
not there yet is remembered as missing, first for MISS_FIRST_SECONDS (the pipeline
usually writes it within a few hundred ms: an idle stack greets at once), then for
MISS_SECONDS after every further miss: a page asking several times a second while the
pipeline runs costs a read to find out and then at most one a second per person and
container (docs/scaling.md). put and delete forget their own cached copy, so the
process that changes a name greets with the new one at once.
"""
from __future__ import annotations

import threading
import time

from chalicelib.aws import client, error_code
from chalicelib.config import settings

CACHE_SECONDS = 5.0
MISS_FIRST_SECONDS = 0.2
MISS_SECONDS = 1.0  # every miss after the first
_MAX_MISSES = 4096  # a container's pending people; older misses are dropped beyond it

_cache: dict[str, tuple[float, str]] = {}
_misses: dict[str, tuple[float, float]] = {}  # parameter name -> (when last missed, how long)
_lock = threading.Lock()


def parameter_name(sub: str) -> str:
    return f"{settings().name_parameter_prefix}/{sub}/name"


def _forget(sub: str) -> None:
    with _lock:
        _cache.pop(parameter_name(sub), None)
        _misses.pop(parameter_name(sub), None)


def put(sub: str, name: str) -> None:
    _forget(sub)
    # Intelligent-Tiering: standard while the account has room (10,000 standard parameters),
    # advanced past that, so the 10,001st name is written, not refused (docs/scaling.md).
    client("ssm").put_parameter(Name=parameter_name(sub), Value=name, Type="String",
                                Overwrite=True, Tier="Intelligent-Tiering",
                                Description="Comm-IT: the user's name, for the greeting")


def delete(sub: str) -> bool:
    """Remove the user's name; False when there was none."""
    from botocore.exceptions import ClientError

    _forget(sub)
    try:
        client("ssm").delete_parameter(Name=parameter_name(sub))
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return False
        raise
    return True


def get(sub: str) -> str | None:
    """The user's name, or None while the pipeline has not written it yet."""
    return lookup(sub)[0]


def lookup(sub: str) -> tuple[str | None, bool]:
    """(the user's name or None, whether Parameter Store was asked just now).

    A first miss is remembered (None, False) for MISS_FIRST_SECONDS, every further one for
    MISS_SECONDS."""
    from botocore.exceptions import ClientError

    name = parameter_name(sub)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
        missed = _misses.get(name)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1], False
    if missed is not None and now - missed[0] < missed[1]:
        return None, False
    try:
        value = client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            with _lock:
                if len(_misses) >= _MAX_MISSES:
                    _misses.clear()
                window = MISS_FIRST_SECONDS if missed is None else MISS_SECONDS
                _misses[name] = (time.monotonic(), window)
            return None, True
        raise
    with _lock:
        _cache[name] = (time.monotonic(), value)
        _misses.pop(name, None)
    return value, True


def forget_cache() -> None:
    with _lock:
        _cache.clear()
        _misses.clear()
