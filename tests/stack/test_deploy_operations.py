"""What `make deploy` and `make destroy` do for operations: API Gateway's own answers carry
the right error code, a failed first create says what to do, optional parameters survive a
redeploy, the event source mappings get what Chalice cannot set, and destroy/purge name and
remove the user pool."""
from __future__ import annotations

import json
from typing import Any

import pytest

from infra import event_sources, gateway, stack, stage, teardown
from infra.errors import DeployError
from tests.helpers import CHALICE_RECORD, STREAM_DLQ_ENV, fake_outputs

STAND_IN = """
Parameters:
  Stage: {Type: String}
  AlarmEmail: {Type: String, Default: ""}
Resources:
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: !Sub "comm-it-${Stage}-alarms"}}
Outputs:
  UserPoolId: {Value: !Sub "eu-west-1_${Stage}"}
"""


# --- API Gateway's own answers -------------------------------------------------------------

@pytest.mark.parametrize("response_type, status, code", [
    ("THROTTLED", "429", "TooManyRequests"), ("QUOTA_EXCEEDED", "429", "TooManyRequests"),
    ("REQUEST_TOO_LARGE", "413", "PayloadTooLarge"), ("WAF_FILTERED", "403", "Forbidden"),
    ("UNAUTHORIZED", "401", "Unauthorized"), ("MISSING_AUTHENTICATION_TOKEN", "404", "NotFound"),
    ("INTEGRATION_TIMEOUT", "504", "GatewayTimeout"), ("BAD_REQUEST_BODY", "400", "BadRequest"),
    ("UNSUPPORTED_MEDIA_TYPE", "415", "UnsupportedMediaType")])
def test_gateway_answers_carry_the_code_of_their_response_type(response_type, status, code):
    response = gateway.gateway_responses()[response_type]
    assert response["statusCode"] == status
    # API Gateway substitutes $context.error.messageString with a JSON string.
    body = response["responseTemplates"]["application/json"].replace(
        "$context.error.messageString", '"what API Gateway says"')
    assert json.loads(body)["error"] == code
    assert response["responseParameters"]["gatewayresponse.header.Cache-Control"] == "'no-store'"
    assert (response["responseParameters"]["gatewayresponse.header.X-Content-Type-Options"]
            == "'nosniff'")


def test_only_the_catch_all_responses_say_bad_request_or_service_unavailable():
    codes = {t: gateway.error_code(t) for t in gateway.RESPONSE_TYPES}
    assert codes["DEFAULT_4XX"] == "BadRequest" and codes["DEFAULT_5XX"] == "ServiceUnavailable"
    assert [t for t, c in codes.items() if c == "BadRequest"] == [
        "BAD_REQUEST_BODY", "BAD_REQUEST_PARAMETERS", "DEFAULT_4XX"]


def test_the_email_sending_routes_are_throttled_tighter_than_the_stage():
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in gateway.method_settings()}
    stage_rate = settings[("/*", "*")]["ThrottlingRateLimit"]
    for route in ("signup", "resend", "forgot"):
        setting = settings[(f"/~1api~1auth~1{route}", "POST")]
        assert setting["ThrottlingRateLimit"] <= 2 < stage_rate
    from app import app

    throttled = {path for path, _ in gateway.THROTTLES if path != "/*"}
    assert throttled <= set(app.routes), "a throttle names a route app.py does not have"


# --- the stack -------------------------------------------------------------------------------

def test_a_failed_first_create_says_how_to_retry(monkeypatch):
    monkeypatch.setattr(stack, "find", lambda cfn, name: {"StackStatus": "ROLLBACK_COMPLETE"})
    with pytest.raises(DeployError) as error:
        stack.deploy_stack(object(), "dev", "{}")
    message = str(error.value)
    assert "aws cloudformation delete-stack --stack-name comm-it-dev" in message
    assert "make deploy STAGE=dev" in message and "no data" in message


def test_a_redeploy_keeps_the_alarm_email_it_was_not_given(aws):
    cfn = aws.client("cloudformation")
    stack.deploy_stack(cfn, "dev", STAND_IN, parameters={"AlarmEmail": "ops@example.com"})
    changed = STAND_IN.replace("-alarms", "-alarms-v2")
    assert stack.deploy_stack(cfn, "dev", changed, parameters={"AlarmEmail": None}) == "updated"
    params = {p["ParameterKey"]: p["ParameterValue"]
              for p in cfn.describe_stacks(StackName="comm-it-dev")["Stacks"][0]["Parameters"]}
    assert params == {"Stage": "dev", "AlarmEmail": "ops@example.com"}


# --- event source mappings --------------------------------------------------------------------

class RecordingLambda:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def update_event_source_mapping(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:  # noqa: N803
        """Settled, with what was last put (read back by apply)."""
        put = [c for c in self.calls if c["UUID"] == UUID]
        return {"UUID": UUID, "State": "Enabled", **(put[-1] if put else {})}


def test_every_mapping_chalice_recorded_gets_what_chalice_cannot_set():
    env, deployed = STREAM_DLQ_ENV, CHALICE_RECORD
    recording = RecordingLambda()
    assert event_sources.apply(recording, deployed, env) == ["save_profile", "sync_name"]
    sqs, stream = recording.calls
    assert sqs == {"UUID": "u1", "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    assert stream["UUID"] == "u2" and stream["BisectBatchOnFunctionError"] is True
    assert stream["MaximumRetryAttempts"] == 3
    assert stream["DestinationConfig"] == {"OnFailure": {"Destination": env[
        "NAME_SYNC_DEAD_LETTER_QUEUE_ARN"]}}


# --- destroy and purge -------------------------------------------------------------------------

def test_destroy_names_the_user_pool_it_keeps_and_how_to_remove_it(aws, tmp_path):
    (tmp_path / ".chalice").mkdir()
    stack.deploy_stack(aws.client("cloudformation"), "dev", STAND_IN)
    said: list[str] = []
    kept = teardown.destroy("dev", aws, tmp_path, run=lambda *a, **k: None, say=said.append)
    assert any("user pool eu-west-1_dev" in k and "deletion protection" in k for k in kept)
    assert "NEW, empty user pool" in said[-1]
    assert "purge-retained --stage dev --yes" in said[-1]


def test_purge_deletes_the_protected_user_pool_with_every_account(aws, tmp_path):
    cognito = aws.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="comm-it-dev-users",
                                    DeletionProtection="ACTIVE")["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="ada")
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"stages": {}}))
    outputs = fake_outputs(account="123456789012") | {"UserPoolId": pool}
    stage.record_outputs(tmp_path / ".chalice", "dev", outputs)
    said: list[str] = []
    teardown.purge_retained("dev", aws, tmp_path, say=said.append)
    assert pool not in [p["Id"] for p in cognito.list_user_pools(MaxResults=10)["UserPools"]]
    assert f"Deleted user pool {pool} and every account in it." in said
