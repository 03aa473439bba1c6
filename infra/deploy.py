"""`make deploy` / `make destroy`: the stack of infra/template.yaml, then the Chalice app.

    python -m infra.deploy deploy  --stage dev   # stack -> config.json + policies -> chalice deploy
    python -m infra.deploy destroy --stage dev   # chalice delete -> delete the stack
    python -m infra.deploy purge-retained --stage dev --yes   # what destroy keeps, gone for good

Every step checks before it acts, so running one twice is safe: an unchanged
stack is left alone, the config and policy files come out byte for byte the same.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from infra import policy
from infra import template as infra_template

ROOT = Path(__file__).resolve().parent.parent
LOCAL_STAGE = "local"  # `make run`'s stage: its values come from the shell, never from AWS
# The SQS consumers' timeout: AWS recommends a queue visibility timeout of at least six
# times the function's (the template's queues have 60 s); Chalice's default is 60 s.
LAMBDA_TIMEOUTS = {policy.SAVE_PROFILE: 10, policy.ARCHIVE_PROFILE: 10}

NO_CREDENTIALS = (
    "No AWS credentials found, so nothing was deployed or removed.\n"
    "Configure them first, for example `aws configure` (or `aws sso login --profile NAME` and\n"
    "AWS_PROFILE=NAME), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and a region with\n"
    "AWS_DEFAULT_REGION. Check with `aws sts get-caller-identity`."
)


class DeployError(Exception):
    """A step cannot go on; the message says what to do."""


def stack_name(stage: str) -> str:
    return f"{policy.APP_NAME}-{stage}"


def check_stage(stage: str) -> None:
    if stage == LOCAL_STAGE:
        raise DeployError("The `local` stage is `make run`'s and is never deployed; "
                          "use another stage, e.g. STAGE=dev.")
    if not stage or not stage[0].isalpha() or not all(c.islower() or c.isdigit() or c == "-"
                                                        for c in stage) or len(stage) > 16:
        raise DeployError(f"Stage {stage!r}: use 1-16 lower-case letters, digits or '-', "
                          "starting with a letter.")


# --- credentials -------------------------------------------------------------------

def check_credentials(session: Any) -> dict[str, str]:
    """Who we are in AWS, or a DeployError saying how to sign in."""
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
        code = exc.response.get("Error", {}).get("Code", "")
        raise DeployError(f"AWS did not accept the credentials ({code}): they may have expired. "
                          "Sign in again (e.g. `aws sso login`) and retry.") from None
    except BotoCoreError as exc:
        raise DeployError(f"Cannot reach AWS to check the credentials: {exc}") from None
    return {"account": identity["Account"], "arn": identity["Arn"]}


# --- the stack -------------------------------------------------------------------------

def _stack(cfn: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in exc.response.get("Error", {}).get("Message", ""):
            return None
        raise
    return stacks[0] if stacks else None


def deploy_stack(cfn: Any, stage: str, template_body: str, wait: bool = True) -> str:
    """Create or update the stage's stack; 'created', 'updated' or 'unchanged'."""
    from botocore.exceptions import ClientError

    name = stack_name(stage)
    args = {"StackName": name, "TemplateBody": template_body,
            "Parameters": [{"ParameterKey": "Stage", "ParameterValue": stage}],
            "Capabilities": ["CAPABILITY_IAM"],
            "Tags": [{"Key": "app", "Value": policy.APP_NAME}, {"Key": "stage", "Value": stage}]}
    existing = _stack(cfn, name)
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(f"Stack {name} failed to create and is in ROLLBACK_COMPLETE; see its "
                          f"events in the CloudFormation console, then `make destroy STAGE={stage}` "
                          "and deploy again.")
    if existing is not None and existing["StackStatus"].endswith("_IN_PROGRESS"):
        raise DeployError(f"Stack {name} is busy ({existing['StackStatus']}); wait and retry.")
    if existing is None:
        cfn.create_stack(**args, OnFailure="ROLLBACK")
        waiter, outcome = "stack_create_complete", "created"
    else:
        try:
            cfn.update_stack(**args)
        except ClientError as exc:
            if "No updates are to be performed" in exc.response.get("Error", {}).get("Message", ""):
                return "unchanged"
            raise
        waiter, outcome = "stack_update_complete", "updated"
    if wait:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    return outcome


def stack_outputs(cfn: Any, stage: str) -> dict[str, str]:
    stack = _stack(cfn, stack_name(stage))
    if stack is None:
        raise DeployError(f"Stack {stack_name(stage)} does not exist: run `make deploy STAGE={stage}`.")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# --- .chalice/config.json and the policies ---------------------------------------------

