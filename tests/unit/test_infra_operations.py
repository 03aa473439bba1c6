"""infra/template.yaml: what operating it safely needs (retention, protection, encryption,
token lifetime, alarms, log retention) -- checked on the template itself."""
from __future__ import annotations

from typing import Any

import pytest

from infra import policy, stack
from infra import template as infra_template
from tests.helpers import of_type, props


def function_names() -> dict[str, str]:
    """The Lambda names Chalice gives each function of a stage, as the template writes them."""
    return {f: "comm-it-${Stage}" if f == policy.API_HANDLER else f"comm-it-${{Stage}}-{f}"
            for f in policy.FUNCTIONS}


def test_the_user_pool_survives_destroy_and_cannot_be_deleted_by_accident(template):
    pool = template["Resources"]["UserPool"]
    # ACTIVE unless a deploy says otherwise: `make deploy` creates a stack with it off and
    # turns it on once the create is complete (tests/unit/test_infra_first_deploy.py).
    assert pool["Properties"]["DeletionProtection"] == {"Ref": "DataDeletionProtection"}
    assert template["Parameters"]["DataDeletionProtection"]["Default"] == "ACTIVE"
    assert pool["DeletionPolicy"] == "RetainExceptOnCreate"
    assert pool["UpdateReplacePolicy"] == "Retain"


def test_every_resource_holding_users_data_is_retained_except_on_a_failed_create(template):
    retained = {n for n, r in template["Resources"].items() if "DeletionPolicy" in r}
    assert retained == {"UserPool", "UsersTable", "UsersBucket", "UsersBucketPolicy"}
    for name in retained:
        assert template["Resources"][name]["DeletionPolicy"] == "RetainExceptOnCreate", name
        assert template["Resources"][name]["UpdateReplacePolicy"] == "Retain", name


def test_a_kept_bucket_keeps_every_policy_that_guards_it(template):
    """`make destroy` keeps the users bucket: its bucket policy (TLS only) stays with it, and
    the stack policy refuses an update that would replace or delete it (issue 27, item 8)."""
    denied = {r.removeprefix("LogicalResourceId/")
              for s in stack.stack_policy()["Statement"] if s["Effect"] == "Deny"
              for r in s["Resource"]}
    kept = {n for n, r in template["Resources"].items()
            if r.get("DeletionPolicy") == "RetainExceptOnCreate"}
    guards = {n for n, r in of_type(template, "AWS::S3::BucketPolicy").items()
              if r["Properties"]["Bucket"].get("Ref") in kept}
    assert guards == {"UsersBucketPolicy"}
    assert guards <= kept and guards <= denied
    (statement,) = props(template, "UsersBucketPolicy")["PolicyDocument"]["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_id_and_access_tokens_live_at_most_15_minutes(template):
    client = props(template, "UserPoolClient")
    assert client["TokenValidityUnits"]["IdToken"] == "minutes"
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert 5 <= client["IdTokenValidity"] <= 15 and 5 <= client["AccessTokenValidity"] <= 15


def test_ses_is_one_parameter_and_cognitos_sender_stays_the_default(template):
    assert template["Parameters"]["SesIdentityArn"]["Default"] == ""
    email = props(template, "UserPool")["EmailConfiguration"]["Fn::If"]
    assert email[0] == "UsesSes"
    assert email[1] == {"EmailSendingAccount": "DEVELOPER", "SourceArn": {"Ref": "SesIdentityArn"},
                        "From": {"Ref": "SesFromAddress"}}
    assert email[2] == {"EmailSendingAccount": "COGNITO_DEFAULT"}


def test_user_events_and_alarms_are_encrypted_with_a_rotated_key_cloudwatch_may_use(template):
    for topic in of_type(template, "AWS::SNS::Topic"):
        assert props(template, topic)["KmsMasterKeyId"] == {"Ref": "EventsKey"}, topic
    key = props(template, "EventsKey")
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"]
                  if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_the_publisher_may_use_the_topics_key_and_nothing_else_may(template):
    from tests.helpers import fake_outputs

    env = {infra_template.env_name(k): v for k, v in fake_outputs().items()}
    with_kms = {f for f, d in policy.documents(env, "dev").items()
                if any(a.startswith("kms:") for s in d["Statement"] for a in s["Action"])}
    assert with_kms == {policy.API_HANDLER}


def test_every_lambda_has_a_log_group_that_expires(template):
    groups = {props(template, n)["LogGroupName"]["Fn::Sub"]: props(template, n)
              for n in of_type(template, "AWS::Logs::LogGroup")}
    assert set(groups) == {f"/aws/lambda/{name}" for name in function_names().values()}
    for group in groups.values():
        assert 1 <= group["RetentionInDays"] <= 90


def _alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["Properties"] for r in of_type(template, "AWS::CloudWatch::Alarm").values()]


