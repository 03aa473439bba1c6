"""Chalice's record of a stage's deployment, kept where every deployer finds it.

`chalice deploy` writes what it made (Lambda ARNs, the REST API id, the event source
mappings) to .chalice/deployed/<stage>.json and reads it back to update rather than
create. That file is per machine (and holds account ARNs, so git ignores it): from
another clone or CI, Chalice would make a second REST API and fail on the duplicate SQS
mapping, and `chalice delete` would find nothing to delete. So the record lives in
Parameter Store, beside the stage's names, and is restored before every `chalice
deploy`/`delete` and saved after; the stack outputs the purge needs live there too
(they never stay in the tracked .chalice/config.json).

    /comm-it/<stage>/deploy/chalice-deployed   Chalice's deployed/<stage>.json
    /comm-it/<stage>/deploy/stack-outputs      the stack's outputs (for purge-retained)
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra import chalice_cli, policy
from infra.errors import DeployError, aws_error


def parameter(stage: str, what: str = "chalice-deployed") -> str:
    return f"/{policy.APP_NAME}/{stage}/deploy/{what}"


def _get(ssm: Any, name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        return ssm.get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if aws_error(exc)[0] == "ParameterNotFound":
            return None
        raise


def _put(ssm: Any, name: str, value: str, description: str) -> None:
    # Intelligent-Tiering: standard up to 4 KB, advanced (8 KB) if a record ever grows past.
    ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True,
                      Tier="Intelligent-Tiering", Description=description)


def restore(ssm: Any, project_dir: Path, stage: str) -> bool:
    """The stored record into .chalice/deployed/<stage>.json (it wins over a local copy);
    False when none is stored."""
    value = _get(ssm, parameter(stage))
    if value is None:
        return False
    target = chalice_cli.deployed_file(project_dir, stage)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(value, encoding="utf-8")
    return True


def save(ssm: Any, project_dir: Path, stage: str) -> None:
    record = chalice_cli.deployed_file(project_dir, stage)
    if record.exists():
        text = json.dumps(json.loads(record.read_text(encoding="utf-8")), separators=(",", ":"))
        _put(ssm, parameter(stage), text, f"Comm-IT {stage}: chalice's deployed/{stage}.json")


def forget(ssm: Any, stage: str, what: str = "chalice-deployed") -> None:
    from botocore.exceptions import ClientError

    try:
        ssm.delete_parameter(Name=parameter(stage, what))
    except ClientError as exc:
        if aws_error(exc)[0] != "ParameterNotFound":
            raise


def save_outputs(ssm: Any, stage: str, outputs: dict[str, str]) -> None:
    _put(ssm, parameter(stage, "stack-outputs"), json.dumps(outputs, separators=(",", ":")),
         f"Comm-IT {stage}: the stack outputs (purge-retained reads the kept names here)")


def outputs(ssm: Any, stage: str) -> dict[str, str]:
    value = _get(ssm, parameter(stage, "stack-outputs"))
    return json.loads(value) if value else {}


def app_exists(lambda_client: Any, stage: str) -> bool:
    """Whether any Lambda of the stage's app exists (Chalice deployed something)."""
    from botocore.exceptions import ClientError

    from infra.package import function_name

    for function in policy.FUNCTIONS:
        try:
            lambda_client.get_function(FunctionName=function_name(stage, function))
            return True
        except ClientError as exc:
            if aws_error(exc)[0] != "ResourceNotFoundException":
                raise
    return False


def require(session: Any, project_dir: Path, stage: str, doing: str) -> bool:
    """Restore the record before `chalice <doing>`; True when there is one (stored or local).
    A DeployError when the app is deployed but no record can be found anywhere."""
    if restore(session.client("ssm"), project_dir, stage):
        return True
    if chalice_cli.deployed_file(project_dir, stage).exists():
        return True  # deployed from this machine before the record moved to Parameter Store
    if app_exists(session.client("lambda"), stage):
        raise DeployError(
            f"Stage {stage}'s app is deployed (its Lambdas exist) but Chalice's record of it is "
            f"neither in Parameter Store ({parameter(stage)}) nor in "
            f".chalice/deployed/{stage}.json. `chalice {doing}` without it would "
            + ("create a second REST API (a new URL) and fail on the duplicate SQS mappings"
               if doing == "deploy" else "delete nothing and leave the Lambdas, API and roles")
            + ". Copy .chalice/deployed/" + stage + ".json from the machine that deployed it "
            "(then run the command again: it is stored for everyone), or remove the app's "
            f"Lambdas, REST API and roles named comm-it-{stage}* by hand.")
    return False
