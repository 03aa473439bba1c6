"""The template's operations resources exist in the local AWS too (`make run` builds it from
the same file): alarms, log groups with their retention, the metric filter, the events key
and the encrypted topics; the optional parts (alarm email, SES) take their defaults."""
from __future__ import annotations

from typing import Any

import pytest

from infra import template as infra_template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return infra_template.load()


@pytest.fixture
def aws(stack: dict[str, str], local_aws: Any):
    session = local_aws.session()
    return lambda service: session.client(service, endpoint_url=stack["AWS_ENDPOINT_URL"])


def local_name(value: dict[str, str]) -> str:
    return value["Fn::Sub"].replace("${Stage}", "local")


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_every_alarm_of_the_template_exists_locally_and_notifies_the_alarm_topic(template, aws):
    alarms = {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    wanted = {local_name(r["Properties"]["AlarmName"]): r["Properties"]
              for r in of_type(template, "AWS::CloudWatch::Alarm")}
    assert set(wanted) <= set(alarms)
    for name, props in wanted.items():
        assert alarms[name]["MetricName"] == props["MetricName"]
        assert alarms[name]["Threshold"] == props["Threshold"]
        (action,) = alarms[name]["AlarmActions"]
        assert action.endswith(":comm-it-local-alarms")


def test_log_groups_expire_and_the_skipped_records_filter_is_in_place(template, aws):
    logs = aws("logs")
    groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    for resource in of_type(template, "AWS::Logs::LogGroup"):
        group = groups[local_name(resource["Properties"]["LogGroupName"])]
        assert group["retentionInDays"] == resource["Properties"]["RetentionInDays"]
    wanted = of_type(template, "AWS::Logs::MetricFilter")
    assert len(wanted) == 3  # the skipped stream records, the API's ERROR lines, quota removals
    for metric_filter in wanted:
        group = template["Resources"][metric_filter["Properties"]["LogGroupName"]["Ref"]]
        filters = logs.describe_metric_filters(
            logGroupName=local_name(group["Properties"]["LogGroupName"]))
        (got,) = filters["metricFilters"]
        assert got["filterPattern"] == metric_filter["Properties"]["FilterPattern"]


def test_the_topics_are_encrypted_with_the_rotated_events_key(stack, aws):
    sns, kms = aws("sns"), aws("kms")
    key_id = stack["EVENTS_KEY_ARN"].rsplit("/", 1)[1]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert len(topics) == 2
    for arn in topics:
        assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["KmsMasterKeyId"] == key_id


def test_locally_no_alarm_email_is_subscribed_and_cognito_sends_its_own_mail(stack, aws):
    alarms = next(t["TopicArn"] for t in aws("sns").list_topics()["Topics"]
                  if t["TopicArn"].endswith("-alarms"))
    assert aws("sns").list_subscriptions_by_topic(TopicArn=alarms)["Subscriptions"] == []
    pool = aws("cognito-idp").describe_user_pool(UserPoolId=stack["USER_POOL_ID"])["UserPool"]
    assert pool["EmailConfiguration"]["EmailSendingAccount"] == "COGNITO_DEFAULT"