def _dimension(alarm: dict[str, Any], name: str) -> Any:
    return next((d["Value"] for d in alarm.get("Dimensions", []) if d["Name"] == name), None)


def test_every_dead_letter_queue_with_a_message_in_it_raises_an_alarm(template):
    dlqs = {n for n, q in of_type(template, "AWS::SQS::Queue").items()
            if "RedrivePolicy" not in q["Properties"]}
    assert dlqs == {"ProfileDeadLetterQueue", "ArchiveDeadLetterQueue", "NameSyncDeadLetterQueue",
                    "QuotaDeadLetterQueue", "ProfileSubscriptionDeadLetterQueue",
                    "ArchiveSubscriptionDeadLetterQueue", "SignInDeadLetterQueue",
                    "SignInSubscriptionDeadLetterQueue"}
    watched = {_dimension(a, "QueueName")["Fn::GetAtt"][0]: a for a in _alarms(template)
               if a["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    assert set(watched) == dlqs
    for alarm in watched.values():
        assert (alarm["Threshold"] == 1
                and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold")


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_functions_errors_and_throttles_raise_an_alarm(template, metric):
    watched = {_dimension(a, "FunctionName")["Fn::Sub"] for a in _alarms(template)
               if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric}
    assert watched == set(function_names().values())


def test_the_streams_iterator_age_the_apis_5xx_and_skipped_names_raise_alarms(template):
    by_metric = {a["MetricName"]: a for a in _alarms(template)}
    assert _dimension(by_metric["IteratorAge"], "FunctionName") == {
        "Fn::Sub": function_names()[policy.SYNC_NAME]}
    assert by_metric["5XXError"]["Namespace"] == "AWS/ApiGateway"
    assert _dimension(by_metric["5XXError"], "ApiName") == policy.APP_NAME
    skipped = by_metric["SkippedStreamRecords"]
    (transform,) = props(template, "NameSyncSkippedRecordsMetric")["MetricTransformations"]
    assert (skipped["Namespace"], skipped["MetricName"]) == (transform["MetricNamespace"],
                                                             transform["MetricName"])


def test_every_alarm_notifies_the_alarm_topic_and_email_is_optional(template):
    for alarm in _alarms(template):
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}], alarm["AlarmName"]
        assert alarm["TreatMissingData"] == "notBreaching"
    email = template["Resources"]["AlarmEmailSubscription"]
    assert email["Condition"] == "HasAlarmEmail"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert email["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}


def test_the_skipped_records_metric_counts_the_line_the_stream_consumer_writes(template):
    import json
    import re

    pattern = props(template, "NameSyncSkippedRecordsMetric")["FilterPattern"]
    assert re.fullmatch(r'\{ \$\.level = "ERROR" && \$\.skipped IS TRUE \}', pattern)
    from chalicelib import logs

    line = json.loads(logs.format_line("ERROR", "x", "skipping", {"skipped": True}))
    assert line["level"] == "ERROR" and line["skipped"] is True


# --- a failed create or update says why, never a traceback (issue 27, operations) ------------

class FailingCloudFormation:
    """A stack whose operation failed: the waiter gives up, the events say why (newest
    first, as DescribeStackEvents answers)."""

    def __init__(self, status: str, events: list[dict[str, Any]]) -> None:
        self.status, self.events = status, events

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803
        return {"Stacks": [{"StackName": StackName, "StackStatus": self.status}]}

    def get_waiter(self, name: str) -> Any:
        from botocore.exceptions import WaiterError

        class Waiter:
            def wait(inner, **kwargs: Any) -> None:  # noqa: N805
                raise WaiterError(name, "Waiter encountered a terminal failure state",
                                  {"Stacks": [{"StackStatus": self.status}]})
        return Waiter()

    def get_paginator(self, name: str) -> Any:
        assert name == "describe_stack_events"
        events = self.events

        class Pages:
            def paginate(self, StackName: str) -> list[dict[str, Any]]:  # noqa: N803
                return [{"StackEvents": events[:2]}, {"StackEvents": events[2:]}]
        return Pages()


def event(logical: str, status: str, reason: str = "",
          kind: str = "AWS::SQS::Queue") -> dict[str, Any]:
    return {"LogicalResourceId": logical, "ResourceType": kind, "ResourceStatus": status,
            **({"ResourceStatusReason": reason} if reason else {})}


STACK = "AWS::CloudFormation::Stack"
UPDATE_THAT_FAILED = [  # newest first
    event("comm-it-dev", "UPDATE_ROLLBACK_COMPLETE", kind=STACK),
    event("QuotaQueue", "UPDATE_FAILED", "Resource update cancelled"),
    event("UsersBucketPolicy", "UPDATE_FAILED", "Policy has invalid resource",
          "AWS::S3::BucketPolicy"),
    event("comm-it-dev", "UPDATE_IN_PROGRESS", "User Initiated", STACK),
    event("OldQueue", "CREATE_FAILED", "an older failure, not this update's"),
]


def test_a_failed_update_says_its_first_failed_events_reason_and_the_way_out():
    from infra.errors import DeployError

    cfn = FailingCloudFormation("UPDATE_ROLLBACK_COMPLETE", UPDATE_THAT_FAILED)
    with pytest.raises(DeployError) as error:
        stack._wait(cfn, "stack_update_complete", "comm-it-dev", True)
    assert str(error.value) == (
        "Stack comm-it-dev is UPDATE_ROLLBACK_COMPLETE: UsersBucketPolicy (AWS::S3::BucketPolicy) "
        "UPDATE_FAILED: Policy has invalid resource. The update rolled back: the stack is as it "
        "was before. Fix the cause and `make deploy STAGE=dev` again.")


def test_a_rollback_that_failed_says_how_to_continue_it():
    from infra.errors import DeployError

    cfn = FailingCloudFormation("UPDATE_ROLLBACK_FAILED", UPDATE_THAT_FAILED)
    with pytest.raises(DeployError) as error:
        stack._wait(cfn, "stack_update_complete", "comm-it-dev", True)
    assert "Policy has invalid resource" in str(error.value)
    assert ("aws cloudformation continue-update-rollback --stack-name comm-it-dev"
            in str(error.value))


def test_a_first_create_that_rolled_back_says_why_and_to_delete_the_stack():
    from infra.errors import DeployError

    cfn = FailingCloudFormation("ROLLBACK_COMPLETE", [
        event("comm-it-dev", "ROLLBACK_COMPLETE", kind=STACK),
        event("UserPool", "CREATE_FAILED", "Resource creation cancelled", "AWS::Cognito::UserPool"),
        event("AlarmTopic", "CREATE_FAILED", "KMS key not found", "AWS::SNS::Topic"),
        event("comm-it-dev", "CREATE_IN_PROGRESS", "User Initiated", STACK)])
    with pytest.raises(DeployError) as error:
        stack._wait(cfn, "stack_create_complete", "comm-it-dev", True)
    message = str(error.value)
    assert message.startswith("Stack comm-it-dev is ROLLBACK_COMPLETE: AlarmTopic "
                              "(AWS::SNS::Topic) CREATE_FAILED: KMS key not found.")
    assert "aws cloudformation delete-stack --stack-name comm-it-dev" in message


def test_an_aws_refusal_no_step_foresaw_is_one_line_not_a_traceback(monkeypatch, capsys):
    from botocore.exceptions import ClientError

    from infra import deploy, runtime

    def refused(*args: Any, **kwargs: Any) -> None:
        raise ClientError({"Error": {"Code": "ValidationError",
                                     "Message": "Template format error"}}, "CreateStack")

    monkeypatch.setattr(deploy, "deploy", refused)
    assert deploy.main(["deploy", "--stage", "dev",  # the runtime accepted (test_infra_runtime)
                        "--accept-runtime", runtime.lambda_runtime()]) == 1
    assert capsys.readouterr().err == ("error: AWS answered ValidationError: Template format "
                                       "error\n")
