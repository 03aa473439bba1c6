"""A fault switched on in the local AWS answers like the real service fails (so botocore retries
and raises as it would in AWS), only for its service, only while it lasts, never for a request
marked exempt, and a faulted request changes nothing."""
from __future__ import annotations


import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.server.faults import EXEMPT_HEADER
from tests.helpers import eventually


def aws(stack: dict[str, str], service: str, exempt: bool = False):
    client = boto3.client(service, endpoint_url=stack["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          config=Config(retries={"mode": "standard", "max_attempts": 2}))
    if exempt:
        client.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(
            EXEMPT_HEADER, "1"))
    return client


@pytest.fixture
def faults(local_aws, stack):
    yield local_aws.faults
    local_aws.faults.clear()


def test_parameter_store_throttles_then_recovers_and_the_throttled_write_changed_nothing(
        faults, stack):
    ssm = aws(stack, "ssm")
    fault = faults.add("ssm", "throttle", 60)
    with pytest.raises(ClientError) as raised:
        ssm.put_parameter(Name="/faulted", Value="x", Type="String")
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert fault.answered >= 2  # botocore retried it, as it retries throttling in AWS
    assert aws(stack, "dynamodb").list_tables()["TableNames"]  # other services answer
    with pytest.raises(ClientError, match="ParameterNotFound"):
        aws(stack, "ssm", exempt=True).get_parameter(Name="/faulted")
    faults.clear()
    faults.add("ssm", "throttle", 0.2)  # a fault lasts only as long as it was asked to
    eventually(lambda: not faults.active(), timeout=5, what="the fault to end")
    ssm.put_parameter(Name="/faulted", Value="x", Type="String")
    assert ssm.get_parameter(Name="/faulted")["Parameter"]["Value"] == "x"


def test_s3_answers_500_in_s3s_own_error_shape(faults, stack):
    faults.add("s3", "5xx", 30)
    with pytest.raises(ClientError) as raised:
        aws(stack, "s3").put_object(Bucket=stack["USERS_BUCKET_NAME"], Key="k", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "InternalError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_dynamodb_throttles_its_tables_but_not_its_streams(faults, stack):
    faults.add("dynamodb", "throttle", 30)
    with pytest.raises(ClientError) as raised:
        aws(stack, "dynamodb").get_item(TableName=stack["USERS_TABLE_NAME"],
                                        Key={"sub": {"S": "x"}})
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    streams = aws(stack, "dynamodbstreams")
    assert streams.describe_stream(StreamArn=stack["USERS_TABLE_STREAM_ARN"])["StreamDescription"]


def test_an_unknown_service_or_fault_is_refused(faults):
    with pytest.raises(ValueError, match="unknown service"):
        faults.add("lambda", "throttle", 1)
    with pytest.raises(ValueError, match="unknown fault"):
        faults.add("ssm", "slow", 1)
    assert not faults.active()
