"""The CloudFormation stack of infra/template.yaml: create, update, read its outputs."""
from __future__ import annotations

from typing import Any

from infra import policy
from infra.errors import DeployError, aws_error


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
    from botocore.exceptions import ClientError

    name = stack_name(stage)
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
    if existing is not None and existing["StackStatus"].endswith("_IN_PROGRESS"):
        raise DeployError(f"Stack {name} is busy ({existing['StackStatus']}); wait and retry.")
    if existing is None:
        cfn.create_stack(**args, OnFailure="ROLLBACK")
        waiter, outcome = "stack_create_complete", "created"
    else:
        try:
            cfn.update_stack(**args)
        except ClientError as exc:
            if "No updates are to be performed" in aws_error(exc)[1]:
                return "unchanged"
            raise
        waiter, outcome = "stack_update_complete", "updated"
    if wait:
        cfn.get_waiter(waiter).wait(StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    return outcome


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def stack_outputs(cfn: Any, stage: str) -> dict[str, str]:
    stack = find(cfn, stack_name(stage))
    if stack is None:
        raise DeployError(f"Stack {stack_name(stage)} does not exist: run `make deploy STAGE={stage}`.")
    return outputs_of(stack)


def delete_stack(cfn: Any, stage: str) -> bool:
    """Delete the stage's stack and wait; False when there was none."""
    name = stack_name(stage)
    if find(cfn, name) is None:
        return False
    cfn.delete_stack(StackName=name)
    cfn.get_waiter("stack_delete_complete").wait(
        StackName=name, WaiterConfig={"Delay": 10, "MaxAttempts": 180})
    return True
