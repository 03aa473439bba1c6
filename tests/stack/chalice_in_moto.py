"""A stand-in for the chalice CLI against moto in-process, for the deploy tests.

`deploy` does what chalice 1.34's planner does with this app, in its order, through the
same AWS calls: for each function with an event source, its role and function (found by
name: updated when they exist) and its mapping (updated when the record names one that
chalice's own check, `TypedAWSClient.verify_event_source_*`, finds current, else
created); then the API handler's role and function, the REST API (imported unless the
record names one that exists) and the permission that lets API Gateway invoke it; and
only when all of it succeeded, the record (.chalice/deployed/<stage>.json), as
deployer.py does. A second SQS mapping of one queue and function is refused, as Lambda
refuses it (moto allows it). `fail_at="rest_api"` refuses the API import once, as the
rehearsal of issue 27 saw it.

`delete` is chalice's own deletion deployer (chalice.deploy.deployer), run in-process.
"""
from __future__ import annotations

import copy
import functools
import json
import subprocess
from pathlib import Path
from typing import Any

from infra import chalice_cli, policy
from infra.package import function_name

# app.py's event sources: the function, its kind, the stage variable naming its source.
SOURCES = {policy.SAVE_PROFILE: ("sqs", "PROFILE_QUEUE_NAME"),
           policy.ARCHIVE_PROFILE: ("sqs", "ARCHIVE_QUEUE_NAME"),
           policy.SYNC_NAME: ("dynamodb", "USERS_TABLE_STREAM_ARN"),
           policy.ENFORCE_QUOTA: ("sqs", "QUOTA_QUEUE_NAME"),
           policy.RECORD_SIGN_IN: ("sqs", "SIGN_IN_QUEUE_NAME")}
SCHEMA = {"schema_version": "2.0", "backend": "api"}


@functools.lru_cache(maxsize=None)
def _chalice_client(session: Any) -> Any:
    """chalice's own AWS client, made once per session (the deploy tests share one): each
    reads botocore's endpoints.json (about 1 MB of JSON) when made, ~1.6 s of CPU over the
    deploy tests when every stand-in made its own."""
    from chalice.awsclient import TypedAWSClient

    return TypedAWSClient(session._session)


class Refused(Exception):
    """A call AWS (or Lambda's duplicate check) refused: chalice deploy stops there."""


