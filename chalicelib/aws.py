"""AWS clients, created when first used and cached for the life of the Lambda.

Locally one process serves many requests at once (`chalice local` is threaded): the
clients are made once, under a lock, from boto3's default session, which is made and
used under that lock only (a session is not thread-safe; a client, once made, is). Its
connection pool is sized for a burst of concurrent requests, so urllib3 never has
to discard connections ("Connection pool is full").
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Protocol

from chalicelib.config import settings

# Connections one client keeps open to one service. A Lambda runs one request at a
# time; `chalice local` runs one thread per request and `make run` serves hundreds
# of people at once. Connections are opened only when needed: a large pool costs nothing.
MAX_POOL_CONNECTIONS = 256

# One lock for the one session: every client of the process is made under it.
_SESSION_LOCK = threading.Lock()
_clients: dict[str, Any] = {}


@functools.lru_cache(maxsize=1)
def _default_session() -> Any:
    """boto3's default session (made here if need be); call it under _SESSION_LOCK only."""
    # boto3 is imported here, not at module top, so routes that never touch AWS
    # (the static pages) do not pay for it at cold start.
    import boto3

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


def client(service: str) -> Any:
    cached = _clients.get(service)
    if cached is not None:
        return cached
    with _SESSION_LOCK:  # one client per service, however many requests ask at once
        if service not in _clients:
            _clients[service] = _new_client(service)
        return _clients[service]


def _new_client(service: str) -> Any:
    # boto3 honours AWS_ENDPOINT_URL, which is how the local AWS is reached.
    from botocore.config import Config

    return _default_session().client(
        service,
        region_name=settings().region,
        config=Config(
            connect_timeout=3,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=MAX_POOL_CONNECTIONS,
        ),
    )


def forget_cache() -> None:
    """Drop every cached client (tests that start "cold" or change the environment)."""
    with _SESSION_LOCK:
        _clients.clear()
        _peoples_clients.clear()
        _default_session.cache_clear()
        _people_session.cache_clear()


@functools.lru_cache(maxsize=1)
def _people_session() -> Any:
    """The session people's clients are made from; call it under _SESSION_LOCK only.

    Not the default session: nothing the app's own clients are set up with (their
    credentials, anything hooked on that session) applies to a person's.
    """
    import boto3

    return boto3.session.Session()


class TemporaryCredentials(Protocol):
    """What client_as signs with (chalicelib/cognito_credentials.Credentials)."""

    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_key(self) -> str: ...
    @property
    def session_token(self) -> str: ...


# A person's clients, kept by their credentials for the next requests with the same ones: a
# page makes several calls in a row with one person's temporary credentials, and a client
# costs about 6 ms to make (botocore builds its class and copies its hooks each time). Only
# the exact same keys (id, secret and session token) get a kept client back; new credentials
# make a new client, and the oldest kept one goes. A client, once made, is thread-safe.
PEOPLES_CLIENTS = 32
_peoples_clients: dict[tuple[str, str, str, str], Any] = {}


def client_as(service: str, credentials: TemporaryCredentials) -> Any:
    """A client that signs with someone's temporary credentials (the identity pool's).

    Made from a session of its own, kept for those exact credentials (PEOPLES_CLIENTS). The
    endpoint comes from the environment (AWS_ENDPOINT_URL locally), like every client's.
    """
    key = (service, credentials.access_key_id, credentials.secret_key,
           credentials.session_token)
    with _SESSION_LOCK:
        made = _peoples_clients.pop(key, None)
        if made is None:
            made = _new_client_as(service, credentials)
            while len(_peoples_clients) >= PEOPLES_CLIENTS:
                del _peoples_clients[next(iter(_peoples_clients))]  # the least recently used
        _peoples_clients[key] = made  # now the most recently used (dicts keep their order)
        return made


def _new_client_as(service: str, credentials: TemporaryCredentials) -> Any:
    """Call it under _SESSION_LOCK only."""
    from botocore.config import Config

    return _people_session().client(
        service,
        region_name=settings().region,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token=credentials.session_token,
        config=Config(
            # Presigned S3 URLs in SigV4 (the only one newer regions accept).
            signature_version="s3v4" if service == "s3" else None,
            connect_timeout=3,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 3},
            # Kept, it may serve one person's requests at once (`chalice local` threads).
            max_pool_connections=MAX_POOL_CONNECTIONS,
        ),
    )


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def unreachable(service_name: str) -> str:
    """What to tell a person when `service_name` did not answer.

    When an endpoint is configured (AWS_ENDPOINT_URL: the local AWS, never set in
    Lambda), the message names it and says how to start it.
    """
    endpoint = settings().endpoint_url
    if endpoint:
        return (f"{service_name} did not answer at {endpoint} (AWS_ENDPOINT_URL). If that "
                "is the local AWS, start it: `make run` runs the app with it.")
    return f"{service_name} did not answer. Please try again."
