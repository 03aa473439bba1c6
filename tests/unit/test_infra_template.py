"""infra/template.yaml: valid CloudFormation, and the properties the app relies on."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import template as infra_template
from tests.helpers import of_type, props

ROOT = Path(__file__).resolve().parents[2]


def test_cfn_lint_passes_on_the_template():
    from cfnlint.api import ManualArgs, lint_file

    assert [str(m) for m in lint_file(infra_template.TEMPLATE_PATH, config=ManualArgs())] == []


def test_cfn_lint_would_catch_a_broken_template(tmp_path):
    from cfnlint.api import ManualArgs, lint_file

    broken = tmp_path / "broken.yaml"
    broken.write_text(infra_template.TEMPLATE_PATH.read_text().replace(
        "BillingMode: PAY_PER_REQUEST", "BillingMode: PAY_AS_YOU_GO", 1))
    assert lint_file(broken, config=ManualArgs())


def test_user_pool_verifies_email_and_requires_name_and_email(template):
    pool = props(template, "UserPool")
    assert pool["AutoVerifiedAttributes"] == ["email"]
    # Either sender (SES or Cognito's own): a code; the custom text only with SES.
    _, with_ses, without = pool["VerificationMessageTemplate"]["Fn::If"]
    for messages in (with_ses, without):
        assert messages["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert "{####}" in with_ses["EmailMessage"]
    required = {a["Name"] for a in pool["Schema"] if a.get("Required")}
    assert required == {"name", "email"}


def test_user_pool_password_policy_matches_what_the_app_tells_people(template):
    policy = props(template, "UserPool")["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 8
    assert policy["RequireLowercase"] and policy["RequireUppercase"] and policy["RequireNumbers"]
    from chalicelib.cognito import weak_password

    assert f"at least {policy['MinimumLength']} characters" in str(weak_password(""))


def test_accounts_are_recovered_by_verified_email_only(template):
    recovery = props(template, "UserPool")["AccountRecoverySetting"]["RecoveryMechanisms"]
    assert recovery == [{"Name": "verified_email", "Priority": 1}]


def test_app_client_is_public_with_only_the_flows_the_app_uses(template):
    client = props(template, "UserPoolClient")
    assert client["GenerateSecret"] is False
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_AUTH",
                                                   "ALLOW_USER_PASSWORD_AUTH"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["EnableTokenRevocation"] is True


def test_id_token_carries_name_and_email(template):
    assert {"name", "email"} <= set(props(template, "UserPoolClient")["ReadAttributes"])


def test_identity_pool_admits_only_signed_in_users_of_this_pool(template):
    pool = props(template, "IdentityPool")
    assert pool["AllowUnauthenticatedIdentities"] is False
    (provider,) = pool["CognitoIdentityProviders"]
    assert provider["ClientId"] == {"Ref": "UserPoolClient"}
    assert provider["ServerSideTokenCheck"] is True
    roles = props(template, "IdentityPoolRoles")["Roles"]
    assert set(roles) == {"authenticated"}


def test_identity_role_is_assumed_only_by_signed_in_users_of_this_pool_with_the_sub_tag(template):
    """The role's grants are checked statement by statement in
    tests/local/test_iam_identity_pool.py and enforced in
    tests/local/test_iam_enforcement.py."""
    role = props(template, "AuthenticatedRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert set(trust["Action"]) == {"sts:AssumeRoleWithWebIdentity", "sts:TagSession"}
    assert trust["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"] == \
        {"Ref": "IdentityPool"}
    assert trust["Condition"]["ForAnyValue:StringLike"]["cognito-identity.amazonaws.com:amr"] == \
        "authenticated"
    tags = props(template, "IdentityPoolPrincipalTags")
    assert tags["PrincipalTags"] == {"sub": "sub"} and tags["UseDefaults"] is False
    assert tags["IdentityProviderName"] == {"Fn::GetAtt": ["UserPool", "ProviderName"]}


def test_the_principal_tag_key_matches_where_the_archive_lambda_writes():
    from chalicelib import user_keys

    assert user_keys.profile_key("SUB") == "app/SUB/profile.json"


def test_the_authenticated_roles_policy_names_the_key_layout_of_chalicelib_user_keys(template):
    """The person's own profile and files, where chalicelib/my_files.py reaches them."""
    from chalicelib import user_keys

    [role] = [r for r in of_type(template, "AWS::IAM::Role").values()
              if any(p["PolicyName"] == "own-profile-and-files"
                     for p in r["Properties"].get("Policies", []))]
    [policy] = role["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    sub = "${!aws:PrincipalTag/sub}"  # in a !Sub: IAM's variable, not CloudFormation's
    bucket = "${UsersBucket.Arn}"
    assert statements["ReadOwnProfile"]["Resource"] == {
        "Fn::Sub": f"{bucket}/{user_keys.profile_key(sub)}"}
    assert statements["ManageOwnFiles"]["Resource"] == {
        "Fn::Sub": f"{bucket}/{user_keys.files_prefix(sub)}*"}
    tag = "${aws:PrincipalTag/sub}"
    assert statements["ListOwnFiles"]["Condition"]["StringLike"]["s3:prefix"] == [
        user_keys.files_prefix(tag), user_keys.files_prefix(tag) + "*",
        user_keys.profile_key(tag)]


def test_users_table_is_on_demand_streamed_encrypted_and_recoverable(template):
    table = template["Resources"]["UsersTable"]
    p = table["Properties"]
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["KeySchema"] == [{"AttributeName": "sub", "KeyType": "HASH"}]
    assert p["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert p["SSESpecification"]["SSEEnabled"] is True
    assert p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    # Kept when the stack is deleted, but not after a failed first create (which the
    # retry would otherwise trip over: "already exists").
    assert table["DeletionPolicy"] == "RetainExceptOnCreate"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_processed_events_table_expires_its_markers(template):
    p = props(template, "ProcessedEventsTable")
    assert p["BillingMode"] == "PAY_PER_REQUEST"
    assert p["KeySchema"] == [{"AttributeName": "event_id", "KeyType": "HASH"}]
    assert p["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    from chalicelib.users_table import MARKER_TTL_SECONDS

    longest_retention = max(props(template, q)["MessageRetentionPeriod"]
                            for q in ("ProfileQueue", "ArchiveQueue", "SignInQueue"))
    assert MARKER_TTL_SECONDS > longest_retention


def test_bucket_is_private_encrypted_versioned_and_tls_only(template):
    bucket = template["Resources"]["UsersBucket"]
    p = bucket["Properties"]
    assert p["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True,
        "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert p["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    (expiry,) = p["LifecycleConfiguration"]["Rules"]
    assert expiry["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0
    (deny,) = props(template, "UsersBucketPolicy")["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert {"Fn::Sub": "${UsersBucket.Arn}/*"} in deny["Resource"]


def test_every_consumer_queue_has_a_dead_letter_queue_and_redrive(template):
    queues = of_type(template, "AWS::SQS::Queue")
    consumers = {name: q for name, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    assert set(consumers) == {"ProfileQueue", "ArchiveQueue", "QuotaQueue", "SignInQueue"}
    for name, queue in consumers.items():
        p = queue["Properties"]
        dlq_name = p["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        dlq = queues[dlq_name]["Properties"]
        assert 1 < p["RedrivePolicy"]["maxReceiveCount"] <= 10
        assert dlq["MessageRetentionPeriod"] > p["MessageRetentionPeriod"], name
        assert p["SqsManagedSseEnabled"] and dlq["SqsManagedSseEnabled"]


def test_queue_visibility_timeout_is_six_times_the_consumers_timeout(template):
    from infra.stage import FUNCTION_SETTINGS

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    functions = config["stages"]["dev"]["lambda_functions"]
    consumers = {"ProfileQueue": "save_profile", "ArchiveQueue": "archive_profile",
                 "QuotaQueue": "enforce_quota", "SignInQueue": "record_sign_in"}
    # Every queue a Lambda consumes (each has a dead-letter queue) is in the list above.
    assert {n for n, q in of_type(template, "AWS::SQS::Queue").items()
            if "RedrivePolicy" in q["Properties"]} == set(consumers)
    for queue, function in consumers.items():
        for timeout in (functions[function].get("lambda_timeout", config.get("lambda_timeout", 60)),
                        FUNCTION_SETTINGS[function]["lambda_timeout"]):
            assert props(template, queue)["VisibilityTimeout"] >= 6 * timeout, (queue, timeout)


def test_topic_fans_out_to_each_queue_with_raw_delivery(template):
    subscriptions = [s for s in of_type(template, "AWS::SNS::Subscription").values()
                     if s["Properties"]["Protocol"] == "sqs"]
    endpoints = {s["Properties"]["Endpoint"]["Fn::GetAtt"][0] for s in subscriptions}
    assert endpoints == {"ProfileQueue", "ArchiveQueue", "SignInQueue"}
    for s in subscriptions:
        assert s["Properties"]["TopicArn"] == {"Ref": "UserEventsTopic"}
        assert (s["Properties"]["Protocol"] == "sqs"
                and s["Properties"]["RawMessageDelivery"] is True)
    # record_sign_in gets log-ins only (the type is each message's attribute: user_events).
    filters = {s["Properties"]["Endpoint"]["Fn::GetAtt"][0]: s["Properties"].get("FilterPolicy")
               for s in subscriptions}
    assert filters == {"ProfileQueue": None, "ArchiveQueue": None,
                       "SignInQueue": {"type": ["user.authenticated"]}}


def test_only_the_topic_may_send_to_the_queues(template):
    policy = props(template, "TopicToQueuesPolicy")
    assert policy["Queues"] == [{"Ref": "ProfileQueue"}, {"Ref": "ArchiveQueue"},
                                {"Ref": "SignInQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "UserEventsTopic"}}}


def test_each_subscription_sends_what_sns_cannot_deliver_to_a_dead_letter_queue_of_its_own(
        template):
    """AWS drops a message once SNS's delivery retries run out, unless the subscription has a
    redrive policy; one queue per subscription, so a redrive knows where it was going."""
    queues = of_type(template, "AWS::SQS::Queue")
    dead_letters = {}
    for s in of_type(template, "AWS::SNS::Subscription").values():
        if s["Properties"]["Protocol"] != "sqs":
            continue
        target = s["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"]
        assert target[1] == "Arn"
        dead_letters[s["Properties"]["Endpoint"]["Fn::GetAtt"][0]] = target[0]
    assert dead_letters == {"ProfileQueue": "ProfileSubscriptionDeadLetterQueue",
                            "ArchiveQueue": "ArchiveSubscriptionDeadLetterQueue",
                            "SignInQueue": "SignInSubscriptionDeadLetterQueue"}
    for queue, dlq in dead_letters.items():
        p = queues[dlq]["Properties"]
        assert "RedrivePolicy" not in p and p["SqsManagedSseEnabled"]
        assert p["MessageRetentionPeriod"] > props(template, queue)["MessageRetentionPeriod"]


def test_only_the_topic_may_send_to_the_subscriptions_dead_letter_queues(template):
    """SNS needs the dead-letter queue's permission too; a policy of its own, so a broken
    TopicToQueuesPolicy (one reason for a failed delivery) does not break it as well."""
    policy = props(template, "TopicToDeadLetterQueuesPolicy")
    dlqs = ["ProfileSubscriptionDeadLetterQueue", "ArchiveSubscriptionDeadLetterQueue",
            "SignInSubscriptionDeadLetterQueue"]
    assert policy["Queues"] == [{"Ref": q} for q in dlqs]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == [{"Fn::GetAtt": [q, "Arn"]} for q in dlqs]
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": "UserEventsTopic"}}}


class RecordingEnviron(dict):
    """An empty environment that remembers every name asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: set[str] = set()

    def get(self, name: str, default: Any = None) -> Any:
        self.asked.add(name)
        return super().get(name, default)


def test_outputs_give_every_setting_the_app_reads(template, monkeypatch):
    from types import SimpleNamespace

    from chalicelib import config

    env = {infra_template.env_name(name) for name in template["Outputs"]}
    assert set(config._DEPLOY_DEFAULTS) <= env
    environ = RecordingEnviron()
    monkeypatch.setattr(config, "os", SimpleNamespace(environ=environ))
    config.settings.cache_clear()
    try:
        config.settings()
    finally:
        config.settings.cache_clear()
    read = environ.asked
    assert "USER_POOL_ID" in read
    # Set by Lambda itself, by `make deploy` (APP_STAGE) or only locally (the JWKS override).
    not_from_the_stack = {"APP_STAGE", "AWS_REGION", "AWS_DEFAULT_REGION", "COGNITO_JWKS_URL",
                          "AWS_ENDPOINT_URL"}
    assert read - not_from_the_stack <= env


def test_every_name_carries_the_stage(template):
    for name, resource in template["Resources"].items():
        for key in ("UserPoolName", "ClientName", "IdentityPoolName", "TableName", "BucketName",
                    "TopicName", "QueueName"):
            if key in resource["Properties"]:
                assert "${Stage}" in resource["Properties"][key]["Fn::Sub"], name


def test_the_template_fits_the_body_cloudformation_takes_inline():
    """`make deploy` sends infra/template.yaml as compact JSON in TemplateBody: at most 51,200
    bytes (the YAML's comments do not count), and the same template as the YAML."""
    import json

    from infra.stack import INLINE_LIMIT

    assert INLINE_LIMIT == 51_200
    sent = infra_template.compact(infra_template.TEMPLATE_PATH.read_text(encoding="utf-8"))
    assert len(sent.encode("utf-8")) <= INLINE_LIMIT
    assert json.loads(sent) == infra_template.load()


def test_make_deploy_sends_the_template_compact(template):
    from infra import stack

    class Cfn:
        def __init__(self) -> None:
            self.sent: list[str] = []

        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ValidationError",
                                         "Message": f"Stack with id {StackName} does not exist"}},
                              "DescribeStacks")

        def create_stack(self, **args: Any) -> None:
            self.sent.append(args["TemplateBody"])

        update_stack = create_stack  # then the same template with the protection on

    cfn = Cfn()
    body = "# a comment for people\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    stack.deploy_stack(cfn, "dev", body, wait=False)
    assert cfn.sent == ['{"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}'] * 2


def test_a_template_over_the_inline_limit_stops_make_deploy_before_anything_changes():
    from infra import stack
    from infra.errors import DeployError

    class Untouched:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"CloudFormation was asked {name}")

    too_big = "Description: " + "x" * stack.INLINE_LIMIT + "\n"
    with pytest.raises(DeployError, match=r"is 51,218 bytes as sent \(compact JSON\), over the "
                                          r"51,200 .*nothing was changed"):
        stack.deploy_stack(Untouched(), "dev", too_big)


# --- the per-client rate limit (AWS WAF) ------------------------------------------------------

def rate_rule(template: dict[str, Any]) -> dict[str, Any]:
    from infra import waf

    (rule,) = props(template, waf.ACL)["Rules"]
    return rule


def waf_match(statement: dict[str, Any], path: str) -> bool:
    """What WAF does with a ByteMatchStatement on the URI path: the transformations in
    their order, then the positional constraint."""
    import posixpath
    from urllib.parse import unquote

    assert statement["FieldToMatch"] == {"UriPath": {}}
    value = path
    for step in sorted(statement["TextTransformations"], key=lambda t: t["Priority"]):
        if step["Type"] == "URL_DECODE":
            value = unquote(value)
        elif step["Type"] == "NORMALIZE_PATH":
            value = posixpath.normpath(value) + ("/" if value.endswith("/") else "")
        else:
            raise AssertionError(f"no model of {step['Type']} here")
    test = {"CONTAINS": str.__contains__, "STARTS_WITH": str.startswith,
            "EXACTLY": str.__eq__}[statement["PositionalConstraint"]]
    return test(value, statement["SearchString"])


@pytest.mark.parametrize("prefix", ["/dev", "", "/comm-it"])  # the stage's URL, custom domains
def test_the_rate_limit_counts_every_auth_route_and_no_other(template, prefix):
    from tests.helpers import app_routes

    statement = rate_rule(template)["Statement"]["RateBasedStatement"]["ScopeDownStatement"][
        "ByteMatchStatement"]
    for _, path in app_routes():
        counted = waf_match(statement, prefix + path)
        assert counted == path.startswith("/api/auth/"), path
    assert waf_match(statement, prefix + "/api//auth/login")
    assert waf_match(statement, prefix + "/api/auth%2Flogin")


def test_the_rate_limit_is_per_client_ip_over_5_minutes_and_blocks_with_429(template):
    from infra import waf

    acl = props(template, waf.ACL)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rule = rate_rule(template)
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["EvaluationWindowSec"] == 300
    assert statement["Limit"] == {"Ref": waf.PARAMETER}
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    for visibility in (acl["VisibilityConfig"], rule["VisibilityConfig"]):
        assert visibility["CloudWatchMetricsEnabled"] and visibility["SampledRequestsEnabled"]
        assert "${Stage}" in visibility["MetricName"]["Fn::Sub"]


def test_a_blocked_client_gets_the_apps_error_shape_with_retry_after_and_its_headers(template):
    from chalicelib.headers import SECURITY_HEADERS
    from infra import gateway, waf
    from tests.stack.helpers import assert_human

    response = rate_rule(template)["Action"]["Block"]["CustomResponse"]
    body = props(template, waf.ACL)["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    assert body["ContentType"] == "APPLICATION_JSON"
    answer = json.loads(body["Content"])
    assert set(answer) == {"error", "message"}
    assert answer["error"] == gateway.CODES[response["ResponseCode"]] == "TooManyRequests"
    assert_human(answer["message"])
    assert "wait" in answer["message"]
    headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
    window = rate_rule(template)["Statement"]["RateBasedStatement"]["EvaluationWindowSec"]
    assert 0 < int(headers.pop("Retry-After")) <= window
    assert headers == SECURITY_HEADERS


@pytest.mark.parametrize("value, on", [("500", True), ("10", True), ("2000", True),
                                       ("0", False)])
def test_the_rate_limit_is_on_by_default_and_0_turns_its_web_acl_off(template, value, on):
    import re

    from infra import waf
    from local.cloudformation.language import Stack

    parameter = template["Parameters"][waf.PARAMETER]
    assert re.fullmatch(parameter["AllowedPattern"], value)
    condition = template["Conditions"][template["Resources"][waf.ACL]["Condition"]]
    stack = Stack(None, "dev", "eu-west-1", "", {})  # the conditions, as `make run` reads them
    stack.parameters = {name: p.get("Default", "") for name, p in template["Parameters"].items()}
    assert stack.resolve(condition) is True
    stack.parameters[waf.PARAMETER] = value
    assert stack.resolve(condition) is on


@pytest.mark.parametrize("value", ["5", "9", "-1", "010", "ten", ""])
def test_a_limit_waf_would_refuse_is_refused_by_the_template(template, value):
    import re

    from infra import waf

    assert not re.fullmatch(template["Parameters"][waf.PARAMETER]["AllowedPattern"], value)


def test_the_web_acl_is_a_create_web_acl_request_botocore_accepts():
    """CloudFormation's WAFv2 properties are the API's: the wafv2 model checks the names,
    types, required members and bounds (a Limit under 10, a header over 255 characters)."""
    import botocore.session
    from botocore.validate import ParamValidator

    from tests.helpers import web_acl_request

    model = botocore.session.get_session().get_service_model("wafv2")
    shape = model.operation_model("CreateWebACL").input_shape
    report = ParamValidator().validate(web_acl_request("dev"), shape)
    assert not report.has_errors(), report.generate_report()
    request = web_acl_request("dev")
    request["Rules"][0]["Statement"]["RateBasedStatement"]["Limit"] = 9
    assert ParamValidator().validate(request, shape).has_errors()
