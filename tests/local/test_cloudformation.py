"""The local AWS's CloudFormation of infra/template.yaml (local/cloudformation/stacks.py), through
infra/stack.py as `make deploy` calls it: what fails ends as CloudFormation's would, and
`make deploy` says why (the first *_FAILED event's reason). The happy path runs in the
rehearsal (tests/run/test_deploy_rehearsal.py)."""
from __future__ import annotations

from typing import Any

import pytest

from infra import stack, template as infra_template
from infra.errors import DeployError


@pytest.fixture
def cfn(local_aws: Any) -> Any:
    return local_aws.session().client("cloudformation", endpoint_url=local_aws.endpoint)


def test_an_update_the_local_aws_cannot_make_rolls_back_and_make_deploy_says_why(cfn, local_aws):
    body = infra_template.TEMPLATE_PATH.read_text()
    assert stack.deploy_stack(cfn, "cfn-update", body) == "created"
    before = stack.stack_outputs(cfn, "cfn-update")
    length = infra_template.loads(body)["Resources"]["UserPool"]["Properties"]["Policies"][
        "PasswordPolicy"]["MinimumLength"]
    changed = body.replace(f"MinimumLength: {length}", f"MinimumLength: {length + 2}", 1)
    assert changed != body
    with pytest.raises(DeployError) as refused:
        stack.deploy_stack(cfn, "cfn-update", changed)
    assert "UPDATE_ROLLBACK_COMPLETE" in str(refused.value)
    assert "UserPool (AWS::Cognito::UserPool) UPDATE_FAILED" in str(refused.value)
    assert "the stack is as it was before" in str(refused.value)
    assert stack.stack_outputs(cfn, "cfn-update") == before
    pool = local_aws.session().client("cognito-idp", endpoint_url=local_aws.endpoint)
    described = pool.describe_user_pool(UserPoolId=before["UserPoolId"])["UserPool"]
    assert described["Policies"]["PasswordPolicy"]["MinimumLength"] == length
    assert described["DeletionProtection"] == "ACTIVE"  # the create's second step


def test_a_create_that_fails_rolls_back_what_it_made_and_make_deploy_says_why(cfn, local_aws):
    sqs = local_aws.session().client("sqs", endpoint_url=local_aws.endpoint)
    body = infra_template.TEMPLATE_PATH.read_text()
    taken = "comm-it-cfn-fail-save-profile"  # the stack's queue, made with other attributes
    sqs.create_queue(QueueName=taken, Attributes={"VisibilityTimeout": "1"})
    with pytest.raises(DeployError) as failed:
        stack.deploy_stack(cfn, "cfn-fail", body)
    assert "is ROLLBACK_COMPLETE" in str(failed.value)
    assert "ProfileQueue (AWS::SQS::Queue) CREATE_FAILED" in str(failed.value)
    tables = local_aws.session().client("dynamodb", endpoint_url=local_aws.endpoint)
    assert not [t for t in tables.list_tables()["TableNames"] if t.startswith("comm-it-cfn-fail")]
    assert [u for u in sqs.list_queues(QueueNamePrefix="comm-it-cfn-fail").get("QueueUrls", [])
            ] == [sqs.get_queue_url(QueueName=taken)["QueueUrl"]]


def test_the_passkeys_relying_party_is_set_in_place_and_turns_the_passkeys_output_on(
        cfn, local_aws):
    from moto.cognitoidp.models import cognitoidp_backends

    from local.cognito.passkeys import config

    body = infra_template.TEMPLATE_PATH.read_text()
    assert stack.deploy_stack(cfn, "cfn-passkeys", body) == "created"
    before = stack.stack_outputs(cfn, "cfn-passkeys")
    assert before["Passkeys"] == "off"
    host = "abc123defg.execute-api.us-east-1.amazonaws.com"
    assert stack.deploy_stack(cfn, "cfn-passkeys", body,
                              parameters={"PasskeyRelyingPartyId": host}) == "updated"
    after = stack.stack_outputs(cfn, "cfn-passkeys")
    assert after == {**before, "Passkeys": "on"}  # the same pool, in place
    assert stack.parameter(cfn, "cfn-passkeys", "PasskeyRelyingPartyId") == host
    pool = cognitoidp_backends["123456789012"]["us-east-1"].user_pools[after["UserPoolId"]]
    assert config(pool) == {"RelyingPartyId": host, "UserVerification": "required"}
    assert "WEB_AUTHN" in pool.extended_config["Policies"]["SignInPolicy"][
        "AllowedFirstAuthFactors"]
    idp = local_aws.session().client("cognito-idp", endpoint_url=local_aws.endpoint)
    mfa = idp.get_user_pool_mfa_config(UserPoolId=after["UserPoolId"])
    assert mfa["SoftwareTokenMfaConfiguration"] == {"Enabled": True}  # two-step kept
    described = idp.describe_user_pool(UserPoolId=after["UserPoolId"])["UserPool"]
    assert described["DeletionProtection"] == "ACTIVE"  # every other setting kept too
    assert described["AccountRecoverySetting"] == infra_template.loads(body)["Resources"][
        "UserPool"]["Properties"]["AccountRecoverySetting"]
    # A redeploy that gives nothing keeps it (UsePreviousValue).
    assert stack.deploy_stack(cfn, "cfn-passkeys", body) == "unchanged"
    assert stack.parameter(cfn, "cfn-passkeys", "PasskeyRelyingPartyId") == host
