"""The CloudFormation stack of infra/template.yaml: create, update, read its outputs.

Two guards for the users' data: the stack policy (infra/stack-policy.json, set on
create and before every update, by both deploy paths) refuses any update that would
replace or delete the user pool, the users table or the users bucket (a replaced pool
would move the app to a new, empty one); and a new stack is created with the pool's and
the table's deletion protection off, switched on once the create is complete, so a
failed first create can roll back (Cognito and DynamoDB refuse to delete them protected).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra import policy
from infra.errors import DeployError, aws_error


STACK_POLICY_PATH = Path(__file__).resolve().parent / "stack-policy.json"
PROTECTION = "DataDeletionProtection"  # the template's parameter
INLINE_LIMIT = 51_200  # bytes CloudFormation takes as a TemplateBody


def stack_policy() -> dict[str, Any]:
    return json.loads(STACK_POLICY_PATH.read_text(encoding="utf-8"))


def _recovery(name: str, stage: str, status: str) -> str:
    """What to type when a stack can neither roll back nor be deleted as it is."""
    return (
        f"Stack {name} is in {status}: CloudFormation could not delete what it made, most "
        "likely the Cognito user pool (or the users table), whose deletion protection refuses it. "
        "Its events in the "
        "CloudFormation console name the resource. If the stack never completed a create, it "
        "holds no data. Recover with:\n"
        f"  POOL=$(aws cloudformation describe-stack-resource --stack-name {name} "
        "--logical-resource-id UserPool --query StackResourceDetail.PhysicalResourceId "
        "--output text)\n"
        "  aws cognito-idp update-user-pool --user-pool-id \"$POOL\" --deletion-protection INACTIVE"
        "  # only if that pool holds no accounts you keep\n"
        f"  aws dynamodb update-table --table-name {name}-users --no-deletion-protection-enabled"
        "  # the same for the users table, if it is named in the events\n"
        f"  aws cloudformation delete-stack --stack-name {name}\n"
        f"  aws cloudformation wait stack-delete-complete --stack-name {name}\n"
        f"then fix the cause and run `make deploy STAGE={stage}` again. (A stack in DELETE_FAILED "
        f"can keep a pool with accounts instead: "
        f"`aws cloudformation delete-stack --stack-name {name} "
        "--retain-resources UserPool`.)")


def stack_name(stage: str) -> str:
    return f"{policy.APP_NAME}-{stage}"


def find(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in aws_error(exc)[1]:
            return None
        raise
    return stacks[0] if stacks else None


def deploy_stack(cfn: Any, stage: str, template_body: str, wait: bool = True,
                 parameters: dict[str, str] | None = None) -> str:
    """Create or update the stage's stack; 'created', 'updated' or 'unchanged'.

    `parameters` (e.g. AlarmEmail, SesIdentityArn) are set; any other parameter the
    stack already has keeps its value on an update, so a plain redeploy changes nothing.
    """

    from infra.template import compact

    name = stack_name(stage)
    template_body = compact(template_body)  # sent as JSON: comments and indentation left out
    size = len(template_body.encode("utf-8"))
    if size > INLINE_LIMIT:
        raise DeployError(
            f"infra/template.yaml is {size:,} bytes as sent (compact JSON), over the "
            f"{INLINE_LIMIT:,} CloudFormation takes inline (TemplateBody): nothing was changed. "
            "Send it through a bucket (TemplateURL; `make package` does, docs/deploy.md).")
    existing = find(cfn, name)
    given = {"Stage": stage, **{k: v for k, v in (parameters or {}).items() if v is not None}}
    previous = [p["ParameterKey"] for p in (existing or {}).get("Parameters", [])]
    args = {"StackName": name, "TemplateBody": template_body,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()] +
                          [{"ParameterKey": k, "UsePreviousValue": True}
                           for k in previous if k not in given],
            "Capabilities": ["CAPABILITY_IAM"],
            "Tags": [{"Key": "app", "Value": policy.APP_NAME}, {"Key": "stage", "Value": stage}]}
    if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"Stack {name} failed to create and is in ROLLBACK_COMPLETE: it can only be deleted. "
            "Its events in the CloudFormation console say what failed. It holds no data (what a "
            "failed create made is deleted, RetainExceptOnCreate), so delete it with "
            f"`aws cloudformation delete-stack --stack-name {name}` (or `make destroy "
            f"STAGE={stage}`), fix the cause, and run `make deploy STAGE={stage}` again.")
    if existing is not None and existing["StackStatus"] in ("ROLLBACK_FAILED", "DELETE_FAILED"):
        raise DeployError(_recovery(name, stage, existing["StackStatus"]))
    if existing is not None and existing["StackStatus"].endswith("_IN_PROGRESS"):
        raise DeployError(f"Stack {name} is busy ({existing['StackStatus']}); wait and retry.")
    policy_body = json.dumps(stack_policy())
    if existing is None:
        cfn.create_stack(**_with(args, PROTECTION, "INACTIVE"), OnFailure="ROLLBACK",
                         StackPolicyBody=policy_body)
        _wait(cfn, "stack_create_complete", name, wait)
        # Created: now the pool may not be deleted (the same template, one parameter changed).
        _update(cfn, _with(args, PROTECTION, "ACTIVE"), wait)
        return "created"
    cfn.set_stack_policy(StackName=name, StackPolicyBody=policy_body)
    return "updated" if _update(cfn, _with(args, PROTECTION, "ACTIVE"), wait) else "unchanged"


def _with(args: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    """The stack arguments with one parameter set (only if the template has it)."""
    if key not in _template_parameters(args["TemplateBody"]):
        return args
    parameters = [p for p in args["Parameters"] if p["ParameterKey"] != key]
    return {**args, "Parameters": [*parameters, {"ParameterKey": key, "ParameterValue": value}]}


def _template_parameters(body: str) -> set[str]:
    import re

    try:
        return set(json.loads(body).get("Parameters", {}))
    except ValueError:  # YAML: the parameters are the keys indented under `Parameters:`
        section = re.search(r"^Parameters:\n((?:[ \t].*\n|\n)*)", body, re.M)
        return set(re.findall(r"^  (\w+):", section.group(1), re.M)) if section else set()


def _update(cfn: Any, args: dict[str, Any], wait: bool) -> bool:
    """update_stack and wait; False when there was nothing to change."""
    from botocore.exceptions import ClientError

    try:
        cfn.update_stack(**args)
    except ClientError as exc:
        if "No updates are to be performed" in aws_error(exc)[1]:
            return False
        raise
    _wait(cfn, "stack_update_complete", args["StackName"], wait)
    return True


def _wait(cfn: Any, waiter: str, name: str, wait: bool) -> None:
    """Wait for the create, update or delete; a DeployError that says why it failed and the
    way out, never the waiter's traceback."""
    from botocore.exceptions import WaiterError

    if not wait:
        return
    try:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    except WaiterError:
        raise DeployError(failure(cfn, name)) from None


