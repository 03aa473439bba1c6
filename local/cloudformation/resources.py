"""Create the resources of infra/template.yaml in the local AWS.

A small interpreter for the resource types the template uses: the same names,
key schema, stream view, pool policy, client flows and queue wiring as the stack
in AWS, because they come from the same file. The template's language (intrinsic
functions, conditions, the order of creation) is local/cloudformation/language.py's.
IAM roles, the identity pool's role attachment and its principal tag map are
created too: local/iam/ enforces them. What is not created, and why, is
NOT_ENFORCED_LOCALLY.
"""
from __future__ import annotations

import json
from typing import Any

from infra import template as infra_template
from local.cloudformation.language import ACCOUNT_ID, Creator, Stack

# Resource types of the template the local AWS does not create, each with the reason.
NOT_ENFORCED_LOCALLY: dict[str, str] = {
    "AWS::S3::BucketPolicy": "a resource policy: tested against the template instead",
    "AWS::SQS::QueuePolicy": "a resource policy: tested against the template instead",
    "AWS::WAFv2::WebACL": "the per-client rate limit on /api/auth/* is AWS WAF's, in front of "
                          "API Gateway, and `chalice local` has neither; locally the app's "
                          "per-account limits (chalicelib/attempts.py) are the only ones",
}


def _role(stack: Stack, props: dict) -> tuple[str, dict]:
    # CloudFormation names an unnamed role after the stack and the logical id.
    iam = stack.client("iam")
    name = props.get("RoleName") or f"comm-it-{stack.stage}-{stack.current}"
    role = iam.create_role(RoleName=name, Path=props.get("Path", "/"),
                           AssumeRolePolicyDocument=json.dumps(props["AssumeRolePolicyDocument"]),
                           Description=props.get("Description", ""))["Role"]
    for policy in props.get("Policies", []):
        iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"],
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    for arn in props.get("ManagedPolicyArns", []):
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}


def _identity_pool_roles(stack: Stack, props: dict) -> tuple[str, dict]:
    stack.client("cognito-identity").set_identity_pool_roles(
        IdentityPoolId=props["IdentityPoolId"], Roles=props.get("Roles", {}))
    return props["IdentityPoolId"], {}


def _identity_pool_principal_tags(stack: Stack, props: dict) -> tuple[str, dict]:
    stack.client("cognito-identity").set_principal_tag_attribute_map(
        IdentityPoolId=props["IdentityPoolId"], IdentityProviderName=props["IdentityProviderName"],
        UseDefaults=bool(props.get("UseDefaults", False)),
        PrincipalTags=props.get("PrincipalTags", {}))
    return f"{props['IdentityPoolId']}:{props['IdentityProviderName']}", {}
# CloudFormation's properties of a pool that the API sets with SetUserPoolMfaConfig.
MFA_PROPERTIES = ("EnabledMfas", "WebAuthnRelyingPartyID", "WebAuthnUserVerification")


def pool_mfa_config(props: dict) -> dict | None:
    """SetUserPoolMfaConfig's arguments (but UserPoolId) for a pool's CloudFormation
    properties (the create's, or an update's, resource_changes.py); None when MFA is off."""
    if props.get("MfaConfiguration", "OFF") == "OFF":
        return None
    return {"MfaConfiguration": props["MfaConfiguration"],
            "SoftwareTokenMfaConfiguration": {
                "Enabled": "SOFTWARE_TOKEN_MFA" in props.get("EnabledMfas", [])},
            "WebAuthnConfiguration": {
                "RelyingPartyId": props.get("WebAuthnRelyingPartyID") or LOCAL_RELYING_PARTY,
                "UserVerification": props.get("WebAuthnUserVerification", "preferred")}}


def _user_pool(stack: Stack, props: dict) -> tuple[str, dict]:
    mfa = pool_mfa_config(props)
    props = {k: v for k, v in props.items() if k not in MFA_PROPERTIES}
    name = props.pop("UserPoolName")
    props["Policies"] = with_local_factors(props.get("Policies", {}))
    cognito = stack.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName=name, **props)["UserPool"]
    if mfa:
        cognito.set_user_pool_mfa_config(UserPoolId=pool["Id"], **mfa)
    provider = f"cognito-idp.{stack.region}.amazonaws.com/{pool['Id']}"
    return pool["Id"], {"Arn": pool["Arn"], "ProviderName": provider,
                        "ProviderURL": f"https://{provider}"}


