"""The users' names in SSM Parameter Store: the source of the greeting.

Hierarchy: /comm-it/<stage>/users/<sub>/name (a String parameter per user).
Reads are cached for a few seconds per Lambda container: GetParameter's default
throughput is low and shared, and a changed name still shows within seconds. A name
not there yet is remembered as missing, first for MISS_FIRST_SECONDS (the pipeline
usually writes it within a few hundred ms: an idle stack greets at once), then for
MISS_SECONDS after every further miss: a page asking several times a second while the
pipeline runs costs a read to find out and then at most one a second per person and
container (docs/scaling.md). put and delete forget their own cached copy, so the
process that changes a name greets with the new one at once. Reads asked for at the same
moment in one container go together (GetParameters, 10 names a call: read_batches.py).
"""
from __future__ import annotations

import threading
import time

from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.read_batches import BatchReader

CACHE_SECONDS = 5.0
MISS_FIRST_SECONDS = 0.2
MISS_SECONDS = 1.0  # every miss after the first
_MAX_MISSES = 4096  # a container's pending people; older misses are dropped beyond it

_cache: dict[str, tuple[float, str]] = {}
_misses: dict[str, tuple[float, float]] = {}  # parameter name -> (when last missed, how long)
_lock = threading.Lock()


def parameter_name(sub: str) -> str:
    return f"{settings().name_parameter_prefix}/{sub}/name"


def forget(sub: str) -> None:
    """Drop this container's cached name (or cached miss) of one person: it just wrote or
    changed the name, so its next read asks Parameter Store."""
    with _lock:
        _cache.pop(parameter_name(sub), None)
        _misses.pop(parameter_name(sub), None)


DESCRIPTION = "Comm-IT: the user's name, for the greeting"
# Each version's description names the user event that wrote it (the journey of a
# change reads it back: chalicelib/changes.py). Labels cannot: they may not begin with a digit.
EVENT_MARK = "; event "


# Standard: free, at most 10,000 per account and region. Past that the name is refused with
# ParameterLimitExceeded, which sync_name skips with an alarmed line (pipeline.NEVER_SUCCEEDS,
# docs/operations.md), never turned silently into a paid advanced parameter as
# Intelligent-Tiering would (docs/scaling.md, "The 10,001st user").
TIER = "Standard"


def put(sub: str, name: str, event_id: str = "") -> None:
    forget(sub)
    description = f"{DESCRIPTION}{EVENT_MARK}{event_id}" if event_id else DESCRIPTION
    client("ssm").put_parameter(Name=parameter_name(sub), Value=name, Type="String",
                                Overwrite=True, Tier=TIER, Description=description)


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

    forget(sub)
    try:
        client("ssm").delete_parameter(Name=parameter_name(sub))
    except ClientError as exc:
        if error_code(exc) == "ParameterNotFound":
            return False
        raise
    return True


def _read(parameter_names: list[str]) -> dict[str, str]:
    """The values of those parameters that exist (GetParameters lists the others apart)."""
    answer = client("ssm").get_parameters(Names=parameter_names)
    return {parameter["Name"]: parameter["Value"] for parameter in answer["Parameters"]}


_reader: BatchReader[str, str] = BatchReader(_read, size=10)  # GetParameters' most


def get(sub: str) -> str | None:
    """The user's name, or None while the pipeline has not written it yet."""
    return lookup(sub)[0]


def lookup(sub: str) -> tuple[str | None, bool]:
    """(the user's name or None, whether Parameter Store was asked just now).

    A first miss is remembered (None, False) for MISS_FIRST_SECONDS, every further one for
    MISS_SECONDS."""
    name = parameter_name(sub)
    now = time.monotonic()
    with _lock:
        cached = _cache.get(name)
        missed = _misses.get(name)
    if cached and now - cached[0] < CACHE_SECONDS:
        return cached[1], False
    if missed is not None and now - missed[0] < missed[1]:
        return None, False
    value = _reader.read(name)
    if value is None:
        with _lock:
            if len(_misses) >= _MAX_MISSES:
                _misses.clear()
            window = MISS_FIRST_SECONDS if missed is None else MISS_SECONDS
            _misses[name] = (time.monotonic(), window)
        return None, True
    with _lock:
        _cache[name] = (time.monotonic(), value)
        _misses.pop(name, None)
    return value, True


def forget_cache() -> None:
    with _lock:
        _cache.clear()
        _misses.clear()


def next_read_in(sub: str) -> float:
    """Seconds until lookup(sub) asks Parameter Store again: 0 unless a miss is remembered."""
    with _lock:
        missed = _misses.get(parameter_name(sub))
    return 0.0 if missed is None else max(0.0, missed[0] + missed[1] - time.monotonic())
