"""`make destroy` and `purge-retained`: remove the app and the stack, then (on request) the data.

Destroy keeps what holds the users' data (the template's retain policies);
purge-retained removes exactly those, by the names recorded in the stage's
configuration.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from infra import chalice_cli, deployed_record, policy, stage as stage_config, waf
from infra.credentials import check_credentials
from infra.errors import DeployError, aws_error
from infra.stack import delete_stack, find, outputs_of, stack_name

Runner = Callable[..., Any]


def destroy(stage: str, session: Any, project_dir: Path, run: Runner = chalice_cli.run,
            say: Callable[[str], None] = print) -> list[str]:
    """Remove the app, then the stack. Returns what is kept on purpose."""
    stage_config.check_stage(stage)
    who = check_credentials(session)
    with deployed_record.locked(session.client("ssm"), stage, who["arn"], "make destroy"):
        return _destroy(stage, session, project_dir, run, say)


def _destroy(stage: str, session: Any, project_dir: Path, run: Runner,
             say: Callable[[str], None]) -> list[str]:
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    packaged = find(cfn, name) is not None and owns_the_app(cfn, name)
    if packaged:
        say(f"Stack {name} holds the app's functions and API (deployed by the package path): "
            "deleting the stack deletes them; no `chalice delete`.")
    elif deployed_record.require(session, project_dir, stage, say):
        run([*chalice_cli.chalice_command(), "delete", "--stage", stage],
            cwd=project_dir, check=True)
        _nothing_left(session, stage)
        deployed_record.forget(session.client("ssm"), stage)
    else:
        say(f"No Chalice deployment recorded for stage {stage}: nothing to delete there.")
    stack = find(cfn, name)
    if stack is None:
        say(f"Stack {name} does not exist: nothing to delete.")
        return []
    outputs = outputs_of(stack)
    # purge-retained reads the kept names here (`make deploy` stored them; the package not).
    deployed_record.save_outputs(session.client("ssm"), stage, outputs)
    if not packaged:  # the package's stack deletes its own web ACL association first
        waf.release(session.client("wafv2"), stage)  # WAF refuses to delete a web ACL in use
    delete_stack(cfn, stage)
    kept = [f"Cognito user pool {outputs['UserPoolId']} (every account; deletion protection on)"
            if "UserPoolId" in outputs else "",
            f"DynamoDB table {outputs['UsersTableName']}" if "UsersTableName" in outputs else "",
            f"S3 bucket {outputs['UsersBucketName']} (versioned; its HTTPS-only policy with it)"
            if "UsersBucketName" in outputs else "",
            f"SSM parameters under /{policy.APP_NAME}/{stage}/users/"]
    kept = [k for k in kept if k]
    say(f"Stack {name} deleted. Kept on purpose, because they are the users' data:\n  - "
        + "\n  - ".join(kept) + "\n"
        "A new `make deploy` of this stage creates a NEW, empty user pool and fails on the kept "
        "table and bucket names until they are removed or imported.\n"
        f"To remove them for good: python -m infra.deploy purge-retained --stage {stage} --yes")
    return kept


def owns_the_app(cfn: Any, name: str) -> bool:
    """The stack holds a Lambda function or a REST API: the package path's one template
    (`make deploy`'s stack leaves both to Chalice)."""
    from botocore.exceptions import ClientError

    app_types = {"AWS::Lambda::Function", "AWS::ApiGateway::RestApi"}
    try:
        return any(r["ResourceType"] in app_types
                   for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name)
                   for r in page["StackResourceSummaries"])
    except ClientError as exc:
        if "does not exist" in aws_error(exc)[1]:
            return False  # gone since it was found
        raise


