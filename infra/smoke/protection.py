"""The users' data refuses deletion: the user pool's DeletionProtection and the users table's
DeletionProtectionEnabled are on (locally `make run CLEAN=1` starts afresh: SKIP)."""
from __future__ import annotations

from infra.smoke.outcomes import AWS_ONLY, Failed, Skipped
from infra.smoke.state import Run


def data_protected(run: Run) -> str:
    """A first create runs unprotected (so it can roll back), and the deploy right after it
    protects them (docs/deploy.md)."""
    if run.target.local:
        raise Skipped(f"{AWS_ONLY} (`make run CLEAN=1` starts the local data afresh)")
    env = run.target.env
    pool = run.target.client("cognito-idp").describe_user_pool(
        UserPoolId=env["USER_POOL_ID"])["UserPool"].get("DeletionProtection")
    table = run.target.client("dynamodb").describe_table(
        TableName=env["USERS_TABLE_NAME"])["Table"].get("DeletionProtectionEnabled")
    wrong = ([f"user pool {env['USER_POOL_ID']} DeletionProtection={pool!r}"]
             if pool != "ACTIVE" else []) + \
            ([f"table {env['USERS_TABLE_NAME']} DeletionProtectionEnabled={table!r}"]
             if table is not True else [])
    if wrong:
        raise Failed("; ".join(wrong) + ": deploy again with DataDeletionProtection=ACTIVE "
                     "(`make deploy` does; the package path's step 2, docs/deploy.md)")
    return (f"user pool {env['USER_POOL_ID']} and table {env['USERS_TABLE_NAME']} refuse "
            f"deletion (DeletionProtection ACTIVE, DeletionProtectionEnabled)")
