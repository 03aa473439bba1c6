"""What the deploy commands say when they cannot go on, and how they read AWS's errors."""
from __future__ import annotations


class DeployError(Exception):
    """A step cannot go on; the message says what to do."""


def aws_error(exc: BaseException) -> tuple[str, str]:
    """(code, message) of a botocore ClientError; ('', '') for anything else."""
    error = (getattr(exc, "response", None) or {}).get("Error", {})
    return str(error.get("Code", "")), str(error.get("Message", ""))