# Locally the console outbox stands in for SES, the one way Cognito emails sign-in codes: the
# pool allows them (as the template's does with SesIdentityArn) and the app offers them. The
# relying party of passkeys is localhost (the template's PasskeyRelyingPartyId is the site's
# host, set by `make deploy`): WebAuthn refuses an IP address, so `make run` serves
# http://localhost:<PORT>/ too.
LOCAL_EMAIL_SIGN_IN = {"EmailSignInCodes": "on", "Passkeys": "on"}
LOCAL_RELYING_PARTY = "localhost"


def with_local_factors(policies: dict) -> dict:
    policy = dict(policies.get("SignInPolicy") or {"AllowedFirstAuthFactors": ["PASSWORD"]})
    factors = list(policy.get("AllowedFirstAuthFactors") or [])
    policy["AllowedFirstAuthFactors"] = factors + [
        f for f in ["WEB_AUTHN", "EMAIL_OTP"] if f not in factors]
    return {**policies, "SignInPolicy": policy}


def _user_pool_client(stack: Stack, props: dict) -> tuple[str, dict]:
    created = stack.client("cognito-idp").create_user_pool_client(**props)["UserPoolClient"]
    return created["ClientId"], {}


def _identity_pool(stack: Stack, props: dict) -> tuple[str, dict]:
    created = stack.client("cognito-identity").create_identity_pool(**props)
    return created["IdentityPoolId"], {"Name": created["IdentityPoolName"]}


def _table(stack: Stack, props: dict) -> tuple[str, dict]:
    ddb = stack.client("dynamodb")
    name = props["TableName"]
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if "StreamSpecification" in props:
        args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        args["SSESpecification"] = {"Enabled": True}
    table = ddb.create_table(**args)["TableDescription"]
    if "TimeToLiveSpecification" in props:
        ddb.update_time_to_live(TableName=name,
                                TimeToLiveSpecification=props["TimeToLiveSpecification"])
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
    return name, {"Arn": table["TableArn"], "StreamArn": table.get("LatestStreamArn", "")}


def _bucket(stack: Stack, props: dict) -> tuple[str, dict]:
    s3 = stack.client("s3")
    name = props["BucketName"]
    if stack.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name,
                         CreateBucketConfiguration={"LocationConstraint": stack.region})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "BucketEncryption" in props:
        rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                 for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name,
                                 VersioningConfiguration=props["VersioningConfiguration"])
    if "NotificationConfiguration" in props:
        s3.put_bucket_notification_configuration(
            Bucket=name,
            NotificationConfiguration=_notifications(props["NotificationConfiguration"]))
    return name, {"Arn": f"arn:aws:s3:::{name}"}


def _notifications(config: dict) -> dict:
    """CloudFormation's NotificationConfiguration (queues) in PutBucketNotificationConfiguration's
    shape; moto's S3 then sends the events to the queue, as S3 does."""
    queues = []
    for item in config.get("QueueConfigurations", []):
        rules = item.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        queue = {"QueueArn": item["Queue"], "Events": [item["Event"]]}
        if rules:
            queue["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]}
                                                       for r in rules]}}
        queues.append(queue)
    return {"QueueConfigurations": queues}


def _topic(stack: Stack, props: dict) -> tuple[str, dict]:
    attributes = {k: str(v) for k, v in props.items() if k != "TopicName"}
    topic = stack.client("sns").create_topic(Name=props["TopicName"], Attributes=attributes)
    arn = topic["TopicArn"]
    return arn, {"TopicArn": arn, "TopicName": props["TopicName"]}


def _queue(stack: Stack, props: dict) -> tuple[str, dict]:
    sqs = stack.client("sqs")
    attributes = {}
    for key, value in props.items():
        if key == "QueueName":
            continue
        if key == "RedrivePolicy":
            value = json.dumps(value)
        elif isinstance(value, bool):
            value = str(value).lower()
        attributes[key] = str(value)
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": props["QueueName"], "QueueUrl": url}


