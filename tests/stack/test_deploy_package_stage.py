"""A stage deployed by the package path (`make package`, then CloudFormation): its stack owns
the functions and the API, so `make destroy` deletes the stack only (no `chalice delete`,
no Chalice record rebuilt from the stack's functions), and keeps the outputs for
purge-retained. Against moto in-process."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import deployed_record, stack, teardown
from infra.errors import DeployError
from tests.stack.deploying import STAND_IN, clone

# What the package's template holds, in small: the app's function and REST API in the stack.
PACKAGED = """
Parameters:
  Stage: {Type: String}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: [{Effect: Allow, \
Principal: {Service: lambda.amazonaws.com}, Action: "sts:AssumeRole"}]}
  APIHandler:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "comm-it-${Stage}"
      Runtime: python3.11
      Handler: app.app
      Role: !GetAtt Role.Arn
      Code: {ZipFile: "x = 1"}
  RestAPI:
    Type: AWS::ApiGateway::RestApi
    Properties: {Name: comm-it}
Outputs:
  UsersTableName: {Value: !Sub "comm-it-${Stage}-users"}
  UsersBucketName: {Value: !Sub "comm-it-${Stage}-users-bucket"}
"""

def no_chalice(command: list[str], cwd: Path, check: bool) -> Any:
    raise subprocess.CalledProcessError(1, command, "chalice run on a package stage")


def test_destroy_of_a_package_stage_deletes_the_stack_only_and_keeps_its_outputs(aws, tmp_path):
    cfn = aws.client("cloudformation")
    stack.deploy_stack(cfn, "dev", PACKAGED)
    assert aws.client("lambda").get_function(FunctionName="comm-it-dev")
    said: list[str] = []
    teardown.destroy("dev", aws, clone(tmp_path / "ci"), run=no_chalice, say=said.append)
    assert stack.find(cfn, "comm-it-dev") is None
    assert any("deployed by the package path" in line for line in said), said
    # No Chalice record was made of the stack's function...
    ssm = aws.client("ssm")
    assert not ssm.get_parameters(Names=["/comm-it/dev/deploy/chalice-deployed"])["Parameters"]
    # ...and purge-retained finds the kept names afterwards, as after `make deploy`.
    assert deployed_record.outputs(ssm, "dev")["UsersTableName"] == "comm-it-dev-users"


def test_a_stage_of_make_deploy_is_not_taken_for_a_package_stage(aws):
    """The stack of `make deploy` holds no function or API (Chalice's are outside it)."""
    cfn = aws.client("cloudformation")
    stack.deploy_stack(cfn, "dev", STAND_IN)  # make deploy's stack
    assert teardown.owns_the_app(cfn, "comm-it-dev") is False
    stack.deploy_stack(cfn, "qa", PACKAGED)
    assert teardown.owns_the_app(cfn, "comm-it-qa") is True


def test_purge_of_a_package_stage_waits_for_destroy_then_finds_the_kept_names(aws, tmp_path):
    cfn = aws.client("cloudformation")
    stack.deploy_stack(cfn, "dev", PACKAGED)
    project = clone(tmp_path / "ci")
    with pytest.raises(DeployError, match=r"comm-it-dev \(deployed by the package path\) "
                                          r"still exists: run `make destroy STAGE=dev` first"):
        teardown.purge_retained("dev", aws, project, say=lambda _: None)
    assert aws.client("lambda").get_function(FunctionName="comm-it-dev")  # nothing touched
    teardown.destroy("dev", aws, project, run=no_chalice, say=lambda _: None)
    said: list[str] = []
    teardown.purge_retained("dev", aws, project, say=said.append)
    assert "Table comm-it-dev-users does not exist." in said
    assert "Bucket comm-it-dev-users-bucket does not exist." in said
