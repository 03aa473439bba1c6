"""Acting as the person: AWS clients signed with their own temporary credentials (the
identity pool's), and the one way the app answers what AWS says to them. A refusal is IAM
speaking (it never happens to a well-behaved person): a clear 403. Credentials gone stale
are replaced once. A service that fails or cannot be reached: a 503."""
from __future__ import annotations

import logging
from typing import Any, Callable, Protocol, TypeVar

from chalicelib import cognito_credentials
from chalicelib.aws import client_as, error_code, unreachable
from chalicelib.errors import Forbidden, ServiceUnavailable

log = logging.getLogger(__name__)

STALE_CREDENTIALS = {"ExpiredToken", "InvalidToken", "InvalidAccessKeyId", "TokenRefreshRequired"}
ACCESS_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}  # S3's refusals
DENIED = ACCESS_DENIED | {"AccessDeniedException"}  # and the JSON services' (DynamoDB, SSM)
T = TypeVar("T")


class Someone(Protocol):
    """Who is asking (chalicelib/my_files.py Person)."""

    @property
    def sub(self) -> str: ...

    @property
    def id_token(self) -> str: ...


class AsPerson:
    """Clients signed with the person's own temporary credentials, made when first used."""

    def __init__(self, person: Someone, outliving: float) -> None:
        self.person = person
        self.credentials = cognito_credentials.fresh(person.id_token, outliving=outliving)
        self._clients: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = client_as(service, self.credentials)
        return self._clients[service]


def act_as(person: Someone, operation: Callable[[AsPerson], T], *, outliving: float,
           service: str, failed: str) -> T:
    """Run `operation(me)` with clients signed as the person, whose credentials outlive
    `outliving` seconds; `service` names what was unreachable, `failed` says what failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    for attempt in (1, 2):
        try:
            return operation(AsPerson(person, outliving))
        except ClientError as exc:
            code = error_code(exc)
            if code in STALE_CREDENTIALS and attempt == 1:
                cognito_credentials.forget(person.id_token)
                continue
            if code in DENIED:
                log.warning("AWS refused a request signed as %s: %s", person.sub, code)
                raise Forbidden("AWS did not allow this with your credentials (access denied). "
                                "Please log in again; if it persists, tell us.",
                                code="AccessDenied") from None
            log.warning("a request signed as %s failed: %s", person.sub, code)
        except BotoCoreError as exc:
            log.warning("%s unreachable: %r", service, str(exc))
            raise ServiceUnavailable(unreachable(service)) from None
        raise ServiceUnavailable(failed)
    raise AssertionError("unreachable")
