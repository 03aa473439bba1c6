"""What `make run` creates in the local AWS agrees with infra/template.yaml.

local/cloudformation/resources.py interprets the template, so the two share one source; these
tests read the resources back from the local AWS and compare them with the
template, so a creator that drops or bends a property fails here. That holds for the
operations resources too: alarms, log groups with their retention, the metric filter, the
events key and the encrypted topics; the optional parts (alarm email, SES) take their defaults.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from infra import template as infra_template
from tests.helpers import props


@pytest.fixture
def aws(stack: dict[str, str], local_aws: Any):
    session = local_aws.session()
    return lambda service: session.client(service, endpoint_url=stack["AWS_ENDPOINT_URL"])


def test_every_template_output_exists_locally(template, stack):
    expected = {infra_template.env_name(name) for name in template["Outputs"]}
    assert expected <= set(stack)
    assert all(stack[name] for name in expected)


def test_local_user_pool_has_the_templates_attributes_and_password_policy(template, stack, aws):
    want = props(template, "UserPool")
    pool = aws("cognito-idp").describe_user_pool(UserPoolId=stack["USER_POOL_ID"])["UserPool"]
    assert pool["Name"] == want["UserPoolName"]["Fn::Sub"].replace("${Stage}", "local")
    assert pool["AutoVerifiedAttributes"] == want["AutoVerifiedAttributes"]
    assert pool["Policies"]["PasswordPolicy"] == want["Policies"]["PasswordPolicy"]
    schema = {a["Name"]: a for a in pool["SchemaAttributes"]}
    for attribute in want["Schema"]:
        assert schema[attribute["Name"]]["Required"] is attribute["Required"]
        assert schema[attribute["Name"]]["Mutable"] is attribute["Mutable"]
    assert pool["AccountRecoverySetting"] == want["AccountRecoverySetting"]
    assert pool["UsernameConfiguration"] == want["UsernameConfiguration"]


def test_local_app_client_has_the_templates_flows_and_read_attributes(template, stack, aws):
    want = props(template, "UserPoolClient")
    client = aws("cognito-idp").describe_user_pool_client(
        UserPoolId=stack["USER_POOL_ID"], ClientId=stack["USER_POOL_CLIENT_ID"])["UserPoolClient"]
    assert sorted(client["ExplicitAuthFlows"]) == sorted(want["ExplicitAuthFlows"])
    assert sorted(client["ReadAttributes"]) == sorted(want["ReadAttributes"])
    assert client["PreventUserExistenceErrors"] == want["PreventUserExistenceErrors"]
    assert "ClientSecret" not in client


def test_local_identity_pool_trusts_the_local_user_pool_client(template, stack, aws):
    pool = aws("cognito-identity").describe_identity_pool(IdentityPoolId=stack["IDENTITY_POOL_ID"])
    assert pool["AllowUnauthenticatedIdentities"] is False
    (provider,) = pool["CognitoIdentityProviders"]
    assert provider["ClientId"] == stack["USER_POOL_CLIENT_ID"]
    assert provider["ProviderName"].endswith(stack["USER_POOL_ID"])


@pytest.mark.parametrize("logical, env", [("UsersTable", "USERS_TABLE_NAME"),
                                          ("ProcessedEventsTable", "PROCESSED_EVENTS_TABLE_NAME")])
def test_local_tables_have_the_templates_keys_stream_and_billing(template, stack, aws, logical,
                                                                 env):
    want = props(template, logical)
    ddb = aws("dynamodb")
    table = ddb.describe_table(TableName=stack[env])["Table"]
    assert table["KeySchema"] == want["KeySchema"]
    assert table["AttributeDefinitions"] == want["AttributeDefinitions"]
    assert table["BillingModeSummary"]["BillingMode"] == want["BillingMode"]
    if "StreamSpecification" in want:
        assert table["StreamSpecification"] == {
            "StreamEnabled": True, "StreamViewType": want["StreamSpecification"]["StreamViewType"]}
        assert table["LatestStreamArn"] == stack["USERS_TABLE_STREAM_ARN"]
    else:
        assert ("StreamSpecification" not in table
                or not table["StreamSpecification"]["StreamEnabled"])
    if "TimeToLiveSpecification" in want:
        ttl = ddb.describe_time_to_live(TableName=stack[env])["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == want["TimeToLiveSpecification"]["AttributeName"]
    if "PointInTimeRecoverySpecification" in want:
        backups = ddb.describe_continuous_backups(
            TableName=stack[env])["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_local_bucket_is_private_encrypted_and_versioned_like_the_template(template, stack, aws):
    want = props(template, "UsersBucket")
    s3 = aws("s3")
    bucket = stack["USERS_BUCKET_NAME"]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == \
        want["PublicAccessBlockConfiguration"]
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    (want_rule,) = want["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ApplyServerSideEncryptionByDefault"] == want_rule["ServerSideEncryptionByDefault"]
    assert (s3.get_bucket_versioning(Bucket=bucket)["Status"]
            == want["VersioningConfiguration"]["Status"])


@pytest.mark.parametrize("queue, dlq", [("ProfileQueue", "ProfileDeadLetterQueue"),
                                        ("ArchiveQueue", "ArchiveDeadLetterQueue"),
                                        ("SignInQueue", "SignInDeadLetterQueue")])
def test_local_queues_redrive_to_their_dead_letter_queues(template, stack, aws, queue, dlq):
    sqs = aws("sqs")

    def attributes(logical: str) -> dict[str, str]:
        name = props(template, logical)["QueueName"]["Fn::Sub"].replace("${Stage}", "local")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    want = props(template, queue)
    got, got_dlq = attributes(queue), attributes(dlq)
    redrive = json.loads(got["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == got_dlq["QueueArn"]
    assert int(redrive["maxReceiveCount"]) == want["RedrivePolicy"]["maxReceiveCount"]
    assert int(got["VisibilityTimeout"]) == want["VisibilityTimeout"]
    assert int(got["MessageRetentionPeriod"]) == want["MessageRetentionPeriod"]
    assert int(got_dlq["MessageRetentionPeriod"]) == props(template, dlq)["MessageRetentionPeriod"]
    assert got["QueueArn"] == stack[infra_template.env_name(f"{queue}Arn")]


def test_local_topic_delivers_raw_to_each_consumer_queue(template, stack, aws):
    subscriptions = aws("sns").list_subscriptions_by_topic(
        TopicArn=stack["USER_EVENTS_TOPIC_ARN"])["Subscriptions"]
    assert sorted(s["Endpoint"] for s in subscriptions) == sorted(
        [stack["PROFILE_QUEUE_ARN"], stack["ARCHIVE_QUEUE_ARN"], stack["SIGN_IN_QUEUE_ARN"]])
    for subscription in subscriptions:
        attributes = aws("sns").get_subscription_attributes(
            SubscriptionArn=subscription["SubscriptionArn"])["Attributes"]
        assert subscription["Protocol"] == "sqs"
        assert attributes["RawMessageDelivery"] == "true"
        # record_sign_in's queue gets log-ins only, as the template's filter says.
        wanted = (props(template, "SignInSubscription")["FilterPolicy"]
                  if subscription["Endpoint"] == stack["SIGN_IN_QUEUE_ARN"] else None)
        assert json.loads(attributes.get("FilterPolicy", "null")) == wanted


def test_local_subscriptions_name_their_dead_letter_queues_as_the_template_does(template, aws):
    """The redrive policy reaches moto as JSON (`make redrive` reads it), though moto's SNS
    never dead-letters a delivery (docs/local-aws.md)."""
    sqs, sns = aws("sqs"), aws("sns")
    wanted = {}
    for s in of_type(template, "AWS::SNS::Subscription"):
        if s["Properties"]["Protocol"] == "sqs":
            queue = s["Properties"]["Endpoint"]["Fn::GetAtt"][0]
            dlq = s["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            wanted[local_name(props(template, queue)["QueueName"])] = local_name(
                props(template, dlq)["QueueName"])
    got = {}
    for s in sns.list_subscriptions()["Subscriptions"]:
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=s["SubscriptionArn"])["Attributes"]
        if s["Protocol"] == "sqs" and s["Endpoint"].split(":")[-1] in wanted:
            got[s["Endpoint"].split(":")[-1]] = json.loads(
                attributes["RedrivePolicy"])["deadLetterTargetArn"].split(":")[-1]
    assert got == wanted
    for dlq in wanted.values():
        sqs.get_queue_url(QueueName=dlq)  # created from the template too


def test_only_resource_policies_and_the_waf_rate_limit_are_left_out_locally_each_with_a_reason():
    from local.cloudformation.resources import CREATORS, NOT_ENFORCED_LOCALLY

    kinds = {r["Type"] for r in infra_template.load()["Resources"].values()}
    skipped = set(NOT_ENFORCED_LOCALLY)
    assert kinds - skipped == set(CREATORS) & kinds
    assert kinds <= set(CREATORS) | skipped
    assert skipped == {"AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::WAFv2::WebACL"}
    assert all(len(reason) > 20 for reason in NOT_ENFORCED_LOCALLY.values())


# --- the operations resources ---------------------------------------------------------------

def local_name(value: dict[str, str]) -> str:
    return value["Fn::Sub"].replace("${Stage}", "local")


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_every_alarm_of_the_template_exists_locally_and_notifies_the_alarm_topic(template, aws):
    alarms = {a["AlarmName"]: a for a in aws("cloudwatch").describe_alarms()["MetricAlarms"]}
    wanted = {local_name(r["Properties"]["AlarmName"]): r["Properties"]
              for r in of_type(template, "AWS::CloudWatch::Alarm")}
    assert set(wanted) <= set(alarms)
    for name, expected in wanted.items():
        assert alarms[name]["MetricName"] == expected["MetricName"]
        assert alarms[name]["Threshold"] == expected["Threshold"]
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
