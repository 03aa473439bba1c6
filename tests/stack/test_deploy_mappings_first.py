"""Issue 27, item 3: the event source mappings get their settings right after `chalice
deploy`, whether or not it finished and before the gateway step, so no live SQS mapping runs
without partial batch responses (Lambda would delete every message of a batch that failed in
part). Against moto in-process, with tests/stack/chalice_in_moto.py as the chalice CLI."""
from __future__ import annotations

import subprocess
from typing import Any

import pytest

from infra import deploy, event_sources, gateway
from infra.package import event_kinds
from tests.stack.chalice_in_moto import ChaliceInMoto


def sqs_settings_of_every_mapping(aws: Any) -> list[Any]:
    mappings = aws.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert len(mappings) == len(event_kinds())  # one per event Lambda of app.py
    return [m.get("FunctionResponseTypes") for m in mappings if ":sqs:" in m["EventSourceArn"]]


def every_sqs_mapping(settings: Any) -> list[Any]:
    """The settings, once per SQS event source of app.py."""
    return [settings] * sum(kind == event_sources.SQS for kind in event_kinds().values())


def test_a_failing_gateway_step_finds_the_mappings_already_settled(aws, project, outputs,
                                                                    monkeypatch):
    def refused(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("TooManyRequestsException from API Gateway")

    monkeypatch.setattr(gateway, "configure_api", refused)
    with pytest.raises(RuntimeError, match="TooManyRequests"):
        deploy.deploy("dev", aws, project_dir=project, run=ChaliceInMoto(aws), say=lambda _: None)
    assert sqs_settings_of_every_mapping(aws) == every_sqs_mapping(["ReportBatchItemFailures"])


def test_mappings_a_failed_chalice_deploy_made_get_their_settings_all_the_same(aws, project,
                                                                             outputs):
    said: list[str] = []
    with pytest.raises(subprocess.CalledProcessError):
        deploy.deploy("dev", aws, project_dir=project,
                      run=ChaliceInMoto(aws, fail_at="rest_api"), say=said.append)
    assert sqs_settings_of_every_mapping(aws) == every_sqs_mapping(["ReportBatchItemFailures"])
    (stream,) = [m for m in aws.client("lambda").list_event_source_mappings()[
        "EventSourceMappings"] if ":dynamodb:" in m["EventSourceArn"]]
    assert stream["MaximumRetryAttempts"] == 3 and stream["BisectBatchOnFunctionError"] is True
    assert any(line.startswith("Event sources: partial batch responses") for line in said)


def test_after_a_failed_chalice_deploy_a_settings_failure_is_said_not_raised_over_it(
        aws, project, outputs, monkeypatch):
    def stuck(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("still Creating")

    monkeypatch.setattr(event_sources, "apply", stuck)
    said: list[str] = []
    with pytest.raises(subprocess.CalledProcessError):  # chalice's error, not the settings'
        deploy.deploy("dev", aws, project_dir=project,
                      run=ChaliceInMoto(aws, fail_at="rest_api"), say=said.append)
    assert any("could not be given their settings either (still Creating)" in line
               for line in said)
