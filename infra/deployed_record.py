"""Chalice's record of a stage's deployment, kept where every deployer finds it.

`chalice deploy` writes what it made (Lambda ARNs, the REST API id, the event source
mappings) to .chalice/deployed/<stage>.json and reads it back to update rather than
create. That file is per machine (and holds account ARNs, so git ignores it): from
another clone or CI, Chalice would make a second REST API and fail on the duplicate SQS
mapping, and `chalice delete` would find nothing to delete. So the record lives in
Parameter Store, beside the stage's names, and is restored before every `chalice
deploy`/`delete`, made what exists in AWS (infra/deployed_in_aws.py: a deploy that failed
part-way recorded nothing), and saved after; the stack outputs the purge needs live there
too (they never stay in the tracked .chalice/config.json).

    /comm-it/<stage>/deploy/chalice-deployed   Chalice's deployed/<stage>.json
    /comm-it/<stage>/deploy/stack-outputs      the stack's outputs (for purge-retained)
    /comm-it/<stage>/deploy/lock               while a deploy or destroy of the stage runs
"""
from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any, Callable, Iterator

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


def require(session: Any, project_dir: Path, stage: str,
            say: Callable[[str], None] = print) -> bool:
    """Chalice's record before `chalice deploy`/`delete`: restored from Parameter Store (it
    wins over a local copy), then made what AWS has and stored back (sync). True when it
    names anything: False for a stage never deployed."""
    restore(session.client("ssm"), project_dir, stage)
    return sync(session, project_dir, stage, say)


def sync(session: Any, project_dir: Path, stage: str,
         say: Callable[[str], None] = print) -> bool:
    """.chalice/deployed/<stage>.json made what exists in AWS (infra/deployed_in_aws.py) and
    stored in Parameter Store; True when it names anything. A `chalice deploy` that failed
    part-way wrote no record of what it made: this is what lets the next deploy carry on and
    `chalice delete` remove it all. A DeployError, naming every mapping, when the stage's
    resources cannot be one record."""
    from infra import deployed_in_aws
    from infra.stage import api_gateway_stage

    path = chalice_cli.deployed_file(project_dir, stage)
    before = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    recorded = (before or {}).get("resources", [])
    after = deployed_in_aws.rebuild(session, stage, recorded,
                                    lambda: api_gateway_stage(project_dir, stage))
    if before is None and not after:
        return False
    changed = deployed_in_aws.changes(recorded, after)
    if changed or before is None:
        say(f"Chalice's record of stage {stage} made what AWS has"
            + (f" ({', '.join(changed)}: + found in AWS, - gone, ~ changed)" if changed else "")
            + ".")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(deployed_in_aws.record(after), indent=2) + "\n",
                        encoding="utf-8")
        save(session.client("ssm"), project_dir, stage)
    return bool(after)


# --- one deploy or destroy of a stage at a time ---------------------------------------------

LOCK = "lock"  # /comm-it/<stage>/deploy/lock while a deploy or destroy runs


@contextlib.contextmanager
def locked(ssm: Any, stage: str, who: str, doing: str) -> Iterator[None]:
    """Hold the stage's lock while `doing` runs: a PutParameter that refuses to overwrite
    (only one such put can succeed), released in a finally, and only if it is still ours.
    A DeployError that names the holder when another deploy or destroy holds it."""
    import datetime
    import os
    import secrets
    import socket

    from botocore.exceptions import ClientError

    since = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    holder = (f"{doing} by {who} on {socket.gethostname()} (pid {os.getpid()}) since {since}, "
              f"#{secrets.token_hex(4)}")
    name = parameter(stage, LOCK)
    try:
        ssm.put_parameter(Name=name, Value=holder, Type="String", Overwrite=False,
                          Tier="Standard", Description=f"Comm-IT {stage}: a deploy is running")
    except ClientError as exc:
        if aws_error(exc)[0] != "ParameterAlreadyExists":
            raise
        raise DeployError(
            f"Another deploy or destroy of stage {stage} is running: {_get(ssm, name)}. Two at "
            "once would each write Chalice's record and the stack. Wait for it to end and try "
            "again; if none runs (it was killed), remove its lock: "
            f"aws ssm delete-parameter --name {name}") from None
    try:
        yield
    finally:
        if _get(ssm, name) == holder:
            forget(ssm, stage, LOCK)
