"""Issue 13, against moto in-process: Chalice's record of a stage is kept where every deployer
finds it (Parameter Store), `make deploy` leaves no account ARN in a tracked file, and
purge-retained gets past the users table's deletion protection."""
from __future__ import annotations

import json
import subprocess
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

from infra import deploy, stack, stage, teardown
from tests.helpers import fake_outputs
from tests.stack.chalice_in_moto import ChaliceInMoto, left_in_aws
from tests.stack.deploying import STAND_IN, clone

real_deploy_stack = stack.deploy_stack
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's
# What chalice deploy writes for a stage, holding the account's ARNs: its record, the
# roles' policies.
CHALICE_RECORDS, CHALICE_POLICIES = ".chalice/deployed", ".chalice/policy-*.json"

class Chalice:
    """Stands in for the chalice CLI of one machine: deploy writes (or, given a record,
    keeps) the stage's record; delete needs one."""

    def __init__(self) -> None:
        self.commands: list[tuple[Path, list[str]]] = []
        self.seen_env: dict[str, str] = {}

    def __call__(self, command: list[str], cwd: Path, check: bool) -> None:
        self.commands.append((Path(cwd), command[1:]))
        record = Path(cwd) / ".chalice" / "deployed" / f"{command[-1]}.json"
        if command[1] == "deploy":
            config = json.loads((Path(cwd) / ".chalice" / "config.json").read_text())
            self.seen_env = config["stages"][command[-1]]["environment_variables"]
            if not record.exists():  # Chalice without a record: a NEW API
                record.parent.mkdir(exist_ok=True)
                api = f"api{len(self.commands)}"
                record.write_text(json.dumps({"resources": [
                    {"name": "api_handler", "resource_type": "lambda_function",
                     "lambda_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:comm-it-dev"},
                    {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api,
                     "rest_api_url": f"https://{api}.execute-api.eu-west-1.amazonaws.com/dev/"}]}))
        elif command[1] == "delete":
            if not record.exists():
                raise subprocess.CalledProcessError(1, command)
            record.unlink()


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The steps after `chalice deploy` that need a real API and mappings, left out."""
    from infra import event_sources, gateway

    monkeypatch.setattr(gateway, "configure_api", lambda *a, **k: None)
    monkeypatch.setattr(event_sources, "apply", lambda *a, **k: [])
    monkeypatch.setattr(stack, "deploy_stack", lambda *a, **k: "unchanged")
    monkeypatch.setattr(stack, "stack_outputs",
                        lambda cfn, stage: fake_outputs(stage, account=ACCOUNT))


@pytest.fixture
def sources(quick: None, outputs: dict[str, str]) -> dict[str, str]:
    """The queues and stream in moto, for tests that deploy with ChaliceInMoto (`outputs`,
    tests/stack/conftest.py, after `quick`: its outputs are the stack's)."""
    return outputs


def _api_function(aws: Any) -> None:
    """What `chalice deploy` left in the account: the stage's API Lambda."""
    iam = aws.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    aws.client("lambda").create_function(FunctionName="comm-it-dev", Runtime="python3.11",
                                         Role=role, Handler="app.app", Code={"ZipFile": b"x"})


def test_a_second_clone_finds_the_record_and_updates_the_same_api(aws, tmp_path, sources):
    chalice = ChaliceInMoto(aws)
    first = clone(tmp_path / "laptop")
    url = deploy.deploy("dev", aws, project_dir=first, run=chalice, say=lambda _: None)
    second = clone(tmp_path / "ci")
    assert deploy.deploy("dev", aws, project_dir=second, run=chalice, say=lambda _: None) == url
    assert json.loads((second / ".chalice" / "deployed" / "dev.json").read_text()) == \
        json.loads((first / ".chalice" / "deployed" / "dev.json").read_text())


def test_deploy_rebuilds_the_record_when_the_app_exists_but_none_is_stored(aws, tmp_path,
                                                                          sources):
    real_deploy_stack(aws.client("cloudformation"), "dev", STAND_IN)
    _api_function(aws)
    chalice, said = ChaliceInMoto(aws), []
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice, say=said.append)
    assert any("made what AWS has (+api_handler" in line for line in said)
    assert "api_handler" not in chalice.created  # updated, not made again
    assert len(left_in_aws(aws, "dev")["rest_apis"]) == 1


def test_destroy_from_another_clone_restores_the_record_and_deletes_the_app(aws, tmp_path,
                                                                            sources):
    chalice = ChaliceInMoto(aws)
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                  say=lambda _: None)
    other = clone(tmp_path / "ci")
    teardown.destroy("dev", aws, other, run=chalice, say=lambda _: None)
    assert chalice.commands[-1] == (other, ["delete", "--stage", "dev"])
    ssm = aws.client("ssm")
    assert not ssm.get_parameters(Names=["/comm-it/dev/deploy/chalice-deployed"])["Parameters"]


def test_destroy_without_a_record_rebuilds_it_and_deletes_the_app(aws, tmp_path):
    stack.deploy_stack(aws.client("cloudformation"), "dev", STAND_IN)
    _api_function(aws)
    chalice = ChaliceInMoto(aws)
    teardown.destroy("dev", aws, clone(tmp_path / "ci"), run=chalice, say=lambda _: None)
    assert chalice.commands[-1][1] == ["delete", "--stage", "dev"]
    assert left_in_aws(aws, "dev")["functions"] == []
    assert stack.find(aws.client("cloudformation"), "comm-it-dev") is None


def test_make_deploy_leaves_no_account_arn_in_a_tracked_file(aws, tmp_path, quick):
    project = clone(tmp_path / "laptop")
    chalice = Chalice()
    deploy.deploy("dev", aws, project_dir=project, run=chalice, say=lambda _: None)
    # Chalice saw the stack's outputs while it deployed...
    assert chalice.seen_env["USER_POOL_ARN"] == fake_outputs(account=ACCOUNT)["UserPoolArn"]
    # ...and afterwards only the files Chalice writes for the stage hold the account (its
    # record and the roles' policies): paths git ignores and tracks none of
    # (tests/run/test_git_ignores.py asks git itself).
    holding = sorted(str(path.relative_to(project)) for path in project.rglob("*")
                     if path.is_file() and ACCOUNT in path.read_text())
    assert holding and all(fnmatch(path, f"{CHALICE_RECORDS}/*") or
                           fnmatch(path, CHALICE_POLICIES) for path in holding), holding


def test_purge_after_destroy_finds_the_names_without_the_local_config(aws, tmp_path, quick):
    chalice = Chalice()
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                  say=lambda _: None)
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="comm-it-dev-users", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}],
                     DeletionProtectionEnabled=True)
    said: list[str] = []
    teardown.purge_retained("dev", aws, clone(tmp_path / "ci"), say=said.append)
    assert "comm-it-dev-users" not in ddb.list_tables()["TableNames"]
    assert "Deleted table comm-it-dev-users." in said


def test_purge_turns_the_tables_deletion_protection_off_first(aws, tmp_path):
    project = clone(tmp_path / "laptop")
    stage.record_outputs(project / ".chalice", "dev", fake_outputs(account=ACCOUNT))
    ddb = aws.client("dynamodb")
    ddb.create_table(TableName="comm-it-dev-users", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}],
                     DeletionProtectionEnabled=True)
    teardown.purge_retained("dev", aws, project, say=lambda _: None)
    assert "comm-it-dev-users" not in ddb.list_tables()["TableNames"]
