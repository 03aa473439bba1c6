"""The account deleted through the app, and nothing of the person left but the documented
tombstones (the users table's record, the S3 tombstone)."""
from __future__ import annotations

from typing import Any

from infra.smoke import app_api
from infra.smoke.outcomes import Failed, Pending, wait_for
from infra.smoke.state import Run

# The record a deleted account leaves in the users table (chalicelib/users_table.record_deletion).
TOMBSTONE_FIELDS = {"sub", "deleted_at", "details_at", "last_event_id"}


def delete_account(run: Run) -> str:
    delete_through_app(run)
    return "DELETE /api/account answered 200"


def delete_through_app(run: Run) -> bool:
    status, body = app_api.http(run.target, "DELETE", "/api/account",
                                {"accessToken": run.tokens["accessToken"],
                                 "password": run.password},
                                token=run.tokens["idToken"])
    if status != 200:
        raise Failed(f"DELETE /api/account answered {status} {body}")
    run.deleted = True
    return True


def nothing_left(run: Run) -> str:
    from chalicelib.user_keys import tombstone_key

    def probe() -> Any:
        left = traces(run)
        return True if not left else Pending("; ".join(left))

    wait_for(probe, run.wait_seconds, "clean deletion")
    return (f"no Cognito user, no parameter, nothing under users/{run.sub}/ or app/{run.sub}/; "
            f"the tombstones "
            f"(the table's {sorted(TOMBSTONE_FIELDS)}, s3 {tombstone_key(run.sub)}) remain")


def traces(run: Run) -> list[str]:
    """What is left of the user beyond the documented tombstone."""
    from chalicelib.user_keys import prefixes, tombstone_key

    left, target = [], run.target
    idp = target.client("cognito-idp")
    try:
        idp.admin_get_user(UserPoolId=target.env["USER_POOL_ID"], Username=run.username)
        left.append("the Cognito user")
    except idp.exceptions.UserNotFoundException:
        pass
    item = target.client("dynamodb").get_item(
        TableName=target.env["USERS_TABLE_NAME"], Key={"sub": {"S": run.sub}},
        ConsistentRead=True).get("Item")
    if not item or "deleted_at" not in item:
        left.append("no tombstone in the users table" if not item
                    else "a record that is no tombstone")
    elif set(item) - TOMBSTONE_FIELDS:
        left.append(f"tombstone fields {sorted(set(item) - TOMBSTONE_FIELDS)}")
    for prefix in prefixes(run.sub):
        objects = versions(run, prefix)
        if objects:
            left.append(f"{len(objects)} object version(s) under {prefix}")
    s3 = target.client("s3")
    try:
        s3.head_object(Bucket=target.bucket, Key=tombstone_key(run.sub))
    except s3.exceptions.ClientError:
        left.append(f"no {tombstone_key(run.sub)}")
    ssm = target.client("ssm")
    try:
        ssm.get_parameter(Name=target.name_parameter(run.sub))
        left.append("the name parameter")
    except ssm.exceptions.ParameterNotFound:
        pass
    return left


def versions(run: Run, prefix: str) -> list[dict[str, str]]:
    """Every object version and delete marker under the prefix."""
    s3, found = run.target.client("s3"), []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=run.target.bucket,
                                                                  Prefix=prefix):
        found += [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    return found
