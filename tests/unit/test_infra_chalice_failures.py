"""A chalice command that fails ends `make deploy`, `make destroy` and `make package` in one
readable line: chalice's CLI prints a whole Python traceback for every failure
(chalice.cli.main), which is kept in build/, never shown."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import chalice_cli

# What `chalice deploy` wrote to stderr when API Gateway refused the REST API import once
# (the shape of the rehearsal's failure: a chained traceback, then the deployer's message).
TRACEBACK = """Traceback (most recent call last):
  File ".venv/lib/python3.11/site-packages/chalice/deploy/deployer.py", line 376, in deploy
    return self._deploy(config, chalice_stage_name)
  File ".venv/lib/python3.11/site-packages/botocore/client.py", line 1023, in _make_api_call
    raise error_class(parsed_response, operation_name)
botocore.errorfactory.TooManyRequestsException: An error occurred (TooManyRequestsException) \
when calling the ImportRestApi operation: Too Many Requests

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File ".venv/lib/python3.11/site-packages/chalice/cli/__init__.py", line 636, in main
    return cli(obj={})
chalice.deploy.deployer.ChaliceDeploymentError: ERROR - While deploying your chalice \
application, received the following error:

 An error occurred (TooManyRequestsException) when calling the ImportRestApi operation: Too
 Many Requests
"""


def test_a_failed_chalice_command_is_said_without_its_traceback():
    said = chalice_cli.said(TRACEBACK)
    assert said == ("ERROR - While deploying your chalice application, received the following "
                    "error: An error occurred (TooManyRequestsException) when calling the "
                    "ImportRestApi operation: Too Many Requests")


def test_an_error_without_an_exception_line_is_its_last_line():
    assert chalice_cli.said("Creating deployment package.\nNo region configured.\n") == (
        "No region configured.")
    assert chalice_cli.said("") == "no message"


def test_make_deploy_says_one_line_and_keeps_the_whole_output_in_build(tmp_path: Path):
    exc = subprocess.CalledProcessError(2, ["chalice", "deploy", "--stage", "dev"],
                                        stderr=TRACEBACK)
    line = chalice_cli.failure(exc, tmp_path)
    assert line.startswith("`chalice deploy --stage dev` failed (exit 2): ERROR - While deploying")
    assert "Traceback" not in line and "\n" not in line
    assert line.endswith("(its whole output: build/chalice-deploy.log)")
    assert (tmp_path / "build" / "chalice-deploy.log").read_text(encoding="utf-8") == TRACEBACK


def test_chalice_runs_with_its_stderr_kept_for_the_failure(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture):
    asked: list[dict[str, Any]] = []

    def fake_run(command: list[str], **options: Any) -> subprocess.CompletedProcess:
        asked.append(options)
        code = 2 if command[1] == "deploy" else 0
        return subprocess.CompletedProcess(command, code, stderr=TRACEBACK if code else "note\n")

    monkeypatch.setattr(subprocess, "run", fake_run)
    with pytest.raises(subprocess.CalledProcessError) as failed:
        chalice_cli.run(["chalice", "deploy", "--stage", "dev"], cwd=Path("."), check=True)
    assert failed.value.stderr == TRACEBACK and capsys.readouterr().err == ""
    chalice_cli.run(["chalice", "delete", "--stage", "dev"], cwd=Path("."), check=True)
    assert capsys.readouterr().err == "note\n"  # a warning of a command that succeeded: shown
    assert all(o["stderr"] == subprocess.PIPE and "stdout" not in o for o in asked)
