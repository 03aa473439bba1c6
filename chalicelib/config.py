"""Configuration: read from the environment in one place, when first needed.

`chalice local`/`deploy` apply the stage's environment variables before they
import app.py, but `chalice.test.Client` applies them only while a request
runs, so nothing here is read at import time except through `deploy_value`,
which has a safe default for the decorators in app.py.
"""
from __future__ import annotations

import functools
import os
from typing import NamedTuple

APP_NAME = "comm-it"

# Placeholders for the values decorators need at import time. They are only
# used where no stage configuration exists (unit tests, `chalice local`);
# `chalice deploy` refuses to run without the real ones (see deploy_value).
_DEPLOY_DEFAULTS = {
    "USER_POOL_ARN": "arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_unset",
    "PROFILE_QUEUE_NAME": f"{APP_NAME}-local-save-profile",
    "ARCHIVE_QUEUE_NAME": f"{APP_NAME}-local-archive-profile",
    "QUOTA_QUEUE_NAME": f"{APP_NAME}-local-enforce-quota",
    "SIGN_IN_QUEUE_NAME": f"{APP_NAME}-local-record-sign-in",
    "USERS_TABLE_STREAM_ARN": (
        "arn:aws:dynamodb:us-east-1:000000000000:table/"
        f"{APP_NAME}-local-users/stream/1970-01-01T00:00:00.000"
    ),
}


NO_STACK = ("No AWS stack is configured for this app ({name} is not set): the pages work, but "
            "sign-up, login and the greeting answer 503. `make run` runs the app with a local "
            "AWS; `make deploy STAGE=dev` configures a stage in AWS.")
_told: list[str] = []


def deploy_value(name: str) -> str:
    """A value the decorators in app.py need while app.py is being imported.

    Without one, `chalice deploy`/`package` (a fresh clone) stop with one line saying what
    to run instead of a traceback; anything else (`chalice local` on its own, the tests) says
    once on the console that no stack is configured and goes on with a placeholder.
    """
    value = os.environ.get(name)
    if value:
        return value
    if _chalice_command() in ("deploy", "package"):
        stage = os.environ.get("APP_STAGE", "dev")
        raise SystemExit(f"Stage {stage} is not configured yet ({name} is not in "
                         ".chalice/config.json): "
                         f"run `make deploy STAGE={stage}`, or `make package STAGE={stage}` for "
                         "one CloudFormation template (no AWS account needed).")
    if not _told:
        _told.append(name)
        import logging

        logging.getLogger(__name__).warning(NO_STACK.format(name=name))
    return _DEPLOY_DEFAULTS[name]


def _chalice_command() -> str:
    """The chalice CLI's command (deploy, package, local...) when it is what runs, else ''."""
    import sys

    if not sys.argv or os.path.basename(sys.argv[0]) != "chalice":
        return ""
    return next((arg for arg in sys.argv[1:] if arg in ("deploy", "package", "local")), "")


class Settings(NamedTuple):  # not a dataclass: `dataclasses` costs every cold start ~5 ms
    stage: str
    region: str
    user_pool_id: str
    user_pool_client_id: str
    identity_pool_id: str
    users_table: str
    processed_events_table: str
    security_table: str
    users_bucket: str
    user_events_topic_arn: str
    # Where each stage's messages go when its Lambda gives up (the change journey looks).
    profile_dead_letter_queue_arn: str
    archive_dead_letter_queue_arn: str
    name_sync_dead_letter_queue_arn: str
    jwks_url_override: str
    # Set only locally (the local AWS); boto3 reads it itself, the app names it in errors.
    endpoint_url: str = ""
    # The pool may email sign-in codes (the stack's EmailSignInCodes output: SES, or locally).
    email_sign_in_codes: bool = False
    passkeys: bool = False  # the pool has a relying party (the stack's Passkeys output)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        # The local AWS serves the pool's keys at its own address; AWS at the issuer.
        return self.jwks_url_override or f"{self.issuer}/.well-known/jwks.json"

    @property
    def name_parameter_prefix(self) -> str:
        """Parameter Store hierarchy of the users' names: <prefix>/<sub>/name."""
        return f"/{APP_NAME}/{self.stage}/users"


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        stage=env.get("APP_STAGE", "dev"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        user_pool_id=env.get("USER_POOL_ID", ""),
        user_pool_client_id=env.get("USER_POOL_CLIENT_ID", ""),
        identity_pool_id=env.get("IDENTITY_POOL_ID", ""),
        users_table=env.get("USERS_TABLE_NAME", ""),
        processed_events_table=env.get("PROCESSED_EVENTS_TABLE_NAME", ""),
        security_table=env.get("SECURITY_TABLE_NAME", ""),
        users_bucket=env.get("USERS_BUCKET_NAME", ""),
        user_events_topic_arn=env.get("USER_EVENTS_TOPIC_ARN", ""),
        profile_dead_letter_queue_arn=env.get("PROFILE_DEAD_LETTER_QUEUE_ARN", ""),
        archive_dead_letter_queue_arn=env.get("ARCHIVE_DEAD_LETTER_QUEUE_ARN", ""),
        name_sync_dead_letter_queue_arn=env.get("NAME_SYNC_DEAD_LETTER_QUEUE_ARN", ""),
        jwks_url_override=env.get("COGNITO_JWKS_URL", ""),
        endpoint_url=env.get("AWS_ENDPOINT_URL", ""),
        email_sign_in_codes=env.get("EMAIL_SIGN_IN_CODES", "") == "on",
        passkeys=env.get("PASSKEYS", "") == "on",
    )