def _subscription(stack: Stack, props: dict) -> tuple[str, dict]:
    # RedrivePolicy is JSON in the template (moto keeps it; it never dead-letters a delivery).
    attributes = {k: str(v).lower() if isinstance(v, bool) else
                  json.dumps(v) if isinstance(v, dict) else str(v)
                  for k, v in props.items() if k not in ("TopicArn", "Protocol", "Endpoint")}
    arn = stack.client("sns").subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                                        Endpoint=props["Endpoint"], Attributes=attributes,
                                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    return arn, {}


def _kms_key(stack: Stack, props: dict) -> tuple[str, dict]:
    kms = stack.client("kms")
    key = kms.create_key(Description=props.get("Description", ""),
                         Policy=json.dumps(props["KeyPolicy"]))["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key["KeyId"])
    return key["KeyId"], {"Arn": key["Arn"], "KeyId": key["KeyId"]}


def _log_group(stack: Stack, props: dict) -> tuple[str, dict]:
    logs = stack.client("logs")
    name = props["LogGroupName"]
    logs.create_log_group(logGroupName=name)
    if "RetentionInDays" in props:
        logs.put_retention_policy(logGroupName=name, retentionInDays=props["RetentionInDays"])
    return name, {"Arn": f"arn:aws:logs:{stack.region}:{ACCOUNT_ID}:log-group:{name}:*"}


def _metric_filter(stack: Stack, props: dict) -> tuple[str, dict]:
    name = f"{props['LogGroupName']}-{props['MetricTransformations'][0]['MetricName']}"
    transformations = [{"metricName": t["MetricName"], "metricNamespace": t["MetricNamespace"],
                        "metricValue": t["MetricValue"],
                        **({"defaultValue": float(t["DefaultValue"])}
                           if "DefaultValue" in t else {})}
                       for t in props["MetricTransformations"]]
    stack.client("logs").put_metric_filter(logGroupName=props["LogGroupName"], filterName=name,
                                           filterPattern=props["FilterPattern"],
                                           metricTransformations=transformations)
    return name, {}


def _alarm(stack: Stack, props: dict) -> tuple[str, dict]:
    stack.client("cloudwatch").put_metric_alarm(**props)
    return props["AlarmName"], {"Arn": f"arn:aws:cloudwatch:{stack.region}:{ACCOUNT_ID}:alarm:"
                                        f"{props['AlarmName']}"}


def _web_acl(stack: Stack, props: dict) -> tuple[str, dict]:
    rules = [{**rule, "Statement": {**rule["Statement"], "RateBasedStatement": {
        **rule["Statement"]["RateBasedStatement"],  # a parameter's string, as CloudFormation
        "Limit": int(rule["Statement"]["RateBasedStatement"]["Limit"])}}}  # makes it a number
        if "RateBasedStatement" in rule["Statement"] else rule for rule in props["Rules"]]
    acl = stack.client("wafv2").create_web_acl(**{**props, "Rules": rules})["Summary"]
    return f"{acl['Name']}|{acl['Id']}|{props['Scope']}", {"Arn": acl["ARN"], "Id": acl["Id"]}


# Made for a deployed stage's stack only (local/cloudformation/stacks.py, `make deploy` rehearsed),
# so infra/waf.py puts it in front of the API stage as in AWS; never enforced locally.
DEPLOYED_ONLY: dict[str, Creator] = {"AWS::WAFv2::WebACL": _web_acl}

CREATORS: dict[str, Creator] = {
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::IdentityPool": _identity_pool,
    "AWS::DynamoDB::Table": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
    "AWS::SNS::Subscription": _subscription,
    "AWS::IAM::Role": _role,
    "AWS::Cognito::IdentityPoolRoleAttachment": _identity_pool_roles,
    "AWS::Cognito::IdentityPoolPrincipalTag": _identity_pool_principal_tags,
    "AWS::KMS::Key": _kms_key,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Logs::MetricFilter": _metric_filter,
    "AWS::CloudWatch::Alarm": _alarm,
}


def create(session: Any, stage: str, region: str, endpoint_url: str) -> dict[str, str]:
    """Create every resource of the template; return the app's environment variables."""
    stack = Stack(session, stage, region, endpoint_url, CREATORS, frozenset(NOT_ENFORCED_LOCALLY))
    outputs = {**stack.create(infra_template.load()), **LOCAL_EMAIL_SIGN_IN}
    return {infra_template.env_name(name): value for name, value in outputs.items()}
