"""What updates and what deletes each resource type of the template in the local AWS
(resources.py creates them): the local CloudFormation (stacks.py) runs
these for a stack update and a stack delete.

An update changes only what the AWS API can change in place (the data's deletion
protection, flipped by `make deploy` once a new stack is created; a user pool's passkey
relying party and sign-in policy, set by `make deploy` once the API's host is known); a
change of any other property of a type is refused, and the update rolls back, as
CloudFormation's would if it could not apply it. Nothing here is guessed: a type with no
deleter cannot be deleted.
"""
from __future__ import annotations

from typing import Callable

from local.cloudformation.language import Stack

# (stack, physical id, the properties it was made with) -> None
Deleter = Callable[[Stack, str, dict], None]
# (stack, physical id, old properties, new properties) -> None
Updater = Callable[[Stack, str, dict, dict], None]


class CannotUpdate(Exception):
    """A change the local AWS cannot make in place."""


def _delete_role(stack: Stack, name: str, props: dict) -> None:
    iam = stack.client("iam")
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=policy)
    for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
    iam.delete_role(RoleName=name)


def _delete_web_acl(stack: Stack, ref: str, props: dict) -> None:
    name, acl_id, scope = ref.split("|")
    wafv2 = stack.client("wafv2")
    token = wafv2.get_web_acl(Name=name, Scope=scope, Id=acl_id)["LockToken"]
    wafv2.delete_web_acl(Name=name, Scope=scope, Id=acl_id, LockToken=token)


def _nothing(stack: Stack, ref: str, props: dict) -> None:
    """It goes with the identity pool it configures (deleted after it, in reverse order)."""


DELETERS: dict[str, Deleter] = {
    "AWS::Cognito::UserPool":
        lambda s, ref, p: s.client("cognito-idp").delete_user_pool(UserPoolId=ref),
    "AWS::Cognito::UserPoolClient":
        lambda s, ref, p: s.client("cognito-idp").delete_user_pool_client(
            UserPoolId=p["UserPoolId"], ClientId=ref),
    "AWS::Cognito::IdentityPool":
        lambda s, ref, p: s.client("cognito-identity").delete_identity_pool(IdentityPoolId=ref),
    "AWS::Cognito::IdentityPoolRoleAttachment": _nothing,
    "AWS::Cognito::IdentityPoolPrincipalTag": _nothing,
    "AWS::DynamoDB::Table": lambda s, ref, p: s.client("dynamodb").delete_table(TableName=ref),
    "AWS::S3::Bucket": lambda s, ref, p: s.client("s3").delete_bucket(Bucket=ref),
    "AWS::SNS::Topic": lambda s, ref, p: s.client("sns").delete_topic(TopicArn=ref),
    "AWS::SQS::Queue": lambda s, ref, p: s.client("sqs").delete_queue(QueueUrl=ref),
    "AWS::SNS::Subscription":
        lambda s, ref, p: s.client("sns").unsubscribe(SubscriptionArn=ref),
    "AWS::IAM::Role": _delete_role,
    "AWS::KMS::Key": lambda s, ref, p: s.client("kms").schedule_key_deletion(
        KeyId=ref, PendingWindowInDays=7),
    "AWS::Logs::LogGroup": lambda s, ref, p: s.client("logs").delete_log_group(logGroupName=ref),
    "AWS::Logs::MetricFilter": lambda s, ref, p: s.client("logs").delete_metric_filter(
        logGroupName=p["LogGroupName"], filterName=ref),
    "AWS::WAFv2::WebACL": _delete_web_acl,
    "AWS::CloudWatch::Alarm":
        lambda s, ref, p: s.client("cloudwatch").delete_alarms(AlarmNames=[ref]),
}


def _changed(old: dict, new: dict, allowed: set[str], kind: str) -> dict:
    changed = {k: new.get(k) for k in set(old) | set(new) if old.get(k) != new.get(k)}
    refused = sorted(set(changed) - allowed)
    if refused:
        raise CannotUpdate(f"the local AWS cannot change {', '.join(refused)} of a {kind} "
                           "in place")
    return changed


def _update_user_pool(stack: Stack, pool_id: str, old: dict, new: dict) -> None:
    """The data's deletion protection, and the passkeys' relying party with the sign-in
    policy it switches (`make deploy` sets PasskeyRelyingPartyId once the API's host is
    known): in AWS too they change in place (CloudFormation: "Update requires: No
    interruption"), through UpdateUserPool and SetUserPoolMfaConfig."""
    from local.cloudformation.resources import MFA_PROPERTIES, pool_mfa_config, with_local_factors

    changed = _changed(old, new, {"DeletionProtection", "Policies", *MFA_PROPERTIES},
                       "user pool")
    if "Policies" in changed:
        _changed(old.get("Policies", {}), new.get("Policies", {}), {"SignInPolicy"},
                 "user pool's Policies")
    cognito = stack.client("cognito-idp")
    # UpdateUserPool sets what it is not given to its default (Cognito's and moto's): it is
    # sent every property it takes, as CloudFormation sends them.
    takes = cognito.meta.service_model.operation_model("UpdateUserPool").input_shape.members
    if set(changed) & set(takes):
        cognito.update_user_pool(UserPoolId=pool_id, **{
            **{k: v for k, v in new.items() if k in takes},
            "Policies": with_local_factors(new.get("Policies", {}))})
    mfa = pool_mfa_config(new)
    if set(changed) & set(MFA_PROPERTIES) and mfa:
        cognito.set_user_pool_mfa_config(UserPoolId=pool_id, **mfa)


def _update_table(stack: Stack, name: str, old: dict, new: dict) -> None:
    changed = _changed(old, new, {"DeletionProtectionEnabled"}, "table")
    stack.client("dynamodb").update_table(TableName=name, **changed)


UPDATERS: dict[str, Updater] = {
    "AWS::Cognito::UserPool": _update_user_pool,
    "AWS::DynamoDB::Table": _update_table,
}


def update(stack: Stack, kind: str, ref: str, old: dict, new: dict) -> None:
    """Change a resource's properties in place; CannotUpdate for what cannot be."""
    if kind not in UPDATERS:
        raise CannotUpdate(f"the local AWS cannot update a {kind} in place")
    UPDATERS[kind](stack, ref, old, new)
