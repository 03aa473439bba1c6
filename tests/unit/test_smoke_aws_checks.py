"""`make smoke STAGE=...`'s checks of what exists only in AWS, against fake AWS answers
(tests/run/test_smoke.py runs the whole command against `make run`'s stack, where these SKIP)."""
from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from chalicelib import lambdas
from infra import event_sources, gateway
from infra.errors import DeployError
from infra.smoke import alarms, api_stage, app_api, runner, targets
from infra import template as infra_template
from tests.helpers import fake_outputs

STAGE = "dev"
ENV = {infra_template.env_name(k): v for k, v in fake_outputs(STAGE).items()}
SQS_ARN, STREAM_ARN = ENV["PROFILE_QUEUE_ARN"], ENV["USERS_TABLE_STREAM_ARN"]


class FakeSession:
    region_name = "eu-west-1"

    def __init__(self, **clients: Any) -> None:
        self.clients = clients

    def client(self, service: str, **_: Any) -> Any:
        return self.clients[service]

    def get_credentials(self) -> object:
        return object()


class Lambda:
    def __init__(self, mappings: dict[str, list[dict[str, Any]]]) -> None:
        self.mappings = mappings

    def list_event_source_mappings(self, FunctionName: str) -> dict[str, Any]:
        return {"EventSourceMappings": self.mappings.get(FunctionName, [])}


class ApiGateway:
    def __init__(self, stages: list[dict[str, Any]]) -> None:
        self.stages = stages

    def get_stages(self, restApiId: str) -> dict[str, Any]:
        return {"item": self.stages}


def target(**clients: Any) -> targets.Target:
    return targets.Target(stage=STAGE, local=False, app_url="https://api.example/api",
                        session=FakeSession(**clients), env=ENV, rest_api_id="abc123")


def run_one(check: str, **clients: Any) -> list[str]:
    lines: list[str] = []
    runner.Smoke(target(**clients), lines.append).check(check)
    return lines


# Every Lambda with an event source (chalicelib/lambdas.py's list, in its order), by kind.
EVENT_KINDS = {function: "dynamodb" if function == lambdas.SYNC_NAME else "sqs"
               for function in lambdas.FUNCTIONS if function != lambdas.API_HANDLER}


def live_mappings(**changes: Any) -> dict[str, list[dict[str, Any]]]:
    sqs = {"EventSourceArn": SQS_ARN, "State": "Enabled",
           **event_sources.settings(event_sources.SQS, ENV)}
    stream = {"EventSourceArn": STREAM_ARN, "State": "Enabled",
              **event_sources.settings(event_sources.STREAM, ENV)}
    mappings = {f"comm-it-{STAGE}-{function}": [dict(stream if kind == "dynamodb" else sqs)]
                for function, kind in EVENT_KINDS.items()}
    for function, change in changes.items():
        mappings[f"comm-it-{STAGE}-{function}"][0].update(change)
    return mappings


def test_mappings_with_the_settings_of_event_sources_pass():
    lines = run_one(runner.EVENT_SOURCE_MAPPINGS, **{"lambda": Lambda(live_mappings())})
    assert lines == [("PASS event source mappings: as infra/event_sources.py says: " + ", ".join(
        f"{function} ({kind}, Enabled)" for function, kind in EVENT_KINDS.items()))]


def test_an_sqs_mapping_without_partial_batch_responses_fails_naming_it():
    lines = run_one(runner.EVENT_SOURCE_MAPPINGS,
                    **{"lambda": Lambda(live_mappings(
                        archive_profile={"FunctionResponseTypes": []}))})
    assert lines == [("FAIL event source mappings: comm-it-dev-archive_profile "
                      "FunctionResponseTypes=[], "
                      "not ['ReportBatchItemFailures']")]


def test_a_stream_mapping_without_its_failure_destination_fails():
    lines = run_one(runner.EVENT_SOURCE_MAPPINGS, **{"lambda": Lambda(live_mappings(
        sync_name={"DestinationConfig": {"OnFailure": {}}, "MaximumRetryAttempts": -1}))})
    assert len(lines) == 1 and lines[0].startswith("FAIL event source mappings: ")
    assert "sync_name MaximumRetryAttempts=-1, not 3" in lines[0]
    assert "DestinationConfig" in lines[0]


def test_a_missing_mapping_fails():
    mappings = live_mappings()
    mappings.pop("comm-it-dev-save_profile")
    lines = run_one(runner.EVENT_SOURCE_MAPPINGS, **{"lambda": Lambda(mappings)})
    assert lines == ["FAIL event source mappings: comm-it-dev-save_profile has 0 mappings, not 1"]