# Where a stack that failed stands, and the way out (ROLLBACK_FAILED and DELETE_FAILED:
# _recovery, which says how to get past the data's deletion protection).
WAYS_OUT = {
    "ROLLBACK_COMPLETE": ("The create rolled back: the stack holds no data (RetainExceptOnCreate) "
                          "and can only be deleted: `aws cloudformation delete-stack --stack-name "
                          "{name}`, then fix the cause and `make deploy STAGE={stage}` again."),
    "UPDATE_ROLLBACK_COMPLETE": ("The update rolled back: the stack is as it was before. Fix the "
                                 "cause and `make deploy STAGE={stage}` again."),
    "UPDATE_ROLLBACK_FAILED": ("The rollback itself failed. Fix what blocked it (the event above), "
                               "then `aws cloudformation continue-update-rollback --stack-name "
                               "{name}` (with `--resources-to-skip <logical id>` for a resource "
                               "that cannot go back), wait for UPDATE_ROLLBACK_COMPLETE, and "
                               "`make deploy STAGE={stage}` again."),
}


def failure(cfn: Any, name: str) -> str:
    """Why the stack's last operation failed: its status, the first *_FAILED event's reason
    (the cause; later ones follow from it), and the way out."""
    stage = name.removeprefix(f"{policy.APP_NAME}-")
    stack = find(cfn, name)
    status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
    if status in ("ROLLBACK_FAILED", "DELETE_FAILED"):
        way_out = _recovery(name, stage, status)
    else:
        way_out = WAYS_OUT.get(status, "Its events in the CloudFormation console say more.")
    cause = first_failure(cfn, name) if stack else ""
    return (f"Stack {name} is {status}" + (f": {cause}" if cause else "") + ". "
            + way_out.format(name=name, stage=stage))


def first_failure(cfn: Any, name: str) -> str:
    """The earliest *_FAILED event of the stack's last create, update or delete, as
    '<logical id> (<type>) <status>: <reason>'; '' when there is none."""
    events: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        for event in page["StackEvents"]:  # newest first
            events.append(event)
            if (event.get("ResourceType") == "AWS::CloudFormation::Stack"
                    and event["ResourceStatus"] in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS",
                                                    "DELETE_IN_PROGRESS")):
                break  # where the last operation began
        else:
            continue
        break
    failed = [e for e in reversed(events)
              if e["ResourceStatus"].endswith("_FAILED") and e.get("ResourceStatusReason")]
    if not failed:
        return ""
    first = failed[0]
    return (f"{first['LogicalResourceId']} ({first.get('ResourceType', '?')}) "
            f"{first['ResourceStatus']}: {first['ResourceStatusReason']}")


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def parameter(cfn: Any, stage: str, key: str) -> str | None:
    """A parameter's value in the stage's stack (None when it has no such parameter)."""
    stack = find(cfn, stack_name(stage)) or {}
    return next((p.get("ParameterValue") for p in stack.get("Parameters", [])
                 if p["ParameterKey"] == key), None)


def stack_outputs(cfn: Any, stage: str) -> dict[str, str]:
    stack = find(cfn, stack_name(stage))
    if stack is None:
        raise DeployError(f"Stack {stack_name(stage)} does not exist: "
                          f"run `make deploy STAGE={stage}`.")
    return outputs_of(stack)


def delete_stack(cfn: Any, stage: str) -> bool:
    """Delete the stage's stack and wait; False when there was none."""
    name = stack_name(stage)
    if find(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    _wait(cfn, "stack_delete_complete", name, True)
    return True
