"""The identity pool's credentials reach the person's own record in the users table and
their own name parameter, and nothing else, in the local AWS as in AWS
(local/iam/dynamodb_ssm.py): the table's ARN, `dynamodb:LeadingKeys`
(ForAllValues:StringEquals) and the parameter's ARN, with the `sub` tag substituted.

The record and the parameter are written with the app's own keys, as the pipeline's
Lambdas do.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.stack.helpers import LOCAL_REGION

NOBODY = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def dev(local_aws: Any, stack: dict[str, str]) -> Callable[[str], Any]:
    return lambda service: local_aws.session().client(service,
                                                      endpoint_url=stack["AWS_ENDPOINT_URL"],
                                                      region_name=LOCAL_REGION)


@pytest.fixture
def someone(person: Callable[[], Any], dev: Callable[[str], Any], stack: dict[str, str]):
    """A person whose record and name parameter exist (written with the app's keys)."""

    def make() -> Any:
        who = person()
        dev("dynamodb").put_item(TableName=stack["USERS_TABLE_NAME"],
                                 Item={"sub": {"S": who.sub}, "name": {"S": "Ada"}})
        dev("ssm").put_parameter(Name=parameter(who.sub), Value="Ada", Type="String",
                                 Overwrite=True)
        return who

    return make


def parameter(sub: str) -> str:
    return f"/comm-it/local/users/{sub}/name"


def denied(call: Callable[[], Any]) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == "AccessDeniedException", \
        error.value.response["Error"]
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400 or \
        error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


# --- allowed --------------------------------------------------------------------------------

def test_own_item_can_be_read(someone, stack):
    alice = someone()
    item = alice.client("dynamodb").get_item(TableName=stack["USERS_TABLE_NAME"],
                                             Key={"sub": {"S": alice.sub}})["Item"]
    assert item == {"sub": {"S": alice.sub}, "name": {"S": "Ada"}}


def test_own_parameter_and_its_history_can_be_read(someone):
    alice = someone()
    ssm = alice.client("ssm")
    assert ssm.get_parameter(Name=parameter(alice.sub))["Parameter"]["Value"] == "Ada"
    history = ssm.get_parameter_history(Name=parameter(alice.sub))["Parameters"]
    assert [h["Value"] for h in history] == ["Ada"]


# --- refused --------------------------------------------------------------------------------

def test_another_persons_item_is_refused(someone, stack):
    alice, bob = someone(), someone()
    table = alice.client("dynamodb")
    denied(lambda: table.get_item(TableName=stack["USERS_TABLE_NAME"],
                                  Key={"sub": {"S": bob.sub}}))
    denied(lambda: table.get_item(TableName=stack["USERS_TABLE_NAME"],
                                  Key={"sub": {"S": NOBODY}}))  # before existence matters


def test_another_persons_parameter_is_refused(someone):
    alice, bob = someone(), someone()
    ssm = alice.client("ssm")
    denied(lambda: ssm.get_parameter(Name=parameter(bob.sub)))
    denied(lambda: ssm.get_parameter_history(Name=parameter(bob.sub)))
    denied(lambda: ssm.get_parameter(Name=parameter(NOBODY)))
    denied(lambda: ssm.get_parameters(Names=[parameter(alice.sub), parameter(bob.sub)]))
    denied(lambda: ssm.get_parameters_by_path(Path="/comm-it/local/users", Recursive=True))


def test_a_scan_is_refused(someone, stack):
    alice = someone()
    denied(lambda: alice.client("dynamodb").scan(TableName=stack["USERS_TABLE_NAME"]))


def test_a_query_without_the_key_is_refused_and_with_it_too_as_query_is_not_granted(someone,
                                                                                     stack):
    alice, bob = someone(), someone()
    table = alice.client("dynamodb")
    denied(lambda: table.query(TableName=stack["USERS_TABLE_NAME"],
                               KeyConditionExpression="#s = :s",
                               ExpressionAttributeNames={"#s": "sub"},
                               ExpressionAttributeValues={":s": {"S": bob.sub}}))
    denied(lambda: table.query(TableName=stack["USERS_TABLE_NAME"],
                               KeyConditionExpression="#s = :s",
                               ExpressionAttributeNames={"#s": "sub"},
                               ExpressionAttributeValues={":s": {"S": alice.sub}}))


def test_another_table_is_refused(someone, stack, dev):
    alice = someone()
    denied(lambda: alice.client("dynamodb").get_item(
        TableName=stack["PROCESSED_EVENTS_TABLE_NAME"], Key={"event_id": {"S": alice.sub}}))
    dev("dynamodb").create_table(TableName="someone-elses", BillingMode="PAY_PER_REQUEST",
                                 AttributeDefinitions=[{"AttributeName": "sub",
                                                        "AttributeType": "S"}],
                                 KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}])
    denied(lambda: alice.client("dynamodb").get_item(TableName="someone-elses",
                                                     Key={"sub": {"S": alice.sub}}))


def test_own_item_cannot_be_written_or_deleted(someone, stack, dev):
    alice = someone()
    table = alice.client("dynamodb")
    denied(lambda: table.put_item(TableName=stack["USERS_TABLE_NAME"],
                                  Item={"sub": {"S": alice.sub}, "name": {"S": "Eve"}}))
    denied(lambda: table.delete_item(TableName=stack["USERS_TABLE_NAME"],
                                     Key={"sub": {"S": alice.sub}}))
    denied(lambda: table.batch_get_item(RequestItems={stack["USERS_TABLE_NAME"]: {
        "Keys": [{"sub": {"S": alice.sub}}]}}))
    denied(lambda: alice.client("ssm").put_parameter(Name=parameter(alice.sub), Value="Eve",
                                                     Type="String", Overwrite=True))
    item = dev("dynamodb").get_item(TableName=stack["USERS_TABLE_NAME"],
                                    Key={"sub": {"S": alice.sub}})["Item"]
    assert item["name"] == {"S": "Ada"}


def test_tampered_or_foreign_credentials_are_refused_by_dynamodb_and_ssm(someone, stack):
    from botocore.exceptions import ClientError

    alice = someone()
    forged = alice.client("dynamodb", aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as error:
        forged.get_item(TableName=stack["USERS_TABLE_NAME"], Key={"sub": {"S": alice.sub}})
    assert error.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    tokenless = alice.client("ssm", aws_session_token="not-the-token")
    with pytest.raises(ClientError) as error:
        tokenless.get_parameter(Name=parameter(alice.sub))
    assert error.value.response["Error"]["Code"] == "InvalidToken"


def test_every_name_of_a_get_parameters_request_is_authorised_not_only_the_first():
    """The role grants no ssm:GetParameters, so the refusal above is the action's; here the
    resources a grant of it would be checked against: one ARN per name, in order."""
    import json
    from types import SimpleNamespace

    from local.iam import dynamodb_ssm

    request = SimpleNamespace(service_name="ssm", region="eu-west-1", current_account="123")
    names = [parameter("alice"), parameter("bob"), parameter("carol")]
    checked = dynamodb_ssm.checks(request, json.dumps({"Names": names}).encode(),
                                  SimpleNamespace(partition="aws"), "ssm:GetParameters", {})
    assert checked == [("ssm:GetParameters", f"arn:aws:ssm:eu-west-1:123:parameter{name}")
                       for name in names]