def test_a_disabled_mapping_fails_naming_it():
    lines = run_one(runner.EVENT_SOURCE_MAPPINGS,
                    **{"lambda": Lambda(live_mappings(enforce_quota={"State": "Disabled"}))})
    assert lines == ["FAIL event source mappings: comm-it-dev-enforce_quota is Disabled"]


def stage(name: str, rate: float = 100.0, burst: int = 200) -> dict[str, Any]:
    return {"stageName": name, "methodSettings": {
        "*/*": {"throttlingRateLimit": rate, "throttlingBurstLimit": burst}}}


def test_one_throttled_api_stage_passes():
    lines = run_one(runner.API_STAGE, apigateway=ApiGateway([stage("api")]))
    assert lines == ["PASS API stage: REST API abc123 has one stage, 'api', "
                     "throttled 100/s burst 200"]


def test_a_second_stage_fails():  # the SAM transform's unthrottled `Stage` (issue 13, defect 2)
    lines = run_one(runner.API_STAGE, apigateway=ApiGateway([stage("api"), stage("Stage", 0, 0)]))
    assert lines == ["FAIL API stage: REST API abc123 has 2 stages ['api', 'Stage'], not 1"]


def test_an_unthrottled_stage_fails():
    lines = run_one(runner.API_STAGE, apigateway=ApiGateway([{"stageName": "api"}]))
    assert lines == ["FAIL API stage: stage api throttles */* at None/s burst None, "
                     "not 100.0/s burst 200"]


def answering(*answers: tuple[int, Any]):
    """A fake of app_api.http that gives the answers in turn (from the check's threads)."""
    turns, lock = itertools.count(), threading.Lock()

    def http(target: Any, method: str, path: str, body: Any = None, **_: Any) -> tuple[int, Any]:
        # never a route that emails
        assert (path, method) == api_stage.THROTTLE_ROUTE and body == {}
        with lock:
            turn = next(turns)
        return answers[turn % len(answers)]
    return http


def test_throttling_that_answers_429_in_the_apps_shape_passes(monkeypatch):
    body = {"error": "TooManyRequests", "message": gateway.MESSAGES["THROTTLED"]}
    monkeypatch.setattr(app_api, "http", answering((400, {"error": "BadRequest"}), (429, body)))
    lines = run_one(runner.THROTTLING)
    burst = gateway.THROTTLES[api_stage.THROTTLE_ROUTE][1]
    assert lines == [(f"PASS throttling: {burst * 2} of {burst * 4} requests to "
                      f"POST /api/auth/confirm "
                      f"answered 429 {json.dumps(body)}")]


def test_throttling_in_api_gateways_default_shape_fails(monkeypatch):
    monkeypatch.setattr(app_api, "http", answering((429, {"message": "Too Many Requests"})))
    lines = run_one(runner.THROTTLING)
    assert lines == [("FAIL throttling: 429 answered {'message': 'Too Many Requests'}, "
                      "not the app's {\"error\", \"message\"} shape")]


def test_no_429_at_all_fails(monkeypatch):
    monkeypatch.setattr(app_api, "http", answering((400, {"error": "BadRequest"})))
    lines = run_one(runner.THROTTLING)
    assert len(lines) == 1 and lines[0].startswith("FAIL throttling: ")
    assert "none answered 429 ([400])" in lines[0]


def test_an_aws_error_in_a_check_is_one_fail_line_not_a_traceback():
    from botocore.exceptions import ClientError

    class Denied:
        def list_event_source_mappings(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "AccessDeniedException",
                                         "Message": "not allowed"}},
                              "ListEventSourceMappings")

    lines = run_one(runner.EVENT_SOURCE_MAPPINGS, **{"lambda": Denied()})
    assert lines == ["FAIL event source mappings: AccessDeniedException: not allowed"]


