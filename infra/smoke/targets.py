"""Where the stage is: `make run`'s stack or a deployed stage, with a client for each
service (the deployer's, anyone's unsigned one, the person's own)."""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import policy, stack
from infra import template as infra_template
from infra.errors import DeployError, aws_error

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Target:
    stage: str
    local: bool
    app_url: str  # the app's routes are <app_url>/api/..., as in the pages
    session: Any
    env: dict[str, str]  # the stack's names, as the app's environment variables
    endpoint_url: str | None = None
    rest_api_id: str = ""
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = self.session.client(
                service, endpoint_url=self.endpoint_url,
                config=Config(retries={"max_attempts": 2 if self.local else 5},
                              connect_timeout=10, read_timeout=30))
        return self._clients[service]

    def unsigned(self, service: str) -> Any:
        """A client that signs nothing: what anyone without AWS keys has."""
        from botocore import UNSIGNED
        from botocore.config import Config

        return self.session.client(service, endpoint_url=self.endpoint_url,
                                   config=Config(signature_version=UNSIGNED,
                                                 retries={"max_attempts": 2}))

    def client_as(self, service: str, credentials: dict[str, str]) -> Any:
        """A client signed with a person's identity-pool credentials."""
        import boto3
        from botocore.config import Config

        return boto3.session.Session(
            aws_access_key_id=credentials["accessKeyId"],
            aws_secret_access_key=credentials["secretKey"],
            aws_session_token=credentials["sessionToken"],
            region_name=self.session.region_name,
        ).client(service, endpoint_url=self.endpoint_url,
                 config=Config(retries={"max_attempts": 2}))

    @property
    def bucket(self) -> str:
        return self.env["USERS_BUCKET_NAME"]

    def name_parameter(self, sub: str) -> str:
        from chalicelib import config

        settings = config.Settings(**{**{f: "" for f in config.Settings._fields},
                                      "stage": self.stage})
        return f"{settings.name_parameter_prefix}/{sub}/name"


def local_target() -> Target:
    """`make run`'s stack: the app and the local AWS at the ports `make run` uses."""
    import boto3

    from local.run import ports
    from local.local_aws import CREDENTIALS, REGION

    port, aws_port = (_port(name, ports.DEFAULTS[name]) for name in ("PORT", "LOCAL_AWS_PORT"))
    endpoint = f"http://127.0.0.1:{aws_port}"
    request = urllib.request.Request(f"{endpoint}/_local/outputs", method="POST", data=b"{}",  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the stage's own https or 127.0.0.1 URL)
            env = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeployError(f"No local stack answers at {endpoint} ({exc}): start it with `make run` "
                          "(PORT and LOCAL_AWS_PORT choose the ports), or give STAGE=<stage> "
                          "to check a deployed stage.") from None
    session = boto3.session.Session(aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                    aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                                    region_name=REGION)
    from infra.stage import LOCAL_STAGE

    return Target(stage=LOCAL_STAGE, local=True, app_url=f"http://127.0.0.1:{port}",
                  session=session, env=env, endpoint_url=endpoint)


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise DeployError(f"{name}={raw!r} is not a port number (1-65535).")
    return int(raw)


def aws_target(stage: str, session: Any = None, project_dir: Path = ROOT) -> Target:
    """A deployed stage: its names from the stack outputs, the API from the stack (the
    package path) or from Chalice's record of its deployment (`make deploy`)."""
    from infra import chalice_cli
    from infra.credentials import check_credentials
    from infra.stage import api_gateway_stage, check_stage

    check_stage(stage)
    if session is None:
        import boto3

        session = boto3.session.Session()
    check_credentials(session)
    outputs = stack.stack_outputs(session.client("cloudformation"), stage)
    env = {infra_template.env_name(name): value for name, value in outputs.items()}
    rest_api_id, url = outputs.get("RestAPIId", ""), outputs.get("EndpointURL", "")
    if not (rest_api_id and url) and chalice_cli.deployed_file(project_dir, stage).exists():
        api = chalice_cli.deployed_rest_api(project_dir, stage)
        rest_api_id, url = api["rest_api_id"], api["rest_api_url"]
    if not (rest_api_id and url):
        rest_api_id = api_of_function(session.client("lambda"), stage)
        url = (f"https://{rest_api_id}.execute-api.{session.region_name}.amazonaws.com/"
               f"{api_gateway_stage(project_dir, stage)}")
    return Target(stage=stage, local=False, app_url=url.rstrip("/"), session=session, env=env,
                  rest_api_id=rest_api_id)


def api_of_function(lambda_client: Any, stage: str) -> str:
    """The REST API that may invoke the stage's API function (the permission `chalice deploy`
    adds names it): for a clone without Chalice's record of the deployment."""
    from infra.package import function_name

    name = function_name(stage, policy.API_HANDLER)
    try:
        statements = json.loads(lambda_client.get_policy(FunctionName=name)["Policy"])["Statement"]
    except Exception as exc:  # noqa: BLE001 - said as the reason the API cannot be found
        code, message = aws_error(exc)
        raise DeployError(f"Cannot find the stage's REST API: no Chalice record in "
                          f".chalice/deployed/ and no permission on {name} to read "
                          f"({code or type(exc).__name__}: "
                          f"{message or exc}). Run `make deploy STAGE={stage}` first.") from None
    from infra.deployed_in_aws import rest_apis_in_policy

    apis = rest_apis_in_policy({"Statement": statements})
    if len(apis) != 1:
        raise DeployError(f"Cannot tell the stage's REST API: {name} may be invoked by "
                          f"{len(apis)} APIs {apis}, and .chalice/deployed/{stage}.json is not "
                          f"here.")
    return apis[0]
