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


DESCRIPTION = "Comm-IT: the user's name, for the greeting"
# Each version's description names the user event that wrote it (the journey of a
# change reads it back: chalicelib/changes.py). Labels cannot: they may not begin with a digit.
EVENT_MARK = "; event "


def put(sub: str, name: str, event_id: str = "") -> None:
    # Intelligent-Tiering: standard while the account has room (10,000 standard parameters),
    # advanced past that, so the 10,001st name is written, not refused (docs/scaling.md).
    description = f"{DESCRIPTION}{EVENT_MARK}{event_id}" if event_id else DESCRIPTION
    client("ssm").put_parameter(Name=parameter_name(sub), Value=name, Type="String",
                                Overwrite=True, Tier="Intelligent-Tiering",
                                Description=description)


def versions(sub: str) -> list[dict]:
    """Every version of the user's name, oldest first: version, value, modified (a datetime)
    and event_id (the event that wrote it, "" for versions written before it was recorded).
    Empty while there is no parameter."""
    from botocore.exceptions import ClientError

    out: list[dict] = []
    try:
        pages = client("ssm").get_paginator("get_parameter_history").paginate(
            Name=parameter_name(sub))
        for page in pages:
            for item in page.get("Parameters", []):
                description = item.get("Description", "")
                out.append({"version": item.get("Version"), "value": item.get("Value", ""),
                            "modified": item.get("LastModifiedDate"),
                            "event_id": description.partition(EVENT_MARK)[2]})
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return []
        raise
    return out


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


def forget_cache() -> None:
    with _lock:
        _cache.clear()