def record_outputs(chalice_dir: Path, stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """The workshop pattern: the stack outputs become the stage's environment variables.

    Also switches the stage to the generated policies (one role per Lambda). Other
    stages, and variables someone added by hand, are kept.
    """
    path = chalice_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    entry = config.setdefault("stages", {}).setdefault(stage, {})
    env = entry.setdefault("environment_variables", {})
    env["APP_STAGE"] = stage
    env.update({infra_template.env_name(name): value for name, value in sorted(outputs.items())})
    entry["autogen_policy"] = False
    entry["iam_policy_file"] = policy.file_name(stage)
    functions = entry.setdefault("lambda_functions", {})
    for function in policy.FUNCTIONS:
        settings = functions.setdefault(function, {})
        settings["iam_policy_file"] = policy.file_name(stage, function)
        if function in LAMBDA_TIMEOUTS:
            settings.setdefault("lambda_timeout", LAMBDA_TIMEOUTS[function])
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return env


def write_policies(chalice_dir: Path, stage: str, env: dict[str, str]) -> list[Path]:
    """One policy file per Lambda, plus the stage's logs-only fallback."""
    files = {policy.file_name(stage): policy.fallback(env, stage)}
    for function, document in policy.documents(env, stage).items():
        files[policy.file_name(stage, function)] = document
    written = []
    for name, document in files.items():
        path = chalice_dir / name
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def configure_stage(project_dir: Path, stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """config.json and the policy files of a stage, from its stack outputs."""
    env = record_outputs(project_dir / ".chalice", stage, outputs)
    write_policies(project_dir / ".chalice", stage, env)
    return env


# --- Chalice --------------------------------------------------------------------------

def chalice_command() -> list[str]:
    beside = Path(sys.executable).parent / "chalice"
    found = str(beside) if beside.exists() else shutil.which("chalice")
    if not found:
        raise DeployError("chalice is not installed: `make deploy` installs it into .venv.")
    return [found]


def deployed_rest_api(project_dir: Path, stage: str) -> dict[str, Any]:
    """Chalice's record of the stage's REST API (rest_api_id, rest_api_url)."""
    deployed = project_dir / ".chalice" / "deployed" / f"{stage}.json"
    if not deployed.exists():
        raise DeployError(f"No Chalice deployment recorded for stage {stage} ({deployed}).")
    for resource in json.loads(deployed.read_text(encoding="utf-8")).get("resources", []):
        if resource.get("resource_type") == "rest_api":
            return resource
    raise DeployError(f"The {stage} deployment has no REST API.")


def greeting_url(project_dir: Path, stage: str) -> str:
    """The /hello page of the deployed REST API."""
    return deployed_rest_api(project_dir, stage)["rest_api_url"].rstrip("/") + "/hello"


# API Gateway answers some requests itself, before the app runs: the Cognito
# authorizer's 401 for a missing or invalid token, 403 for an unknown path. By
# default those bodies are {"message": ...}; these make them the app's own
# {"error", "message"} shape. Chalice cannot declare gateway responses, and its
# deploy overwrites the API definition, so they are put after every deploy.
GATEWAY_RESPONSES = {
    "UNAUTHORIZED": ("401", '{"error": "Unauthorized", "message": "Log in to see this page."}'),
    "ACCESS_DENIED": ("403", '{"error": "Forbidden", "message": "You may not see this page."}'),
    "MISSING_AUTHENTICATION_TOKEN": (
        "404", '{"error": "NotFound", "message": "There is nothing at this address."}'),
    "DEFAULT_4XX": (None, '{"error": "BadRequest", "message": $context.error.messageString}'),
    "DEFAULT_5XX": (None, '{"error": "ServiceUnavailable", "message": $context.error.messageString}'),
}


def gateway_response_headers() -> dict[str, str]:
    """The app's security headers as gateway-response parameters (static values in '...').

    A value that holds a single quote (the CSP's 'none') cannot be written as a static
    value, so those answers go without a CSP: they are JSON, sent with nosniff, and
    X-Frame-Options is their frame policy.
    """
    from chalicelib.headers import SECURITY_HEADERS

    return {f"gatewayresponse.header.{name}": f"'{value}'"
            for name, value in SECURITY_HEADERS.items() if "'" not in value}


def put_gateway_responses(apigateway: Any, rest_api_id: str, api_stage: str) -> None:
    for response_type, (status, template) in GATEWAY_RESPONSES.items():
        apigateway.put_gateway_response(
            restApiId=rest_api_id, responseType=response_type,
            responseTemplates={"application/json": template},
            responseParameters=gateway_response_headers(),
            **({"statusCode": status} if status else {}))
    apigateway.create_deployment(restApiId=rest_api_id, stageName=api_stage,
                                 description="JSON gateway responses")


def api_gateway_stage(project_dir: Path) -> str:
    config = json.loads((project_dir / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return config.get("api_gateway_stage", "api")


# --- the commands ------------------------------------------------------------------------

Runner = Callable[..., Any]


def deploy(stage: str, session: Any, project_dir: Path = ROOT, run: Runner = subprocess.run,
           say: Callable[[str], None] = print) -> str:
    check_stage(stage)
    who = check_credentials(session)
    say(f"Deploying stage {stage} to account {who['account']} in {session.region_name}.")
    cfn = session.client("cloudformation")
    body = infra_template.TEMPLATE_PATH.read_text(encoding="utf-8")
    say(f"Stack {stack_name(stage)}: {deploy_stack(cfn, stage, body)}.")
    configure_stage(project_dir, stage, stack_outputs(cfn, stage))
    say(f"Recorded the stack outputs in .chalice/config.json (stage {stage}) "
        f"and wrote .chalice/policy-{stage}-*.json.")
    run([*chalice_command(), "deploy", "--stage", stage], cwd=project_dir, check=True)
    put_gateway_responses(session.client("apigateway"),
                          deployed_rest_api(project_dir, stage)["rest_api_id"],
                          api_gateway_stage(project_dir))
    say("API Gateway's own errors (401 from the authorizer, unknown paths) now answer "
        "{\"error\", \"message\"} JSON.")
    url = greeting_url(project_dir, stage)
    say(f"\nThe greeting page: {url}")
    return url


def destroy(stage: str, session: Any, project_dir: Path = ROOT, run: Runner = subprocess.run,
            say: Callable[[str], None] = print) -> list[str]:
    """Remove the app, then the stack. Returns what is kept (DeletionPolicy: Retain)."""
    check_stage(stage)
    check_credentials(session)
    if (project_dir / ".chalice" / "deployed" / f"{stage}.json").exists():
        run([*chalice_command(), "delete", "--stage", stage], cwd=project_dir, check=True)
    else:
        say(f"No Chalice deployment recorded for stage {stage}: nothing to delete there.")
    cfn = session.client("cloudformation")
    name = stack_name(stage)
    stack = _stack(cfn, name)
    if stack is None:
        say(f"Stack {name} does not exist: nothing to delete.")
        return []
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    kept = [f"DynamoDB table {outputs['UsersTableName']}" if "UsersTableName" in outputs else "",
            f"S3 bucket {outputs['UsersBucketName']} (versioned)" if "UsersBucketName" in outputs else "",
            f"SSM parameters under /{policy.APP_NAME}/{stage}/users/"]
    kept = [k for k in kept if k]
    say(f"Stack {name} deleted. Kept on purpose (the users' data): " + "; ".join(kept) + ".\n"
        f"To remove them for good: python -m infra.deploy purge-retained --stage {stage} --yes")
    return kept


def purge_retained(stage: str, session: Any, say: Callable[[str], None] = print) -> None:
    """Delete what destroy keeps: every version of every object, the bucket, the table, the names."""
    from botocore.exceptions import ClientError

    check_stage(stage)
    who = check_credentials(session)
    region = session.region_name
    bucket = f"{policy.APP_NAME}-{stage}-users-{who['account']}-{region}"
    table = f"{policy.APP_NAME}-{stage}-users"
    s3 = session.client("s3")
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
        say(f"Deleted bucket {bucket} and every object version in it.")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise
        say(f"Bucket {bucket} does not exist.")
    ddb = session.client("dynamodb")
    try:
        ddb.delete_table(TableName=table)
        say(f"Deleted table {table}.")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        say(f"Table {table} does not exist.")
    ssm = session.client("ssm")
    names = [p["Name"] for page in ssm.get_paginator("get_parameters_by_path").paginate(
        Path=f"/{policy.APP_NAME}/{stage}/users", Recursive=True) for p in page["Parameters"]]
    for start in range(0, len(names), 10):
        ssm.delete_parameters(Names=names[start:start + 10])
    say(f"Deleted {len(names)} name parameter(s) under /{policy.APP_NAME}/{stage}/users.")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.deploy", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["deploy", "destroy", "purge-retained"])
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--yes", action="store_true", help="purge-retained: yes, delete the data")
    args = parser.parse_args(argv)

    import boto3

    session = boto3.session.Session()
    started = time.monotonic()
    try:
        if args.command == "deploy":
            deploy(args.stage, session)
        elif args.command == "destroy":
            destroy(args.stage, session)
        else:
            if not args.yes:
                raise DeployError("purge-retained deletes the users' data for good; add --yes.")
            purge_retained(args.stage, session)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: {' '.join(exc.cmd[-3:])} failed (exit {exc.returncode}); see above.",
              file=sys.stderr)
        return exc.returncode or 1
    print(f"Done in {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
