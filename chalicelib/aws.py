"""AWS clients, created when first used and cached for the life of the Lambda."""
from __future__ import annotations

import functools
from typing import Any

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
