"""The app's Lambdas: the one list, by the names Chalice gives them (app.py registers each
under these names), and the name a stage's function has in AWS."""
from __future__ import annotations

from chalicelib.config import APP_NAME

API_HANDLER = "api_handler"  # every route
SAVE_PROFILE = "save_profile"  # SQS: the user's record in DynamoDB
ARCHIVE_PROFILE = "archive_profile"  # SQS: the user's JSON document in S3
SYNC_NAME = "sync_name"  # DynamoDB stream: the name in Parameter Store
ENFORCE_QUOTA = "enforce_quota"  # SQS (S3 events): files past the quota removed
RECORD_SIGN_IN = "record_sign_in"  # SQS (log-ins only): the Security page's session and activity
FUNCTIONS = (API_HANDLER, SAVE_PROFILE, ARCHIVE_PROFILE, SYNC_NAME, ENFORCE_QUOTA, RECORD_SIGN_IN)


def deployed_name(stage: str, function: str) -> str:
    """The name `chalice deploy` gives a stage's function (its log group is
    /aws/lambda/<this>)."""
    base = f"{APP_NAME}-{stage}"
    return base if function == API_HANDLER else f"{base}-{function}"
