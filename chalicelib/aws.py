"""AWS clients, created when first used and cached for the life of the Lambda."""
from __future__ import annotations

import functools
import threading
from typing import Any, Mapping

from chalicelib.config import settings


@functools.lru_cache(maxsize=None)
def client(service: str) -> Any:
    # boto3 is imported here, not at module top, so routes that never touch AWS
    # (the static pages) do not pay for it at cold start. boto3 honours
    # AWS_ENDPOINT_URL, which is how the local AWS is reached.
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=settings().region,
        config=Config(
            connect_timeout=3,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError, or '' for anything else."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


_SESSION_LOCK = threading.Lock()


@functools.lru_cache(maxsize=1)
def _session() -> Any:
    import boto3

    return boto3.session.Session()


def client_as(service: str, credentials: Mapping[str, str]) -> Any:
    """A client that signs with someone's temporary credentials (the identity pool's).

    Never cached: it holds that person's keys, and the caller makes one per request.
    One shared session (its service models loaded once) makes each client in ~6 ms;
    sessions are not thread-safe, hence the lock. The endpoint comes from the
    environment (AWS_ENDPOINT_URL locally), like every other client's.
    """
    from botocore.config import Config

    with _SESSION_LOCK:
        return _session().client(
            service,
            region_name=settings().region,
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretKey"],
            aws_session_token=credentials["sessionToken"],
            config=Config(
                # Presigned S3 URLs in SigV4 (the only one newer regions accept).
                signature_version="s3v4" if service == "s3" else None,
                connect_timeout=3,
                read_timeout=10,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )
