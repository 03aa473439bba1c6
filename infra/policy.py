"""The IAM policy of every Lambda of the app: the one definition of what the code may do.

`chalice deploy` with `autogen_policy: false` gives each Lambda its own role
(`comm-it-<stage>-<function>`) and reads that role's policy from the file named
in `.chalice/config.json`. `make deploy` writes those files from GRANTS below
and the stack's outputs, so every resource is an exact ARN of this stage.

tests/stack/test_lambda_least_privilege.py records every AWS call the app makes and proves each
is allowed here, for the Lambda that makes it, and that nothing here goes
unused. Add a grant when the code needs one; the test says which.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from chalicelib import user_keys
from chalicelib.config import APP_NAME
# The Lambdas of app.py: their one list is chalicelib/lambdas.py.
from chalicelib.lambdas import (API_HANDLER, ARCHIVE_PROFILE, ENFORCE_QUOTA, FUNCTIONS,
                                RECORD_SIGN_IN, SAVE_PROFILE, SYNC_NAME, deployed_name)

# The users bucket's key layout (chalicelib/user_keys.py) with "*" for the person's sub.
EVERY_PERSONS_OBJECTS = [p + "*" for p in user_keys.prefixes("*")]  # users/*/*, app/*/*
EVERY_PERSONS_RECORDS = user_keys.app_prefix("*") + "*"  # app/*/*: profiles and archives
EVERY_PERSONS_FILES = user_keys.files_prefix("*") + "*"  # users/*/files/*

# What a Lambda event source mapping needs from the function's role.
SQS_POLLING = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
STREAM_READING = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
# Actions IAM cannot limit to a resource (the Service Authorization Reference lists no
# resource type for them): granted on "*", and only these.
WITHOUT_RESOURCE_LEVEL = {"dynamodb:ListStreams"}


@dataclass(frozen=True)
class Targets:
    """The exact ARNs of one stage, from the stack outputs (as environment variables)."""

    env: Mapping[str, str]
    stage: str

    @property
    def partition(self) -> str:
        return self._arn_part(1)

    @property
    def region(self) -> str:
        return self._arn_part(3)

    @property
    def account(self) -> str:
        return self._arn_part(4)

    def _arn_part(self, index: int) -> str:
        # The users table is regional and in the stack's account: a reliable source.
        return self["USERS_TABLE_ARN"].split(":")[index]

    def __getitem__(self, name: str) -> str:
        try:
            value = self.env[name]
        except KeyError:
            raise KeyError(f"{name} is missing from the stage's configuration: "
                           "run `make deploy` to record the stack outputs") from None
        if not value:
            raise KeyError(f"{name} is empty in the stage's configuration")
        return value

    def name_parameters(self) -> str:
        """Every parameter under the stage's users hierarchy: /comm-it/<stage>/users/..."""
        return (f"arn:{self.partition}:ssm:{self.region}:{self.account}:"
                f"parameter/{APP_NAME}/{self.stage}/users/*")

    def identity_pool(self) -> str:
        return (f"arn:{self.partition}:cognito-identity:{self.region}:{self.account}:"
                f"identitypool/{self['IDENTITY_POOL_ID']}")

    def log_group(self, function: str) -> list[str]:
        group = (f"arn:{self.partition}:logs:{self.region}:{self.account}"
                 f":log-group:/aws/lambda/{deployed_name(self.stage, function)}")
        return [group, f"{group}:*"]


@dataclass(frozen=True)
class Grant:
    sid: str
    functions: tuple[str, ...]
    actions: tuple[str, ...]
    resources: Callable[[Targets], list[str]]
    why: str
    condition: dict[str, Any] = field(default_factory=dict)


GRANTS: tuple[Grant, ...] = (
    Grant("PublishUserAuthenticated", (API_HANDLER,), ("sns:Publish",),
          lambda t: [t["USER_EVENTS_TOPIC_ARN"]],
          "a successful login publishes the user-authenticated event"),
    Grant("EncryptUserEvents", (API_HANDLER,), ("kms:GenerateDataKey", "kms:Decrypt"),
          lambda t: [t["EVENTS_KEY_ARN"]],
          "the topic is encrypted with this key: SNS uses it on the publisher's behalf"),
    Grant("ReadGreetingName", (API_HANDLER,), ("ssm:GetParameters",),
          lambda t: [t.name_parameters()],
          ("GET /api/greeting reads /comm-it/<stage>/users/<sub>/name (GetParameters: "
           "greetings waiting at the same moment are read together)")),
    Grant("FindAccountByEmail", (API_HANDLER,), ("cognito-idp:ListUsers",),
          lambda t: [t["USER_POOL_ARN"]],
          "log-in by email and one address per account: ListUsers filtered by email"),
    Grant("DeleteAccountIdentity", (API_HANDLER,), ("cognito-identity:DeleteIdentities",),
          lambda t: [t.identity_pool()],
          "deleting the account deletes the person's identity-pool identity too"),
    Grant("EndSessionsAfterReset", (API_HANDLER,), ("cognito-idp:AdminUserGlobalSignOut",),
          lambda t: [t["USER_POOL_ARN"]],
          "a password reset ends every session the old password had (AdminUserGlobalSignOut)"),
    Grant("TurnOffTwoStepWithRecoveryCode", (API_HANDLER,),
          ("cognito-idp:AdminSetUserMFAPreference",), lambda t: [t["USER_POOL_ARN"]],
          ("a right recovery code at the log-in's code step turns the person's two-step "
           "verification off, so the password signs them in (chalicelib/two_step.py)")),
    Grant("KeepAttemptLimits", (API_HANDLER,),
          ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
          lambda t: [t["SECURITY_TABLE_ARN"]],
          ("the app's own limits on wrong passwords, codes and emails, per account, the "
           "code step bound to its person, sessions ended, the Security page's sessions and "
           "activity, and recovery codes' hashes (chalicelib/attempts.py, ended_sessions.py, "
           "my_security.py, recovery_codes.py, security_table.py)")),
    Grant("ReadAccountRecords", (API_HANDLER,), ("dynamodb:GetItem", "dynamodb:BatchGetItem"),
          lambda t: [t["USERS_TABLE_ARN"]],
          ("a deleted account's still-signed ID token gets 401: its record is a tombstone "
           "(waiting greetings' checks go together: BatchGetItem); the change journey's "
           "record")),
    Grant("ListProfileVersions", (API_HANDLER,), ("s3:ListBucketVersions",),
          lambda t: [t["USERS_BUCKET_ARN"]],
          "Your data in AWS lists the profile document's versions (app/<sub>/profile.json)",
          {"StringLike": {"s3:prefix": [user_keys.profile_key("*")]}}),
    Grant("ReadOlderProfileVersions", (API_HANDLER,), ("s3:GetObjectVersion",),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{user_keys.profile_key('*')}"],
          "Download all my data puts every noncurrent version of the profile in data.json"),
    Grant("WriteAndLinkDataExport", (API_HANDLER,), ("s3:PutObject", "s3:GetObject"),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{user_keys.export_key('*')}"],
          "Download all my data: the ZIP at app/<sub>/export/data.zip and its presigned link"),
    Grant("ReadOwnChangeMarkers", (API_HANDLER,), ("dynamodb:GetItem",),
          lambda t: [t["PROCESSED_EVENTS_TABLE_ARN"]],
          ("GET /api/account/changes/<id>: the event's marker says whose it is and when "
           "save_profile applied it")),
    Grant("TraceNameVersions", (API_HANDLER,), ("ssm:GetParameterHistory",),
          lambda t: [t.name_parameters()],
          "GET /api/account/changes/<id>: the name's version whose description names the event"),
    Grant("LookIntoDeadLetterQueues", (API_HANDLER,),
          ("sqs:GetQueueAttributes", "sqs:ReceiveMessage"),
          lambda t: [t["PROFILE_DEAD_LETTER_QUEUE_ARN"], t["ARCHIVE_DEAD_LETTER_QUEUE_ARN"],
                     t["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]],
          ("the change journey says when a stage's message is in its dead-letter queue "
           "(received with VisibilityTimeout 0, never deleted)")),
    Grant("RecordLogin", (SAVE_PROFILE,), ("dynamodb:UpdateItem",),
          lambda t: [t["USERS_TABLE_ARN"]],
          "the login transaction updates the user's record"),
    Grant("MarkEventProcessed", (SAVE_PROFILE,), ("dynamodb:PutItem",),
          lambda t: [t["PROCESSED_EVENTS_TABLE_ARN"]],
          "the same transaction writes the event id once (conditional put)"),
    Grant("WriteAccountTombstone", (SAVE_PROFILE,), ("dynamodb:PutItem",),
          lambda t: [t["USERS_TABLE_ARN"]],
          "user.deleted replaces the record with a tombstone (no personal data)"),
    Grant("ConsumeProfileQueue", (SAVE_PROFILE,), SQS_POLLING,
          lambda t: [t["PROFILE_QUEUE_ARN"]],
          "the SQS event source (partial batch responses: Lambda deletes what succeeded)"),
    Grant("ReadWriteProfileDocument", (ARCHIVE_PROFILE,), ("s3:GetObject", "s3:PutObject"),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{user_keys.profile_key('*')}"],
          "app/<sub>/profile.json: read to keep newer data, then write (never people's files)"),
    Grant("WriteTombstones", (ARCHIVE_PROFILE,), ("s3:PutObject",),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{user_keys.tombstone_key('*')}"],
          ("tombstones/<sub>.json: a deleted account's profile is never written again (whether "
           "it is there is listed, never read)")),
    Grant("ListDeletedAccountVersions", (ARCHIVE_PROFILE,), ("s3:ListBucketVersions",),
          lambda t: [t["USERS_BUCKET_ARN"]],
          "user.deleted lists every version under users/<sub>/ and app/<sub>/ (versioned)",
          {"StringLike": {"s3:prefix": EVERY_PERSONS_OBJECTS}}),
    Grant("DeleteDeletedAccountObjects", (ARCHIVE_PROFILE,), ("s3:DeleteObjectVersion",),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{each}" for each in EVERY_PERSONS_OBJECTS],
          ("user.deleted removes every version of the profile and the person's files: the only "
           "access a Lambda has to people's files")),
    Grant("ListProfileDocuments", (ARCHIVE_PROFILE,), ("s3:ListBucket",),
          lambda t: [t["USERS_BUCKET_ARN"]],
          ("whether profile.json or the tombstone exists is asked with ListObjectsV2 on the "
           "exact key before it is read (chalicelib/users_bucket.py): StringLike, so a list "
           "with no prefix, the whole bucket, is refused"),
          {"StringLike": {"s3:prefix": [EVERY_PERSONS_RECORDS, user_keys.tombstone_key("*")]}}),
    Grant("ConsumeArchiveQueue", (ARCHIVE_PROFILE,), SQS_POLLING,
          lambda t: [t["ARCHIVE_QUEUE_ARN"]],
          "the SQS event source (partial batch responses: Lambda deletes what succeeded)"),
    Grant("ConsumeSignInQueue", (RECORD_SIGN_IN,), SQS_POLLING,
          lambda t: [t["SIGN_IN_QUEUE_ARN"]],
          "the SQS event source of the log-ins (partial batch responses)"),
    Grant("RecordSignIns", (RECORD_SIGN_IN,), ("dynamodb:GetItem", "dynamodb:PutItem"),
          lambda t: [t["SECURITY_TABLE_ARN"]],
          ("a log-in's session, `Signed in` line and `New device` on the person's security "
           "item (a conditional put), after reading whether the session has ended "
           "(chalicelib/sign_ins.py); never a delete")),
    Grant("ConsumeQuotaQueue", (ENFORCE_QUOTA,), SQS_POLLING,
          lambda t: [t["QUOTA_QUEUE_ARN"]],
          "the SQS event source of the bucket's object-created and delete-marker events"),
    Grant("LookAgainAtNewFiles", (ENFORCE_QUOTA,), ("sqs:GetQueueUrl", "sqs:SendMessage"),
          lambda t: [t["QUOTA_QUEUE_ARN"]],
          ("files past the count that are still new are looked at again once settled: a "
           "delayed message to the quota's own queue (chalicelib/quota.py)")),
    Grant("FindTombstones", (ENFORCE_QUOTA,), ("s3:ListBucket",),
          lambda t: [t["USERS_BUCKET_ARN"]],
          ("a deleted account's files written afterwards go: its tombstone is listed "
           "(chalicelib/users_bucket.py is_deleted), never read"),
          {"StringLike": {"s3:prefix": [user_keys.tombstone_key("*")]}}),
    Grant("ListPersonsFileVersions", (ENFORCE_QUOTA,), ("s3:ListBucketVersions",),
          lambda t: [t["USERS_BUCKET_ARN"]],
          "the person's files as they are now: every version's size and date",
          {"StringLike": {"s3:prefix": [user_keys.files_prefix("*")]}}),
    Grant("RemoveFilesPastTheQuota", (ENFORCE_QUOTA,), ("s3:DeleteObjectVersion",),
          lambda t: [f"{t['USERS_BUCKET_ARN']}/{EVERY_PERSONS_FILES}"],
          ("a file over the size limit, beyond the count or of a deleted account goes, every "
           "version; a file that stays keeps no older version (never a profile)")),
    Grant("ReadUsersStream", (SYNC_NAME,), STREAM_READING,
          lambda t: [t["USERS_TABLE_STREAM_ARN"]],
          "the DynamoDB stream event source"),
    Grant("ListUsersStreams", (SYNC_NAME,), ("dynamodb:ListStreams",),
          lambda t: ["*"],
          "the DynamoDB stream event source (ListStreams has no resource level: only \"*\")"),
    Grant("SendFailedStreamBatches", (SYNC_NAME,), ("sqs:SendMessage",),
          lambda t: [t["NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]],
          "the stream mapping's on-failure destination, sent with the function's role"),
    Grant("WriteNameParameters", (SYNC_NAME,), ("ssm:PutParameter", "ssm:DeleteParameter"),
          lambda t: [t.name_parameters()],
          "the name follows the record: put on INSERT/MODIFY, delete on REMOVE"),
)


def document(function: str, env: Mapping[str, str], stage: str) -> dict[str, Any]:
    """The policy of one Lambda of one stage: its logs and its grants, nothing else."""
    targets = Targets(env, stage)
    statements: list[dict[str, Any]] = [{
        "Sid": "WriteOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": targets.log_group(function),
    }]
    for grant in GRANTS:
        if function not in grant.functions:
            continue
        statement: dict[str, Any] = {"Sid": grant.sid, "Effect": "Allow",
                                     "Action": list(grant.actions),
                                     "Resource": grant.resources(targets)}
        if grant.condition:
            statement["Condition"] = grant.condition
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def documents(env: Mapping[str, str], stage: str) -> dict[str, dict[str, Any]]:
    """Every Lambda's policy of one stage, by function name."""
    return {function: document(function, env, stage) for function in FUNCTIONS}


def file_name(stage: str, function: str | None = None) -> str:
    """The policy file in .chalice/ (without a function: the stage's fallback, logs only)."""
    return f"policy-{stage}-{function}.json" if function else f"policy-{stage}.json"


def fallback(env: Mapping[str, str], stage: str) -> dict[str, Any]:
    """For a Lambda not listed in FUNCTIONS: only its logs (the iam test names what it lacks)."""
    targets = Targets(env, stage)
    group = (f"arn:{targets.partition}:logs:{targets.region}:{targets.account}:"
             f"log-group:/aws/lambda/{APP_NAME}-{stage}-*")
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "WriteOwnLogs", "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [group, f"{group}:*"],
    }]}
