"""The users' names in SSM Parameter Store: the source of the greeting.

Hierarchy: /comm-it/<stage>/users/<sub>/name (a String parameter per user).
Reads are cached for a few seconds per Lambda container: GetParameter's default
throughput is low and shared, and a changed name still shows within seconds.
"""
from __future__ import annotations

import threading
import time

from chalicelib.aws import client, error_code
from chalicelib.config import settings

CACHE_SECONDS = 5.0

_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def parameter_name(sub: str) -> str:
    return f"{settings().name_parameter_prefix}/{sub}/name"


def put(sub: str, name: str) -> None:
    client("ssm").put_parameter(Name=parameter_name(sub), Value=name, Type="String",
                                Overwrite=True, Description="Comm-IT: the user's name, for the greeting")


def delete(sub: str) -> bool:
    """Remove the user's name; False when there was none."""
    from botocore.exceptions import ClientError

    try:
        client("ssm").delete_parameter(Name=parameter_name(sub))
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return False
        raise
    return True


def get(sub: str) -> str | None:
    """The user's name, or None while the pipeline has not written it yet."""
    from botocore.exceptions import ClientError

    name = parameter_name(sub)
    with _lock:
        cached = _cache.get(name)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        value = client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return None  # not cached: it appears as soon as the pipeline writes it
        raise
    with _lock:
        _cache[name] = (time.monotonic(), value)
    return value


def forget(sub: str) -> None:
    """Drop this process's cached name of one person (it just changed the name)."""
    with _lock:
        _cache.pop(parameter_name(sub), None)


def forget_cache() -> None:
    with _lock:
        _cache.clear()
