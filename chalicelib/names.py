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
from typing import Callable

from chalicelib.aws import client, error_code
from chalicelib.config import settings
from chalicelib.read_batches import BatchReader

CACHE_SECONDS = 5.0
MISS_FIRST_SECONDS = 0.2
MISS_SECONDS = 1.0  # every miss after the first
_MAX_MISSES = 4096  # a container's pending people; older misses are dropped beyond it


class NameCache:
    """A container's names as last read, and its misses: `read` (a parameter's name -> its
    value, None when there is none), `clock` (seconds, monotonic)."""

    def __init__(self, read: Callable[[str], str | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.read, self.clock = read, clock
        self._names: dict[str, tuple[float, str]] = {}  # parameter -> (when read, value)
        self._misses: dict[str, tuple[float, float]] = {}  # parameter -> (when missed, how long)
        self._lock = threading.Lock()

    def lookup(self, parameter: str) -> tuple[str | None, bool]:
        """(its value or None, whether it was read just now)."""
        now = self.clock()
        with self._lock:
            cached, missed = self._names.get(parameter), self._misses.get(parameter)
        if cached and now - cached[0] < CACHE_SECONDS:
            return cached[1], False
        if missed is not None and now - missed[0] < missed[1]:
            return None, False
        value = self.read(parameter)
        with self._lock:
            if value is None:
                if len(self._misses) >= _MAX_MISSES:
                    self._misses.clear()
                window = MISS_FIRST_SECONDS if missed is None else MISS_SECONDS
                self._misses[parameter] = (self.clock(), window)
            else:
                self._names[parameter] = (self.clock(), value)
                self._misses.pop(parameter, None)
        return value, True

    def next_read_in(self, parameter: str) -> float:
        """Seconds until lookup(parameter) reads again: 0 unless a miss is remembered."""
        with self._lock:
            missed = self._misses.get(parameter)
        return 0.0 if missed is None else max(0.0, missed[0] + missed[1] - self.clock())

    def forget(self, parameter: str) -> None:
        """Drop what is kept of one parameter: its next lookup reads."""
        with self._lock:
            self._names.pop(parameter, None)
            self._misses.pop(parameter, None)

    def clear(self) -> None:
        with self._lock:
            self._names.clear()
            self._misses.clear()


def parameter_name(sub: str) -> str:
    return f"{settings().name_parameter_prefix}/{sub}/name"


def forget(sub: str) -> None:
    """Drop this container's cached name (or cached miss) of one person: it just wrote or
    changed the name, so its next read asks Parameter Store."""
    _cache.forget(parameter_name(sub))


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
_cache = NameCache(_reader.read)


def cache() -> NameCache:
    """This container's names (tests move its clock)."""
    return _cache


def get(sub: str) -> str | None:
    """The user's name, or None while the pipeline has not written it yet."""
    return lookup(sub)[0]


def lookup(sub: str) -> tuple[str | None, bool]:
    """(the user's name or None, whether Parameter Store was asked just now).

    A first miss is remembered (None, False) for MISS_FIRST_SECONDS, every further one for
    MISS_SECONDS."""
    return _cache.lookup(parameter_name(sub))


def forget_cache() -> None:
    _cache.clear()


def next_read_in(sub: str) -> float:
    """Seconds until lookup(sub) asks Parameter Store again: 0 unless a miss is remembered."""
    return _cache.next_read_in(parameter_name(sub))