def _nothing_left(session: Any, stage: str) -> None:
    """After `chalice delete`: no role, function, mapping or API of the stage is left (else a
    DeployError that names each, and the record stays stored for the next try)."""
    from infra import deployed_in_aws

    left = deployed_in_aws.rebuild(session, stage, [], lambda: "")
    if left:
        mappings = [r["event_uuid"] for r in left if "event_uuid" in r]
        raise DeployError(
            f"`chalice delete` left {', '.join(r['name'] for r in left)} of stage {stage}. "
            f"Run `make destroy STAGE={stage}` again"
            + (("; a mapping goes only with DeleteEventSourceMapping: "
                + "; ".join(deployed_in_aws.delete_command(u) for u in mappings))
               if mappings else "") + ".")


def purge_retained(stage: str, session: Any, project_dir: Path,
                   say: Callable[[str], None] = print) -> None:
    """Delete what destroy keeps: the user pool, every object version and the bucket, the
    table, the names."""
    stage_config.check_stage(stage)
    check_credentials(session)
    cfn, name = session.client("cloudformation"), stack_name(stage)
    if find(cfn, name) is not None:
        how = " (deployed by the package path)" if owns_the_app(cfn, name) else ""
        raise DeployError(f"Stack {name}{how} still exists: run `make destroy STAGE={stage}` "
                          "first; purge-retained removes only what destroy keeps.")
    env = stage_config.environment(project_dir, stage)
    from infra.template import env_name

    stored = deployed_record.outputs(session.client("ssm"), stage)  # `make deploy` keeps them
    env = {**{env_name(k): v for k, v in stored.items()}, **env}
    missing = [n for n in ("USERS_BUCKET_NAME", "USERS_TABLE_NAME") if not env.get(n)]
    if missing:
        raise DeployError(f"Stage {stage} has no {', '.join(missing)} in .chalice/config.json: "
                          "purge-retained removes only what a deploy of this stage recorded "
                          f"(Parameter Store {deployed_record.parameter(stage, 'stack-outputs')}).")
    if env.get("USER_POOL_ID"):
        _purge_user_pool(session.client("cognito-idp"), env["USER_POOL_ID"], say)
    _purge_bucket(session.client("s3"), env["USERS_BUCKET_NAME"], say)
    _purge_table(session.client("dynamodb"), env["USERS_TABLE_NAME"], say)
    _purge_names(session.client("ssm"), f"/{policy.APP_NAME}/{stage}/users", say)
    deployed_record.forget(session.client("ssm"), stage, "stack-outputs")


def _purge_user_pool(cognito: Any, pool_id: str, say: Callable[[str], None]) -> None:
    """Every account goes with it: deletion protection off, then delete."""
    from botocore.exceptions import ClientError

    try:
        cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
        cognito.delete_user_pool(UserPoolId=pool_id)
        say(f"Deleted user pool {pool_id} and every account in it.")
    except ClientError as exc:
        if aws_error(exc)[0] != "ResourceNotFoundException":
            raise
        say(f"User pool {pool_id} does not exist.")


def _purge_bucket(s3: Any, bucket: str, say: Callable[[str], None]) -> None:
    from botocore.exceptions import ClientError

    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
        say(f"Deleted bucket {bucket} and every object version in it.")
    except ClientError as exc:
        if aws_error(exc)[0] != "NoSuchBucket":
            raise
        say(f"Bucket {bucket} does not exist.")


def _purge_table(ddb: Any, table: str, say: Callable[[str], None]) -> None:
    from botocore.exceptions import ClientError

    try:
        ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
        ddb.delete_table(TableName=table)
        say(f"Deleted table {table}.")
    except ClientError as exc:
        if aws_error(exc)[0] != "ResourceNotFoundException":
            raise
        say(f"Table {table} does not exist.")


def _purge_names(ssm: Any, path: str, say: Callable[[str], None]) -> None:
    names = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=path, Recursive=True) for p in page["Parameters"]]
    for start in range(0, len(names), 10):
        ssm.delete_parameters(Names=names[start:start + 10])
    say(f"Deleted {len(names)} name parameter(s) under {path}.")
