"""A stage's configuration: its entry in .chalice/config.json and its policy files.

The workshop pattern: the stack outputs become the stage's environment
variables, so the app and every later command read this stage's names from one
place (`environment`), never rebuild them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra import policy
from infra import template as infra_template
from infra.errors import DeployError

LOCAL_STAGE = "local"  # `make run`'s stage: its values come from the shell, never from AWS
# Timeouts: the API's stays under API Gateway's 29 s integration timeout; each SQS
# consumer's is at most a sixth of its queue's visibility timeout in infra/template.yaml
# (AWS's advice; tests/unit/test_infra_template.py holds it).
# Memory: Lambda gives CPU in proportion to memory (a full vCPU at 1,769 MB). The API
# verifies RS256 tokens and renders Jinja pages, and its cold start imports boto3, PyJWT
# with cryptography and Jinja2 (about 0.4 s of CPU on a full core, bench/README.md): at
# the 128 MB default (~7% of a vCPU) that is seconds; 512 MB makes it a fraction of one
# for about the same cost per request (shorter at 4x the price per ms). The consumers
# wait on DynamoDB, S3 and SSM: 256 MB. docs/scaling.md says more.
FUNCTION_SETTINGS: dict[str, dict[str, int]] = {
    policy.API_HANDLER: {"lambda_timeout": 25, "lambda_memory_size": 512},
    policy.SAVE_PROFILE: {"lambda_timeout": 10, "lambda_memory_size": 256},
    policy.ARCHIVE_PROFILE: {"lambda_timeout": 10, "lambda_memory_size": 256},
    policy.SYNC_NAME: {"lambda_timeout": 30, "lambda_memory_size": 256},
    policy.ENFORCE_QUOTA: {"lambda_timeout": 30, "lambda_memory_size": 256},
    policy.RECORD_SIGN_IN: {"lambda_timeout": 10, "lambda_memory_size": 256},
}


def check_stage(stage: str) -> None:
    if stage == LOCAL_STAGE:
        raise DeployError("The `local` stage is `make run`'s and is never deployed; "
                          "use another stage, e.g. STAGE=dev.")
    if not stage or not stage[0].isalpha() or not all(c.islower() or c.isdigit() or c == "-"
                                                        for c in stage) or len(stage) > 16:
        raise DeployError(f"Stage {stage!r}: use 1-16 lower-case letters, digits or '-', "
                          "starting with a letter.")


def _read(chalice_dir: Path) -> dict[str, Any]:
    return json.loads((chalice_dir / "config.json").read_text(encoding="utf-8"))


def record_outputs(chalice_dir: Path, stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """The stack outputs become the stage's environment variables.

    Also switches the stage to the generated policies (one role per Lambda). Other
    stages, and variables someone added by hand, are kept.
    """
    config = _read(chalice_dir)
    entry = config.setdefault("stages", {}).setdefault(stage, {})
    env = entry.setdefault("environment_variables", {})
    env["APP_STAGE"] = stage
    env.update({infra_template.env_name(name): value for name, value in sorted(outputs.items())})
    entry["autogen_policy"] = False
    # Each stage its own API Gateway stage (its URL path and the 5xx alarm's dimension):
    # Chalice names every stage's REST API after the app, so "api" would be shared.
    entry.setdefault("api_gateway_stage", stage)
    entry["iam_policy_file"] = policy.file_name(stage)
    functions = entry.setdefault("lambda_functions", {})
    for function in policy.FUNCTIONS:
        settings = functions.setdefault(function, {})
        settings["iam_policy_file"] = policy.file_name(stage, function)
        for key, value in FUNCTION_SETTINGS.get(function, {}).items():
            settings.setdefault(key, value)
    (chalice_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return env


def write_policies(chalice_dir: Path, stage: str, env: dict[str, str]) -> list[Path]:
    """One policy file per Lambda, plus the stage's logs-only fallback."""
    files = {policy.file_name(stage): policy.fallback(env, stage)}
    for function, document in policy.documents(env, stage).items():
        files[policy.file_name(stage, function)] = document
    written = []
    for name, document in files.items():
        path = chalice_dir / name
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def configure_stage(project_dir: Path, stage: str, outputs: dict[str, str]) -> dict[str, str]:
    """config.json and the policy files of a stage, from its stack outputs."""
    env = record_outputs(project_dir / ".chalice", stage, outputs)
    write_policies(project_dir / ".chalice", stage, env)
    return env


def environment(project_dir: Path, stage: str) -> dict[str, str]:
    """The stage's recorded environment variables (the stack's names and ARNs)."""
    entry = _read(project_dir / ".chalice").get("stages", {}).get(stage, {})
    return dict(entry.get("environment_variables", {}))


def api_gateway_stage(project_dir: Path, stage: str) -> str:
    """The stage's API Gateway stage, as Chalice reads it (the stage's, else the top level's)."""
    config = _read(project_dir / ".chalice")
    return config.get("stages", {}).get(stage, {}).get(
        "api_gateway_stage", config.get("api_gateway_stage", "api"))


def forget_outputs(project_dir: Path, stage: str, outputs: dict[str, str]) -> None:
    """The stack outputs out of the stage's environment in .chalice/config.json again (a
    tracked file: no account ARN stays in it once `chalice deploy` has read them)."""
    config = _read(project_dir / ".chalice")
    env = config.get("stages", {}).get(stage, {}).get("environment_variables", {})
    for name in outputs:
        env.pop(infra_template.env_name(name), None)
    (project_dir / ".chalice" / "config.json").write_text(json.dumps(config, indent=2) + "\n",
                                                          encoding="utf-8")
