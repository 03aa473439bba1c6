"""Create the resources of infra/template.yaml in the local AWS.

A small interpreter for the resource types the template uses: the same names,
key schema, stream view, pool policy, client flows and queue wiring as the stack
in AWS, because they come from the same file. Resources are created in the order
their references need (as CloudFormation does), whatever their order in the file.
IAM roles, the identity pool's role attachment and its principal tag map are
created too: local/iam.py enforces them. Resource policies (bucket, queue) are
skipped (they are tested against the template instead).
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from infra import template as infra_template

ACCOUNT_ID = "123456789012"  # moto's default account
NOT_ENFORCED_LOCALLY = {"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"}


class Stack:
    """The resources of one stage, created in the local AWS."""

    def __init__(self, session: Any, stage: str, region: str, endpoint_url: str) -> None:
        self._session = session
        self._endpoint_url = endpoint_url
        self.stage = stage
        self.region = region
        self.refs: dict[str, str] = {}
        self.attrs: dict[str, dict[str, str]] = {}
        self.outputs: dict[str, str] = {}
        self.current = ""  # the logical name being created
        self.parameters: dict[str, str] = {}
        self.conditions: dict[str, bool] = {}

    def client(self, service: str) -> Any:
        return self._session.client(service, region_name=self.region,
                                    endpoint_url=self._endpoint_url)

    # --- intrinsic functions ------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"}:
            condition, when_true, when_false = value["Fn::If"]
            chosen = self.resolve(when_true if self.conditions[condition] else when_false)
            return _drop_no_value(chosen)
        if len(value) == 1 and (set(value) & {"Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or"}
                                or isinstance(value.get("Condition"), str)):
            return self._condition(value)  # not an IAM statement's "Condition" block
        if set(value) == {"Ref"}:
            return self._ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            logical, attribute = value["Fn::GetAtt"]
            return self.attrs[logical][attribute]
        if set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: self._sub(m.group(1)), value["Fn::Sub"])
        return {k: self.resolve(v) for k, v in value.items()}

    def _condition(self, value: dict[str, Any]) -> bool:
        (kind, args), = value.items()
        if kind == "Condition":
            return self.conditions[args]
        if kind == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return left == right
        values = [self.resolve(a) for a in args]
        return {"Fn::Not": lambda: not values[0], "Fn::And": lambda: all(values),
                "Fn::Or": lambda: any(values)}[kind]()

    def _ref(self, name: str) -> Any:
        pseudo = {"AWS::AccountId": ACCOUNT_ID, "AWS::Region": self.region,
                  "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::NoValue": _NO_VALUE}
        if name in pseudo:
            return pseudo[name]
        return self.parameters[name] if name in self.parameters else self.refs[name]

    def _sub(self, expression: str) -> str:
        if expression.startswith("!"):
            return "${" + expression[1:] + "}"
        if "." in expression:
            logical, attribute = expression.split(".", 1)
            return self.attrs[logical][attribute]
        return self._ref(expression)

    # --- resources ------------------------------------------------------------------
    def create(self, template: dict[str, Any]) -> dict[str, str]:
        # Every parameter takes its default (the template's defaults are the local choices:
        # no alarm email, Cognito's own sender), except the stage.
        self.parameters = {name: p.get("Default", "")
                           for name, p in template.get("Parameters", {}).items()}
        self.parameters["Stage"] = self.stage
        for name, condition in template.get("Conditions", {}).items():
            self.conditions[name] = self._condition(condition)
        for logical in creation_order(template["Resources"]):
            resource = template["Resources"][logical]
            kind = resource["Type"]
            if kind in NOT_ENFORCED_LOCALLY:
                continue
            if "Condition" in resource and not self.conditions[resource["Condition"]]:
                continue
            props = self.resolve(resource.get("Properties", {}))
            self.current = logical
            ref, attrs = CREATORS[kind](self, props)
            self.refs[logical] = ref
            self.attrs[logical] = attrs
        self.outputs = {name: self.resolve(out["Value"])
                        for name, out in template.get("Outputs", {}).items()}
        return self.outputs


def _references(value: Any) -> set[str]:
    """The logical names a property value refers to (Ref, GetAtt, Sub)."""
    if isinstance(value, list):
        return set().union(*(_references(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Ref"}:
        return {value["Ref"]}
    if set(value) == {"Fn::GetAtt"}:
        return {value["Fn::GetAtt"][0]}
    if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return {m.group(1).split(".", 1)[0]
                for m in re.finditer(r"\$\{([^!}][^}]*)\}", value["Fn::Sub"])}
    return set().union(*(_references(v) for v in value.values())) if value else set()


def creation_order(resources: dict[str, Any]) -> list[str]:
    """The logical names, each after the resources it refers to; otherwise in file order."""
    pending = {name: _references(r.get("Properties", {})) & set(resources)
               for name, r in resources.items()}
    order: list[str] = []
    while pending:
        ready = next((n for n, deps in pending.items() if deps <= set(order)), None)
        if ready is None:
            raise ValueError(f"circular references among {sorted(pending)}")
        order.append(ready)
        del pending[ready]
    return order


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
_NO_VALUE = object()  # AWS::NoValue: the property is left out


def _drop_no_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_no_value(v) for k, v in value.items() if v is not _NO_VALUE}
    return value


def _user_pool(stack: Stack, props: dict) -> tuple[str, dict]:
    props = dict(props)
    name = props.pop("UserPoolName")
    pool = stack.client("cognito-idp").create_user_pool(PoolName=name, **props)["UserPool"]
    provider = f"cognito-idp.{stack.region}.amazonaws.com/{pool['Id']}"
    return pool["Id"], {"Arn": pool["Arn"], "ProviderName": provider,
                        "ProviderURL": f"https://{provider}"}


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
        ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
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
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(Bucket=name,
                                   PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "BucketEncryption" in props:
        rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                 for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "NotificationConfiguration" in props:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_notifications(props["NotificationConfiguration"]))
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
    arn = stack.client("sns").create_topic(Name=props["TopicName"], Attributes=attributes)["TopicArn"]
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
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": props["QueueName"], "QueueUrl": url}


def _subscription(stack: Stack, props: dict) -> tuple[str, dict]:
    attributes = {k: str(v).lower() if isinstance(v, bool) else str(v)
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
                        **({"defaultValue": float(t["DefaultValue"])} if "DefaultValue" in t else {})}
                       for t in props["MetricTransformations"]]
    stack.client("logs").put_metric_filter(logGroupName=props["LogGroupName"], filterName=name,
                                           filterPattern=props["FilterPattern"],
                                           metricTransformations=transformations)
    return name, {}


def _alarm(stack: Stack, props: dict) -> tuple[str, dict]:
    stack.client("cloudwatch").put_metric_alarm(**props)
    return props["AlarmName"], {"Arn": f"arn:aws:cloudwatch:{stack.region}:{ACCOUNT_ID}:alarm:"
                                        f"{props['AlarmName']}"}


CREATORS: dict[str, Callable[[Stack, dict], tuple[str, dict]]] = {
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
    stack = Stack(session, stage, region, endpoint_url)
    outputs = stack.create(infra_template.load())
    return {infra_template.env_name(name): value for name, value in outputs.items()}
