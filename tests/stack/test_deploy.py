"""make deploy / destroy (infra/deploy.py and its step modules), step by step,
against moto's in-process AWS.

moto's CloudFormation does not know AWS::Cognito::*, so the real template is
never deployed here: the stack steps run on a small stand-in template
(tests/stack/deploying.py STAND_IN), and the steps that follow get the outputs the real
stack would give.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra import credentials, deploy, policy, runtime, stack, stage, teardown
from infra.errors import DeployError
from tests.helpers import ROOT, deployable_rest_api, fake_outputs
from tests.stack.deploying import STAND_IN

class FakeChalice:
    """Stands in for the chalice CLI: records the commands, writes what deploy writes."""

    def __init__(self, project: Path, apigateway: Any = None) -> None:
        self.project = project
        self.apigateway = apigateway
        self.commands: list[list[str]] = []

    def __call__(self, command: list[str], cwd: Path, check: bool) -> None:
        assert check is True and Path(cwd) == self.project
        self.commands.append(command[1:])
        deployed = self.project / ".chalice" / "deployed"
        if command[1] == "deploy":
            self.env = json.loads((self.project / ".chalice" / "config.json").read_text())[
                "stages"][command[-1]]["environment_variables"]
            deployed.mkdir(exist_ok=True)
            api_id = deployable_rest_api(self.apigateway) if self.apigateway else "abc123"
            (deployed / f"{command[-1]}.json").write_text(json.dumps({"resources": [
                {"name": "api_handler", "resource_type": "lambda_function"},
                {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id,
                 "rest_api_url": f"https://{api_id}.execute-api.eu-west-1.amazonaws.com/api/"}]}))
        elif command[1] == "delete":
            (deployed / f"{command[-1]}.json").unlink()


# --- credentials --------------------------------------------------------------------

def test_missing_credentials_stop_with_a_message_that_says_how_to_sign_in(no_aws_env):
    import boto3

    with pytest.raises(DeployError) as error:
        credentials.check_credentials(boto3.session.Session(region_name="eu-west-1"))
    assert "No AWS credentials found" in str(error.value)
    assert "aws configure" in str(error.value) and "AWS_PROFILE" in str(error.value)


def test_make_deploy_without_credentials_exits_1_before_touching_anything(no_aws_env, capsys,
                                                                          monkeypatch):
    config = (ROOT / ".chalice" / "config.json").read_bytes()
    monkeypatch.setattr(stack, "deploy_stack", lambda *a, **k: pytest.fail("stack touched"))
    assert deploy.main(["deploy", "--stage", "dev",  # the runtime accepted (test_infra_runtime)
                        "--accept-runtime", runtime.lambda_runtime()]) == 1
    assert "error: No AWS credentials found" in capsys.readouterr().err
    assert (ROOT / ".chalice" / "config.json").read_bytes() == config


def test_credentials_check_names_the_account(aws):
    assert credentials.check_credentials(aws)["account"] == "123456789012"


def test_the_local_stage_is_never_deployed(aws, project):
    with pytest.raises(DeployError, match="make run"):
        deploy.deploy("local", aws, project_dir=project, run=FakeChalice(project))


# --- the stack ---------------------------------------------------------------------

def test_deploying_an_unchanged_stack_is_a_no_op(aws):
    cfn = aws.client("cloudformation")
    assert stack.deploy_stack(cfn, "dev", STAND_IN) == "created"
    assert stack.deploy_stack(cfn, "dev", STAND_IN) == "unchanged"
    changed = STAND_IN.replace("user-authenticated", "user-authenticated-v2")
    assert stack.deploy_stack(cfn, "dev", changed) == "updated"
    described = cfn.describe_stacks(StackName="comm-it-dev")["Stacks"][0]
    assert described["Parameters"] == [{"ParameterKey": "Stage", "ParameterValue": "dev"}]
    assert stack.stack_outputs(cfn, "dev")["UsersTableName"] == "comm-it-dev-users"


def test_outputs_of_a_missing_stack_say_to_deploy_first(aws):
    with pytest.raises(DeployError, match="make deploy STAGE=qa"):
        stack.stack_outputs(aws.client("cloudformation"), "qa")


# --- config.json and the policies ---------------------------------------------------------

def test_stack_outputs_become_the_stages_environment_variables(project):
    env = stage.record_outputs(project / ".chalice", "dev", fake_outputs())
    config = json.loads((project / ".chalice" / "config.json").read_text())
    dev = config["stages"]["dev"]
    assert dev["environment_variables"] == env
    assert env["APP_STAGE"] == "dev"
    assert env["USER_POOL_ID"] == fake_outputs()["UserPoolId"]
    assert env["USERS_TABLE_STREAM_ARN"] == fake_outputs()["UsersTableStreamArn"]
    assert env["PROFILE_QUEUE_NAME"] == "comm-it-dev-save-profile"
    assert len(env) == len(fake_outputs()) + 1
    assert config["stages"]["local"] == {"environment_variables": {"APP_STAGE": "local"}}
    assert dev["autogen_policy"] is False


def test_recording_twice_gives_the_same_file_and_keeps_hand_added_settings(project):
    path = project / ".chalice" / "config.json"
    config = json.loads(path.read_text())
    config["stages"]["dev"]["environment_variables"]["LOG_LEVEL"] = "DEBUG"
    config["stages"]["dev"]["lambda_functions"]["sync_name"]["lambda_memory_size"] = 256
    path.write_text(json.dumps(config))
    stage.record_outputs(project / ".chalice", "dev", fake_outputs())
    first = path.read_bytes()
    stage.record_outputs(project / ".chalice", "dev", fake_outputs())
    assert path.read_bytes() == first
    dev = json.loads(first)["stages"]["dev"]
    assert dev["environment_variables"]["LOG_LEVEL"] == "DEBUG"
    assert dev["lambda_functions"]["sync_name"]["lambda_memory_size"] == 256


def test_a_new_stage_gets_its_own_policies_and_consumer_timeouts(project):
    stage.configure_stage(project, "qa", fake_outputs("qa"))
    qa = json.loads((project / ".chalice" / "config.json").read_text())["stages"]["qa"]
    assert qa["iam_policy_file"] == "policy-qa.json"
    for function in policy.FUNCTIONS:
        name = qa["lambda_functions"][function]["iam_policy_file"]
        document = json.loads((project / ".chalice" / name).read_text())
        assert document == policy.document(function, qa["environment_variables"], "qa")
        assert all(":qa" not in r and "-dev-" not in r
                   for s in document["Statement"] for r in s["Resource"])
    assert qa["lambda_functions"]["save_profile"]["lambda_timeout"] == 10
    fallback = json.loads((project / ".chalice" / "policy-qa.json").read_text())
    assert [s["Sid"] for s in fallback["Statement"]] == ["WriteOwnLogs"]


def test_a_missing_output_is_named_when_the_policy_is_generated():
    outputs = fake_outputs()
    del outputs["ArchiveQueueArn"]
    from infra.template import env_name

    env = {env_name(k): v for k, v in outputs.items()}
    with pytest.raises(KeyError, match="ARCHIVE_QUEUE_ARN.*make deploy"):
        policy.documents(env, "dev")


# --- the whole commands ----------------------------------------------------------------

def test_deploy_records_outputs_writes_policies_runs_chalice_and_prints_the_greeting_url(
        aws, project, monkeypatch):
    monkeypatch.setattr(stack, "deploy_stack", lambda cfn, stage, body, **kw: "unchanged")
    monkeypatch.setattr(stack, "stack_outputs", lambda cfn, stage: fake_outputs(stage))
    apigateway = aws.client("apigateway")
    chalice, said = FakeChalice(project, apigateway), []
    url = deploy.deploy("dev", aws, project_dir=project, run=chalice, say=said.append)
    api_id = apigateway.get_rest_apis()["items"][0]["id"]
    assert url == f"https://{api_id}.execute-api.eu-west-1.amazonaws.com/api/hello"
    assert chalice.commands == [["deploy", "--stage", "dev"]]
    assert any(url in line for line in said)
    unauthorized = apigateway.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")
    assert unauthorized["statusCode"] == "401"
    assert json.loads(unauthorized["responseTemplates"]["application/json"]) == {
        "error": "Unauthorized", "message": "Log in to see this page."}
    assert apigateway.get_deployments(restApiId=api_id)["items"]  # applied to the stage
    assert (project / ".chalice" / "policy-dev-save_profile.json").exists()
    # Chalice deployed with the stack's outputs; the tracked config.json keeps none of them.
    assert chalice.env["USER_POOL_ARN"] == fake_outputs()["UserPoolArn"]
    env = json.loads((project / ".chalice" / "config.json").read_text())["stages"]["dev"][
        "environment_variables"]
    assert env == {"APP_STAGE": "dev"}


def test_destroy_removes_the_app_then_the_stack_and_names_what_it_keeps(aws, project):
    cfn = aws.client("cloudformation")
    stack.deploy_stack(cfn, "dev", STAND_IN)
    chalice, said = FakeChalice(project, aws.client("apigateway")), []
    chalice(["chalice", "deploy", "--stage", "dev"], cwd=project, check=True)
    kept = teardown.destroy("dev", aws, project_dir=project, run=chalice, say=said.append)
    assert chalice.commands[-1] == ["delete", "--stage", "dev"]
    assert stack.find(cfn, "comm-it-dev") is None
    assert any("comm-it-dev-users" in k and "table" in k for k in kept)
    assert any("comm-it-dev-users-123456789012-eu-west-1" in k and "bucket" in k for k in kept)
    assert "purge-retained --stage dev" in said[-1]
    # Again: nothing left to delete, and it says so instead of failing.
    again: list[str] = []
    assert teardown.destroy("dev", aws, project_dir=project, run=chalice, say=again.append) == []
    assert len(chalice.commands) == 2
    assert any("No Chalice deployment recorded" in line for line in again)
    assert any("does not exist: nothing to delete" in line for line in again)


def test_purge_removes_every_version_the_table_and_the_names(aws, project):
    stage.configure_stage(project, "dev", fake_outputs(account="123456789012"))
    s3, ddb, ssm = aws.client("s3"), aws.client("dynamodb"), aws.client("ssm")
    bucket = "comm-it-dev-users-123456789012-eu-west-1"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=bucket, Key="app/a/profile.json", Body=body)
    s3.delete_object(Bucket=bucket, Key="app/a/profile.json")  # a delete marker
    ddb.create_table(TableName="comm-it-dev-users", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}])
    for sub in ("a", "b"):
        ssm.put_parameter(Name=f"/comm-it/dev/users/{sub}/name", Value="Ada", Type="String")
    ssm.put_parameter(Name="/comm-it/prod/users/a/name", Value="Keep", Type="String")

    teardown.purge_retained("dev", aws, project, say=lambda _: None)

    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert "comm-it-dev-users" not in ddb.list_tables()["TableNames"]
    names = [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
    assert names == ["/comm-it/prod/users/a/name"]
    teardown.purge_retained("dev", aws, project, say=lambda _: None)  # twice is fine


def test_purge_removes_the_names_recorded_in_the_stage_config_not_rebuilt_ones(aws, project):
    s3 = aws.client("s3")
    outputs = fake_outputs(account="123456789012")
    outputs["UsersBucketName"] = "someone-renamed-it"
    outputs["UsersTableName"] = "renamed-table"
    stage.configure_stage(project, "dev", outputs)
    for bucket in ("someone-renamed-it", "comm-it-dev-users-123456789012-eu-west-1"):
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    said: list[str] = []
    teardown.purge_retained("dev", aws, project, say=said.append)
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [
        "comm-it-dev-users-123456789012-eu-west-1"]
    assert "Table renamed-table does not exist." in said


def test_purge_of_a_stage_never_deployed_says_so_and_touches_nothing(aws, project):
    with pytest.raises(DeployError, match="USERS_BUCKET_NAME, USERS_TABLE_NAME"):
        teardown.purge_retained("qa", aws, project, say=lambda _: None)


def test_aws_error_reads_code_and_message_of_a_client_error_only():
    from botocore.exceptions import ClientError

    from infra.errors import aws_error

    error = ClientError({"Error": {"Code": "ValidationError", "Message": "Stack x does not exist"}},
                        "DescribeStacks")
    assert aws_error(error) == ("ValidationError", "Stack x does not exist")
    assert aws_error(ValueError("no")) == ("", "")


def test_purge_needs_an_explicit_yes(aws, capsys):
    assert deploy.main(["purge-retained", "--stage", "dev"]) == 1
    assert "--yes" in capsys.readouterr().err
