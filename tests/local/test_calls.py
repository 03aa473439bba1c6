"""The local AWS's front door counts requests by X-Amz-Target (GET /_local/calls): the
bench's Parameter Store reads per pending person are counted there, not in chalicelib."""
from __future__ import annotations

import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError


def calls(endpoint: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{endpoint}/_local/calls", timeout=10) as answer:
        return json.loads(answer.read())


def test_every_get_parameter_is_counted_a_miss_included(stack, local_aws):
    ssm = local_aws.session().client("ssm", endpoint_url=local_aws.endpoint)
    name = f"/comm-it-test/{uuid.uuid4()}"
    ssm.put_parameter(Name=name, Value="x", Type="String")
    before = calls(local_aws.endpoint)

    ssm.get_parameter(Name=name)
    with pytest.raises(ClientError) as missing:
        ssm.get_parameter(Name=f"{name}-missing")
    assert missing.value.response["Error"]["Code"] == "ParameterNotFound"
    ssm.get_parameter(Name=name)

    after = calls(local_aws.endpoint)
    assert after.get("AmazonSSM.GetParameter", 0) - before.get("AmazonSSM.GetParameter", 0) == 3
    assert after.get("AmazonSSM.PutParameter", 0) == before.get("AmazonSSM.PutParameter", 0)