class Sts:
    def get_caller_identity(self) -> dict[str, str]:
        return {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/deployer"}


class Cfn:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        assert StackName == f"comm-it-{STAGE}"
        return {"Stacks": [{"StackStatus": "CREATE_COMPLETE", "Outputs": [
            {"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]}]}


def test_the_package_path_finds_the_api_in_the_stack_outputs(tmp_path: Path):
    outputs = {**fake_outputs(STAGE), "RestAPIId": "pkg123",
               "EndpointURL": "https://pkg123.execute-api.eu-west-1.amazonaws.com/api/"}
    found = targets.aws_target(STAGE, FakeSession(sts=Sts(), cloudformation=Cfn(outputs)), tmp_path)
    assert (found.rest_api_id, found.app_url) == (
        "pkg123", "https://pkg123.execute-api.eu-west-1.amazonaws.com/api")
    assert found.env["USERS_BUCKET_NAME"] == ENV["USERS_BUCKET_NAME"] and not found.local


def test_make_deploys_path_finds_the_api_in_chalices_record(tmp_path: Path):
    deployed = tmp_path / ".chalice" / "deployed"
    deployed.mkdir(parents=True)
    (deployed / f"{STAGE}.json").write_text(json.dumps({"resources": [
        {"resource_type": "rest_api", "rest_api_id": "dep456",
         "rest_api_url": "https://dep456.execute-api.eu-west-1.amazonaws.com/api/"}]}))
    found = targets.aws_target(
        STAGE, FakeSession(sts=Sts(), cloudformation=Cfn(fake_outputs(STAGE))), tmp_path)
    assert (found.rest_api_id, found.app_url) == (
        "dep456", "https://dep456.execute-api.eu-west-1.amazonaws.com/api")


def test_the_local_stage_is_refused_as_a_deployed_stage(capsys):
    assert runner.main(["--stage", "local"]) == 1
    assert capsys.readouterr().out.startswith("FAIL setup: The `local` stage is `make run`'s")


def test_every_alarm_of_the_template_is_expected_named_for_the_stage():
    names = alarms.expected_alarms("prod")
    assert "comm-it-prod-api-5xx" in names and "comm-it-prod-sync_name-errors" in names
    assert all(n.startswith("comm-it-prod-") and "${" not in n for n in names)


class CloudWatch:
    """describe_alarms in pages of two, as its paginator would hand them out."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def get_paginator(self, operation: str) -> Any:
        assert operation == "describe_alarms"
        return self

    def paginate(self, AlarmNamePrefix: str) -> Any:  # noqa: N803
        named = [n for n in self.names if n.startswith(AlarmNamePrefix)]
        for start in range(0, len(named), 2):
            yield {"MetricAlarms": [{"AlarmName": n} for n in named[start:start + 2]]}


def test_every_alarm_of_the_template_existing_passes():
    expected = sorted(alarms.expected_alarms(STAGE))
    lines = run_one("alarms", cloudwatch=CloudWatch(expected))
    assert lines == [f"PASS alarms: all {len(expected)} alarms of infra/template.yaml exist"]


def test_one_alarm_missing_fails_naming_it():
    expected = sorted(alarms.expected_alarms(STAGE))
    lines = run_one("alarms", cloudwatch=CloudWatch(
        [n for n in expected if n != "comm-it-dev-api-5xx"] + ["comm-it-dev-unrelated"]))
    assert lines == [f"FAIL alarms: 1 of {len(expected)} alarms missing: comm-it-dev-api-5xx"]


@pytest.mark.parametrize("check", runner.AWS_ONLY_CHECKS)
def test_what_exists_only_in_aws_skips_locally(check):
    lines: list[str] = []
    runner.Smoke(targets.Target(stage="local", local=True, app_url="", session=FakeSession(),
                                env=ENV), lines.append).check(check)
    assert len(lines) == 1 and lines[0].startswith(f"SKIP {check}: exists only in AWS")


class Recorder:
    """Fake clients of cleanup's services that record what was removed."""

    class exceptions:  # as boto3's clients name it  # noqa: N801 (stands in for botocore's exceptions attribute)
        class UserNotFoundException(Exception):
            pass

        class ParameterNotFound(Exception):
            pass

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def admin_delete_user(self, UserPoolId: str, Username: str) -> None:
        self.calls.append(("admin_delete_user", Username))

    def delete_parameter(self, Name: str) -> None:
        self.calls.append(("delete_parameter", Name))

    def get_paginator(self, name: str) -> Any:
        assert name == "list_object_versions"
        recorder = self

        class Pages:
            def paginate(self, Bucket: str, Prefix: str) -> list[dict[str, Any]]:
                recorder.calls.append(("list_object_versions", Prefix))
                return [{"Versions": [{"Key": f"{Prefix}profile.json", "VersionId": "v1"}]}]
        return Pages()

    def delete_objects(self, Bucket: str, Delete: dict[str, Any]) -> None:
        self.calls.append(("delete_objects", [o["Key"] for o in Delete["Objects"]]))

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool) -> dict[str, Any]:
        return {"Item": {"sub": Key["sub"], "name": {"S": "Smoke Test"}}}  # no tombstone

    def delete_item(self, TableName: str, Key: dict[str, Any]) -> None:
        self.calls.append(("delete_item", Key["sub"]["S"]))


def test_cleanup_after_a_failed_run_removes_the_user_parameter_files_and_record(monkeypatch):
    fake = Recorder()
    monkeypatch.setattr(app_api, "http",
                        lambda *a, **k: (502, {"message": "Internal server error"}))
    lines: list[str] = []
    smoke = runner.Smoke(target(**{"cognito-idp": fake, "ssm": fake, "s3": fake, "dynamodb": fake}),
                         lines.append)
    smoke.state.created, smoke.state.sub = True, "1234-sub"
    smoke.state.tokens = {"idToken": "id", "accessToken": "access"}  # logged in, never deleted

    smoke.check("cleanup")

    assert lines == [("PASS cleanup: the app did not delete the account "
                      "(DELETE /api/account answered "
                      "502 {'message': 'Internal server error'}), so directly; removed the Cognito "
                      "user, the name parameter, the objects under users/1234-sub/, the objects "
                      "under app/1234-sub/, the users table "
                      "record, the other person's decoy")]
    assert ("admin_delete_user", smoke.state.username) in fake.calls
    assert ("delete_parameter", "/comm-it/dev/users/1234-sub/name") in fake.calls
    assert ("delete_objects", ["app/1234-sub/profile.json"]) in fake.calls
    assert ("delete_item", "1234-sub") in fake.calls


class LambdaPolicy:
    def __init__(self, *api_ids: str) -> None:
        self.api_ids = api_ids

    def get_policy(self, FunctionName: str) -> dict[str, str]:
        assert FunctionName == f"comm-it-{STAGE}"
        return {"Policy": json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"},
             "Action": "lambda:InvokeFunction", "Condition": {"ArnLike": {
                 "AWS:SourceArn": f"arn:aws:execute-api:eu-west-1:123456789012:{api}/*"}}}
            for api in self.api_ids]})}


def test_without_chalices_record_the_api_is_the_one_allowed_to_invoke_the_function(tmp_path: Path):
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps({"api_gateway_stage": "api"}))
    session = FakeSession(sts=Sts(), cloudformation=Cfn(fake_outputs(STAGE)),
                          **{"lambda": LambdaPolicy("abc999")})
    found = targets.aws_target(STAGE, session, tmp_path)
    assert (found.rest_api_id, found.app_url) == (
        "abc999", "https://abc999.execute-api.eu-west-1.amazonaws.com/api")