class ChaliceInMoto:
    def __init__(self, session: Any, fail_at: str | None = None) -> None:
        self.session = session
        self.fail_at = fail_at
        self.commands: list[tuple[Path, list[str]]] = []
        self.created: list[str] = []  # every resource a deploy created, by record name
        self._chalice: Any = None

    def _chalice_client(self) -> Any:
        """chalice's own AWS client for this stand-in: its AWS clients made afresh (as a chalice
        command's process makes them, seeing the hooks a test registered on the session), the
        endpoints it resolves with shared."""
        if self._chalice is None:
            self._chalice = copy.copy(_chalice_client(self.session))
            self._chalice._client_cache = {}
        return self._chalice

    def __call__(self, command: list[str], cwd: Path, check: bool) -> None:
        assert check is True
        project, stage = Path(cwd), command[-1]
        self.commands.append((project, command[1:]))
        try:
            if command[1] == "deploy":
                self._deploy(project, stage)
            elif command[1] == "delete":
                self._delete(project, stage)
        except Refused:
            raise subprocess.CalledProcessError(2, command) from None

    # --- chalice deploy ------------------------------------------------------------------

    def _deploy(self, project: Path, stage: str) -> None:
        from infra.package import event_kinds

        assert set(SOURCES) == set(event_kinds()), "app.py's event sources changed"
        config = json.loads((project / ".chalice" / "config.json").read_text())
        entry = config["stages"][stage]
        env = entry["environment_variables"]
        path = chalice_cli.deployed_file(project, stage)
        recorded = ({r["name"]: r for r in json.loads(path.read_text())["resources"]}
                    if path.exists() else {})
        values: list[dict[str, Any]] = []
        for function, (kind, variable) in SOURCES.items():
            values += self._function(project, stage, function)
            values.append(self._mapping(function, kind, env[variable], values[-1]["lambda_arn"],
                                        recorded))
        values += self._function(project, stage, policy.API_HANDLER)
        values.append(self._rest_api(stage, entry.get("api_gateway_stage", "api"),
                                     values[-1]["lambda_arn"], recorded))
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"resources": values, **SCHEMA}, indent=2))

    def _function(self, project: Path, stage: str, function: str) -> list[dict[str, Any]]:
        iam, lam = self.session.client("iam"), self.session.client("lambda")
        role = f"{policy.APP_NAME}-{stage}-{function}"
        try:
            role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            role_arn = iam.create_role(RoleName=role,
                                       AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            document = project / ".chalice" / policy.file_name(stage, function)
            iam.put_role_policy(RoleName=role, PolicyName=role,
                                PolicyDocument=document.read_text())
            self.created.append(f"{function}_role")
        name = function_name(stage, function)
        try:
            arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
            lam.update_function_configuration(FunctionName=name, Timeout=10)
        except lam.exceptions.ResourceNotFoundException:
            arn = lam.create_function(FunctionName=name, Runtime="python3.11", Role=role_arn,
                                      Handler="app.app", Code={"ZipFile": b"zip"})["FunctionArn"]
            self.created.append(function)
        return [{"name": f"{function}_role", "resource_type": "iam_role", "role_arn": role_arn,
                 "role_name": role},
                {"name": function, "resource_type": "lambda_function", "lambda_arn": arn}]

    def _mapping(self, function: str, kind: str, source: str, lambda_arn: str,
                 recorded: dict[str, Any]) -> dict[str, Any]:
        lam, chalice = self.session.client("lambda"), self._chalice_client()
        name = f"{function}-{kind}-event-source"
        before = recorded.get(name)
        if kind == "sqs":
            arn = f"arn:aws:sqs:{self.session.region_name}:{lambda_arn.split(':')[4]}:{source}"
            current = before and chalice.verify_event_source_current(
                event_uuid=before["event_uuid"], resource_name=source, service_name="sqs",
                function_arn=before["lambda_arn"])
        else:
            arn = source
            current = before and chalice.verify_event_source_arn_current(
                event_uuid=before["event_uuid"], event_source_arn=before["stream_arn"],
                function_arn=before["lambda_arn"])
        if current:
            uuid = before["event_uuid"]
            lam.update_event_source_mapping(UUID=uuid, BatchSize=10)
        else:
            existing = lam.list_event_source_mappings(FunctionName=lambda_arn.split(":")[-1])
            if kind == "sqs" and any(m["EventSourceArn"] == arn
                                     for m in existing["EventSourceMappings"]):
                raise Refused(f"ResourceConflictException: a mapping of {arn} exists")
            uuid = lam.create_event_source_mapping(
                EventSourceArn=arn, FunctionName=lambda_arn, BatchSize=10,
                **({} if kind == "sqs" else {"StartingPosition": "TRIM_HORIZON"}))["UUID"]
            self.created.append(name)
        common = {"name": name, "resource_type": f"{kind}_event", "event_uuid": uuid,
                  "lambda_arn": lambda_arn}
        return ({**common, "queue_arn": arn, "queue": source} if kind == "sqs"
                else {**common, "stream_arn": arn})

    def _rest_api(self, stage: str, api_stage: str, lambda_arn: str,
                  recorded: dict[str, Any]) -> dict[str, Any]:
        apigateway, lam = self.session.client("apigateway"), self.session.client("lambda")
        before = recorded.get("rest_api")
        api_id = ""
        if before:
            try:
                api_id = apigateway.get_rest_api(restApiId=before["rest_api_id"])["id"]
            except apigateway.exceptions.NotFoundException:
                pass
        if not api_id:
            if self.fail_at == "rest_api":
                self.fail_at = None  # once
                raise Refused("BadRequestException: the REST API import was refused")
            api_id = apigateway.create_rest_api(name=policy.APP_NAME)["id"]
            root = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
            apigateway.put_method(restApiId=api_id, resourceId=root, httpMethod="GET",
                                  authorizationType="NONE")
            apigateway.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET",
                                       type="MOCK")
            self.created.append("rest_api")
        region, account = lambda_arn.split(":")[3], lambda_arn.split(":")[4]
        source = f"arn:aws:execute-api:{region}:{account}:{api_id}/*"
        policy_text = "{}"
        try:
            policy_text = lam.get_policy(FunctionName=lambda_arn)["Policy"]
        except lam.exceptions.ResourceNotFoundException:
            pass
        if source not in policy_text:
            lam.add_permission(FunctionName=lambda_arn, StatementId=f"s{len(policy_text)}",
                               Action="lambda:InvokeFunction",
                               Principal="apigateway.amazonaws.com", SourceArn=source)
        apigateway.create_deployment(restApiId=api_id, stageName=api_stage)
        return {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": api_id,
                "rest_api_url": f"https://{api_id}.execute-api.{region}.amazonaws.com/"
                                f"{api_stage}/"}

    # --- chalice delete: chalice's own ----------------------------------------------------

    def _delete(self, project: Path, stage: str) -> None:
        from chalice.app import Chalice
        from chalice.config import Config
        from chalice.deploy.deployer import ChaliceDeploymentError, create_deletion_deployer
        from chalice.utils import UI

        config = Config.create(chalice_stage=stage, project_dir=str(project),
                               app_name=policy.APP_NAME, chalice_app=Chalice(policy.APP_NAME))
        try:
            create_deletion_deployer(self._chalice_client(), UI()).deploy(
                config, chalice_stage_name=stage)
        except ChaliceDeploymentError as exc:
            raise Refused(str(exc)) from None


def left_in_aws(session: Any, stage: str) -> dict[str, list[str]]:
    """Every role, function, mapping and REST API of the stage still in AWS."""
    iam, lam = session.client("iam"), session.client("lambda")
    prefix = f"{policy.APP_NAME}-{stage}"
    return {
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]
                  if r["RoleName"].startswith(prefix)],
        "functions": [f["FunctionName"] for f in lam.list_functions()["Functions"]
                      if f["FunctionName"].startswith(prefix)],
        "mappings": [m["UUID"] for m in lam.list_event_source_mappings()["EventSourceMappings"]
                     if m["FunctionArn"].split(":")[-1].startswith(prefix)],
        "rest_apis": [a["id"] for a in session.client("apigateway").get_rest_apis()["items"]],
    }


def stage_sources(session: Any, stage: str = "dev") -> dict[str, str]:
    """The queues and the users table's stream the stage's mappings read, made in moto; the
    stack outputs a deploy gets (tests/helpers.py fake_outputs, with the stream's real ARN)."""
    from tests.helpers import fake_outputs

    account = session.client("sts").get_caller_identity()["Account"]
    outputs = fake_outputs(stage, account=account, region=session.region_name)
    sqs = session.client("sqs")
    for output in ("ProfileQueueName", "ArchiveQueueName", "QuotaQueueName", "SignInQueueName"):
        sqs.create_queue(QueueName=outputs[output])
    table = session.client("dynamodb").create_table(
        TableName=outputs["UsersTableName"], BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "sub", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "sub", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return {**outputs, "UsersTableStreamArn": table["TableDescription"]["LatestStreamArn"]}
