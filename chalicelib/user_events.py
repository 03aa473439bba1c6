"""The user events: what the API tells the pipeline about a person.

One contract, JSON on the SNS topic; SNS fans each event out to one SQS queue per
consumer (raw message delivery, so an SQS body is exactly this JSON):

    {"type", "version", "event_id", "occurred_at", "sub", ...}

- "user.authenticated"  a login: username, email, name; and, for the person's list of
                        sessions (record_sign_in, chalicelib/sign_ins.py), origin_jti (the
                        session), auth_time (when it began: Cognito's, epoch seconds, as
                        text), signed_in_at (when the log-in finished, as occurred_at: the
                        activity line's time), device ("Chrome on Linux"), ip, and method
                        (how: "" a password, "email-code" an emailed code, "passkey"). Still
                        version 1: those six are optional (default ""), so a message without
                        them still parses, and consumers that do not need them ignore them
                        (save_profile and archive_profile never copy the device or IP).
- "user.updated"        a name change or a verified email change: username, email, name,
                        all current values (a consumer never has to merge partial changes)
- "user.deleted"        the account was deleted: username

Every event is a snapshot of the person at `occurred_at`, so consumers apply the
newest one and drop older ones; after "user.deleted" nothing brings the person back.
A snapshot is stamped no later than the moment its data was read (a login: before
InitiateAuth; a change: after Cognito committed it, before the values are read
back), so a snapshot holding older values never counts as newer than a change.
A consumer that meets a message it cannot read (not JSON, a type or version it does not
know, a field missing) gets MalformedEvent: the message fails like any other, so SQS
delivers it again up to the queue's maxReceiveCount, then moves it to the queue's
dead-letter queue, where an alarm fires and a redrive delivers it again
(chalicelib/pipeline.py). It is kept, not dropped: an event of a type or version a
newer producer published before its consumer was deployed is applied once redriven.
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import MISSING, asdict, dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Union

from chalicelib.aws import client
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable

log = logging.getLogger(__name__)

class MalformedEvent(ValueError):
    """A message that is not one of the user events this code knows: retried, then
    dead-lettered (kept for a redrive once a consumer that knows it is deployed)."""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Event:
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    if TYPE_CHECKING:  # every event is a dataclass with a sub (for asdict and the checks)
        __dataclass_fields__: ClassVar[dict[str, Any]]
        sub: str

    def to_json(self) -> str:
        return json.dumps({"type": self.TYPE, "version": self.VERSION, **asdict(self)})

    @classmethod
    def from_json(cls, body: str) -> Any:
        event = parse(body)
        if not isinstance(event, cls):
            raise MalformedEvent(f"not a {cls.TYPE} v{cls.VERSION} event")
        return event

    @classmethod
    def _from_data(cls, data: dict[str, Any]) -> Any:
        try:  # an optional field (one with a default) may be missing
            event = cls(**{f.name: data[f.name] for f in fields(cls)
                           if f.name in data or f.default is MISSING})
        except (TypeError, KeyError) as exc:
            raise MalformedEvent(f"malformed event: {exc}") from None
        if not all(isinstance(v, str) for v in asdict(event).values()) or not event.sub:
            raise MalformedEvent("malformed event: fields must be text and sub is required")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", event.sub):
            # The sub names the person's S3 prefix: never a path of its own.
            raise MalformedEvent("malformed event: sub is not a user pool sub")
        return event


@dataclass(frozen=True)
class UserAuthenticated(_Event):
    TYPE: ClassVar[str] = "user.authenticated"

    event_id: str
    occurred_at: str  # ISO 8601 UTC with microseconds: fixed width, sorts as text
    sub: str
    username: str
    email: str
    name: str
    # Optional (added within version 1): the session, for the Security page's list.
    origin_jti: str = ""
    auth_time: str = ""  # epoch seconds, as text
    signed_in_at: str = ""  # as occurred_at
    device: str = ""
    ip: str = ""
    method: str = ""  # how the person signed in: "" a password, "email-code", "passkey"

    @classmethod
    def from_claims(cls, claims: dict[str, Any], at: str, device: str = "",
                    ip: str = "", method: str = "") -> "UserAuthenticated":
        """The login's snapshot, stamped `at`: taken before InitiateAuth read the attributes
        the claims carry (chalicelib/login.py), never when it is published (signed_in_at
        is); `device` and `ip` are the asking browser's (chalicelib/devices.py)."""
        began = claims.get("auth_time") or claims.get("iat") or ""
        return cls(event_id=str(uuid.uuid4()), occurred_at=at, sub=claims["sub"],
                   username=claims.get("cognito:username", ""),
                   email=claims.get("email", ""), name=claims.get("name", ""),
                   origin_jti=str(claims.get("origin_jti") or ""),
                   auth_time=str(int(began)) if began else "", signed_in_at=now_iso(),
                   device=device, ip=ip, method=method)


@dataclass(frozen=True)
class UserUpdated(_Event):
    TYPE: ClassVar[str] = "user.updated"

    event_id: str
    occurred_at: str
    sub: str
    username: str
    email: str
    name: str

    @classmethod
    def now(cls, sub: str, username: str, email: str, name: str, at: str = "") -> "UserUpdated":
        """`at`: when the values were read (no later); now, when not given."""
        return cls(event_id=str(uuid.uuid4()), occurred_at=at or now_iso(), sub=sub,
                   username=username, email=email, name=name)


@dataclass(frozen=True)
class UserDeleted(_Event):
    TYPE: ClassVar[str] = "user.deleted"

    event_id: str
    occurred_at: str
    sub: str
    username: str

    @classmethod
    def now(cls, sub: str, username: str) -> "UserDeleted":
        return cls(event_id=str(uuid.uuid4()), occurred_at=now_iso(), sub=sub, username=username)


UserEvent = Union[UserAuthenticated, UserUpdated, UserDeleted]
# The snapshots that carry a person's details (a login or a change).
Snapshot = Union[UserAuthenticated, UserUpdated]
EVENT_TYPES: dict[str, type[_Event]] = {
    cls.TYPE: cls for cls in (UserAuthenticated, UserUpdated, UserDeleted)}


def parse(body: str) -> UserEvent:
    """Any user event from its JSON; MalformedEvent for anything else."""
    try:
        data = json.loads(body)
    except (ValueError, TypeError) as exc:
        raise MalformedEvent(f"malformed event: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedEvent("malformed event: not a JSON object")
    kind = EVENT_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if kind is None or data.get("version") != kind.VERSION:
        raise MalformedEvent(f"not a user event this consumer knows: {data.get('type')!r} "
                             f"v{data.get('version')!r}")
    return kind._from_data(data)


FAILED_TO_PUBLISH = {
    UserAuthenticated.TYPE: "We could not finish logging you in. Please try again.",
    UserUpdated.TYPE: "We could not save your change everywhere. Please try again.",
    UserDeleted.TYPE: "We could not delete your account. Please try again.",
}


def publish(event: UserEvent) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client("sns").publish(TopicArn=settings().user_events_topic_arn, Message=event.to_json(),
                              MessageAttributes={"type": {"DataType": "String",
                                                          "StringValue": event.TYPE}})
    except (BotoCoreError, ClientError) as exc:
        log.error("cannot publish %s for %s: %s", event.TYPE, event.sub, exc)
        raise ServiceUnavailable(FAILED_TO_PUBLISH[event.TYPE]) from None
    log.info("published %s %s for %s", event.TYPE, event.event_id, event.sub)