def test_two_apis_allowed_to_invoke_the_function_are_refused_clearly(tmp_path: Path):
    session = FakeSession(sts=Sts(), cloudformation=Cfn(fake_outputs(STAGE)),
                          **{"lambda": LambdaPolicy("old111", "new222")})
    with pytest.raises(DeployError, match=r"may be invoked by 2 APIs \['new222', 'old111'\]"):
        targets.aws_target(STAGE, session, tmp_path)


def test_no_aws_credentials_is_one_fail_line_saying_how_to_sign_in(capsys, monkeypatch):
    class NoCredentials(FakeSession):
        def get_credentials(self) -> None:
            return None

    monkeypatch.setattr("boto3.session.Session", lambda: NoCredentials())
    assert runner.main(["--stage", STAGE]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL setup: No AWS credentials found") and "aws configure" in out
    assert out.count("\n") == 1  # the multi-line advice as one line


# --- the person's own credentials: never from the app (issue 27, item 6) ----------------------

class CognitoIdentity:
    """Cognito Identity as anyone reaches it: GetId, GetCredentialsForIdentity."""

    def __init__(self) -> None:
        self.logins: list[dict[str, str]] = []

    def get_id(self, IdentityPoolId: str, Logins: dict[str, str]) -> dict[str, str]:  # noqa: N803
        assert IdentityPoolId == ENV["IDENTITY_POOL_ID"]
        self.logins.append(Logins)
        return {"IdentityId": "eu-west-1:person"}

    def get_credentials_for_identity(self, IdentityId: str,  # noqa: N803
                                     Logins: dict[str, str]) -> dict[str, Any]:  # noqa: N803
        self.logins.append(Logins)
        from datetime import datetime, timezone

        return {"IdentityId": IdentityId, "Credentials": {
            "AccessKeyId": "ASIAPERSON", "SecretKey": "secret", "SessionToken": "session",
            "Expiration": datetime(2030, 1, 1, tzinfo=timezone.utc)}}


class UnsignedOnly(FakeSession):
    """Hands out cognito-identity only to a client that signs nothing."""

    def client(self, service: str, **kwargs: Any) -> Any:
        if service == "cognito-identity":
            from botocore import UNSIGNED

            assert kwargs["config"].signature_version is UNSIGNED
        return self.clients[service]


def profile_run(monkeypatch: pytest.MonkeyPatch, answer: dict[str, Any]) -> tuple[list[str], Any]:
    identity = CognitoIdentity()
    run = runner.Smoke(targets.Target(stage=STAGE, local=False, app_url="https://api.example/dev",
                                      session=UnsignedOnly(**{"cognito-identity": identity}),
                                      env=ENV), (lines := []).append)
    run.state.sub, run.state.tokens = "person-sub", {"idToken": "the-id-token"}
    run.state.email = "p@example.com"
    used: list[dict[str, str]] = []

    class S3:
        def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
            import io

            assert Key == "app/person-sub/profile.json"
            return {"Body": io.BytesIO(b'{"email": "p@example.com"}')}

    monkeypatch.setattr(targets.Target, "client_as",
                        lambda self, service, credentials: used.append(credentials) or S3())
    monkeypatch.setattr(app_api, "http", lambda *a, **k: (200, answer))
    run.check("own profile with identity-pool credentials")
    return lines, (identity, used)


def test_own_profile_is_read_with_keys_from_cognito_identity_and_the_id_token_alone(monkeypatch):
    lines, (identity, used) = profile_run(
        monkeypatch, {"identityId": "eu-west-1:person", "expiration": "2030-01-01T00:00:00+00:00"})
    assert lines[0].startswith("PASS own profile with identity-pool credentials: "
                               "POST /api/auth/credentials named identity eu-west-1:person and "
                               "no key")
    provider = f"cognito-idp.eu-west-1.amazonaws.com/{ENV['USER_POOL_ID']}"
    assert identity.logins == [{provider: "the-id-token"}] * 2
    assert used == [{"identityId": "eu-west-1:person", "accessKeyId": "ASIAPERSON",
                     "secretKey": "secret", "sessionToken": "session",
                     "expiration": "2030-01-01T00:00:00+00:00"}]


def test_an_app_that_hands_out_the_keys_fails_the_check(monkeypatch):
    lines, _ = profile_run(monkeypatch, {"identityId": "eu-west-1:person", "accessKeyId": "ASIA",
                                         "secretKey": "s", "sessionToken": "t",
                                         "expiration": "2030-01-01T00:00:00+00:00"})
    assert lines == ["FAIL own profile with identity-pool credentials: POST /api/auth/credentials "
                     "answered accessKeyId, secretKey, sessionToken: the app hands out the "
                     "person's AWS keys"]


# --- the users' data is protected (issue 27, item 2) -------------------------------------------

class Protection:
    def __init__(self, pool: str, table: bool) -> None:
        self.pool, self.table = pool, table

    def describe_user_pool(self, UserPoolId: str) -> dict[str, Any]:  # noqa: N803
        assert UserPoolId == ENV["USER_POOL_ID"]
        return {"UserPool": {"Id": UserPoolId, "DeletionProtection": self.pool}}

    def describe_table(self, TableName: str) -> dict[str, Any]:  # noqa: N803
        assert TableName == ENV["USERS_TABLE_NAME"]
        return {"Table": {"TableName": TableName, "DeletionProtectionEnabled": self.table}}


def test_a_protected_pool_and_table_pass():
    fake = Protection("ACTIVE", True)
    lines = run_one(runner.DATA_PROTECTED, **{"cognito-idp": fake, "dynamodb": fake})
    assert lines[0].startswith("PASS data protected: user pool eu-west-1_FakePool1 and table "
                               "comm-it-dev-users refuse deletion")


def test_a_first_create_never_followed_by_the_protected_deploy_fails_naming_both():
    fake = Protection("INACTIVE", False)
    lines = run_one(runner.DATA_PROTECTED, **{"cognito-idp": fake, "dynamodb": fake})
    assert lines == ["FAIL data protected: user pool eu-west-1_FakePool1 "
                     "DeletionProtection='INACTIVE'; table comm-it-dev-users "
                     "DeletionProtectionEnabled=False: deploy again with "
                     "DataDeletionProtection=ACTIVE (`make deploy` does; the package path's "
                     "step 2, docs/deploy.md)"]
