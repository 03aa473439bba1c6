"""Issue 27, operations: two deploys (or a deploy and a destroy) of one stage never run at
once. The lock is a Parameter Store put that refuses to overwrite, released in a finally;
against moto in-process, with tests/stack/chalice_in_moto.py as the chalice CLI (`project`,
`outputs`: tests/stack/conftest.py)."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import deploy, deployed_record, stack, teardown
from infra.errors import DeployError
from tests.stack.chalice_in_moto import ChaliceInMoto

LOCK = "/comm-it/dev/deploy/lock"


def lock_value(aws: Any) -> list[str]:
    return [p["Value"] for p in aws.client("ssm").get_parameters(Names=[LOCK])["Parameters"]]


def test_a_deploy_while_another_runs_stops_naming_it_and_touches_nothing(aws, project, outputs,
                                                                         monkeypatch):
    touched: list[str] = []
    monkeypatch.setattr(stack, "deploy_stack", lambda *a, **k: touched.append("stack"))
    chalice = ChaliceInMoto(aws)
    with deployed_record.locked(aws.client("ssm"), "dev", "arn:aws:iam::1:user/ci", "make deploy"):
        with pytest.raises(DeployError) as error:
            deploy.deploy("dev", aws, project_dir=project, run=chalice, say=lambda _: None)
        with pytest.raises(DeployError, match="Another deploy or destroy of stage dev"):
            teardown.destroy("dev", aws, project, run=chalice, say=lambda _: None)
    message = str(error.value)
    assert "Another deploy or destroy of stage dev is running: make deploy by " \
           "arn:aws:iam::1:user/ci on " in message
    assert f"aws ssm delete-parameter --name {LOCK}" in message
    assert touched == [] and chalice.commands == []
    assert lock_value(aws) == []  # the holder released it on its way out


def test_the_lock_is_released_when_the_deploy_fails_and_when_it_succeeds(aws, project, outputs):
    seen: list[list[str]] = []
    failing = ChaliceInMoto(aws, fail_at="rest_api")

    def chalice(command: list[str], cwd: Path, check: bool) -> None:
        seen.append(lock_value(aws))  # held while chalice runs
        failing(command, cwd, check)

    with pytest.raises(subprocess.CalledProcessError):
        deploy.deploy("dev", aws, project_dir=project, run=chalice, say=lambda _: None)
    assert lock_value(aws) == []
    deploy.deploy("dev", aws, project_dir=project, run=chalice, say=lambda _: None)
    assert lock_value(aws) == []
    assert [len(held) for held in seen] == [1, 1]
    assert seen[0][0].startswith("make deploy by arn:aws:")


def test_a_lock_someone_removed_and_retook_is_not_released_by_the_first_holder(aws):
    ssm = aws.client("ssm")
    with deployed_record.locked(ssm, "dev", "me", "make deploy"):
        ssm.delete_parameter(Name=LOCK)  # removed by hand as a stale lock...
        ssm.put_parameter(Name=LOCK, Value="someone else's deploy", Type="String")  # ...retaken
    assert lock_value(aws) == ["someone else's deploy"]
