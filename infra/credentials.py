"""Who we are in AWS, checked before any command touches anything."""
from __future__ import annotations

from typing import Any

from infra.errors import DeployError, aws_error

NO_CREDENTIALS = (
    "No AWS credentials found, so nothing was deployed or removed.\n"
    "Configure them first, for example `aws configure` (or `aws sso login --profile NAME` and\n"
    "AWS_PROFILE=NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and a region with\n"
    "AWS_DEFAULT_REGION. Check with `aws sts get-caller-identity`."
)


def check_credentials(session: Any) -> dict[str, str]:
    """The account and caller ARN, or a DeployError saying how to sign in."""
    from botocore.exceptions import (BotoCoreError, ClientError, NoCredentialsError,
                                     NoRegionError, PartialCredentialsError)

    if session.get_credentials() is None:
        raise DeployError(NO_CREDENTIALS)
    if not session.region_name:
        raise DeployError("No AWS region set: export AWS_DEFAULT_REGION=eu-west-1 (or your "
                          "region), or set one in your AWS profile.")
    try:
        identity = session.client("sts").get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise DeployError(NO_CREDENTIALS) from None
    except NoRegionError:
        raise DeployError("No AWS region set: export AWS_DEFAULT_REGION.") from None
    except ClientError as exc:
        code, _ = aws_error(exc)
        raise DeployError(f"AWS did not accept the credentials ({code}): they may have expired. "
                          "Sign in again (e.g. `aws sso login`) and retry.") from None
    except BotoCoreError as exc:
        raise DeployError(f"Cannot reach AWS to check the credentials: {exc}") from None
    return {"account": identity["Account"], "arn": identity["Arn"]}
