"""The users' names in SSM Parameter Store: the source of the greeting.

Hierarchy: /comm-it/<stage>/users/<sub>/name (a String parameter per user).
Reads are cached for a few seconds per Lambda container: GetParameter's default
throughput is low and shared, and a changed name still shows within seconds. A name
not there yet is remembered as missing for MISS_SECONDS, so a page asking several
times a second while the pipeline runs costs at most one read a second per person
and container (docs/scaling.md). put and delete forget their own cached copy, so the
process that changes a name greets with the new one at once.
"""
from __future__ import annotations

import threading
import time

from chalicelib.aws import client, error_code
from chalicelib.config import settings

CACHE_SECONDS = 5.0
MISS_SECONDS = 1.0
_MAX_MISSES = 4096  # a container's pending people; older misses are dropped beyond it

_cache: dict[str, tuple[float, str]] = {}
_misses: dict[str, float] = {}  # parameter name -> when it was last found missing
_lock = threading.Lock()


def parameter_name(sub: str) -> str:
    return f"{settings().name_parameter_prefix}/{sub}/name"


def forget(sub: str) -> None:
    """Drop this container's cached name (or cached miss) of one person: it just wrote or
    changed the name, so its next read asks Parameter Store."""
    with _lock:
        _cache.pop(parameter_name(sub), None)
        _misses.pop(parameter_name(sub), None)


def put(sub: str, name: str) -> None:
    forget(sub)
    # Intelligent-Tiering: standard while the account has room (10,000 standard parameters),
    # advanced past that, so the 10,001st name is written, not refused (docs/scaling.md).
    client("ssm").put_parameter(Name=parameter_name(sub), Value=name, Type="String",
                                Overwrite=True, Tier="Intelligent-Tiering",
                                Description="Comm-IT: the user's name, for the greeting")


def delete(sub: str) -> bool:
    """Remove the user's name; False when there was none."""
    from botocore.exceptions import ClientError

    forget(sub)
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

    A miss is remembered for MISS_SECONDS: (None, False) until then."""
    from botocore.exceptions import ClientError

    name = parameter_name(sub)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
        missed = _misses.get(name)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1], False
    if missed is not None and now - missed < MISS_SECONDS:
        return None, False
    try:
        value = client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            with _lock:
                if len(_misses) >= _MAX_MISSES:
                    _misses.clear()
                _misses[name] = time.monotonic()
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
