"""What the run made, removed whatever happened: the account through the app if no check got
that far, then directly the Cognito user, the name parameter, the objects, the users table's
record (unless it is the documented tombstone) and the other person's decoy."""
from __future__ import annotations

from typing import Callable

from chalicelib.user_keys import prefixes
from infra.errors import aws_error
from infra.smoke.deletion import delete_through_app, versions
from infra.smoke.outcomes import Failed
from infra.smoke.state import Run


def clean_up(run: Run) -> str:
    removed: list[str] = []
    errors: list[str] = []
    notes: list[str] = []

    def step(what: str, action: Callable[[], bool]) -> None:
        try:
            if action():
                removed.append(what)
        except Exception as exc:  # noqa: BLE001 - try every step, report each failure
            code, message = aws_error(exc)
            errors.append(f"{what}: {code or type(exc).__name__}: {message or exc}")

    # Not deleted through the app yet (a check failed first): ask the app, so the pipeline
    # leaves its final tombstone and no late event of this user writes them again.
    if run.tokens and not run.deleted:
        try:
            delete_through_app(run)
            removed.append("the account (through the app)")
        except Exception as exc:  # noqa: BLE001 - the direct removals below still run
            notes.append(f"the app did not delete the account ({exc}), so directly")
    step("the Cognito user", lambda: _delete_user(run))
    if run.sub:
        step("the name parameter", lambda: _delete_parameter(run))
        for prefix in prefixes(run.sub):
            step(f"the objects under {prefix}",
                 lambda prefix=prefix: _delete_versions(run, prefix))
        step("the users table record", lambda: _delete_record(run))
    step("the other person's decoy",
         lambda: any([_delete_versions(run, prefix) for prefix in prefixes(run.decoy_sub)]))
    if errors:
        raise Failed("could not remove " + "; ".join(errors))
    said = ("removed " + ", ".join(removed)) if removed else "nothing of the run was left"
    return "; ".join([*notes, said])


def _delete_user(run: Run) -> bool:
    if not run.created:
        return False
    idp = run.target.client("cognito-idp")
    try:
        idp.admin_delete_user(UserPoolId=run.target.env["USER_POOL_ID"], Username=run.username)
    except idp.exceptions.UserNotFoundException:
        return False
    return True


def _delete_parameter(run: Run) -> bool:
    ssm = run.target.client("ssm")
    try:
        ssm.delete_parameter(Name=run.target.name_parameter(run.sub))
    except ssm.exceptions.ParameterNotFound:
        return False
    return True


def _delete_versions(run: Run, prefix: str) -> bool:
    objects = versions(run, prefix)
    for start in range(0, len(objects), 1000):
        run.target.client("s3").delete_objects(
            Bucket=run.target.bucket,
            Delete={"Objects": objects[start:start + 1000], "Quiet": True})
    return bool(objects)


def _delete_record(run: Run) -> bool:
    """The record, unless it is the documented tombstone (the deletion is final)."""
    dynamodb, table = run.target.client("dynamodb"), run.target.env["USERS_TABLE_NAME"]
    item = dynamodb.get_item(TableName=table, Key={"sub": {"S": run.sub}},
                             ConsistentRead=True).get("Item")
    if not item or "deleted_at" in item:
        return False
    dynamodb.delete_item(TableName=table, Key={"sub": {"S": run.sub}})
    return True
