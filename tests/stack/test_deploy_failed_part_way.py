"""Issue 27, item 1: a `chalice deploy` that fails part-way does not leave the stage stuck.

Chalice records what it made only once its whole plan succeeded. Here, against moto
in-process (`outputs`: tests/stack/conftest.py), `tests/stack/chalice_in_moto.py` deploys as
chalice does (roles, functions, mappings, then the REST API import, refused once as in the
rehearsal) and deletes with chalice's own deletion deployer: the record `make deploy` rebuilds
from AWS is the one chalice then updates and deletes from.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from chalicelib.lambdas import FUNCTIONS
from infra import deploy, deployed_record, teardown
from infra.errors import DeployError
from infra.package import event_kinds
from tests.stack.chalice_in_moto import ChaliceInMoto, left_in_aws
from tests.stack.deploying import clone

# What chalice deploy makes and records: every Lambda and its role, and a mapping per event
# source (app.py), named as Chalice names them.
EVERY_FUNCTION = set(FUNCTIONS)
MAPPINGS = {f"{function}-{kind}-event-source" for function, kind in event_kinds().items()}


@pytest.fixture
def deletions(aws: Any) -> Iterator[list[str]]:
    """The UUID of every DeleteEventSourceMapping call, whoever's client makes it."""
    calls: list[str] = []
    event, hook = "before-parameter-build.lambda.DeleteEventSourceMapping", "deletions"
    aws._session.register(event, lambda params, **_: calls.append(params["UUID"]),
                          unique_id=hook)
    yield calls
    aws._session.unregister(event, unique_id=hook)


def mappings_in_aws(aws: Any) -> list[dict[str, Any]]:
    return aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]


def stored_record(aws: Any) -> dict[str, Any]:
    value = aws.client("ssm").get_parameter(Name=deployed_record.parameter("dev"))
    return json.loads(value["Parameter"]["Value"])


def failed_deploy(aws: Any, project: Path, said: list[str] | None = None) -> ChaliceInMoto:
    chalice = ChaliceInMoto(aws, fail_at="rest_api")
    with pytest.raises(subprocess.CalledProcessError):
        deploy.deploy("dev", aws, project_dir=project, run=chalice,
                      say=(said if said is not None else []).append)
    return chalice


def test_a_deploy_that_fails_part_way_stores_a_record_of_everything_it_made(aws, tmp_path,
                                                                            outputs):
    said: list[str] = []
    chalice = failed_deploy(aws, clone(tmp_path / "laptop"), said)
    record = stored_record(aws)
    assert record["schema_version"] == "2.0" and record["backend"] == "api"
    names = [r["name"] for r in record["resources"]]
    assert set(names) == set(chalice.created)
    assert set(names) == EVERY_FUNCTION | {f"{f}_role" for f in EVERY_FUNCTION} | MAPPINGS
    in_aws = aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert {r["event_uuid"] for r in record["resources"] if "event_uuid" in r} == {
        m["UUID"] for m in in_aws}
    assert any("chalice deploy failed part-way" in line and "carries on" in line
               for line in said)


def test_the_next_deploy_from_a_fresh_clone_carries_on_and_destroy_leaves_nothing(
        aws, tmp_path, outputs, deletions):
    chalice = failed_deploy(aws, clone(tmp_path / "laptop"))
    made = list(chalice.created)
    url = deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice,
                        say=lambda _: None)
    # The second run updated every role, function and mapping, and created only the API.
    assert chalice.created == [*made, "rest_api"]
    (api,) = left_in_aws(aws, "dev")["rest_apis"]
    assert url == f"https://{api}.execute-api.eu-west-1.amazonaws.com/dev/hello"
    assert len(mappings_in_aws(aws)) == len(MAPPINGS)

    teardown.destroy("dev", aws, clone(tmp_path / "other"), run=chalice, say=lambda _: None)
    assert left_in_aws(aws, "dev") == {"roles": [], "functions": [], "mappings": [],
                                       "rest_apis": []}
    assert len(deletions) == len(MAPPINGS)


def test_destroy_right_after_a_failed_deploy_removes_everything_it_made(aws, tmp_path, outputs,
                                                                         deletions):
    chalice = failed_deploy(aws, clone(tmp_path / "laptop"))
    teardown.destroy("dev", aws, clone(tmp_path / "ci"), run=chalice, say=lambda _: None)
    assert chalice.commands[-1][1] == ["delete", "--stage", "dev"]
    assert left_in_aws(aws, "dev") == {"roles": [], "functions": [], "mappings": [],
                                       "rest_apis": []}
    assert len(deletions) == len(MAPPINGS)
    assert not aws.client("ssm").get_parameters(
        Names=[deployed_record.parameter("dev")])["Parameters"]


def test_a_stage_with_no_record_anywhere_gets_one_rebuilt_from_aws(aws, tmp_path, outputs):
    chalice = failed_deploy(aws, clone(tmp_path / "laptop"))
    # As before this fix: the failed deploy stored nothing.
    aws.client("ssm").delete_parameter(Name=deployed_record.parameter("dev"))
    said: list[str] = []
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice, say=said.append)
    assert any("made what AWS has (+api_handler_role" in line for line in said)
    assert len(mappings_in_aws(aws)) == len(MAPPINGS)


def test_two_stream_mappings_of_one_function_are_refused_with_every_mapping_named(
        aws, tmp_path, outputs):
    chalice = failed_deploy(aws, clone(tmp_path / "laptop"))
    aws.client("ssm").delete_parameter(Name=deployed_record.parameter("dev"))
    lam = aws.client("lambda")
    # What a second failed deploy without a record made: another stream mapping.
    extra = lam.create_event_source_mapping(
        EventSourceArn=outputs["UsersTableStreamArn"], FunctionName="comm-it-dev-sync_name",
        StartingPosition="TRIM_HORIZON")["UUID"]
    ran = len(chalice.commands)
    with pytest.raises(DeployError) as error:
        deploy.deploy("dev", aws, project_dir=clone(tmp_path / "ci"), run=chalice,
                      say=lambda _: None)
    message = str(error.value)
    assert "comm-it-dev-sync_name has 2 dynamodb mappings" in message
    for mapping in lam.list_event_source_mappings()["EventSourceMappings"]:
        assert mapping["UUID"] in message
    assert f"aws lambda delete-event-source-mapping --uuid {extra}" in message
    assert len(chalice.commands) == ran  # chalice was not run


def test_a_record_naming_what_is_gone_is_pruned_so_chalice_delete_can_finish(aws, tmp_path,
                                                                            outputs):
    chalice = ChaliceInMoto(aws)
    deploy.deploy("dev", aws, project_dir=clone(tmp_path / "laptop"), run=chalice,
                  say=lambda _: None)
    # A `chalice delete` stopped half-way: the function is gone, the record still names it.
    aws.client("lambda").delete_function(FunctionName="comm-it-dev-save_profile")
    said: list[str] = []
    teardown.destroy("dev", aws, clone(tmp_path / "ci"), run=chalice, say=said.append)
    assert any("-save_profile" in line and "made what AWS has" in line for line in said)
    assert left_in_aws(aws, "dev") == {"roles": [], "functions": [], "mappings": [],
                                       "rest_apis": []}
